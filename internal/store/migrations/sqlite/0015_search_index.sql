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

-- Customers written while indexing is deferred (a large import: its
-- transactions set customer_search_deferred and clear it before they
-- commit) are listed in the backlog, committed with them, and indexed in
-- one pass when the import ends or, after a crash, when the store opens.
-- A backlogged customer is not in the index yet, so updating or deleting
-- it leaves the index alone: the pass reads its search text then.
CREATE TABLE customer_search_backlog (seq INTEGER PRIMARY KEY);
CREATE TABLE customer_search_deferred (one INTEGER PRIMARY KEY CHECK (one = 1));

CREATE TRIGGER customers_search_insert AFTER INSERT ON customers
WHEN NOT EXISTS (SELECT 1 FROM customer_search_deferred) BEGIN
    INSERT INTO customer_search(rowid, search) VALUES (new.seq, new.search);
END;
CREATE TRIGGER customers_search_defer AFTER INSERT ON customers
WHEN EXISTS (SELECT 1 FROM customer_search_deferred) BEGIN
    INSERT INTO customer_search_backlog(seq) VALUES (new.seq);
END;
CREATE TRIGGER customers_search_update AFTER UPDATE OF search ON customers
WHEN NOT EXISTS (SELECT 1 FROM customer_search_backlog WHERE seq = old.seq) BEGIN
    INSERT INTO customer_search(customer_search, rowid, search) VALUES ('delete', old.seq, old.search);
    INSERT INTO customer_search(rowid, search) VALUES (new.seq, new.search);
END;
-- One trigger, statements in order: the index entry is removed only when
-- the customer was indexed, then its backlog entry (if any) goes.
CREATE TRIGGER customers_search_delete AFTER DELETE ON customers BEGIN
    INSERT INTO customer_search(customer_search, rowid, search)
        SELECT 'delete', old.seq, old.search WHERE NOT EXISTS (SELECT 1 FROM customer_search_backlog WHERE seq = old.seq);
    DELETE FROM customer_search_backlog WHERE seq = old.seq;
END;
