-- An outlet's latest items (ingest reads them to know the outlet's template lines, see
-- ingest/templates.py): an index walked backwards from the outlet's newest row, LIMIT 30, where
-- the index on source alone would sort every item of the outlet. SQLite's index on source holds
-- the rowid already, so its store needs no migration for this.
CREATE INDEX IF NOT EXISTS items_source_rowid ON items(source, rowid);
