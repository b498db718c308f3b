-- File imports: one row per import job with its progress and counts, and
-- the rows it rejected (original cells and the reason) for download.
CREATE TABLE imports (
    id          TEXT PRIMARY KEY,
    kind        TEXT NOT NULL,
    status      TEXT NOT NULL,
    file_name   TEXT NOT NULL DEFAULT '',
    source      TEXT NOT NULL DEFAULT '',
    header      TEXT NOT NULL DEFAULT '[]',
    mapping     TEXT NOT NULL DEFAULT '{}',
    ignored     TEXT NOT NULL DEFAULT '[]',
    total       INTEGER NOT NULL DEFAULT 0,
    done        INTEGER NOT NULL DEFAULT 0,
    imported    INTEGER NOT NULL DEFAULT 0,
    merged      INTEGER NOT NULL DEFAULT 0,
    unchanged   INTEGER NOT NULL DEFAULT 0,
    rejected    INTEGER NOT NULL DEFAULT 0,
    error       TEXT NOT NULL DEFAULT '',
    created_by  TEXT NOT NULL DEFAULT '',
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL,
    finished_at TEXT
);
CREATE INDEX imports_created ON imports(created_at);

CREATE TABLE import_rejects (
    import_id TEXT NOT NULL,
    line      INTEGER NOT NULL,
    cells     TEXT NOT NULL,
    reason    TEXT NOT NULL,
    PRIMARY KEY (import_id, line)
) WITHOUT ROWID;
