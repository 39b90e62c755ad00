-- Per-item tables keyed by the item's arrival rowid (items.rowid), not by its content-derived id.
--
-- A content-derived id is random: each new item used to land on a random leaf of six B-trees
-- (the item-id indexes of sightings, copy_keys, item_vectors, story_members, story_decisions and
-- items). At a million items each of those B-trees is thousands of leaves, so almost every new
-- item dirtied a page of its own in each: 13 page writes per item at 1M against 3 at 10k, and
-- the cost per item nearly doubled (benchmarks/cluster.py --growth). Keyed by arrival, those rows
-- append at the right edge of their B-tree; only items.id stays a random index, and lookups by
-- item id go through it (store/items.py `_rids_of`). The item_id column is kept on every table for
-- reading, without an index of its own.
--
-- Items are never deleted, so an arrival rowid is never reused.

CREATE TABLE sightings_new (
    id INTEGER PRIMARY KEY,
    item_rid INTEGER NOT NULL REFERENCES items(rowid),
    item_id TEXT NOT NULL,
    origin TEXT,
    line INTEGER,
    source_id TEXT,
    source TEXT,
    seen TEXT NOT NULL
);
INSERT INTO sightings_new (id, item_rid, item_id, origin, line, source_id, source, seen)
    SELECT s.id, i.rowid, s.item_id, s.origin, s.line, s.source_id, s.source, s.seen
    FROM sightings s JOIN items i ON i.id = s.item_id ORDER BY s.id;
DROP TABLE sightings;
ALTER TABLE sightings_new RENAME TO sightings;
CREATE INDEX sightings_item ON sightings(item_rid);
CREATE INDEX sightings_source_id ON sightings(source_id);

CREATE TABLE copy_keys_new (
    rid INTEGER PRIMARY KEY REFERENCES items(rowid),
    item_id TEXT NOT NULL,
    title_key TEXT,
    sketch BLOB
);
INSERT INTO copy_keys_new (rid, item_id, title_key, sketch)
    SELECT i.rowid, k.item_id, k.title_key, k.sketch
    FROM copy_keys k JOIN items i ON i.id = k.item_id ORDER BY i.rowid;
DROP TABLE copy_keys;
ALTER TABLE copy_keys_new RENAME TO copy_keys;
CREATE INDEX copy_keys_title ON copy_keys(title_key);
CREATE INDEX copy_keys_band00 ON copy_keys(substr(sketch, 1, 16)) WHERE sketch IS NOT NULL;
CREATE INDEX copy_keys_band01 ON copy_keys(substr(sketch, 17, 16)) WHERE sketch IS NOT NULL;
CREATE INDEX copy_keys_band02 ON copy_keys(substr(sketch, 33, 16)) WHERE sketch IS NOT NULL;
CREATE INDEX copy_keys_band03 ON copy_keys(substr(sketch, 49, 16)) WHERE sketch IS NOT NULL;
CREATE INDEX copy_keys_band04 ON copy_keys(substr(sketch, 65, 16)) WHERE sketch IS NOT NULL;
CREATE INDEX copy_keys_band05 ON copy_keys(substr(sketch, 81, 16)) WHERE sketch IS NOT NULL;
CREATE INDEX copy_keys_band06 ON copy_keys(substr(sketch, 97, 16)) WHERE sketch IS NOT NULL;
CREATE INDEX copy_keys_band07 ON copy_keys(substr(sketch, 113, 16)) WHERE sketch IS NOT NULL;
CREATE INDEX copy_keys_band08 ON copy_keys(substr(sketch, 129, 16)) WHERE sketch IS NOT NULL;
CREATE INDEX copy_keys_band09 ON copy_keys(substr(sketch, 145, 16)) WHERE sketch IS NOT NULL;
CREATE INDEX copy_keys_band10 ON copy_keys(substr(sketch, 161, 16)) WHERE sketch IS NOT NULL;
CREATE INDEX copy_keys_band11 ON copy_keys(substr(sketch, 177, 16)) WHERE sketch IS NOT NULL;
CREATE INDEX copy_keys_band12 ON copy_keys(substr(sketch, 193, 16)) WHERE sketch IS NOT NULL;
CREATE INDEX copy_keys_band13 ON copy_keys(substr(sketch, 209, 16)) WHERE sketch IS NOT NULL;

CREATE TABLE item_vectors_new (
    rid INTEGER PRIMARY KEY REFERENCES items(rowid),
    item_id TEXT NOT NULL,
    dim INTEGER NOT NULL,
    vector BLOB NOT NULL,                -- float32, unit length
    model TEXT NOT NULL DEFAULT 'minilm'
);
INSERT INTO item_vectors_new (rid, item_id, dim, vector, model)
    SELECT i.rowid, v.item_id, v.dim, v.vector, v.model
    FROM item_vectors v JOIN items i ON i.id = v.item_id ORDER BY i.rowid;
DROP TABLE item_vectors;
ALTER TABLE item_vectors_new RENAME TO item_vectors;
-- Counts per backend (search.py) read this index, not the vectors.
CREATE INDEX item_vectors_model ON item_vectors(model);

CREATE TABLE story_members_new (
    rid INTEGER PRIMARY KEY REFERENCES items(rowid),
    item_id TEXT NOT NULL,
    story_id TEXT NOT NULL,
    time TEXT,                           -- item publication (else arrival) time
    copy_of TEXT,                        -- canonical item when this member is a copy
    how TEXT NOT NULL,                   -- 'joined', 'started', 'copy', 'moved', 'split', 'merged'
    pinned INTEGER NOT NULL DEFAULT 0    -- placed by an editor: automatic steps leave it
);
INSERT INTO story_members_new (rid, item_id, story_id, time, copy_of, how, pinned)
    SELECT i.rowid, m.item_id, m.story_id, m.time, m.copy_of, m.how, m.pinned
    FROM story_members m JOIN items i ON i.id = m.item_id ORDER BY i.rowid;
DROP TABLE story_members;
ALTER TABLE story_members_new RENAME TO story_members;
CREATE INDEX story_members_story ON story_members(story_id, time);

CREATE TABLE story_decisions_new (
    rid INTEGER PRIMARY KEY REFERENCES items(rowid),
    item_id TEXT NOT NULL,
    story_id TEXT NOT NULL,
    action TEXT NOT NULL,                -- 'joined', 'started', 'copy'
    score REAL,
    threshold REAL,
    components TEXT,                     -- JSON
    runner_up TEXT,
    runner_score REAL,
    runner_components TEXT,              -- JSON
    decided TEXT NOT NULL
);
INSERT INTO story_decisions_new (rid, item_id, story_id, action, score, threshold, components,
                                 runner_up, runner_score, runner_components, decided)
    SELECT i.rowid, d.item_id, d.story_id, d.action, d.score, d.threshold, d.components,
           d.runner_up, d.runner_score, d.runner_components, d.decided
    FROM story_decisions d JOIN items i ON i.id = d.item_id ORDER BY i.rowid;
DROP TABLE story_decisions;
ALTER TABLE story_decisions_new RENAME TO story_decisions;
