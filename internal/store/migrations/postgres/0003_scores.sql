-- Model outputs per customer, and the queue of customers whose scores are
-- stale because their data changed since the last refresh.
CREATE TABLE customer_scores (
    customer_id            TEXT PRIMARY KEY,
    tier                   TEXT NOT NULL DEFAULT '',
    rfm_segment            TEXT NOT NULL DEFAULT '',
    r                      INTEGER NOT NULL DEFAULT 0,
    f                      INTEGER NOT NULL DEFAULT 0,
    m                      INTEGER NOT NULL DEFAULT 0,
    clv                    DOUBLE PRECISION,
    p_alive                DOUBLE PRECISION,
    expected_next_purchase TIMESTAMPTZ,
    churn_risk             DOUBLE PRECISION,
    updated_at             TIMESTAMPTZ NOT NULL
);
CREATE INDEX customer_scores_tier ON customer_scores(tier);
CREATE INDEX customer_scores_segment ON customer_scores(rfm_segment);

CREATE TABLE score_queue (
    customer_id TEXT PRIMARY KEY,
    queued_at   TIMESTAMPTZ NOT NULL
);
