-- Webhook subscriptions to segment entries and exits. The membership log
-- (segment_membership_events) is the outbox: each subscription keeps the
-- sequence number of the last event it delivered.
CREATE TABLE webhooks (
    id              TEXT PRIMARY KEY,
    url             TEXT NOT NULL,
    events          TEXT NOT NULL,              -- JSON array: segment.entered, segment.left
    segment_ids     TEXT NOT NULL DEFAULT '[]', -- JSON array; empty means every segment
    secret          TEXT NOT NULL,              -- signs deliveries, so it is kept as is
    active          BOOLEAN NOT NULL DEFAULT TRUE,
    cursor          BIGINT NOT NULL,
    failures        INTEGER NOT NULL DEFAULT 0, -- consecutive failed attempts
    next_attempt_at TIMESTAMPTZ,
    created_by      TEXT NOT NULL DEFAULT '',
    created_at      TIMESTAMPTZ NOT NULL
);

CREATE TABLE webhook_deliveries (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    webhook_id  TEXT NOT NULL,
    first_seq   BIGINT NOT NULL,
    last_seq    BIGINT NOT NULL,
    events      INTEGER NOT NULL,
    status      INTEGER NOT NULL,   -- HTTP status; 0 when no answer
    error       TEXT NOT NULL DEFAULT '',
    duration_ms INTEGER NOT NULL,
    at          TIMESTAMPTZ NOT NULL
);
CREATE INDEX webhook_deliveries_webhook ON webhook_deliveries(webhook_id, id);
