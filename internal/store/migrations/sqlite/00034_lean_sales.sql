-- +goose Up
-- Leaner sale lines (issue 20). A line is identified by its natural key
-- (publisher, connector, order, line), which the unique constraint already
-- holds; the random text id and its index (about 90 bytes a line) were
-- never read. created_at duplicated what updated_at and the import runs
-- record.
--
-- The foreign keys from sales and the rollups to products and connectors go,
-- with their single-column indexes: every inserted line paid a lookup in
-- each parent, and every line an index entry kept only so that deleting a
-- product or a connector would not scan the table. Nothing deletes a
-- product or a connector but EraseConnector, which deletes or moves their
-- sale lines and recomputes the rollups of the days they touched first, in
-- the same transaction. The key to publishers stays: deleting a publisher
-- still cascades to everything it owns.
--
-- SQLite drops neither a constraint nor a primary key in place: each table
-- is rebuilt, rows copied in key order. sales_daily and orders_daily
-- become WITHOUT ROWID tables like the other rollups, stored in the order
-- of their primary key instead of a table plus an index of that key.
ALTER TABLE sales RENAME TO sales_old;
CREATE TABLE sales (
    publisher_id      TEXT NOT NULL REFERENCES publishers (id) ON DELETE CASCADE,
    product_id        TEXT NOT NULL,
    connector_id      TEXT NOT NULL,
    external_order_id TEXT NOT NULL,
    external_line_id  TEXT NOT NULL,
    order_date        TIMESTAMP NOT NULL,
    day               DATE NOT NULL,
    quantity          INTEGER NOT NULL,
    gross             INTEGER NOT NULL,
    discount          INTEGER NOT NULL DEFAULT 0,
    refunded          INTEGER NOT NULL DEFAULT 0,
    net               INTEGER NOT NULL,
    currency          TEXT NOT NULL,
    net_reporting     INTEGER NOT NULL,
    gross_reporting    INTEGER NOT NULL DEFAULT 0,
    discount_reporting INTEGER NOT NULL DEFAULT 0,
    refunded_reporting INTEGER NOT NULL DEFAULT 0,
    country           TEXT NOT NULL DEFAULT '',
    region            TEXT NOT NULL DEFAULT '',
    channel           TEXT NOT NULL DEFAULT '',
    updated_at        TIMESTAMP NOT NULL,
    shipping          INTEGER NOT NULL DEFAULT 0,
    tax               INTEGER NOT NULL DEFAULT 0,
    tip               INTEGER NOT NULL DEFAULT 0,
    charges_refunded  INTEGER NOT NULL DEFAULT 0,
    fx_rate           REAL NOT NULL DEFAULT 1,
    prev_day          DATE,
    refunded_at       TIMESTAMP,
    refund_day        DATE,
    prev_refund_day   DATE,
    order_updated_at  TIMESTAMP,
    has_order         BOOLEAN NOT NULL DEFAULT 1,
    UNIQUE (publisher_id, connector_id, external_order_id, external_line_id)
);
INSERT INTO sales (publisher_id, product_id, connector_id, external_order_id, external_line_id, order_date, day, quantity, gross, discount, refunded, net, currency, net_reporting, gross_reporting, discount_reporting, refunded_reporting, country, region, channel, updated_at, shipping, tax, tip, charges_refunded, fx_rate, prev_day, refunded_at, refund_day, prev_refund_day, order_updated_at, has_order)
SELECT publisher_id, product_id, connector_id, external_order_id, external_line_id, order_date, day, quantity, gross, discount, refunded, net, currency, net_reporting, gross_reporting, discount_reporting, refunded_reporting, country, region, channel, updated_at, shipping, tax, tip, charges_refunded, fx_rate, prev_day, refunded_at, refund_day, prev_refund_day, order_updated_at, has_order FROM sales_old ORDER BY rowid;
DROP TABLE sales_old;
CREATE INDEX sales_day ON sales (publisher_id, day);
CREATE INDEX sales_product_orders ON sales (publisher_id, product_id, day, connector_id, external_order_id);
CREATE INDEX sales_refund_day ON sales (publisher_id, refund_day) WHERE refund_day IS NOT NULL;
CREATE INDEX sales_without_orders ON sales (publisher_id, day) WHERE has_order = FALSE;

