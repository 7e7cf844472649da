-- +goose Up
-- The source's own last-update time of the order a sales line belongs to
-- (Shopify's updated_at), the same on every line of the order. An order is
-- written only when its new version is not older than the stored one, so a
-- late webhook or an older file never overwrites newer data. NULL means the
-- source gave no time (file imports, and every line stored before this
-- column existed): such an order is overwritten by any later write.
ALTER TABLE sales ADD COLUMN order_updated_at TIMESTAMP;

-- +goose Down
ALTER TABLE sales DROP COLUMN order_updated_at;
