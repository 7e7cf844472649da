-- +goose Up
-- The product index of product_daily no longer carries net (issue 20). With
-- net in it (INCLUDE), every import that added to a day's product row had to
-- write a new entry in both indexes (no heap-only update is possible when an
-- indexed column changes): more than half of the rollup fold. A few products
-- over many days now read the index and fetch the rows from the heap.
DROP INDEX product_daily_product;
CREATE INDEX product_daily_product ON product_daily (publisher_id, product_id, day);

-- +goose Down
DROP INDEX product_daily_product;
CREATE INDEX product_daily_product ON product_daily (publisher_id, product_id, day) INCLUDE (net);
