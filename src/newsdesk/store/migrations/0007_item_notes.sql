-- What a stage could not do for an item (e.g. the entity stage ran over its time budget).
CREATE TABLE item_notes (
    item_id TEXT NOT NULL REFERENCES items(id),
    stage TEXT NOT NULL,
    note TEXT NOT NULL,
    PRIMARY KEY (item_id, stage)
);
