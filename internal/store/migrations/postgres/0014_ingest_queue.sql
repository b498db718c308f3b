-- Accepted tracking requests waiting to be applied. A 200 from the
-- tracking API means the request is here, committed; the applier resolves
-- and stores its events in large batches and deletes the row in the same
-- transaction. A row that cannot be applied keeps its error (failed_at).
CREATE TABLE ingest_queue (
    seq         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    source_id   TEXT NOT NULL,
    events      INTEGER NOT NULL,
    body        BYTEA NOT NULL,
    accepted_at TIMESTAMPTZ NOT NULL,
    attempts    INTEGER NOT NULL DEFAULT 0,
    failed_at   TIMESTAMPTZ,
    error       TEXT NOT NULL DEFAULT ''
);
