-- Queued requests are compressed with lz4 instead of pglz, PostgreSQL's
-- default: every accepted request (~40 KB for 100 events) is compressed
-- once on accept and read back once by the applier, and pglz spent about
-- 0.3 s of server CPU per 200,000 events, on the cores the applier needs.
-- lz4 is optional in a PostgreSQL build; a server built without it keeps
-- pglz, which changes nothing but the speed.
DO $$
BEGIN
    ALTER TABLE ingest_queue ALTER COLUMN body SET COMPRESSION lz4;
EXCEPTION WHEN feature_not_supported OR invalid_parameter_value THEN
    RAISE NOTICE 'lz4 is not available; ingest_queue keeps the default compression';
END $$;
