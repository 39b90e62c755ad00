-- Chinese, Japanese and Korean are written without spaces between words, so the word index
-- (unicode61) reads a whole run of such characters as one token and finds no word inside it.
-- This trigram index holds only the items with characters of those scripts: a query for
-- 经济政策 then finds 北京宣布新的经济政策. Shorter words (经济) are matched with LIKE on it.
CREATE VIRTUAL TABLE items_cjk USING fts5(
    title, text, content='items', content_rowid='rowid', tokenize='trigram'
);
CREATE TRIGGER items_cjk_ai AFTER INSERT ON items
WHEN new.title GLOB '*[⺀-鿿가-힯豈-﫿ｦ-ﾟ]*' OR new.text GLOB '*[⺀-鿿가-힯豈-﫿ｦ-ﾟ]*' BEGIN
    INSERT INTO items_cjk(rowid, title, text) VALUES (new.rowid, new.title, new.text);
END;
CREATE TRIGGER items_cjk_ad AFTER DELETE ON items
WHEN old.title GLOB '*[⺀-鿿가-힯豈-﫿ｦ-ﾟ]*' OR old.text GLOB '*[⺀-鿿가-힯豈-﫿ｦ-ﾟ]*' BEGIN
    INSERT INTO items_cjk(items_cjk, rowid, title, text) VALUES ('delete', old.rowid, old.title, old.text);
END;
CREATE TRIGGER items_cjk_au_old AFTER UPDATE OF title, text ON items
WHEN old.title GLOB '*[⺀-鿿가-힯豈-﫿ｦ-ﾟ]*' OR old.text GLOB '*[⺀-鿿가-힯豈-﫿ｦ-ﾟ]*' BEGIN
    INSERT INTO items_cjk(items_cjk, rowid, title, text) VALUES ('delete', old.rowid, old.title, old.text);
END;
CREATE TRIGGER items_cjk_au_new AFTER UPDATE OF title, text ON items
WHEN new.title GLOB '*[⺀-鿿가-힯豈-﫿ｦ-ﾟ]*' OR new.text GLOB '*[⺀-鿿가-힯豈-﫿ｦ-ﾟ]*' BEGIN
    INSERT INTO items_cjk(rowid, title, text) VALUES (new.rowid, new.title, new.text);
END;
INSERT INTO items_cjk(rowid, title, text)
    SELECT rowid, title, text FROM items
    WHERE title GLOB '*[⺀-鿿가-힯豈-﫿ｦ-ﾟ]*' OR text GLOB '*[⺀-鿿가-힯豈-﫿ｦ-ﾟ]*';

-- Item listings and search filter by language.
CREATE INDEX IF NOT EXISTS items_language ON items(language);
