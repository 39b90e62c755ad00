-- Story titles as shown, so a title stays put until a clearly better one appears.
CREATE TABLE story_titles (
    story_id TEXT PRIMARY KEY,
    title TEXT NOT NULL,
    item_id TEXT,
    kind TEXT NOT NULL,
    score DOUBLE PRECISION NOT NULL,
    size INTEGER NOT NULL,
    updated TEXT NOT NULL
);
