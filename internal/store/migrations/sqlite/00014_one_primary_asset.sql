-- +goose Up
-- A product has at most one primary asset, held by the schema itself so that
-- no race between two decisions can leave two. Concurrent decisions could
-- leave two before (issue 12), so existing data is repaired first: the
-- product keeps the primary that ensurePrimary would choose (heaviest, then
-- most confident, then lowest asset id) and follows that asset's game IP.
UPDATE products SET game_ip_id = (
        SELECT a.game_ip_id FROM product_assets pa
        JOIN ip_assets a ON a.publisher_id = pa.publisher_id AND a.id = pa.asset_id
        WHERE pa.publisher_id = products.publisher_id AND pa.product_id = products.id AND pa.is_primary
        ORDER BY pa.weight DESC, pa.confidence DESC, pa.asset_id LIMIT 1)
    WHERE (SELECT COUNT(*) FROM product_assets pa
        WHERE pa.publisher_id = products.publisher_id AND pa.product_id = products.id AND pa.is_primary) > 1;
UPDATE product_assets SET is_primary = FALSE
    WHERE is_primary AND EXISTS (
        SELECT 1 FROM product_assets k
        WHERE k.publisher_id = product_assets.publisher_id AND k.product_id = product_assets.product_id AND k.is_primary
            AND (k.weight > product_assets.weight
                OR (k.weight = product_assets.weight AND k.confidence > product_assets.confidence)
                OR (k.weight = product_assets.weight AND k.confidence = product_assets.confidence AND k.asset_id < product_assets.asset_id)));
CREATE UNIQUE INDEX product_assets_one_primary ON product_assets (publisher_id, product_id) WHERE is_primary;

-- +goose Down
DROP INDEX product_assets_one_primary;
