-- Stories: whether a story is of mostly full articles (its state's articles * 2 > n), kept
-- as a column, so that a start loads for a full article only those stories from the article
-- window (a year), not every story of that year: the others go dormant after the short window.
ALTER TABLE stories ADD COLUMN long_lived INTEGER NOT NULL DEFAULT 0;
UPDATE stories SET long_lived = 1
    WHERE state IS NOT NULL AND state <> ''
      AND COALESCE((state::jsonb ->> 'articles')::integer, 0) * 2
          > COALESCE((state::jsonb ->> 'n')::integer, 0);
CREATE INDEX stories_long_lived ON stories(status, long_lived, last_time);
