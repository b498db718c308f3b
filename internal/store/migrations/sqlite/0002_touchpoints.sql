-- Touchpoints: tracking sources and their write keys, the event log,
-- identity merges (recorded so they can be undone) and the per-customer
-- aggregates that keep the full stats current on every write.
CREATE TABLE sources (
    id         TEXT PRIMARY KEY,
    name       TEXT NOT NULL UNIQUE,
    prefix     TEXT NOT NULL,
    key_hash   TEXT NOT NULL UNIQUE,
    created_by TEXT,
    created_at TEXT NOT NULL,
    revoked_at TEXT
);

-- One row per accepted tracking message. at is the skew-corrected
-- timestamp; payload is the message as received.
CREATE TABLE events (
    seq         INTEGER PRIMARY KEY,
    source_id   TEXT NOT NULL,
    message_id  TEXT NOT NULL,
    customer_id TEXT NOT NULL,
    type        TEXT NOT NULL,
    name        TEXT NOT NULL DEFAULT '',
    at          TEXT NOT NULL,
    received_at TEXT NOT NULL,
    payload     TEXT NOT NULL
);
CREATE UNIQUE INDEX events_message ON events(source_id, message_id);
CREATE INDEX events_customer ON events(customer_id, at);

-- Completed orders per customer and UTC day: distinct purchase days and
-- the repeat-purchase summary.
CREATE TABLE customer_days (
    customer_id TEXT NOT NULL,
    day         TEXT NOT NULL,
    orders      INTEGER NOT NULL,
    revenue     REAL NOT NULL,
    PRIMARY KEY (customer_id, day)
) WITHOUT ROWID;

-- Spend per customer and product category: the favourite category.
CREATE TABLE customer_categories (
    customer_id TEXT NOT NULL,
    category    TEXT NOT NULL,
    amount      REAL NOT NULL,
    PRIMARY KEY (customer_id, category)
) WITHOUT ROWID;

ALTER TABLE customer_stats ADD COLUMN events INTEGER NOT NULL DEFAULT 0;
ALTER TABLE customer_stats ADD COLUMN last_channel TEXT NOT NULL DEFAULT '';
ALTER TABLE customer_stats ADD COLUMN last_channel_at TEXT;
ALTER TABLE customer_stats ADD COLUMN favourite_category TEXT NOT NULL DEFAULT '';
ALTER TABLE customer_stats ADD COLUMN purchase_days INTEGER NOT NULL DEFAULT 0;
ALTER TABLE customer_stats ADD COLUMN repeat_revenue REAL NOT NULL DEFAULT 0;

-- Every merge of two profiles, with what is needed to undo it.
CREATE TABLE merges (
    id         TEXT PRIMARY KEY,
    winner_id  TEXT NOT NULL,
    loser_id   TEXT NOT NULL,
    rule       TEXT NOT NULL,
    actor_id   TEXT NOT NULL,
    actor_kind TEXT NOT NULL,
    created_at TEXT NOT NULL,
    undone_at  TEXT,
    snapshot   TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX merges_winner ON merges(winner_id);
CREATE INDEX merges_loser ON merges(loser_id);

-- The rows a merge moved from the loser to the winner.
CREATE TABLE merge_moves (
    merge_id TEXT NOT NULL,
    entity   TEXT NOT NULL,
    row_key  TEXT NOT NULL,
    PRIMARY KEY (merge_id, entity, row_key)
) WITHOUT ROWID;
