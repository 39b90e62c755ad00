-- The per-item tables carry the item's arrival rowid (items.rowid) beside its id, as in the
-- SQLite store (migrations/0015_arrival_keys.sql), so that both stores answer the same
-- statements. SQLite keys those tables by the arrival rowid so that new rows append; here the
-- item id stays the primary key (PostgreSQL's B-trees and checkpoints do not show SQLite's
-- growth in page writes per item), and the arrival rowid gets an index of its own for joins.
ALTER TABLE sightings ADD COLUMN item_rid BIGINT;
UPDATE sightings s SET item_rid = i.rowid FROM items i WHERE i.id = s.item_id;
ALTER TABLE sightings ALTER COLUMN item_rid SET NOT NULL;
CREATE INDEX sightings_item_rid ON sightings(item_rid);

ALTER TABLE copy_keys ADD COLUMN rid BIGINT;
UPDATE copy_keys k SET rid = i.rowid FROM items i WHERE i.id = k.item_id;
ALTER TABLE copy_keys ALTER COLUMN rid SET NOT NULL;
CREATE UNIQUE INDEX copy_keys_rid ON copy_keys(rid);

ALTER TABLE item_vectors ADD COLUMN rid BIGINT;
UPDATE item_vectors v SET rid = i.rowid FROM items i WHERE i.id = v.item_id;
ALTER TABLE item_vectors ALTER COLUMN rid SET NOT NULL;
CREATE UNIQUE INDEX item_vectors_rid ON item_vectors(rid);

ALTER TABLE story_members ADD COLUMN rid BIGINT;
UPDATE story_members m SET rid = i.rowid FROM items i WHERE i.id = m.item_id;
ALTER TABLE story_members ALTER COLUMN rid SET NOT NULL;
CREATE UNIQUE INDEX story_members_rid ON story_members(rid);

ALTER TABLE story_decisions ADD COLUMN rid BIGINT;
UPDATE story_decisions d SET rid = i.rowid FROM items i WHERE i.id = d.item_id;
ALTER TABLE story_decisions ALTER COLUMN rid SET NOT NULL;
CREATE UNIQUE INDEX story_decisions_rid ON story_decisions(rid);
