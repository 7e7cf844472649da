-- +goose Up
-- The whole data model of DESIGN.md §3. Every tenant table carries
-- publisher_id, and every unique key includes it, so the schema can be
-- distributed by publisher_id (Citus) without change.

CREATE TABLE publishers (
    id                 UUID PRIMARY KEY,
    name               TEXT NOT NULL,
    slug               TEXT NOT NULL UNIQUE,
    logo               TEXT NOT NULL DEFAULT '',
    website            TEXT NOT NULL DEFAULT '',
    subscription_tier  TEXT NOT NULL DEFAULT 'starter' CHECK (subscription_tier IN ('starter','growth','enterprise')),
    reporting_currency TEXT NOT NULL DEFAULT 'USD',
    timezone           TEXT NOT NULL DEFAULT 'UTC',
    settings           JSONB NOT NULL DEFAULT '{}',
    created_at         TIMESTAMP NOT NULL,
    updated_at         TIMESTAMP NOT NULL
);

CREATE TABLE users (
    id            UUID PRIMARY KEY,
    publisher_id  UUID NOT NULL REFERENCES publishers (id) ON DELETE CASCADE,
    email         TEXT NOT NULL,
    name          TEXT NOT NULL DEFAULT '',
    password_hash TEXT NOT NULL DEFAULT '',
    role          TEXT NOT NULL CHECK (role IN ('owner','admin','member','analyst')),
    totp_secret   TEXT NOT NULL DEFAULT '',
    totp_enabled  BOOLEAN NOT NULL DEFAULT FALSE,
    recovery_codes JSONB NOT NULL DEFAULT '[]',
    last_login_at TIMESTAMP,
    disabled_at   TIMESTAMP,
    created_at    TIMESTAMP NOT NULL,
    updated_at    TIMESTAMP NOT NULL
);
-- Email is unique across the installation: sign-in starts from the email alone.
CREATE UNIQUE INDEX users_email ON users (email);
CREATE INDEX users_publisher ON users (publisher_id);

