-- +goose Up
-- Distinct orders under a product filter (a category, game IP or asset) are
-- counted from the sales lines of the matching products: with the day and
-- the order key in the product index, that is an index-only scan of those
-- lines instead of a heap fetch per line of every day of the products. The
-- index replaces sales_product, whose columns are its prefix.
CREATE INDEX sales_product_orders ON sales (publisher_id, product_id, day) INCLUDE (connector_id, external_order_id);
DROP INDEX sales_product;

-- +goose Down
CREATE INDEX sales_product ON sales (publisher_id, product_id);
DROP INDEX sales_product_orders;
