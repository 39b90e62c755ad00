-- Copies (level one) and stories (level two): membership, decisions, corrections.

-- A near-duplicate item and the canonical item of its copy group.
CREATE TABLE copies (
    item_id TEXT PRIMARY KEY REFERENCES items(id),
    canonical_id TEXT NOT NULL REFERENCES items(id),
    score REAL NOT NULL,                 -- similarity that made it a copy (1.0 for title match)
    method TEXT NOT NULL                 -- 'minhash' or 'title'
);
CREATE INDEX copies_canonical ON copies(canonical_id);

-- What the copy detector keeps per canonical item, so its index survives across processes.
CREATE TABLE copy_keys (
    item_id TEXT PRIMARY KEY REFERENCES items(id),
    title_key TEXT,                      -- normalised short text, for bare headlines
    sketch BLOB                          -- MinHash hash values (uint32), NULL when too short
);
CREATE INDEX copy_keys_title ON copy_keys(title_key);

CREATE TABLE stories (
    seq INTEGER PRIMARY KEY,             -- creation order: the older story has the smaller seq
    id TEXT NOT NULL UNIQUE,
    created TEXT NOT NULL,
    updated TEXT NOT NULL,
    first_time TEXT,                     -- earliest member publication (else arrival) time
    last_time TEXT,
    size INTEGER NOT NULL DEFAULT 0,     -- members, copies included
    copies INTEGER NOT NULL DEFAULT 0,   -- members that are copies of another member
    sources INTEGER NOT NULL DEFAULT 0,  -- distinct outlets among members
    title TEXT,                          -- plain fallback title: headline of the earliest canonical member
    status TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'merged', 'empty')),
    state TEXT                           -- JSON: clustering state (centroid terms, entities, vector)
);
CREATE INDEX stories_last_time ON stories(status, last_time);

CREATE TABLE story_members (
    item_id TEXT PRIMARY KEY REFERENCES items(id),
    story_id TEXT NOT NULL,
    time TEXT,                           -- item publication (else arrival) time
    copy_of TEXT,                        -- canonical item when this member is a copy
    how TEXT NOT NULL,                   -- 'joined', 'started', 'copy', 'moved', 'split', 'merged'
    pinned INTEGER NOT NULL DEFAULT 0    -- placed by an editor: automatic steps leave it
);
CREATE INDEX story_members_story ON story_members(story_id, time);

-- Why each item went where it went, as decided on arrival.
CREATE TABLE story_decisions (
    item_id TEXT PRIMARY KEY REFERENCES items(id),
    story_id TEXT NOT NULL,
    action TEXT NOT NULL,                -- 'joined', 'started', 'copy'
    score REAL,
    threshold REAL,
    components TEXT,                     -- JSON
    runner_up TEXT,
    runner_score REAL,
    runner_components TEXT,              -- JSON
    decided TEXT NOT NULL
);

-- Merged stories point to the story that absorbed them.
CREATE TABLE story_redirects (
    old_id TEXT PRIMARY KEY,
    new_id TEXT NOT NULL,
    at TEXT NOT NULL
);

CREATE TABLE story_corrections (
    id INTEGER PRIMARY KEY,
    at TEXT NOT NULL,
    action TEXT NOT NULL,                -- 'merge', 'move', 'split'
    story_id TEXT NOT NULL,
    other_id TEXT,
    items TEXT,                          -- JSON list of item ids
    reason TEXT
);

-- Pairs an editor kept apart (split) and items an editor moved out of a story.
CREATE TABLE story_blocks (
    a TEXT NOT NULL,                     -- story id or item id
    b TEXT NOT NULL,                     -- story id
    kind TEXT NOT NULL,                  -- 'stories' or 'item'
    PRIMARY KEY (a, b, kind)
);

-- Document frequencies learned online from stored items (term weighting).
CREATE TABLE story_terms (
    term TEXT PRIMARY KEY,
    df INTEGER NOT NULL
) WITHOUT ROWID;

CREATE TABLE story_meta (
    key TEXT PRIMARY KEY,
    value TEXT
);
