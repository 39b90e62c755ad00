-- Chinese, Japanese and Korean are written without spaces between words, so the 'simple'
-- text search configuration reads a whole run of such characters as one token and finds no
-- word inside it. Such words are found by substring (strpos) over title and text instead;
-- where the pg_trgm extension is installed (Debian's postgresql-15 ships it), a trigram
-- index over the items holding characters of those scripts serves those matches.
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = 'pg_trgm') THEN
        BEGIN
            CREATE EXTENSION IF NOT EXISTS pg_trgm;
        EXCEPTION WHEN insufficient_privilege THEN
            RAISE NOTICE 'pg_trgm not created (no privilege): CJK search scans the items';
        END;
    END IF;
    IF EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm') THEN
        EXECUTE $i$CREATE INDEX items_cjk ON items USING GIN ((COALESCE(title, '') || chr(10) || text) gin_trgm_ops)
            WHERE (COALESCE(title, '') || text) ~ '[⺀-鿿가-힯豈-﫿ｦ-ﾟ]'$i$;
    END IF;
END
$$;

-- Item listings and search filter by language.
CREATE INDEX IF NOT EXISTS items_language ON items(language);

-- Search folds diacritics, as SQLite's unicode61 tokenizer does (bibliotheques finds
-- bibliothèques): newsdesk_fold() strips them with the unaccent extension where it is
-- available (Debian's postgresql-15 ships it) and is the identity elsewhere. Queries are
-- folded by the same function, so index and query always agree.
DO $$
DECLARE
    schema name;
BEGIN
    IF EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = 'unaccent') THEN
        BEGIN
            CREATE EXTENSION IF NOT EXISTS unaccent;
        EXCEPTION WHEN insufficient_privilege THEN
            RAISE NOTICE 'unaccent not created (no privilege): search does not fold diacritics';
        END;
    END IF;
    SELECT n.nspname INTO schema FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace
        WHERE e.extname = 'unaccent';
    IF schema IS NOT NULL THEN
        EXECUTE format('CREATE FUNCTION newsdesk_fold(text) RETURNS text LANGUAGE sql IMMUTABLE '
                       'PARALLEL SAFE STRICT AS $b$SELECT %I.unaccent(%L::regdictionary, $1)$b$',
                       schema, schema || '.unaccent');
    ELSE
        CREATE FUNCTION newsdesk_fold(text) RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT
            AS 'SELECT $1';
    END IF;
END
$$;

ALTER TABLE items DROP COLUMN search;
ALTER TABLE items ADD COLUMN search tsvector GENERATED ALWAYS AS (
    setweight(to_tsvector('simple', newsdesk_fold(COALESCE(title, ''))), 'A') ||
    setweight(to_tsvector('simple', newsdesk_fold(left(text, 200000))), 'B')
) STORED;
CREATE INDEX items_search ON items USING GIN (search);
