-- Term statistics of the full-text index, read to pick an item's salient terms.
CREATE VIRTUAL TABLE items_fts_vocab USING fts5vocab(items_fts, 'row');

-- Dense vectors for semantic search (the [embed] extra), filled on first semantic query.
CREATE TABLE item_vectors (
    item_id TEXT PRIMARY KEY REFERENCES items(id),
    dim INTEGER NOT NULL,
    vector BLOB NOT NULL                 -- float32, unit length
);
