-- What a stage could not do for an item (e.g. the entity stage ran over its time budget).
CREATE TABLE item_notes (
    item_id TEXT NOT NULL REFERENCES items(id),
    stage TEXT NOT NULL,
    note TEXT NOT NULL,
    PRIMARY KEY (item_id, stage)
);

-- Web reader sign-ins: one row per session, deleted at sign-out (the cookie names the row).
CREATE TABLE web_sessions (
    id TEXT PRIMARY KEY,
    created TEXT NOT NULL,
    expires TEXT NOT NULL
);
