-- Term statistics of the full-text index, read to pick an item's salient terms.
CREATE VIRTUAL TABLE items_fts_vocab USING fts5vocab(items_fts, 'row');

-- Dense vectors for semantic search (the [embed] extra), filled on first semantic query.
CREATE TABLE item_vectors (
    item_id TEXT PRIMARY KEY REFERENCES items(id),
    dim INTEGER NOT NULL,
    vector BLOB NOT NULL                 -- float32, unit length
);

-- The story river lists active stories by independent sources, then recency (stories.py,
-- list_stories order 'rank'); without this index each page view sorts every active story.
CREATE INDEX IF NOT EXISTS stories_rank ON stories(status, sources, last_time, seq);

-- Item listings page newest first by publication (else arrival) time, keyset on rowid.
CREATE INDEX IF NOT EXISTS items_time ON items(COALESCE(published, ingested));
CREATE INDEX IF NOT EXISTS items_source_time ON items(source, COALESCE(published, ingested));
