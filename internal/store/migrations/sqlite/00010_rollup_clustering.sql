-- +goose Up
-- The product and geo rollups become WITHOUT ROWID tables, stored in the
-- order of their primary key: a range of days (or months) of a publisher is
-- one contiguous run of rows with every measure in it, instead of an index
-- range plus one table lookup per row. Pages read these ranges on every
-- request. The product index gains net revenue, so the asset comparison
-- (a few products over a year of days) reads the index alone.
ALTER TABLE product_daily RENAME TO product_daily_old;
CREATE TABLE product_daily (
    publisher_id TEXT NOT NULL REFERENCES publishers (id) ON DELETE CASCADE,
    day          DATE NOT NULL,
    product_id   TEXT NOT NULL REFERENCES products (id) ON DELETE CASCADE,
    orders       INTEGER NOT NULL,
    units        INTEGER NOT NULL,
    gross        INTEGER NOT NULL,
    discount     INTEGER NOT NULL,
    refunded     INTEGER NOT NULL,
    net          INTEGER NOT NULL,
    PRIMARY KEY (publisher_id, day, product_id)
) WITHOUT ROWID;
INSERT INTO product_daily SELECT publisher_id, day, product_id, orders, units, gross, discount, refunded, net
FROM product_daily_old ORDER BY publisher_id, day, product_id;
DROP TABLE product_daily_old;
CREATE INDEX product_daily_product ON product_daily (publisher_id, product_id, day, net);
CREATE INDEX product_daily_product_fk ON product_daily (product_id);

ALTER TABLE product_monthly RENAME TO product_monthly_old;
CREATE TABLE product_monthly (
    publisher_id TEXT NOT NULL REFERENCES publishers (id) ON DELETE CASCADE,
    month        TEXT NOT NULL, -- YYYY-MM
    product_id   TEXT NOT NULL REFERENCES products (id) ON DELETE CASCADE,
    orders       INTEGER NOT NULL,
    units        INTEGER NOT NULL,
    gross        INTEGER NOT NULL,
    discount     INTEGER NOT NULL,
    refunded     INTEGER NOT NULL,
    net          INTEGER NOT NULL,
    PRIMARY KEY (publisher_id, month, product_id)
) WITHOUT ROWID;
INSERT INTO product_monthly SELECT publisher_id, month, product_id, orders, units, gross, discount, refunded, net
FROM product_monthly_old ORDER BY publisher_id, month, product_id;
DROP TABLE product_monthly_old;
CREATE INDEX product_monthly_product_fk ON product_monthly (product_id);

ALTER TABLE geo_daily RENAME TO geo_daily_old;
CREATE TABLE geo_daily (
    publisher_id TEXT NOT NULL REFERENCES publishers (id) ON DELETE CASCADE,
    day          DATE NOT NULL,
    country      TEXT NOT NULL,
    channel      TEXT NOT NULL,
    connector_id TEXT NOT NULL REFERENCES connectors (id) ON DELETE CASCADE,
    orders       INTEGER NOT NULL,
    units        INTEGER NOT NULL,
    gross        INTEGER NOT NULL,
    discount     INTEGER NOT NULL,
    refunded     INTEGER NOT NULL,
    net          INTEGER NOT NULL,
    PRIMARY KEY (publisher_id, day, country, channel, connector_id)
) WITHOUT ROWID;
INSERT INTO geo_daily SELECT publisher_id, day, country, channel, connector_id, orders, units, gross, discount, refunded, net
FROM geo_daily_old ORDER BY publisher_id, day, country, channel, connector_id;
DROP TABLE geo_daily_old;

ALTER TABLE geo_monthly RENAME TO geo_monthly_old;
CREATE TABLE geo_monthly (
    publisher_id TEXT NOT NULL REFERENCES publishers (id) ON DELETE CASCADE,
    month        TEXT NOT NULL, -- YYYY-MM
    country      TEXT NOT NULL,
    channel      TEXT NOT NULL,
    connector_id TEXT NOT NULL REFERENCES connectors (id) ON DELETE CASCADE,
    orders       INTEGER NOT NULL,
    units        INTEGER NOT NULL,
    gross        INTEGER NOT NULL,
    discount     INTEGER NOT NULL,
    refunded     INTEGER NOT NULL,
    net          INTEGER NOT NULL,
    PRIMARY KEY (publisher_id, month, country, channel, connector_id)
) WITHOUT ROWID;
INSERT INTO geo_monthly SELECT publisher_id, month, country, channel, connector_id, orders, units, gross, discount, refunded, net
FROM geo_monthly_old ORDER BY publisher_id, month, country, channel, connector_id;
DROP TABLE geo_monthly_old;

