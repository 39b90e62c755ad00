-- Items as they arrived, every sighting of them, and a full-text index.
CREATE TABLE items (
    rowid INTEGER PRIMARY KEY,           -- arrival order; FTS content rowid
    id TEXT NOT NULL UNIQUE,             -- content-derived id
    title TEXT,
    text TEXT NOT NULL DEFAULT '',
    url TEXT,
    source TEXT,
    published TEXT,                      -- ISO 8601 with offset, or NULL
    ingested TEXT NOT NULL,
    language TEXT,
    kind TEXT NOT NULL CHECK (kind IN ('article', 'headline')),
    author TEXT,
    origin TEXT,
    origin_line INTEGER,
    source_id TEXT,
    extra TEXT                           -- JSON object of fields kept from the input
);
CREATE INDEX items_source ON items(source);
CREATE INDEX items_published ON items(published);
CREATE INDEX items_kind ON items(kind);

CREATE TABLE sightings (
    id INTEGER PRIMARY KEY,
    item_id TEXT NOT NULL REFERENCES items(id),
    origin TEXT,
    line INTEGER,
    source_id TEXT,
    source TEXT,
    seen TEXT NOT NULL
);
CREATE INDEX sightings_item ON sightings(item_id);
CREATE INDEX sightings_source_id ON sightings(source_id);

CREATE VIRTUAL TABLE items_fts USING fts5(
    title, text, content='items', content_rowid='rowid', tokenize='unicode61 remove_diacritics 2'
);
CREATE TRIGGER items_ai AFTER INSERT ON items BEGIN
    INSERT INTO items_fts(rowid, title, text) VALUES (new.rowid, new.title, new.text);
END;
CREATE TRIGGER items_ad AFTER DELETE ON items BEGIN
    INSERT INTO items_fts(items_fts, rowid, title, text) VALUES ('delete', old.rowid, old.title, old.text);
END;
CREATE TRIGGER items_au AFTER UPDATE OF title, text ON items BEGIN
    INSERT INTO items_fts(items_fts, rowid, title, text) VALUES ('delete', old.rowid, old.title, old.text);
    INSERT INTO items_fts(rowid, title, text) VALUES (new.rowid, new.title, new.text);
END;
