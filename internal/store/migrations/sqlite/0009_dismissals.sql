-- Pairs a reviewer marked "not duplicates", so the duplicate review stops
-- showing them. The pair is stored in id order (a_id < b_id).
CREATE TABLE duplicate_dismissals (
    a_id         TEXT NOT NULL,
    b_id         TEXT NOT NULL,
    dismissed_by TEXT NOT NULL,
    created_at   TEXT NOT NULL,
    PRIMARY KEY (a_id, b_id)
);
