-- The web app's own state: customer-list views a user saved by name (the
-- list's query string, so a view is exactly what the user was looking at).
CREATE TABLE saved_views (
    id         TEXT PRIMARY KEY,
    user_id    TEXT NOT NULL,
    name       TEXT NOT NULL,
    query      TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL
);
CREATE UNIQUE INDEX saved_views_user_name ON saved_views(user_id, name);

-- The customer list filters by tier and RFM segment together; the pair
-- index lets it count and read the matches of both without a scan.
CREATE INDEX customer_scores_tier_segment ON customer_scores(tier, rfm_segment);
