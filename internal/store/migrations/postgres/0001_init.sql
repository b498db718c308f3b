-- Rapport schema, PostgreSQL dialect: the same tables as the SQLite one,
-- with timestamptz, jsonb and a pg_trgm index for substring search.
CREATE TABLE users (
    id            TEXT PRIMARY KEY,
    email         TEXT NOT NULL UNIQUE,
    name          TEXT NOT NULL DEFAULT '',
    role          TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    locale        TEXT NOT NULL DEFAULT '',
    created_at    TIMESTAMPTZ NOT NULL,
    disabled_at   TIMESTAMPTZ
);

CREATE TABLE api_keys (
    id           TEXT PRIMARY KEY,
    name         TEXT NOT NULL,
    role         TEXT NOT NULL,
    prefix       TEXT NOT NULL,
    hash         TEXT NOT NULL UNIQUE,
    created_by   TEXT,
    created_at   TIMESTAMPTZ NOT NULL,
    revoked_at   TIMESTAMPTZ
);

CREATE TABLE sessions (
    token_hash TEXT PRIMARY KEY,
    user_id    TEXT NOT NULL REFERENCES users(id),
    created_at TIMESTAMPTZ NOT NULL,
    expires_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX sessions_user ON sessions(user_id);

CREATE TABLE settings (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

CREATE TABLE fields (
    key        TEXT PRIMARY KEY,
    type       TEXT NOT NULL,
    label_en   TEXT NOT NULL DEFAULT '',
    label_zh   TEXT NOT NULL DEFAULT '',
    options    JSONB NOT NULL DEFAULT '[]',
    created_at TIMESTAMPTZ NOT NULL
);

CREATE TABLE customers (
    seq        BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id         TEXT NOT NULL UNIQUE,
    kind       TEXT NOT NULL,
    name       TEXT NOT NULL,
    sort_key   TEXT NOT NULL,
    attributes JSONB NOT NULL DEFAULT '{}',
    tags       JSONB NOT NULL DEFAULT '[]',
    owner_id   TEXT,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL,
    deleted_at TIMESTAMPTZ,
    version    BIGINT NOT NULL DEFAULT 1,
    search     TEXT NOT NULL DEFAULT ''
);
CREATE INDEX customers_owner ON customers(owner_id, seq);
CREATE INDEX customers_kind ON customers(kind, seq);
CREATE INDEX customers_sort ON customers(sort_key, seq);
CREATE INDEX customers_deleted ON customers(deleted_at) WHERE deleted_at IS NOT NULL;

-- Trigram index for substring search over names, pinyin and identities.
CREATE EXTENSION IF NOT EXISTS pg_trgm SCHEMA public;
CREATE INDEX customers_search ON customers USING gin (search public.gin_trgm_ops);

CREATE TABLE customer_tags (
    tag          TEXT NOT NULL,
    customer_seq BIGINT NOT NULL,
    PRIMARY KEY (tag, customer_seq)
);

CREATE TABLE identities (
    type        TEXT NOT NULL,
    source      TEXT NOT NULL DEFAULT '',
    value       TEXT NOT NULL,
    customer_id TEXT NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (type, source, value)
);
CREATE INDEX customer_tags_customer ON customer_tags(customer_seq);

CREATE INDEX identities_customer ON identities(customer_id);

CREATE TABLE memberships (
    person_id       TEXT NOT NULL,
    organization_id TEXT NOT NULL,
    role            TEXT NOT NULL DEFAULT '',
    created_at      TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (person_id, organization_id)
);
CREATE INDEX memberships_org ON memberships(organization_id);

CREATE TABLE notes (
    id          TEXT PRIMARY KEY,
    customer_id TEXT NOT NULL,
    author_id   TEXT,
    body        TEXT NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL
);
CREATE INDEX notes_customer ON notes(customer_id, created_at);

CREATE TABLE interactions (
    id          TEXT PRIMARY KEY,
    customer_id TEXT NOT NULL,
    user_id     TEXT,
    kind        TEXT NOT NULL,
    at          TIMESTAMPTZ NOT NULL,
    summary     TEXT NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL
);
CREATE INDEX interactions_customer ON interactions(customer_id, at);

CREATE TABLE orders (
    id          TEXT PRIMARY KEY,
    customer_id TEXT NOT NULL,
    external_id TEXT NOT NULL DEFAULT '',
    source      TEXT NOT NULL DEFAULT '',
    placed_at   TIMESTAMPTZ NOT NULL,
    currency    TEXT NOT NULL,
    total       DOUBLE PRECISION NOT NULL,
    status      TEXT NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL
);
CREATE INDEX orders_customer ON orders(customer_id, placed_at);
CREATE UNIQUE INDEX orders_external ON orders(source, external_id) WHERE external_id <> '';

CREATE TABLE order_items (
    order_id    TEXT NOT NULL,
    line        INTEGER NOT NULL,
    customer_id TEXT NOT NULL,
    product_id  TEXT NOT NULL DEFAULT '',
    sku         TEXT NOT NULL DEFAULT '',
    name        TEXT NOT NULL DEFAULT '',
    category    TEXT NOT NULL DEFAULT '',
    price       DOUBLE PRECISION NOT NULL,
    quantity    DOUBLE PRECISION NOT NULL,
    unit_cost   DOUBLE PRECISION NOT NULL DEFAULT 0,
    PRIMARY KEY (order_id, line)
);
CREATE INDEX order_items_customer ON order_items(customer_id);

CREATE TABLE customer_stats (
    customer_id    TEXT PRIMARY KEY,
    orders         BIGINT NOT NULL DEFAULT 0,
    revenue        DOUBLE PRECISION NOT NULL DEFAULT 0,
    first_order_at TIMESTAMPTZ,
    last_order_at  TIMESTAMPTZ,
    first_seen     TIMESTAMPTZ,
    last_seen      TIMESTAMPTZ,
    interactions   BIGINT NOT NULL DEFAULT 0
);

CREATE TABLE audit (
    seq         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at          TIMESTAMPTZ NOT NULL,
    actor_id    TEXT NOT NULL,
    actor_kind  TEXT NOT NULL,
    action      TEXT NOT NULL,
    entity      TEXT NOT NULL,
    entity_id   TEXT NOT NULL,
    customer_id TEXT,
    changes     JSONB NOT NULL DEFAULT '{}'
);
CREATE INDEX audit_customer ON audit(customer_id, seq);
