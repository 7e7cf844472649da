-- +goose Up
-- Revenue per product and week (weeks start on Monday): the asset
-- comparison charts a few products week by week over a year, which is
-- fifty rows per product here instead of three hundred and sixty-five in
-- product_daily. Kept with the other rollups in every sales write.
CREATE TABLE product_weekly (
    publisher_id UUID NOT NULL REFERENCES publishers (id) ON DELETE CASCADE,
    week         DATE NOT NULL, -- the Monday
    product_id   UUID NOT NULL REFERENCES products (id) ON DELETE CASCADE,
    orders       BIGINT NOT NULL,
    units        BIGINT NOT NULL,
    gross        BIGINT NOT NULL,
    discount     BIGINT NOT NULL,
    refunded     BIGINT NOT NULL,
    net          BIGINT NOT NULL,
    -- Product first: the reads are a few products over a range of weeks.
    PRIMARY KEY (publisher_id, product_id, week)
);
CREATE INDEX product_weekly_product_fk ON product_weekly (product_id);

INSERT INTO product_weekly (publisher_id, week, product_id, orders, units, gross, discount, refunded, net)
SELECT publisher_id, CAST(date_trunc('week', day) AS DATE), product_id,
       SUM(orders), SUM(units), SUM(gross), SUM(discount), SUM(refunded), SUM(net)
FROM product_daily GROUP BY publisher_id, CAST(date_trunc('week', day) AS DATE), product_id;

-- +goose Down
DROP TABLE product_weekly;
