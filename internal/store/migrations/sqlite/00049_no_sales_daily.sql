-- +goose Up
-- sales_daily goes (issue 20). At day x product x country x channel x
-- connector it held about a row per sale line (0.88 in the demo data), with
-- an index as large again: more bytes than the lines themselves, written
-- again for every line imported, and no fewer rows to read than the lines.
-- The rollups it fed (product_daily, geo_daily) are computed from sales,
-- product_geo_monthly is built from sales, and the questions that need
-- this grain (products under a place filter, by day or at the edges of a
-- month) read the sale lines through their indexes. On SQLite the freed
-- pages stay in the file for new data until a VACUUM.
DROP TABLE sales_daily;

-- +goose Down
CREATE TABLE sales_daily (
    publisher_id TEXT NOT NULL REFERENCES publishers (id) ON DELETE CASCADE,
    day          DATE NOT NULL,
    product_id   TEXT NOT NULL,
    country      TEXT NOT NULL,
    channel      TEXT NOT NULL,
    connector_id TEXT NOT NULL,
    orders       INTEGER NOT NULL,
    units        INTEGER NOT NULL,
    gross        INTEGER NOT NULL,
    discount     INTEGER NOT NULL,
    refunded     INTEGER NOT NULL,
    net          INTEGER NOT NULL,
    PRIMARY KEY (publisher_id, day, product_id, country, channel, connector_id)
) WITHOUT ROWID;
CREATE INDEX sales_daily_product ON sales_daily (publisher_id, product_id, day);
-- Refunds on the order's day.
INSERT INTO sales_daily (publisher_id, day, product_id, country, channel, connector_id, orders, units, gross, discount, refunded, net)
SELECT publisher_id, day, product_id, country, channel, connector_id, SUM(ho), SUM(q), SUM(g), SUM(d), SUM(r), SUM(n)
FROM (SELECT publisher_id, day, product_id, country, channel, connector_id, external_order_id,
             MAX(CASE WHEN has_order THEN 1 ELSE 0 END) AS ho, SUM(quantity) AS q, SUM(gross_reporting) AS g,
             SUM(discount_reporting) AS d, SUM(refunded_reporting) AS r, SUM(net_reporting) AS n
      FROM sales WHERE publisher_id IN (SELECT id FROM publishers WHERE COALESCE(json_extract(settings, '$.refund_booking'), '') <> 'refund_date')
      GROUP BY publisher_id, day, product_id, country, channel, connector_id, external_order_id) o
GROUP BY publisher_id, day, product_id, country, channel, connector_id;
-- Refunds on the refund date.
INSERT INTO sales_daily (publisher_id, day, product_id, country, channel, connector_id, orders, units, gross, discount, refunded, net)
SELECT publisher_id, day, product_id, country, channel, connector_id, SUM(ho), SUM(q), SUM(g), SUM(d), SUM(r), SUM(n)
FROM (SELECT publisher_id, day, product_id, country, channel, connector_id,
             MAX(CASE WHEN has_order THEN 1 ELSE 0 END) AS ho, SUM(quantity) AS q, SUM(gross_reporting) AS g,
             SUM(discount_reporting) AS d,
             SUM(CASE WHEN (refund_day IS NOT NULL AND refund_day <> day AND refunded_reporting <> 0) THEN 0 ELSE refunded_reporting END) AS r,
             SUM(CASE WHEN (refund_day IS NOT NULL AND refund_day <> day AND refunded_reporting <> 0) THEN net_reporting + refunded_reporting ELSE net_reporting END) AS n
      FROM sales WHERE publisher_id IN (SELECT id FROM publishers WHERE COALESCE(json_extract(settings, '$.refund_booking'), '') = 'refund_date')
      GROUP BY publisher_id, day, product_id, country, channel, connector_id, external_order_id
      UNION ALL
      SELECT publisher_id, refund_day, product_id, country, channel, connector_id, 0, 0, 0, 0, SUM(refunded_reporting), -SUM(refunded_reporting)
      FROM sales WHERE publisher_id IN (SELECT id FROM publishers WHERE COALESCE(json_extract(settings, '$.refund_booking'), '') = 'refund_date') AND (refund_day IS NOT NULL AND refund_day <> day AND refunded_reporting <> 0)
      GROUP BY publisher_id, refund_day, product_id, country, channel, connector_id) o
GROUP BY publisher_id, day, product_id, country, channel, connector_id;
