-- +goose Up
-- Revenue per product and week (weeks start on Monday): the asset
-- comparison charts a few products week by week over a year, which is
-- fifty rows per product here instead of three hundred and sixty-five in
-- product_daily. Kept with the other rollups in every sales write. Stored
-- in key order (WITHOUT ROWID), product first: the reads are a few
-- products over a range of weeks.
CREATE TABLE product_weekly (
    publisher_id TEXT NOT NULL REFERENCES publishers (id) ON DELETE CASCADE,
    week         DATE NOT NULL, -- the Monday, YYYY-MM-DD
    product_id   TEXT NOT NULL REFERENCES products (id) ON DELETE CASCADE,
    orders       INTEGER NOT NULL,
    units        INTEGER NOT NULL,
    gross        INTEGER NOT NULL,
    discount     INTEGER NOT NULL,
    refunded     INTEGER NOT NULL,
    net          INTEGER NOT NULL,
    PRIMARY KEY (publisher_id, product_id, week)
) WITHOUT ROWID;
CREATE INDEX product_weekly_product_fk ON product_weekly (product_id);

INSERT INTO product_weekly (publisher_id, week, product_id, orders, units, gross, discount, refunded, net)
SELECT publisher_id, date(day, '-6 days', 'weekday 1'), product_id,
       SUM(orders), SUM(units), SUM(gross), SUM(discount), SUM(refunded), SUM(net)
FROM product_daily GROUP BY publisher_id, date(day, '-6 days', 'weekday 1'), product_id;

-- +goose Down
DROP TABLE product_weekly;
