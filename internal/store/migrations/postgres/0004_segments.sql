-- Segments (rules over customers) with their materialized membership and
-- the enter/leave log; target lists, tasks and outcomes; experiments with
-- control groups; initiatives and their costs.
CREATE TABLE segments (
    id           TEXT PRIMARY KEY,
    name         TEXT NOT NULL UNIQUE,
    rule         TEXT NOT NULL,
    created_by   TEXT NOT NULL DEFAULT '',
    created_at   TIMESTAMPTZ NOT NULL,
    updated_at   TIMESTAMPTZ NOT NULL,
    member_count INTEGER NOT NULL DEFAULT 0,
    refreshed_at TIMESTAMPTZ
);

CREATE TABLE segment_members (
    segment_id  TEXT NOT NULL,
    customer_id TEXT NOT NULL,
    since       TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (segment_id, customer_id)
);
CREATE INDEX segment_members_customer ON segment_members(customer_id);

-- A customer entering or leaving a segment after it was created; the
-- timeline and webhooks read this log.
CREATE TABLE segment_membership_events (
    seq         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    segment_id  TEXT NOT NULL,
    customer_id TEXT NOT NULL,
    change      TEXT NOT NULL,
    at          TIMESTAMPTZ NOT NULL
);
CREATE INDEX segment_membership_events_customer ON segment_membership_events(customer_id, seq);
CREATE INDEX segment_membership_events_segment ON segment_membership_events(segment_id, seq);

CREATE TABLE initiatives (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    hypothesis  TEXT NOT NULL DEFAULT '',
    segment_id  TEXT,
    budget      DOUBLE PRECISION NOT NULL DEFAULT 0,
    stage       TEXT NOT NULL,
    created_by  TEXT NOT NULL DEFAULT '',
    created_at  TIMESTAMPTZ NOT NULL,
    updated_at  TIMESTAMPTZ NOT NULL
);

CREATE TABLE target_lists (
    id               TEXT PRIMARY KEY,
    name             TEXT NOT NULL,
    source           TEXT NOT NULL,
    segment_id       TEXT,
    score            TEXT NOT NULL DEFAULT '',
    initiative_id    TEXT,
    script           TEXT NOT NULL DEFAULT '',
    due_at           TIMESTAMPTZ,
    attribution_days INTEGER NOT NULL,
    assignment       TEXT NOT NULL DEFAULT '',
    model            TEXT NOT NULL DEFAULT '',
    created_by       TEXT NOT NULL DEFAULT '',
    created_at       TIMESTAMPTZ NOT NULL
);
CREATE INDEX target_lists_initiative ON target_lists(initiative_id);

CREATE TABLE list_entries (
    list_id     TEXT NOT NULL,
    customer_id TEXT NOT NULL,
    position    INTEGER NOT NULL,
    arm         TEXT NOT NULL DEFAULT '',
    stratum     TEXT NOT NULL DEFAULT '',
    score       DOUBLE PRECISION,
    features    JSONB NOT NULL DEFAULT '{}',
    PRIMARY KEY (list_id, customer_id)
);
CREATE INDEX list_entries_customer ON list_entries(customer_id);

CREATE TABLE tasks (
    id          TEXT PRIMARY KEY,
    list_id     TEXT NOT NULL,
    customer_id TEXT NOT NULL,
    assignee_id TEXT,
    due_at      TIMESTAMPTZ,
    script      TEXT NOT NULL DEFAULT '',
    status      TEXT NOT NULL,
    outcome     TEXT,
    notes       TEXT NOT NULL DEFAULT '',
    outcome_at  TIMESTAMPTZ,
    outcome_by  TEXT,
    created_at  TIMESTAMPTZ NOT NULL
);
CREATE INDEX tasks_assignee ON tasks(assignee_id, status, due_at);
CREATE INDEX tasks_customer ON tasks(customer_id, created_at);
CREATE INDEX tasks_list ON tasks(list_id);

CREATE TABLE experiments (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    list_id     TEXT NOT NULL UNIQUE,
    salt        TEXT NOT NULL,
    arms        JSONB NOT NULL,
    control     TEXT NOT NULL,
    stratify_by TEXT NOT NULL DEFAULT '',
    created_by  TEXT NOT NULL DEFAULT '',
    created_at  TIMESTAMPTZ NOT NULL
);

CREATE TABLE costs (
    id            TEXT PRIMARY KEY,
    initiative_id TEXT,
    list_id       TEXT,
    hours         DOUBLE PRECISION NOT NULL DEFAULT 0,
    hourly_rate   DOUBLE PRECISION NOT NULL DEFAULT 0,
    money         DOUBLE PRECISION NOT NULL DEFAULT 0,
    note          TEXT NOT NULL DEFAULT '',
    created_by    TEXT NOT NULL DEFAULT '',
    created_at    TIMESTAMPTZ NOT NULL
);
CREATE INDEX costs_initiative ON costs(initiative_id);
CREATE INDEX costs_list ON costs(list_id);
