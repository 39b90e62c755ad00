-- Outlets: who published each item, attributes a user imported, and the blindspot watch kind.
CREATE TABLE outlets (
    id INTEGER PRIMARY KEY,
    key TEXT NOT NULL UNIQUE,            -- folded name (outlets/fold.py), or a registered domain
    name TEXT NOT NULL,                  -- display name: as first written
    owner TEXT,                          -- folded `owner` attribute: outlets of one owner count once
    created TEXT NOT NULL
);

-- Attributes from outlet files (country, lean, owner...): free names, text values.
CREATE TABLE outlet_attrs (
    outlet_id INTEGER NOT NULL REFERENCES outlets(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    value TEXT NOT NULL,
    PRIMARY KEY (outlet_id, name)
) WITHOUT ROWID;
CREATE INDEX outlet_attrs_name ON outlet_attrs(name, value);

-- Names and domains that resolve to an outlet; a domain written by two outlets points nowhere.
CREATE TABLE outlet_aliases (
    alias TEXT PRIMARY KEY,              -- 'name:<folded>', 'domain:<registered domain>', 'as:<spelling>'
    outlet_id INTEGER REFERENCES outlets(id) ON DELETE CASCADE,
    surface TEXT NOT NULL                -- as written
);
CREATE INDEX outlet_aliases_outlet ON outlet_aliases(outlet_id);

-- Each item's outlet, or the input it came from when it names none (one input, one source).
CREATE TABLE item_outlets (
    item_id TEXT PRIMARY KEY REFERENCES items(id),
    outlet_id INTEGER REFERENCES outlets(id),
    input TEXT
) WITHOUT ROWID;
CREATE INDEX item_outlets_outlet ON item_outlets(outlet_id);

-- A watch may alert when a story becomes a blindspot: the kind check admits 'blindspot'.
-- (SQLite's documented way to relax a CHECK constraint in place; the table is unchanged.)
PRAGMA writable_schema = ON;
UPDATE sqlite_master SET sql = replace(sql, 'CHECK (kind IN (''entity'', ''query'', ''story''))',
    'CHECK (kind IN (''entity'', ''query'', ''story'', ''blindspot''))')
    WHERE type = 'table' AND name = 'watches';
PRAGMA writable_schema = RESET;
PRAGMA writable_schema = OFF;
