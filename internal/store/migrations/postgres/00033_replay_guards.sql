-- +goose Up
-- What must be handled once whichever replica receives it, and after a
-- restart (issue 16): kept here, not in a process's memory.
--
-- Webhook deliveries already applied, by connector and a hash of the
-- delivery's key (BigCommerce repeats an event with the same payload
-- hash): a delivery retried to another replica is applied once. A failed
-- delivery's row is removed so that the platform's retry is applied.
CREATE TABLE webhook_deliveries (
    publisher_id UUID NOT NULL REFERENCES publishers (id) ON DELETE CASCADE,
    connector_id UUID NOT NULL REFERENCES connectors (id) ON DELETE CASCADE,
    key_hash     TEXT NOT NULL,
    expires_at   TIMESTAMP NOT NULL,
    created_at   TIMESTAMP NOT NULL,
    PRIMARY KEY (publisher_id, connector_id, key_hash)
);

-- The ids of signed requests already accepted (a platform's JWT "jti"),
-- until the request has expired: a signed request replayed to any replica
-- is refused. They belong to no publisher: the request names a store.
CREATE TABLE signed_request_ids (
    issuer     TEXT NOT NULL,
    id_hash    TEXT NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    created_at TIMESTAMP NOT NULL,
    PRIMARY KEY (issuer, id_hash)
);
CREATE INDEX signed_request_ids_expiry ON signed_request_ids (expires_at);

-- +goose Down
DROP INDEX signed_request_ids_expiry;
DROP TABLE signed_request_ids;
DROP TABLE webhook_deliveries;