ALTER TABLE sales_daily RENAME TO sales_daily_old;
CREATE TABLE sales_daily (
    publisher_id TEXT NOT NULL REFERENCES publishers (id) ON DELETE CASCADE,
    day DATE NOT NULL,
    product_id TEXT NOT NULL,
    country TEXT NOT NULL,
    channel TEXT NOT NULL,
    connector_id TEXT NOT NULL,
    orders       INTEGER NOT NULL,
    units        INTEGER NOT NULL,
    gross        INTEGER NOT NULL,
    discount     INTEGER NOT NULL,
    refunded     INTEGER NOT NULL,
    net          INTEGER NOT NULL,
    PRIMARY KEY (publisher_id, day, product_id, country, channel, connector_id)
) WITHOUT ROWID;
INSERT INTO sales_daily (publisher_id, day, product_id, country, channel, connector_id, orders, units, gross, discount, refunded, net) SELECT publisher_id, day, product_id, country, channel, connector_id, orders, units, gross, discount, refunded, net FROM sales_daily_old ORDER BY publisher_id, day, product_id, country, channel, connector_id;
DROP TABLE sales_daily_old;

ALTER TABLE orders_daily RENAME TO orders_daily_old;
CREATE TABLE orders_daily (
    publisher_id TEXT NOT NULL REFERENCES publishers (id) ON DELETE CASCADE,
    day DATE NOT NULL,
    country TEXT NOT NULL,
    channel TEXT NOT NULL,
    connector_id TEXT NOT NULL,
    orders       INTEGER NOT NULL,
    PRIMARY KEY (publisher_id, day, country, channel, connector_id)
) WITHOUT ROWID;
INSERT INTO orders_daily (publisher_id, day, country, channel, connector_id, orders) SELECT publisher_id, day, country, channel, connector_id, orders FROM orders_daily_old ORDER BY publisher_id, day, country, channel, connector_id;
DROP TABLE orders_daily_old;

ALTER TABLE product_daily RENAME TO product_daily_old;
CREATE TABLE product_daily (
    publisher_id TEXT NOT NULL REFERENCES publishers (id) ON DELETE CASCADE,
    day DATE NOT NULL,
    product_id TEXT NOT NULL,
    orders       INTEGER NOT NULL,
    units        INTEGER NOT NULL,
    gross        INTEGER NOT NULL,
    discount     INTEGER NOT NULL,
    refunded     INTEGER NOT NULL,
    net          INTEGER NOT NULL,
    PRIMARY KEY (publisher_id, day, product_id)
) WITHOUT ROWID;
INSERT INTO product_daily (publisher_id, day, product_id, orders, units, gross, discount, refunded, net) SELECT publisher_id, day, product_id, orders, units, gross, discount, refunded, net FROM product_daily_old ORDER BY publisher_id, day, product_id;
DROP TABLE product_daily_old;

ALTER TABLE product_weekly RENAME TO product_weekly_old;
CREATE TABLE product_weekly (
    publisher_id TEXT NOT NULL REFERENCES publishers (id) ON DELETE CASCADE,
    product_id TEXT NOT NULL,
    week DATE NOT NULL,
    orders       INTEGER NOT NULL,
    units        INTEGER NOT NULL,
    gross        INTEGER NOT NULL,
    discount     INTEGER NOT NULL,
    refunded     INTEGER NOT NULL,
    net          INTEGER NOT NULL,
    PRIMARY KEY (publisher_id, product_id, week)
) WITHOUT ROWID;
INSERT INTO product_weekly (publisher_id, product_id, week, orders, units, gross, discount, refunded, net) SELECT publisher_id, product_id, week, orders, units, gross, discount, refunded, net FROM product_weekly_old ORDER BY publisher_id, product_id, week;
DROP TABLE product_weekly_old;

ALTER TABLE product_monthly RENAME TO product_monthly_old;
CREATE TABLE product_monthly (
    publisher_id TEXT NOT NULL REFERENCES publishers (id) ON DELETE CASCADE,
    month TEXT NOT NULL,
    product_id TEXT NOT NULL,
    orders       INTEGER NOT NULL,
    units        INTEGER NOT NULL,
    gross        INTEGER NOT NULL,
    discount     INTEGER NOT NULL,
    refunded     INTEGER NOT NULL,
    net          INTEGER NOT NULL,
    PRIMARY KEY (publisher_id, month, product_id)
) WITHOUT ROWID;
INSERT INTO product_monthly (publisher_id, month, product_id, orders, units, gross, discount, refunded, net) SELECT publisher_id, month, product_id, orders, units, gross, discount, refunded, net FROM product_monthly_old ORDER BY publisher_id, month, product_id;
DROP TABLE product_monthly_old;

