-- +goose Up
-- The product index of product_daily no longer carries net (issue 20). With
-- net in it, every import that added to a day's product row moved that row's
-- index entry (a delete and an insert at a random place of an index as large
-- as the table): more than half of the rollup fold. A few products over many
-- days now read the index and look each row up by its primary key.
DROP INDEX product_daily_product;
CREATE INDEX product_daily_product ON product_daily (publisher_id, product_id, day);

-- +goose Down
DROP INDEX product_daily_product;
CREATE INDEX product_daily_product ON product_daily (publisher_id, product_id, day, net);
