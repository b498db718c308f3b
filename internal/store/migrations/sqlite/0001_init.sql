-- Rapport schema, SQLite dialect. Timestamps are UTC text in a fixed-width
-- RFC 3339 form so they sort as strings; JSON is text.
CREATE TABLE users (
    id            TEXT PRIMARY KEY,
    email         TEXT NOT NULL UNIQUE,
    name          TEXT NOT NULL DEFAULT '',
    role          TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    locale        TEXT NOT NULL DEFAULT '',
    created_at    TEXT NOT NULL,
    disabled_at   TEXT
);

CREATE TABLE api_keys (
    id           TEXT PRIMARY KEY,
    name         TEXT NOT NULL,
    role         TEXT NOT NULL,
    prefix       TEXT NOT NULL,
    hash         TEXT NOT NULL UNIQUE,
    created_by   TEXT,
    created_at   TEXT NOT NULL,
    revoked_at   TEXT
);

CREATE TABLE sessions (
    token_hash TEXT PRIMARY KEY,
    user_id    TEXT NOT NULL REFERENCES users(id),
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL
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
    options    TEXT NOT NULL DEFAULT '[]',
    created_at TEXT NOT NULL
);

CREATE TABLE customers (
    seq        INTEGER PRIMARY KEY,
    id         TEXT NOT NULL UNIQUE,
    kind       TEXT NOT NULL,
    name       TEXT NOT NULL,
    sort_key   TEXT NOT NULL,
    attributes TEXT NOT NULL DEFAULT '{}',
    tags       TEXT NOT NULL DEFAULT '[]',
    owner_id   TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    deleted_at TEXT,
    version    INTEGER NOT NULL DEFAULT 1,
    search     TEXT NOT NULL DEFAULT ''
);
CREATE INDEX customers_owner ON customers(owner_id, seq);
CREATE INDEX customers_kind ON customers(kind, seq);
CREATE INDEX customers_sort ON customers(sort_key, seq);
CREATE INDEX customers_deleted ON customers(deleted_at) WHERE deleted_at IS NOT NULL;

-- Trigram index for substring search over names, pinyin and identities.
CREATE VIRTUAL TABLE customer_search USING fts5(search, content='customers', content_rowid='seq', tokenize='trigram');
CREATE TRIGGER customers_search_insert AFTER INSERT ON customers BEGIN
    INSERT INTO customer_search(rowid, search) VALUES (new.seq, new.search);
END;
CREATE TRIGGER customers_search_update AFTER UPDATE OF search ON customers BEGIN
    INSERT INTO customer_search(customer_search, rowid, search) VALUES ('delete', old.seq, old.search);
    INSERT INTO customer_search(rowid, search) VALUES (new.seq, new.search);
END;
CREATE TRIGGER customers_search_delete AFTER DELETE ON customers BEGIN
    INSERT INTO customer_search(customer_search, rowid, search) VALUES ('delete', old.seq, old.search);
END;

CREATE TABLE customer_tags (
    tag          TEXT NOT NULL,
    customer_seq INTEGER NOT NULL,
    PRIMARY KEY (tag, customer_seq)
) WITHOUT ROWID;

CREATE TABLE identities (
    type        TEXT NOT NULL,
    source      TEXT NOT NULL DEFAULT '',
    value       TEXT NOT NULL,
    customer_id TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    PRIMARY KEY (type, source, value)
) WITHOUT ROWID;
CREATE INDEX customer_tags_customer ON customer_tags(customer_seq);

CREATE INDEX identities_customer ON identities(customer_id);

CREATE TABLE memberships (
    person_id       TEXT NOT NULL,
    organization_id TEXT NOT NULL,
    role            TEXT NOT NULL DEFAULT '',
    created_at      TEXT NOT NULL,
    PRIMARY KEY (person_id, organization_id)
) WITHOUT ROWID;
CREATE INDEX memberships_org ON memberships(organization_id);

CREATE TABLE notes (
    id          TEXT PRIMARY KEY,
    customer_id TEXT NOT NULL,
    author_id   TEXT,
    body        TEXT NOT NULL,
    created_at  TEXT NOT NULL
);
CREATE INDEX notes_customer ON notes(customer_id, created_at);

CREATE TABLE interactions (
    id          TEXT PRIMARY KEY,
    customer_id TEXT NOT NULL,
    user_id     TEXT,
    kind        TEXT NOT NULL,
    at          TEXT NOT NULL,
    summary     TEXT NOT NULL,
    created_at  TEXT NOT NULL
);
CREATE INDEX interactions_customer ON interactions(customer_id, at);

CREATE TABLE orders (
    id          TEXT PRIMARY KEY,
    customer_id TEXT NOT NULL,
    external_id TEXT NOT NULL DEFAULT '',
    source      TEXT NOT NULL DEFAULT '',
    placed_at   TEXT NOT NULL,
    currency    TEXT NOT NULL,
    total       REAL NOT NULL,
    status      TEXT NOT NULL,
    created_at  TEXT NOT NULL
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
    price       REAL NOT NULL,
    quantity    REAL NOT NULL,
    unit_cost   REAL NOT NULL DEFAULT 0,
    PRIMARY KEY (order_id, line)
) WITHOUT ROWID;
CREATE INDEX order_items_customer ON order_items(customer_id);

CREATE TABLE customer_stats (
    customer_id    TEXT PRIMARY KEY,
    orders         INTEGER NOT NULL DEFAULT 0,
    revenue        REAL NOT NULL DEFAULT 0,
    first_order_at TEXT,
    last_order_at  TEXT,
    first_seen     TEXT,
    last_seen      TEXT,
    interactions   INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;

CREATE TABLE audit (
    seq         INTEGER PRIMARY KEY,
    at          TEXT NOT NULL,
    actor_id    TEXT NOT NULL,
    actor_kind  TEXT NOT NULL,
    action      TEXT NOT NULL,
    entity      TEXT NOT NULL,
    entity_id   TEXT NOT NULL,
    customer_id TEXT,
    changes     TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX audit_customer ON audit(customer_id, seq);
