-- +goose Up
-- Foreign keys on product_id and connector_id need an index led by that
-- column, or deleting a product (a publisher, a connector) scans the
-- whole table for every row it removes.
CREATE INDEX sales_product_fk ON sales (product_id);
CREATE INDEX sales_connector_fk ON sales (connector_id);
CREATE INDEX sales_daily_product_fk ON sales_daily (product_id);
CREATE INDEX product_daily_product_fk ON product_daily (product_id);
CREATE INDEX product_monthly_product_fk ON product_monthly (product_id);

-- +goose Down
DROP INDEX product_monthly_product_fk;
DROP INDEX product_daily_product_fk;
DROP INDEX sales_daily_product_fk;
DROP INDEX sales_connector_fk;
DROP INDEX sales_product_fk;