ALTER TABLE geo_daily RENAME TO geo_daily_old;
CREATE TABLE geo_daily (
    publisher_id TEXT NOT NULL REFERENCES publishers (id) ON DELETE CASCADE,
    day DATE NOT NULL,
    country TEXT NOT NULL,
    channel TEXT NOT NULL,
    connector_id TEXT NOT NULL,
    orders       INTEGER NOT NULL,
    units        INTEGER NOT NULL,
    gross        INTEGER NOT NULL,
    discount     INTEGER NOT NULL,
    refunded     INTEGER NOT NULL,
    net          INTEGER NOT NULL,
    PRIMARY KEY (publisher_id, day, country, channel, connector_id)
) WITHOUT ROWID;
INSERT INTO geo_daily (publisher_id, day, country, channel, connector_id, orders, units, gross, discount, refunded, net) SELECT publisher_id, day, country, channel, connector_id, orders, units, gross, discount, refunded, net FROM geo_daily_old ORDER BY publisher_id, day, country, channel, connector_id;
DROP TABLE geo_daily_old;

ALTER TABLE geo_monthly RENAME TO geo_monthly_old;
CREATE TABLE geo_monthly (
    publisher_id TEXT NOT NULL REFERENCES publishers (id) ON DELETE CASCADE,
    month TEXT NOT NULL,
    country TEXT NOT NULL,
    channel TEXT NOT NULL,
    connector_id TEXT NOT NULL,
    orders       INTEGER NOT NULL,
    units        INTEGER NOT NULL,
    gross        INTEGER NOT NULL,
    discount     INTEGER NOT NULL,
    refunded     INTEGER NOT NULL,
    net          INTEGER NOT NULL,
    PRIMARY KEY (publisher_id, month, country, channel, connector_id)
) WITHOUT ROWID;
INSERT INTO geo_monthly (publisher_id, month, country, channel, connector_id, orders, units, gross, discount, refunded, net) SELECT publisher_id, month, country, channel, connector_id, orders, units, gross, discount, refunded, net FROM geo_monthly_old ORDER BY publisher_id, month, country, channel, connector_id;
DROP TABLE geo_monthly_old;
CREATE INDEX sales_daily_product ON sales_daily (publisher_id, product_id, day);
CREATE INDEX product_daily_product ON product_daily (publisher_id, product_id, day, net);

-- +goose Down
ALTER TABLE sales RENAME TO sales_new;
CREATE TABLE sales (
    id                TEXT PRIMARY KEY,
    publisher_id      TEXT NOT NULL REFERENCES publishers (id) ON DELETE CASCADE,
    product_id        TEXT NOT NULL REFERENCES products (id) ON DELETE CASCADE,
    connector_id      TEXT NOT NULL REFERENCES connectors (id) ON DELETE CASCADE,
    external_order_id TEXT NOT NULL,
    external_line_id  TEXT NOT NULL,
    order_date        TIMESTAMP NOT NULL,
    day               DATE NOT NULL,
    quantity          INTEGER NOT NULL,
    gross             INTEGER NOT NULL,
    discount          INTEGER NOT NULL DEFAULT 0,
    refunded          INTEGER NOT NULL DEFAULT 0,
    net               INTEGER NOT NULL,
    currency          TEXT NOT NULL,
    net_reporting     INTEGER NOT NULL,
    gross_reporting    INTEGER NOT NULL DEFAULT 0,
    discount_reporting INTEGER NOT NULL DEFAULT 0,
    refunded_reporting INTEGER NOT NULL DEFAULT 0,
    country           TEXT NOT NULL DEFAULT '',
    region            TEXT NOT NULL DEFAULT '',
    channel           TEXT NOT NULL DEFAULT '',
    created_at        TIMESTAMP NOT NULL,
    updated_at        TIMESTAMP NOT NULL,
    shipping          INTEGER NOT NULL DEFAULT 0,
    tax               INTEGER NOT NULL DEFAULT 0,
    tip               INTEGER NOT NULL DEFAULT 0,
    charges_refunded  INTEGER NOT NULL DEFAULT 0,
    fx_rate           REAL NOT NULL DEFAULT 1,
    prev_day          DATE,
    refunded_at       TIMESTAMP,
    refund_day        DATE,
    prev_refund_day   DATE,
    order_updated_at  TIMESTAMP,
    has_order         BOOLEAN NOT NULL DEFAULT 1,
    UNIQUE (publisher_id, connector_id, external_order_id, external_line_id)
);
INSERT INTO sales (id, created_at, publisher_id, product_id, connector_id, external_order_id, external_line_id, order_date, day, quantity, gross, discount, refunded, net, currency, net_reporting, gross_reporting, discount_reporting, refunded_reporting, country, region, channel, updated_at, shipping, tax, tip, charges_refunded, fx_rate, prev_day, refunded_at, refund_day, prev_refund_day, order_updated_at, has_order)
SELECT lower(hex(randomblob(4)) || '-' || hex(randomblob(2)) || '-7' || substr(hex(randomblob(2)), 2) || '-' || substr('89ab', 1 + (abs(random()) % 4), 1) || substr(hex(randomblob(2)), 2) || '-' || hex(randomblob(6))), updated_at, publisher_id, product_id, connector_id, external_order_id, external_line_id, order_date, day, quantity, gross, discount, refunded, net, currency, net_reporting, gross_reporting, discount_reporting, refunded_reporting, country, region, channel, updated_at, shipping, tax, tip, charges_refunded, fx_rate, prev_day, refunded_at, refund_day, prev_refund_day, order_updated_at, has_order FROM sales_new ORDER BY rowid;
DROP TABLE sales_new;
CREATE INDEX sales_day ON sales (publisher_id, day);
CREATE INDEX sales_product_orders ON sales (publisher_id, product_id, day, connector_id, external_order_id);
CREATE INDEX sales_refund_day ON sales (publisher_id, refund_day) WHERE refund_day IS NOT NULL;
CREATE INDEX sales_without_orders ON sales (publisher_id, day) WHERE has_order = FALSE;
CREATE INDEX sales_product_fk ON sales (product_id);
CREATE INDEX sales_connector_fk ON sales (connector_id);

