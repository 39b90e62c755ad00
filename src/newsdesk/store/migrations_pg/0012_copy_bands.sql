-- Copies: each of the 14 LSH bands of a stored sketch (4 uint32 hash values, 16 bytes) is
-- indexed, so a new article's near-duplicate candidates are found by lookup (dedupe.py)
-- instead of loading every sketch into memory at start.
CREATE INDEX copy_keys_band00 ON copy_keys((substr(sketch, 1, 16))) WHERE sketch IS NOT NULL;
CREATE INDEX copy_keys_band01 ON copy_keys((substr(sketch, 17, 16))) WHERE sketch IS NOT NULL;
CREATE INDEX copy_keys_band02 ON copy_keys((substr(sketch, 33, 16))) WHERE sketch IS NOT NULL;
CREATE INDEX copy_keys_band03 ON copy_keys((substr(sketch, 49, 16))) WHERE sketch IS NOT NULL;
CREATE INDEX copy_keys_band04 ON copy_keys((substr(sketch, 65, 16))) WHERE sketch IS NOT NULL;
CREATE INDEX copy_keys_band05 ON copy_keys((substr(sketch, 81, 16))) WHERE sketch IS NOT NULL;
CREATE INDEX copy_keys_band06 ON copy_keys((substr(sketch, 97, 16))) WHERE sketch IS NOT NULL;
CREATE INDEX copy_keys_band07 ON copy_keys((substr(sketch, 113, 16))) WHERE sketch IS NOT NULL;
CREATE INDEX copy_keys_band08 ON copy_keys((substr(sketch, 129, 16))) WHERE sketch IS NOT NULL;
CREATE INDEX copy_keys_band09 ON copy_keys((substr(sketch, 145, 16))) WHERE sketch IS NOT NULL;
CREATE INDEX copy_keys_band10 ON copy_keys((substr(sketch, 161, 16))) WHERE sketch IS NOT NULL;
CREATE INDEX copy_keys_band11 ON copy_keys((substr(sketch, 177, 16))) WHERE sketch IS NOT NULL;
CREATE INDEX copy_keys_band12 ON copy_keys((substr(sketch, 193, 16))) WHERE sketch IS NOT NULL;
CREATE INDEX copy_keys_band13 ON copy_keys((substr(sketch, 209, 16))) WHERE sketch IS NOT NULL;
