-- Term statistics of the full-text index, read to pick an item's salient terms.
CREATE VIRTUAL TABLE items_fts_vocab USING fts5vocab(items_fts, 'row');
