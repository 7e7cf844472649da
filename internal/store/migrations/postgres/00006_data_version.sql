-- +goose Up
-- A publisher's data version counts the changes to anything its analytics
-- read (sales, rollups, products, mappings, assets, settings). Every write
-- transaction that changes such data bumps it, so that a cached answer
-- keyed by (publisher, data version) is never stale.
ALTER TABLE publishers ADD COLUMN data_version BIGINT NOT NULL DEFAULT 0;

-- +goose Down
ALTER TABLE publishers DROP COLUMN data_version;
