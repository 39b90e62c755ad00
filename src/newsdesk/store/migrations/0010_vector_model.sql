-- The embedding backend that made each search vector (embed_backend): vectors of two backends
-- are never compared. Vectors stored before came from the transformer, the only backend then.
ALTER TABLE item_vectors ADD COLUMN model TEXT NOT NULL DEFAULT 'minilm';
