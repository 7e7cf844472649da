-- +goose Up
-- Coarser rollups beside sales_daily, so that pages read a few thousand
-- rows at any scale. Product rollups answer product, category and game IP
-- questions without geography; geo rollups answer country, channel and
-- connector questions without products (and count distinct orders exactly,
-- since an order has one day, country, channel and connector). Monthly
-- tables cover whole months of a range, daily tables its partial edges.
-- Amounts are in the reporting currency. All are rebuilt with sales_daily,
-- in the same transaction as the sales they summarise.
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
CREATE INDEX product_daily_product ON product_daily (publisher_id, product_id, day);

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

-- Existing data: build the new rollups from sales_daily and orders_daily.
INSERT INTO product_daily (publisher_id, day, product_id, orders, units, gross, discount, refunded, net)
SELECT publisher_id, day, product_id, SUM(orders), SUM(units), SUM(gross), SUM(discount), SUM(refunded), SUM(net)
FROM sales_daily GROUP BY publisher_id, day, product_id;

INSERT INTO geo_daily (publisher_id, day, country, channel, connector_id, orders, units, gross, discount, refunded, net)
SELECT s.publisher_id, s.day, s.country, s.channel, s.connector_id, COALESCE(MAX(o.orders), 0), SUM(s.units), SUM(s.gross),
       SUM(s.discount), SUM(s.refunded), SUM(s.net)
FROM sales_daily s LEFT JOIN orders_daily o ON o.publisher_id = s.publisher_id AND o.day = s.day AND o.country = s.country
     AND o.channel = s.channel AND o.connector_id = s.connector_id
GROUP BY s.publisher_id, s.day, s.country, s.channel, s.connector_id;

INSERT INTO product_monthly (publisher_id, month, product_id, orders, units, gross, discount, refunded, net)
SELECT publisher_id, substr(day, 1, 7), product_id, SUM(orders), SUM(units), SUM(gross), SUM(discount), SUM(refunded), SUM(net)
FROM product_daily GROUP BY publisher_id, substr(day, 1, 7), product_id;

INSERT INTO geo_monthly (publisher_id, month, country, channel, connector_id, orders, units, gross, discount, refunded, net)
SELECT publisher_id, substr(day, 1, 7), country, channel, connector_id, SUM(orders), SUM(units), SUM(gross), SUM(discount), SUM(refunded), SUM(net)
FROM geo_daily GROUP BY publisher_id, substr(day, 1, 7), country, channel, connector_id;

-- +goose Down
DROP TABLE geo_monthly;
DROP TABLE geo_daily;
DROP TABLE product_monthly;
DROP TABLE product_daily;
