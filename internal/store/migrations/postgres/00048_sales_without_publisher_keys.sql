-- +goose Up
-- Sale lines and the rollups no longer carry a foreign key to publishers
-- (issue 20). Every row inserted into them ran the key's trigger, a lookup
-- and a row lock on the publisher, once per line and once per rollup row:
-- a tenth of the rollup upserts of an import, and every line of a COPY.
-- DeletePublisher deletes these tables' rows explicitly before the
-- publisher (TestDeletePublisherLeavesNothing checks every table that has a
-- publisher_id), so nothing relied on the cascade. Smaller tenant tables
-- keep theirs. On SQLite the keys stay, and imports run with foreign keys
-- off (see ImportWriter.run).
ALTER TABLE sales DROP CONSTRAINT sales_publisher_id_fkey;
ALTER TABLE sales_daily DROP CONSTRAINT sales_daily_publisher_id_fkey;
ALTER TABLE orders_daily DROP CONSTRAINT orders_daily_publisher_id_fkey;
ALTER TABLE product_daily DROP CONSTRAINT product_daily_publisher_id_fkey;
ALTER TABLE product_weekly DROP CONSTRAINT product_weekly_publisher_id_fkey;
ALTER TABLE product_monthly DROP CONSTRAINT product_monthly_publisher_id_fkey;
ALTER TABLE geo_daily DROP CONSTRAINT geo_daily_publisher_id_fkey;
ALTER TABLE geo_monthly DROP CONSTRAINT geo_monthly_publisher_id_fkey;
ALTER TABLE filter_daily DROP CONSTRAINT filter_daily_publisher_id_fkey;
ALTER TABLE filter_monthly DROP CONSTRAINT filter_monthly_publisher_id_fkey;
ALTER TABLE product_geo_monthly DROP CONSTRAINT product_geo_monthly_publisher_id_fkey;

-- +goose Down
-- Rows of publishers deleted while the keys were gone would fail the keys.
DELETE FROM sales WHERE publisher_id NOT IN (SELECT id FROM publishers);
DELETE FROM sales_daily WHERE publisher_id NOT IN (SELECT id FROM publishers);
DELETE FROM orders_daily WHERE publisher_id NOT IN (SELECT id FROM publishers);
DELETE FROM product_daily WHERE publisher_id NOT IN (SELECT id FROM publishers);
DELETE FROM product_weekly WHERE publisher_id NOT IN (SELECT id FROM publishers);
DELETE FROM product_monthly WHERE publisher_id NOT IN (SELECT id FROM publishers);
DELETE FROM geo_daily WHERE publisher_id NOT IN (SELECT id FROM publishers);
DELETE FROM geo_monthly WHERE publisher_id NOT IN (SELECT id FROM publishers);
DELETE FROM filter_daily WHERE publisher_id NOT IN (SELECT id FROM publishers);
DELETE FROM filter_monthly WHERE publisher_id NOT IN (SELECT id FROM publishers);
DELETE FROM product_geo_monthly WHERE publisher_id NOT IN (SELECT id FROM publishers);
ALTER TABLE sales ADD CONSTRAINT sales_publisher_id_fkey FOREIGN KEY (publisher_id) REFERENCES publishers (id) ON DELETE CASCADE;
ALTER TABLE sales_daily ADD CONSTRAINT sales_daily_publisher_id_fkey FOREIGN KEY (publisher_id) REFERENCES publishers (id) ON DELETE CASCADE;
ALTER TABLE orders_daily ADD CONSTRAINT orders_daily_publisher_id_fkey FOREIGN KEY (publisher_id) REFERENCES publishers (id) ON DELETE CASCADE;
ALTER TABLE product_daily ADD CONSTRAINT product_daily_publisher_id_fkey FOREIGN KEY (publisher_id) REFERENCES publishers (id) ON DELETE CASCADE;
ALTER TABLE product_weekly ADD CONSTRAINT product_weekly_publisher_id_fkey FOREIGN KEY (publisher_id) REFERENCES publishers (id) ON DELETE CASCADE;
ALTER TABLE product_monthly ADD CONSTRAINT product_monthly_publisher_id_fkey FOREIGN KEY (publisher_id) REFERENCES publishers (id) ON DELETE CASCADE;
ALTER TABLE geo_daily ADD CONSTRAINT geo_daily_publisher_id_fkey FOREIGN KEY (publisher_id) REFERENCES publishers (id) ON DELETE CASCADE;
ALTER TABLE geo_monthly ADD CONSTRAINT geo_monthly_publisher_id_fkey FOREIGN KEY (publisher_id) REFERENCES publishers (id) ON DELETE CASCADE;
ALTER TABLE filter_daily ADD CONSTRAINT filter_daily_publisher_id_fkey FOREIGN KEY (publisher_id) REFERENCES publishers (id) ON DELETE CASCADE;
ALTER TABLE filter_monthly ADD CONSTRAINT filter_monthly_publisher_id_fkey FOREIGN KEY (publisher_id) REFERENCES publishers (id) ON DELETE CASCADE;
ALTER TABLE product_geo_monthly ADD CONSTRAINT product_geo_monthly_publisher_id_fkey FOREIGN KEY (publisher_id) REFERENCES publishers (id) ON DELETE CASCADE;
