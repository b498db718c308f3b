-- The search index without positions or column sizes (detail=none,
-- columnsize=0). A search is a substring test (LIKE/GLOB, and the query
-- re-checks the stored search text), never a ranked or phrase query, so
-- the positions were never read; writing them was a quarter of the cost of
-- inserting a customer. Without positions a multi-trigram pattern finds
-- candidates that hold every trigram somewhere; the substring test on the
-- search text drops the false ones.
DROP TRIGGER customers_search_insert;
DROP TRIGGER customers_search_update;
DROP TRIGGER customers_search_delete;
DROP TABLE customer_search;
CREATE VIRTUAL TABLE customer_search USING fts5(search, content='customers', content_rowid='seq', tokenize='trigram',
    detail=none, columnsize=0);
INSERT INTO customer_search(customer_search) VALUES ('rebuild');
CREATE TRIGGER customers_search_insert AFTER INSERT ON customers BEGIN
    INSERT INTO customer_search(rowid, search) VALUES (new.seq, new.search);
END;
CREATE TRIGGER customers_search_update AFTER UPDATE OF search ON customers BEGIN
    INSERT INTO customer_search(customer_search, rowid, search) VALUES ('delete', old.seq, old.search);
    INSERT INTO customer_search(rowid, search) VALUES (new.seq, new.search);
END;
CREATE TRIGGER customers_search_delete AFTER DELETE ON customers BEGIN
    INSERT INTO customer_search(customer_search, rowid, search) VALUES ('delete', old.seq, old.search);
END;
