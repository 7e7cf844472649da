-- +goose Up
-- The asset comparison reads a few products over a year of days: with net
-- revenue in the index, that is an index-only scan instead of one heap
-- fetch per day and product. (SQLite's 00010 also stores the rollups in
-- key order; PostgreSQL's index scans of the other pages are cheap enough.)
CREATE INDEX product_daily_product_net ON product_daily (publisher_id, product_id, day) INCLUDE (net);
DROP INDEX product_daily_product;
ALTER INDEX product_daily_product_net RENAME TO product_daily_product;

-- +goose Down
CREATE INDEX product_daily_product_old ON product_daily (publisher_id, product_id, day);
DROP INDEX product_daily_product;
ALTER INDEX product_daily_product_old RENAME TO product_daily_product;
