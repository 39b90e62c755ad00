-- Story titles as shown, so a title stays put until a clearly better one appears (hysteresis).
CREATE TABLE story_titles (
    story_id TEXT PRIMARY KEY,
    title TEXT NOT NULL,
    item_id TEXT,                        -- member whose headline it is; NULL for a key-term label
    kind TEXT NOT NULL,                  -- 'headline' or 'label'
    score REAL NOT NULL,
    size INTEGER NOT NULL,               -- story size when chosen: unchanged size means unchanged title
    updated TEXT NOT NULL
);
