-- +goose Up
-- The review workbench: when the tagger last looked at a product and how
-- sure its best suggestion is (for filtering and bulk acceptance), and
-- every confirm or reject decision, which teaches the publisher's own
-- tagger (never another publisher's).
ALTER TABLE products ADD COLUMN suggested_at TIMESTAMP;
ALTER TABLE products ADD COLUMN suggested_confidence REAL NOT NULL DEFAULT 0;

CREATE TABLE mapping_decisions (
    id           TEXT PRIMARY KEY,
    publisher_id TEXT NOT NULL REFERENCES publishers (id) ON DELETE CASCADE,
    product_id   TEXT NOT NULL REFERENCES products (id) ON DELETE CASCADE,
    asset_id     TEXT NOT NULL REFERENCES ip_assets (id) ON DELETE CASCADE,
    confirmed    BOOLEAN NOT NULL,
    decided_by   TEXT REFERENCES users (id) ON DELETE SET NULL,
    created_at   TIMESTAMP NOT NULL
);
CREATE INDEX mapping_decisions_publisher ON mapping_decisions (publisher_id, created_at);
CREATE INDEX mapping_decisions_product_fk ON mapping_decisions (product_id);
CREATE INDEX mapping_decisions_asset_fk ON mapping_decisions (asset_id);
CREATE INDEX mapping_decisions_user_fk ON mapping_decisions (decided_by);
CREATE INDEX product_assets_user_fk ON product_assets (decided_by);

-- +goose Down
DROP INDEX product_assets_user_fk;
DROP TABLE mapping_decisions;
ALTER TABLE products DROP COLUMN suggested_confidence;
ALTER TABLE products DROP COLUMN suggested_at;
