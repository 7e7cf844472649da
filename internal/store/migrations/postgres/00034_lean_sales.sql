-- +goose Up
-- Leaner sale lines (issue 20). A line is identified by its natural key
-- (publisher, connector, order, line), which the unique constraint already
-- holds; the random id and its index were never read. created_at duplicated
-- what updated_at and the import runs record.
--
-- The foreign keys from sales and the rollups to products and connectors go,
-- with their single-column indexes: every inserted line paid a lookup in
-- each parent, and every line an index entry kept only so that deleting a
-- product or a connector would not scan the table. Nothing deletes a
-- product or a connector but EraseConnector, which deletes or moves their
-- sale lines and recomputes the rollups of the days they touched first, in
-- the same transaction. The key to publishers stays: deleting a publisher
-- still cascades to everything it owns.
ALTER TABLE sales DROP CONSTRAINT sales_product_id_fkey;
ALTER TABLE sales DROP CONSTRAINT sales_connector_id_fkey;
DROP INDEX sales_product_fk;
DROP INDEX sales_connector_fk;
ALTER TABLE sales DROP CONSTRAINT sales_pkey;
ALTER TABLE sales DROP COLUMN id;
ALTER TABLE sales DROP COLUMN created_at;

ALTER TABLE sales_daily DROP CONSTRAINT sales_daily_product_id_fkey;
ALTER TABLE sales_daily DROP CONSTRAINT sales_daily_connector_id_fkey;
DROP INDEX sales_daily_product_fk;
ALTER TABLE orders_daily DROP CONSTRAINT orders_daily_connector_id_fkey;
ALTER TABLE product_daily DROP CONSTRAINT product_daily_product_id_fkey;
DROP INDEX product_daily_product_fk;
ALTER TABLE product_weekly DROP CONSTRAINT product_weekly_product_id_fkey;
DROP INDEX product_weekly_product_fk;
ALTER TABLE product_monthly DROP CONSTRAINT product_monthly_product_id_fkey;
DROP INDEX product_monthly_product_fk;
ALTER TABLE geo_daily DROP CONSTRAINT geo_daily_connector_id_fkey;
ALTER TABLE geo_monthly DROP CONSTRAINT geo_monthly_connector_id_fkey;

-- +goose Down
ALTER TABLE geo_monthly ADD CONSTRAINT geo_monthly_connector_id_fkey FOREIGN KEY (connector_id) REFERENCES connectors (id) ON DELETE CASCADE;
ALTER TABLE geo_daily ADD CONSTRAINT geo_daily_connector_id_fkey FOREIGN KEY (connector_id) REFERENCES connectors (id) ON DELETE CASCADE;
CREATE INDEX product_monthly_product_fk ON product_monthly (product_id);
ALTER TABLE product_monthly ADD CONSTRAINT product_monthly_product_id_fkey FOREIGN KEY (product_id) REFERENCES products (id) ON DELETE CASCADE;
CREATE INDEX product_weekly_product_fk ON product_weekly (product_id);
ALTER TABLE product_weekly ADD CONSTRAINT product_weekly_product_id_fkey FOREIGN KEY (product_id) REFERENCES products (id) ON DELETE CASCADE;
CREATE INDEX product_daily_product_fk ON product_daily (product_id);
ALTER TABLE product_daily ADD CONSTRAINT product_daily_product_id_fkey FOREIGN KEY (product_id) REFERENCES products (id) ON DELETE CASCADE;
ALTER TABLE orders_daily ADD CONSTRAINT orders_daily_connector_id_fkey FOREIGN KEY (connector_id) REFERENCES connectors (id) ON DELETE CASCADE;
CREATE INDEX sales_daily_product_fk ON sales_daily (product_id);
ALTER TABLE sales_daily ADD CONSTRAINT sales_daily_connector_id_fkey FOREIGN KEY (connector_id) REFERENCES connectors (id) ON DELETE CASCADE;
ALTER TABLE sales_daily ADD CONSTRAINT sales_daily_product_id_fkey FOREIGN KEY (product_id) REFERENCES products (id) ON DELETE CASCADE;

ALTER TABLE sales ADD COLUMN created_at TIMESTAMP;
UPDATE sales SET created_at = updated_at;
ALTER TABLE sales ALTER COLUMN created_at SET NOT NULL;
ALTER TABLE sales ADD COLUMN id UUID;
UPDATE sales SET id = gen_random_uuid();
ALTER TABLE sales ADD CONSTRAINT sales_pkey PRIMARY KEY (id);
CREATE INDEX sales_connector_fk ON sales (connector_id);
CREATE INDEX sales_product_fk ON sales (product_id);
ALTER TABLE sales ADD CONSTRAINT sales_connector_id_fkey FOREIGN KEY (connector_id) REFERENCES connectors (id) ON DELETE CASCADE;
ALTER TABLE sales ADD CONSTRAINT sales_product_id_fkey FOREIGN KEY (product_id) REFERENCES products (id) ON DELETE CASCADE;