ALTER TABLE sales_daily RENAME TO sales_daily_new;
CREATE TABLE sales_daily (
    publisher_id TEXT NOT NULL REFERENCES publishers (id) ON DELETE CASCADE,
    day DATE NOT NULL,
    product_id TEXT NOT NULL REFERENCES products (id) ON DELETE CASCADE,
    country TEXT NOT NULL,
    channel TEXT NOT NULL,
    connector_id TEXT NOT NULL REFERENCES connectors (id) ON DELETE CASCADE,
    orders       INTEGER NOT NULL,
    units        INTEGER NOT NULL,
    gross        INTEGER NOT NULL,
    discount     INTEGER NOT NULL,
    refunded     INTEGER NOT NULL,
    net          INTEGER NOT NULL,
    PRIMARY KEY (publisher_id, day, product_id, country, channel, connector_id)
);
INSERT INTO sales_daily (publisher_id, day, product_id, country, channel, connector_id, orders, units, gross, discount, refunded, net) SELECT publisher_id, day, product_id, country, channel, connector_id, orders, units, gross, discount, refunded, net FROM sales_daily_new ORDER BY publisher_id, day, product_id, country, channel, connector_id;
DROP TABLE sales_daily_new;

ALTER TABLE orders_daily RENAME TO orders_daily_new;
CREATE TABLE orders_daily (
    publisher_id TEXT NOT NULL REFERENCES publishers (id) ON DELETE CASCADE,
    day DATE NOT NULL,
    country TEXT NOT NULL,
    channel TEXT NOT NULL,
    connector_id TEXT NOT NULL REFERENCES connectors (id) ON DELETE CASCADE,
    orders       INTEGER NOT NULL,
    PRIMARY KEY (publisher_id, day, country, channel, connector_id)
);
INSERT INTO orders_daily (publisher_id, day, country, channel, connector_id, orders) SELECT publisher_id, day, country, channel, connector_id, orders FROM orders_daily_new ORDER BY publisher_id, day, country, channel, connector_id;
DROP TABLE orders_daily_new;

ALTER TABLE product_daily RENAME TO product_daily_new;
CREATE TABLE product_daily (
    publisher_id TEXT NOT NULL REFERENCES publishers (id) ON DELETE CASCADE,
    day DATE NOT NULL,
    product_id TEXT NOT NULL REFERENCES products (id) ON DELETE CASCADE,
    orders       INTEGER NOT NULL,
    units        INTEGER NOT NULL,
    gross        INTEGER NOT NULL,
    discount     INTEGER NOT NULL,
    refunded     INTEGER NOT NULL,
    net          INTEGER NOT NULL,
    PRIMARY KEY (publisher_id, day, product_id)
) WITHOUT ROWID;
INSERT INTO product_daily (publisher_id, day, product_id, orders, units, gross, discount, refunded, net) SELECT publisher_id, day, product_id, orders, units, gross, discount, refunded, net FROM product_daily_new ORDER BY publisher_id, day, product_id;
DROP TABLE product_daily_new;

