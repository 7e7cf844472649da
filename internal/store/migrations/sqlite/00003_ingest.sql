-- +goose Up
-- Imports (issue 7). A sale line keeps the order-level charges allocated to
-- it, so that an order's lines add up to the order total of the source
-- (Shopify "Total", BigCommerce "Order Total (inc tax)"):
--   gross - discount + shipping + tax + tip = the line's share of the total,
-- while net (gross - discount - refunded) stays merchandise revenue.
-- charges_refunded is the part of a refund that exceeded the merchandise
-- (refunded shipping, tax or tip). All in minor units of currency.
ALTER TABLE sales ADD COLUMN shipping INTEGER NOT NULL DEFAULT 0;
ALTER TABLE sales ADD COLUMN tax INTEGER NOT NULL DEFAULT 0;
ALTER TABLE sales ADD COLUMN tip INTEGER NOT NULL DEFAULT 0;
ALTER TABLE sales ADD COLUMN charges_refunded INTEGER NOT NULL DEFAULT 0;
-- fx_rate is the rate the *_reporting amounts were converted at (units of
-- the reporting currency per unit of currency; 1 for the same currency).
ALTER TABLE sales ADD COLUMN fx_rate REAL NOT NULL DEFAULT 1;
-- prev_day is the day a sale had before its last update. An upsert returns
-- it so the rollups of the day a corrected sale left are refreshed too.
ALTER TABLE sales ADD COLUMN prev_day DATE;

-- +goose Down
ALTER TABLE sales DROP COLUMN prev_day;
ALTER TABLE sales DROP COLUMN fx_rate;
ALTER TABLE sales DROP COLUMN charges_refunded;
ALTER TABLE sales DROP COLUMN tip;
ALTER TABLE sales DROP COLUMN tax;
ALTER TABLE sales DROP COLUMN shipping;
