-- +goose Up
-- Sale lines without orders: totals a platform reports by day and product
-- (Amazon Vendor Central's sell-through). They count in revenue and units,
-- never as orders, and average order value leaves them out.
ALTER TABLE sales ADD COLUMN has_order BOOLEAN NOT NULL DEFAULT 1;
CREATE INDEX sales_without_orders ON sales (publisher_id, day) WHERE has_order = FALSE;

-- +goose Down
DROP INDEX sales_without_orders;
ALTER TABLE sales DROP COLUMN has_order;