CREATE TABLE sessions (
    id           UUID PRIMARY KEY,
    publisher_id UUID NOT NULL REFERENCES publishers (id) ON DELETE CASCADE,
    user_id      UUID NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    token_hash   TEXT NOT NULL,
    role         TEXT NOT NULL,
    ip           TEXT NOT NULL DEFAULT '',
    user_agent   TEXT NOT NULL DEFAULT '',
    expires_at   TIMESTAMP NOT NULL,
    last_used_at TIMESTAMP NOT NULL,
    revoked_at   TIMESTAMP,
    created_at   TIMESTAMP NOT NULL,
    updated_at   TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX sessions_token ON sessions (token_hash);
CREATE INDEX sessions_user ON sessions (publisher_id, user_id);

CREATE TABLE api_keys (
    id           UUID PRIMARY KEY,
    publisher_id UUID NOT NULL REFERENCES publishers (id) ON DELETE CASCADE,
    user_id      UUID REFERENCES users (id) ON DELETE SET NULL,
    name         TEXT NOT NULL,
    prefix       TEXT NOT NULL,
    token_hash   TEXT NOT NULL,
    role         TEXT NOT NULL CHECK (role IN ('owner','admin','member','analyst')),
    expires_at   TIMESTAMP,
    last_used_at TIMESTAMP,
    revoked_at   TIMESTAMP,
    created_at   TIMESTAMP NOT NULL,
    updated_at   TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX api_keys_token ON api_keys (token_hash);
CREATE INDEX api_keys_publisher ON api_keys (publisher_id);

CREATE TABLE invitations (
    id           UUID PRIMARY KEY,
    publisher_id UUID NOT NULL REFERENCES publishers (id) ON DELETE CASCADE,
    email        TEXT NOT NULL,
    role         TEXT NOT NULL CHECK (role IN ('admin','member','analyst')),
    token_hash   TEXT NOT NULL,
    status       TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending','accepted','expired','revoked')),
    expires_at   TIMESTAMP NOT NULL,
    invited_by   UUID REFERENCES users (id) ON DELETE SET NULL,
    accepted_by  UUID REFERENCES users (id) ON DELETE SET NULL,
    created_at   TIMESTAMP NOT NULL,
    updated_at   TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX invitations_token ON invitations (token_hash);
CREATE INDEX invitations_publisher ON invitations (publisher_id, status);

CREATE TABLE game_ips (
    id           UUID PRIMARY KEY,
    publisher_id UUID NOT NULL REFERENCES publishers (id) ON DELETE CASCADE,
    name         TEXT NOT NULL,
    slug         TEXT NOT NULL,
    genre        TEXT NOT NULL DEFAULT '',
    platforms    JSONB NOT NULL DEFAULT '[]',
    archived_at  TIMESTAMP,
    created_at   TIMESTAMP NOT NULL,
    updated_at   TIMESTAMP NOT NULL,
    UNIQUE (publisher_id, slug)
);

CREATE TABLE ip_assets (
    id           UUID PRIMARY KEY,
    publisher_id UUID NOT NULL REFERENCES publishers (id) ON DELETE CASCADE,
    game_ip_id   UUID NOT NULL REFERENCES game_ips (id) ON DELETE CASCADE,
    name         TEXT NOT NULL,
    asset_type   TEXT NOT NULL CHECK (asset_type IN ('character','logo','scene','item','theme','other')),
    aliases      JSONB NOT NULL DEFAULT '[]',
    tags         JSONB NOT NULL DEFAULT '[]',
    popularity   DOUBLE PRECISION NOT NULL DEFAULT 0,
    image_url    TEXT NOT NULL DEFAULT '',
    archived_at  TIMESTAMP,
    created_at   TIMESTAMP NOT NULL,
    updated_at   TIMESTAMP NOT NULL,
    UNIQUE (publisher_id, game_ip_id, name)
);
CREATE INDEX ip_assets_game_ip ON ip_assets (publisher_id, game_ip_id);

CREATE TABLE connectors (
    id             UUID PRIMARY KEY,
    publisher_id   UUID NOT NULL REFERENCES publishers (id) ON DELETE CASCADE,
    type           TEXT NOT NULL CHECK (type IN ('shopify','amazon','woocommerce','bigcommerce','custom','csv')),
    name           TEXT NOT NULL,
    credentials    BYTEA,
    credentials_key_id TEXT NOT NULL DEFAULT '',
    status         TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending','active','error','disconnected')),
    cursor         JSONB NOT NULL DEFAULT '{}',
    last_sync_at   TIMESTAMP,
    last_error     TEXT NOT NULL DEFAULT '',
    created_at     TIMESTAMP NOT NULL,
    updated_at     TIMESTAMP NOT NULL,
    UNIQUE (publisher_id, name)
);

CREATE TABLE sync_runs (
    id           UUID PRIMARY KEY,
    publisher_id UUID NOT NULL REFERENCES publishers (id) ON DELETE CASCADE,
    connector_id UUID NOT NULL REFERENCES connectors (id) ON DELETE CASCADE,
    state        TEXT NOT NULL CHECK (state IN ('running','succeeded','failed','cancelled')),
    started_at   TIMESTAMP NOT NULL,
    finished_at  TIMESTAMP,
    seen         BIGINT NOT NULL DEFAULT 0,
    inserted     BIGINT NOT NULL DEFAULT 0,
    updated      BIGINT NOT NULL DEFAULT 0,
    skipped      BIGINT NOT NULL DEFAULT 0,
    failed       BIGINT NOT NULL DEFAULT 0,
    error        TEXT NOT NULL DEFAULT '',
    created_at   TIMESTAMP NOT NULL,
    updated_at   TIMESTAMP NOT NULL
);
CREATE INDEX sync_runs_connector ON sync_runs (publisher_id, connector_id, started_at);

CREATE TABLE import_runs (
    id           UUID PRIMARY KEY,
    publisher_id UUID NOT NULL REFERENCES publishers (id) ON DELETE CASCADE,
    kind         TEXT NOT NULL,
    format       TEXT NOT NULL,
    file_name    TEXT NOT NULL,
    file_sha256  TEXT NOT NULL DEFAULT '',
    state        TEXT NOT NULL CHECK (state IN ('running','succeeded','failed')),
    started_at   TIMESTAMP NOT NULL,
    finished_at  TIMESTAMP,
    seen         BIGINT NOT NULL DEFAULT 0,
    inserted     BIGINT NOT NULL DEFAULT 0,
    updated      BIGINT NOT NULL DEFAULT 0,
    skipped      BIGINT NOT NULL DEFAULT 0,
    failed       BIGINT NOT NULL DEFAULT 0,
    error_report JSONB NOT NULL DEFAULT '[]',
    created_by   UUID REFERENCES users (id) ON DELETE SET NULL,
    created_at   TIMESTAMP NOT NULL,
    updated_at   TIMESTAMP NOT NULL
);
CREATE INDEX import_runs_publisher ON import_runs (publisher_id, started_at);

CREATE TABLE products (
    id              UUID PRIMARY KEY,
    publisher_id    UUID NOT NULL REFERENCES publishers (id) ON DELETE CASCADE,
    connector_id    UUID NOT NULL REFERENCES connectors (id) ON DELETE CASCADE,
    external_id     TEXT NOT NULL,
    game_ip_id      UUID REFERENCES game_ips (id) ON DELETE SET NULL,
    name            TEXT NOT NULL,
    description     TEXT NOT NULL DEFAULT '',
    sku             TEXT NOT NULL DEFAULT '',
    category        TEXT NOT NULL DEFAULT 'other' CHECK (category IN ('apparel','collectibles','accessories','home','digital','other')),
    price           BIGINT NOT NULL DEFAULT 0,
    currency        TEXT NOT NULL,
    image_url       TEXT NOT NULL DEFAULT '',
    tags            JSONB NOT NULL DEFAULT '[]',
    mapping_status  TEXT NOT NULL DEFAULT 'unmapped' CHECK (mapping_status IN ('unmapped','suggested','confirmed','skipped')),
    ai_suggested_assets JSONB NOT NULL DEFAULT '[]',
    created_at      TIMESTAMP NOT NULL,
    updated_at      TIMESTAMP NOT NULL,
    UNIQUE (publisher_id, connector_id, external_id)
);
CREATE INDEX products_sku ON products (publisher_id, sku);
CREATE INDEX products_mapping ON products (publisher_id, mapping_status);
CREATE INDEX products_category ON products (publisher_id, category);

CREATE TABLE product_assets (
    publisher_id UUID NOT NULL REFERENCES publishers (id) ON DELETE CASCADE,
    product_id   UUID NOT NULL REFERENCES products (id) ON DELETE CASCADE,
    asset_id     UUID NOT NULL REFERENCES ip_assets (id) ON DELETE CASCADE,
    is_primary   BOOLEAN NOT NULL DEFAULT FALSE,
    weight       DOUBLE PRECISION NOT NULL DEFAULT 1,
    source       TEXT NOT NULL CHECK (source IN ('human','local','llm')),
    confidence   DOUBLE PRECISION NOT NULL DEFAULT 1,
    decided_by   UUID REFERENCES users (id) ON DELETE SET NULL,
    created_at   TIMESTAMP NOT NULL,
    updated_at   TIMESTAMP NOT NULL,
    PRIMARY KEY (publisher_id, product_id, asset_id)
);
CREATE INDEX product_assets_asset ON product_assets (publisher_id, asset_id);

CREATE TABLE sales (
    id                UUID PRIMARY KEY,
    publisher_id      UUID NOT NULL REFERENCES publishers (id) ON DELETE CASCADE,
    product_id        UUID NOT NULL REFERENCES products (id) ON DELETE CASCADE,
    connector_id      UUID NOT NULL REFERENCES connectors (id) ON DELETE CASCADE,
    external_order_id TEXT NOT NULL,
    external_line_id  TEXT NOT NULL,
    order_date        TIMESTAMP NOT NULL,
    day               DATE NOT NULL,
    quantity          BIGINT NOT NULL,
    gross             BIGINT NOT NULL,
    discount          BIGINT NOT NULL DEFAULT 0,
    refunded          BIGINT NOT NULL DEFAULT 0,
    net               BIGINT NOT NULL,
    currency          TEXT NOT NULL,
    net_reporting     BIGINT NOT NULL,
    -- gross, discount and refunded converted like net, so reports in the
    -- reporting currency never add up amounts of different currencies.
    gross_reporting    BIGINT NOT NULL DEFAULT 0,
    discount_reporting BIGINT NOT NULL DEFAULT 0,
    refunded_reporting BIGINT NOT NULL DEFAULT 0,
    country           TEXT NOT NULL DEFAULT '',
    region            TEXT NOT NULL DEFAULT '',
    channel           TEXT NOT NULL DEFAULT '',
    created_at        TIMESTAMP NOT NULL,
    updated_at        TIMESTAMP NOT NULL,
    UNIQUE (publisher_id, connector_id, external_order_id, external_line_id)
);
CREATE INDEX sales_day ON sales (publisher_id, day);
CREATE INDEX sales_product ON sales (publisher_id, product_id);

CREATE TABLE fx_rates (
    publisher_id UUID NOT NULL REFERENCES publishers (id) ON DELETE CASCADE,
    day          DATE NOT NULL,
    currency     TEXT NOT NULL,
    rate         DOUBLE PRECISION NOT NULL CHECK (rate > 0),
    created_at   TIMESTAMP NOT NULL,
    updated_at   TIMESTAMP NOT NULL,
    PRIMARY KEY (publisher_id, currency, day)
);

-- sales_daily is kept in step with sales in the same transaction; analytics
-- read it instead of scanning sales. orders counts distinct orders of the
-- day for that product, country and channel. All amounts are in the
-- publisher's reporting currency.
CREATE TABLE sales_daily (
    publisher_id  UUID NOT NULL REFERENCES publishers (id) ON DELETE CASCADE,
    day           DATE NOT NULL,
    product_id    UUID NOT NULL REFERENCES products (id) ON DELETE CASCADE,
    country       TEXT NOT NULL,
    channel       TEXT NOT NULL,
    connector_id  UUID NOT NULL REFERENCES connectors (id) ON DELETE CASCADE,
    orders        BIGINT NOT NULL,
    units         BIGINT NOT NULL,
    gross         BIGINT NOT NULL,
    discount      BIGINT NOT NULL,
    refunded      BIGINT NOT NULL,
    net           BIGINT NOT NULL,
    PRIMARY KEY (publisher_id, day, product_id, country, channel, connector_id)
);
CREATE INDEX sales_daily_product ON sales_daily (publisher_id, product_id, day);

-- orders_daily counts distinct orders. An order has one day, country,
-- channel and connector, so sums over any of those stay exact, which a sum of
-- per-product order counts would not (an order of two products counts once).
CREATE TABLE orders_daily (
    publisher_id  UUID NOT NULL REFERENCES publishers (id) ON DELETE CASCADE,
    day           DATE NOT NULL,
    country       TEXT NOT NULL,
    channel       TEXT NOT NULL,
    connector_id  UUID NOT NULL REFERENCES connectors (id) ON DELETE CASCADE,
    orders        BIGINT NOT NULL,
    PRIMARY KEY (publisher_id, day, country, channel, connector_id)
);

CREATE TABLE ai_insights (
    id           UUID PRIMARY KEY,
    publisher_id UUID NOT NULL REFERENCES publishers (id) ON DELETE CASCADE,
    type         TEXT NOT NULL CHECK (type IN ('growth_opportunity','risk_alert','trend_detection','recommendation','forecast')),
    fingerprint  TEXT NOT NULL,
    title        TEXT NOT NULL,
    description  TEXT NOT NULL,
    confidence   DOUBLE PRECISION NOT NULL,
    evidence     JSONB NOT NULL DEFAULT '{}',
    status       TEXT NOT NULL DEFAULT 'new' CHECK (status IN ('new','dismissed','done')),
    source       TEXT NOT NULL CHECK (source IN ('local','llm')),
    created_at   TIMESTAMP NOT NULL,
    updated_at   TIMESTAMP NOT NULL,
    UNIQUE (publisher_id, fingerprint)
);

CREATE TABLE forecasts (
    id            UUID PRIMARY KEY,
    publisher_id  UUID NOT NULL REFERENCES publishers (id) ON DELETE CASCADE,
    scope         TEXT NOT NULL CHECK (scope IN ('total','asset','category','game_ip','channel')),
    scope_id      TEXT NOT NULL DEFAULT '',
    grain         TEXT NOT NULL CHECK (grain IN ('week','month')),
    model         TEXT NOT NULL,
    points        JSONB NOT NULL DEFAULT '[]',
    backtest_error DOUBLE PRECISION,
    generated_at  TIMESTAMP NOT NULL,
    created_at    TIMESTAMP NOT NULL,
    updated_at    TIMESTAMP NOT NULL,
    UNIQUE (publisher_id, scope, scope_id, grain)
);

CREATE TABLE audit_log (
    id           UUID PRIMARY KEY,
    publisher_id UUID NOT NULL REFERENCES publishers (id) ON DELETE CASCADE,
    actor_id     UUID,
    actor        TEXT NOT NULL DEFAULT '',
    action       TEXT NOT NULL,
    target       TEXT NOT NULL DEFAULT '',
    ip           TEXT NOT NULL DEFAULT '',
    at           TIMESTAMP NOT NULL,
    details      JSONB NOT NULL DEFAULT '{}'
);
CREATE INDEX audit_log_publisher ON audit_log (publisher_id, at);

-- Jobs: a small durable queue; workers claim rows with FOR UPDATE SKIP LOCKED
-- on PostgreSQL and a single writer on SQLite.
CREATE TABLE jobs (
    id           UUID PRIMARY KEY,
    publisher_id UUID REFERENCES publishers (id) ON DELETE CASCADE,
    kind         TEXT NOT NULL,
    args         JSONB NOT NULL DEFAULT '{}',
    state        TEXT NOT NULL DEFAULT 'queued' CHECK (state IN ('queued','running','succeeded','failed')),
    attempts     INTEGER NOT NULL DEFAULT 0,
    run_at       TIMESTAMP NOT NULL,
    locked_until TIMESTAMP,
    progress     JSONB NOT NULL DEFAULT '{}',
    last_error   TEXT NOT NULL DEFAULT '',
    created_at   TIMESTAMP NOT NULL,
    updated_at   TIMESTAMP NOT NULL
);
CREATE INDEX jobs_ready ON jobs (state, run_at);

-- +goose Down
DROP TABLE jobs, audit_log, forecasts, ai_insights, orders_daily, sales_daily, fx_rates, sales, product_assets,
    products, import_runs, sync_runs, connectors, ip_assets, game_ips, invitations, api_keys,
    sessions, users, publishers;
