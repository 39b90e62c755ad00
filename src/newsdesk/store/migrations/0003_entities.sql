-- Entities with canonical names, their mentions in items, roles, dates, figures, keyphrases.
CREATE TABLE entities (
    id INTEGER PRIMARY KEY,
    key TEXT NOT NULL UNIQUE,            -- folded canonical name: spelling variants share it
    name TEXT NOT NULL,                  -- canonical display name
    type TEXT NOT NULL,                  -- the type most mentions give it
    surname TEXT,                        -- folded last word of a person's name
    mentions INTEGER NOT NULL DEFAULT 0,
    items INTEGER NOT NULL DEFAULT 0,
    first_seen TEXT,
    last_seen TEXT
);
CREATE INDEX entities_type ON entities(type, mentions);
CREATE INDEX entities_surname ON entities(surname);

CREATE TABLE entity_aliases (
    entity_id INTEGER NOT NULL REFERENCES entities(id) ON DELETE CASCADE,
    alias TEXT NOT NULL,                 -- a surface form as written
    folded TEXT NOT NULL,
    count INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (entity_id, alias)
);
CREATE INDEX entity_aliases_folded ON entity_aliases(folded);

CREATE TABLE entity_types (
    entity_id INTEGER NOT NULL REFERENCES entities(id) ON DELETE CASCADE,
    type TEXT NOT NULL,
    count INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (entity_id, type)
);

CREATE TABLE mentions (
    id INTEGER PRIMARY KEY,
    item_id TEXT NOT NULL REFERENCES items(id) ON DELETE CASCADE,
    entity_id INTEGER NOT NULL REFERENCES entities(id) ON DELETE CASCADE,
    surface TEXT NOT NULL,
    type TEXT NOT NULL,                  -- the type this mention was given
    field TEXT NOT NULL DEFAULT 'text',  -- 'title' or 'text': which string the offsets index
    start INTEGER NOT NULL,
    end INTEGER NOT NULL,
    role TEXT
);
CREATE INDEX mentions_item ON mentions(item_id);
CREATE INDEX mentions_entity ON mentions(entity_id, item_id);

CREATE TABLE entity_roles (
    entity_id INTEGER NOT NULL REFERENCES entities(id) ON DELETE CASCADE,
    role TEXT NOT NULL,
    item_id TEXT NOT NULL REFERENCES items(id) ON DELETE CASCADE,
    PRIMARY KEY (entity_id, role, item_id)
);

CREATE TABLE item_dates (
    id INTEGER PRIMARY KEY,
    item_id TEXT NOT NULL REFERENCES items(id) ON DELETE CASCADE,
    surface TEXT NOT NULL,
    field TEXT NOT NULL DEFAULT 'text',
    start INTEGER NOT NULL,
    end INTEGER NOT NULL,
    resolved TEXT,                       -- ISO date, first day of the period named
    granularity TEXT,                    -- day, week, month, year
    reference TEXT NOT NULL,             -- published, ingested or none
    reference_time TEXT
);
CREATE INDEX item_dates_item ON item_dates(item_id);
CREATE INDEX item_dates_resolved ON item_dates(resolved);

CREATE TABLE item_figures (
    id INTEGER PRIMARY KEY,
    item_id TEXT NOT NULL REFERENCES items(id) ON DELETE CASCADE,
    surface TEXT NOT NULL,
    field TEXT NOT NULL DEFAULT 'text',
    start INTEGER NOT NULL,
    end INTEGER NOT NULL,
    value REAL,
    unit TEXT,
    measure TEXT
);
CREATE INDEX item_figures_item ON item_figures(item_id);

CREATE TABLE item_keyphrases (
    item_id TEXT NOT NULL REFERENCES items(id) ON DELETE CASCADE,
    phrase TEXT NOT NULL,
    folded TEXT NOT NULL,
    score REAL NOT NULL,
    PRIMARY KEY (item_id, folded)
);
CREATE INDEX item_keyphrases_folded ON item_keyphrases(folded);

CREATE TABLE enrich_state (
    key TEXT PRIMARY KEY,                -- e.g. 'status': what the entity stage last said
    value TEXT NOT NULL
);
