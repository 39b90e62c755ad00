-- Entities: the entity stage reads two figures every batch. How many items have mentions is
-- now kept in enrich_state as they are stored (counting distinct items in mentions read the
-- whole table), and the most mentioned entities are read through an index on their count.
CREATE INDEX entities_mentions ON entities(mentions);
INSERT INTO enrich_state (key, value)
    SELECT 'enriched_items', CAST(COUNT(DISTINCT item_id) AS TEXT) FROM mentions;
