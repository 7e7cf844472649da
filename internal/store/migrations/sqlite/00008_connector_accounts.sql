-- +goose Up
-- The platform account a connector reaches (a Shopify shop's
-- myshopify.com domain), so that webhooks, which name only the shop, find
-- their connectors; and what the last connection test reported about it
-- (shop name, currency, API version, scopes, notices), for the pages.
ALTER TABLE connectors ADD COLUMN external_account TEXT NOT NULL DEFAULT '';
ALTER TABLE connectors ADD COLUMN account TEXT NOT NULL DEFAULT '{}';
-- Shopify connectors have so far been named after their shop.
UPDATE connectors SET external_account = name WHERE type = 'shopify';
CREATE INDEX connectors_external_account ON connectors (type, external_account);

-- Pending OAuth installs: the nonce of each signed state, hashed, until it
-- is used once or expires. In the database rather than in memory so that a
-- callback served by another replica, or after a restart, still works
-- exactly once.
CREATE TABLE oauth_states (
    publisher_id TEXT NOT NULL REFERENCES publishers (id) ON DELETE CASCADE,
    nonce_hash   TEXT NOT NULL,
    expires_at   TIMESTAMP NOT NULL,
    created_at   TIMESTAMP NOT NULL,
    PRIMARY KEY (publisher_id, nonce_hash)
);

-- +goose Down
DROP TABLE oauth_states;
DROP INDEX connectors_external_account;
ALTER TABLE connectors DROP COLUMN account;
ALTER TABLE connectors DROP COLUMN external_account;
