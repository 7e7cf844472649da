-- +goose Up
-- Rollups for analytics under a product filter (one category, one game IP
-- or one asset), and product by place by month for product questions
-- under a place filter. They are derived data, rebuilt from sales, the
-- mapping and sales_daily, and read only while filter_rollup_state holds
-- the publisher's current data version (see store/filter_rollup.go):
-- distinct orders under a product filter then come from here instead of a
-- scan of the publisher's lines.

-- filter_daily: per filter value, day and place, the distinct orders with
-- a line of a product carrying that value, and the lines' amounts.
CREATE TABLE filter_daily (
    publisher_id TEXT NOT NULL REFERENCES publishers (id) ON DELETE CASCADE,
    dim          TEXT NOT NULL, -- category, game_ip or asset
    value        TEXT NOT NULL, -- the category, or the game IP's or asset's id
    day          DATE NOT NULL,
    country      TEXT NOT NULL,
    channel      TEXT NOT NULL,
    connector_id TEXT NOT NULL,
    orders       INTEGER NOT NULL,
    units        INTEGER NOT NULL,
    gross        INTEGER NOT NULL,
    discount     INTEGER NOT NULL,
    refunded     INTEGER NOT NULL,
    net          INTEGER NOT NULL,
    PRIMARY KEY (publisher_id, dim, value, day, country, channel, connector_id)
) WITHOUT ROWID;

CREATE TABLE filter_monthly (
    publisher_id TEXT NOT NULL REFERENCES publishers (id) ON DELETE CASCADE,
    dim          TEXT NOT NULL,
    value        TEXT NOT NULL,
    month        TEXT NOT NULL, -- YYYY-MM
    country      TEXT NOT NULL,
    channel      TEXT NOT NULL,
    connector_id TEXT NOT NULL,
    orders       INTEGER NOT NULL,
    units        INTEGER NOT NULL,
    gross        INTEGER NOT NULL,
    discount     INTEGER NOT NULL,
    refunded     INTEGER NOT NULL,
    net          INTEGER NOT NULL,
    PRIMARY KEY (publisher_id, dim, value, month, country, channel, connector_id)
) WITHOUT ROWID;

-- product_geo_monthly: sales_daily summed to months. Place first after the
-- month: the reads are one country or channel over a range of months.
CREATE TABLE product_geo_monthly (
    publisher_id TEXT NOT NULL REFERENCES publishers (id) ON DELETE CASCADE,
    month        TEXT NOT NULL,
    country      TEXT NOT NULL,
    channel      TEXT NOT NULL,
    connector_id TEXT NOT NULL,
    product_id   TEXT NOT NULL,
    orders       INTEGER NOT NULL,
    units        INTEGER NOT NULL,
    gross        INTEGER NOT NULL,
    discount     INTEGER NOT NULL,
    refunded     INTEGER NOT NULL,
    net          INTEGER NOT NULL,
    PRIMARY KEY (publisher_id, month, country, channel, connector_id, product_id)
) WITHOUT ROWID;

-- The publisher's data version the three tables were built at.
CREATE TABLE filter_rollup_state (
    publisher_id TEXT PRIMARY KEY REFERENCES publishers (id) ON DELETE CASCADE,
    data_version INTEGER NOT NULL,
    built_at     TIMESTAMP NOT NULL
) WITHOUT ROWID;

-- +goose Down
DROP TABLE filter_rollup_state;
DROP TABLE product_geo_monthly;
DROP TABLE filter_monthly;
DROP TABLE filter_daily;
