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