ALTER TABLE product_weekly RENAME TO product_weekly_new;
CREATE TABLE product_weekly (
    publisher_id TEXT NOT NULL REFERENCES publishers (id) ON DELETE CASCADE,
    product_id TEXT NOT NULL REFERENCES products (id) ON DELETE CASCADE,
    week DATE NOT NULL,
    orders       INTEGER NOT NULL,
    units        INTEGER NOT NULL,
    gross        INTEGER NOT NULL,
    discount     INTEGER NOT NULL,
    refunded     INTEGER NOT NULL,
    net          INTEGER NOT NULL,
    PRIMARY KEY (publisher_id, product_id, week)
) WITHOUT ROWID;
INSERT INTO product_weekly (publisher_id, product_id, week, orders, units, gross, discount, refunded, net) SELECT publisher_id, product_id, week, orders, units, gross, discount, refunded, net FROM product_weekly_new ORDER BY publisher_id, product_id, week;
DROP TABLE product_weekly_new;

ALTER TABLE product_monthly RENAME TO product_monthly_new;
CREATE TABLE product_monthly (
    publisher_id TEXT NOT NULL REFERENCES publishers (id) ON DELETE CASCADE,
    month TEXT NOT NULL,
    product_id TEXT NOT NULL REFERENCES products (id) ON DELETE CASCADE,
    orders       INTEGER NOT NULL,
    units        INTEGER NOT NULL,
    gross        INTEGER NOT NULL,
    discount     INTEGER NOT NULL,
    refunded     INTEGER NOT NULL,
    net          INTEGER NOT NULL,
    PRIMARY KEY (publisher_id, month, product_id)
) WITHOUT ROWID;
INSERT INTO product_monthly (publisher_id, month, product_id, orders, units, gross, discount, refunded, net) SELECT publisher_id, month, product_id, orders, units, gross, discount, refunded, net FROM product_monthly_new ORDER BY publisher_id, month, product_id;
DROP TABLE product_monthly_new;

ALTER TABLE geo_daily RENAME TO geo_daily_new;
CREATE TABLE geo_daily (
    publisher_id TEXT NOT NULL REFERENCES publishers (id) ON DELETE CASCADE,
    day DATE NOT NULL,
    country TEXT NOT NULL,
    channel TEXT NOT NULL,
    connector_id TEXT NOT NULL REFERENCES connectors (id) ON DELETE CASCADE,
    orders       INTEGER NOT NULL,
    units        INTEGER NOT NULL,
    gross        INTEGER NOT NULL,
    discount     INTEGER NOT NULL,
    refunded     INTEGER NOT NULL,
    net          INTEGER NOT NULL,
    PRIMARY KEY (publisher_id, day, country, channel, connector_id)
) WITHOUT ROWID;
INSERT INTO geo_daily (publisher_id, day, country, channel, connector_id, orders, units, gross, discount, refunded, net) SELECT publisher_id, day, country, channel, connector_id, orders, units, gross, discount, refunded, net FROM geo_daily_new ORDER BY publisher_id, day, country, channel, connector_id;
DROP TABLE geo_daily_new;

ALTER TABLE geo_monthly RENAME TO geo_monthly_new;
CREATE TABLE geo_monthly (
    publisher_id TEXT NOT NULL REFERENCES publishers (id) ON DELETE CASCADE,
    month TEXT NOT NULL,
    country TEXT NOT NULL,
    channel TEXT NOT NULL,
    connector_id TEXT NOT NULL REFERENCES connectors (id) ON DELETE CASCADE,
    orders       INTEGER NOT NULL,
    units        INTEGER NOT NULL,
    gross        INTEGER NOT NULL,
    discount     INTEGER NOT NULL,
    refunded     INTEGER NOT NULL,
    net          INTEGER NOT NULL,
    PRIMARY KEY (publisher_id, month, country, channel, connector_id)
) WITHOUT ROWID;
INSERT INTO geo_monthly (publisher_id, month, country, channel, connector_id, orders, units, gross, discount, refunded, net) SELECT publisher_id, month, country, channel, connector_id, orders, units, gross, discount, refunded, net FROM geo_monthly_new ORDER BY publisher_id, month, country, channel, connector_id;
DROP TABLE geo_monthly_new;
CREATE INDEX sales_daily_product ON sales_daily (publisher_id, product_id, day);
CREATE INDEX product_daily_product ON product_daily (publisher_id, product_id, day, net);
CREATE INDEX sales_daily_product_fk ON sales_daily (product_id);
CREATE INDEX product_daily_product_fk ON product_daily (product_id);
CREATE INDEX product_weekly_product_fk ON product_weekly (product_id);
CREATE INDEX product_monthly_product_fk ON product_monthly (product_id);
