-- Feeds that `newsdesk poll` reads, watches, the alerts they fired, and webhook deliveries.
CREATE TABLE feeds (
    id INTEGER PRIMARY KEY,
    url TEXT NOT NULL UNIQUE,
    title TEXT,
    added TEXT NOT NULL,
    fulltext TEXT NOT NULL DEFAULT 'auto' CHECK (fulltext IN ('auto', 'always', 'never')),
    etag TEXT,                           -- validators for the next conditional GET
    last_modified TEXT,
    last_polled TEXT,
    last_ok TEXT,
    last_status INTEGER,                 -- HTTP status of the last answer (304 when unchanged)
    last_new INTEGER NOT NULL DEFAULT 0, -- new items stored by the last poll
    items_seen INTEGER NOT NULL DEFAULT 0,
    failures INTEGER NOT NULL DEFAULT 0, -- consecutive failed polls
    error TEXT,                          -- why the last poll failed, NULL when it worked
    retry_after TEXT                     -- backing off: not polled before this time
);

CREATE TABLE watches (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('entity', 'query', 'story')),
    target TEXT NOT NULL,
    min_new_sources INTEGER NOT NULL DEFAULT 2, -- new independent sources that make a story fire again
    webhook TEXT,
    secret TEXT,
    created TEXT NOT NULL,
    checked_rowid INTEGER NOT NULL DEFAULT 0    -- items up to this arrival number are checked
);

-- One row per (watch, story) that has alerted: what the story looked like at the last alert.
CREATE TABLE watch_stories (
    watch_id INTEGER NOT NULL REFERENCES watches(id) ON DELETE CASCADE,
    story TEXT NOT NULL,                 -- story id, or 'item:<id>' when stories are not built
    sources INTEGER NOT NULL,
    items INTEGER NOT NULL,
    alerted TEXT NOT NULL,
    PRIMARY KEY (watch_id, story)
);

CREATE TABLE alerts (
    id INTEGER PRIMARY KEY,
    watch_id INTEGER REFERENCES watches(id) ON DELETE SET NULL,
    watch TEXT NOT NULL,                 -- the watch's name when it fired
    story TEXT NOT NULL,
    item_id TEXT,                        -- the newest matching item
    reason TEXT NOT NULL CHECK (reason IN ('new', 'update')),
    title TEXT,
    url TEXT,
    sources INTEGER NOT NULL,
    items INTEGER NOT NULL,
    created TEXT NOT NULL,
    item_ingested TEXT                   -- when the item arrived, for alert latency
);
CREATE INDEX alerts_created ON alerts(created);

CREATE TABLE deliveries (
    id INTEGER PRIMARY KEY,
    alert_id INTEGER NOT NULL REFERENCES alerts(id) ON DELETE CASCADE,
    target TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('pending', 'sent', 'failed')),
    attempts INTEGER NOT NULL DEFAULT 0,
    error TEXT,
    updated TEXT NOT NULL
);
CREATE INDEX deliveries_status ON deliveries(status);
