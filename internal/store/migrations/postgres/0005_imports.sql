-- File imports: one row per import job with its progress and counts, and
-- the rows it rejected (original cells and the reason) for download.
CREATE TABLE imports (
    id          TEXT PRIMARY KEY,
    kind        TEXT NOT NULL,
    status      TEXT NOT NULL,
    file_name   TEXT NOT NULL DEFAULT '',
    source      TEXT NOT NULL DEFAULT '',
    header      JSONB NOT NULL DEFAULT '[]',
    mapping     JSONB NOT NULL DEFAULT '{}',
    ignored     JSONB NOT NULL DEFAULT '[]',
    total       BIGINT NOT NULL DEFAULT 0,
    done        BIGINT NOT NULL DEFAULT 0,
    imported    BIGINT NOT NULL DEFAULT 0,
    merged      BIGINT NOT NULL DEFAULT 0,
    unchanged   BIGINT NOT NULL DEFAULT 0,
    rejected    BIGINT NOT NULL DEFAULT 0,
    error       TEXT NOT NULL DEFAULT '',
    created_by  TEXT NOT NULL DEFAULT '',
    created_at  TIMESTAMPTZ NOT NULL,
    updated_at  TIMESTAMPTZ NOT NULL,
    finished_at TIMESTAMPTZ
);
CREATE INDEX imports_created ON imports(created_at);

CREATE TABLE import_rejects (
    import_id TEXT NOT NULL,
    line      BIGINT NOT NULL,
    cells     JSONB NOT NULL,
    reason    TEXT NOT NULL,
    PRIMARY KEY (import_id, line)
);