-- +goose Down
ALTER TABLE product_daily RENAME TO product_daily_new;
CREATE TABLE product_daily (
    publisher_id TEXT NOT NULL REFERENCES publishers (id) ON DELETE CASCADE,
    day          DATE NOT NULL,
    product_id   TEXT NOT NULL REFERENCES products (id) ON DELETE CASCADE,
    orders       INTEGER NOT NULL,
    units        INTEGER NOT NULL,
    gross        INTEGER NOT NULL,
    discount     INTEGER NOT NULL,
    refunded     INTEGER NOT NULL,
    net          INTEGER NOT NULL,
    PRIMARY KEY (publisher_id, day, product_id)
);
INSERT INTO product_daily SELECT * FROM product_daily_new;
DROP TABLE product_daily_new;
CREATE INDEX product_daily_product ON product_daily (publisher_id, product_id, day);
CREATE INDEX product_daily_product_fk ON product_daily (product_id);

ALTER TABLE product_monthly RENAME TO product_monthly_new;
CREATE TABLE product_monthly (
    publisher_id TEXT NOT NULL REFERENCES publishers (id) ON DELETE CASCADE,
    month        TEXT NOT NULL, -- YYYY-MM
    product_id   TEXT NOT NULL REFERENCES products (id) ON DELETE CASCADE,
    orders       INTEGER NOT NULL,
    units        INTEGER NOT NULL,
    gross        INTEGER NOT NULL,
    discount     INTEGER NOT NULL,
    refunded     INTEGER NOT NULL,
    net          INTEGER NOT NULL,
    PRIMARY KEY (publisher_id, month, product_id)
);
INSERT INTO product_monthly SELECT * FROM product_monthly_new;
DROP TABLE product_monthly_new;
CREATE INDEX product_monthly_product_fk ON product_monthly (product_id);

ALTER TABLE geo_daily RENAME TO geo_daily_new;
CREATE TABLE geo_daily (
    publisher_id TEXT NOT NULL REFERENCES publishers (id) ON DELETE CASCADE,
    day          DATE NOT NULL,
    country      TEXT NOT NULL,
    channel      TEXT NOT NULL,
    connector_id TEXT NOT NULL REFERENCES connectors (id) ON DELETE CASCADE,
    orders       INTEGER NOT NULL,
    units        INTEGER NOT NULL,
    gross        INTEGER NOT NULL,
    discount     INTEGER NOT NULL,
    refunded     INTEGER NOT NULL,
    net          INTEGER NOT NULL,
    PRIMARY KEY (publisher_id, day, country, channel, connector_id)
);
INSERT INTO geo_daily SELECT * FROM geo_daily_new;
DROP TABLE geo_daily_new;

ALTER TABLE geo_monthly RENAME TO geo_monthly_new;
CREATE TABLE geo_monthly (
    publisher_id TEXT NOT NULL REFERENCES publishers (id) ON DELETE CASCADE,
    month        TEXT NOT NULL, -- YYYY-MM
    country      TEXT NOT NULL,
    channel      TEXT NOT NULL,
    connector_id TEXT NOT NULL REFERENCES connectors (id) ON DELETE CASCADE,
    orders       INTEGER NOT NULL,
    units        INTEGER NOT NULL,
    gross        INTEGER NOT NULL,
    discount     INTEGER NOT NULL,
    refunded     INTEGER NOT NULL,
    net          INTEGER NOT NULL,
    PRIMARY KEY (publisher_id, month, country, channel, connector_id)
);
INSERT INTO geo_monthly SELECT * FROM geo_monthly_new;
DROP TABLE geo_monthly_new;
