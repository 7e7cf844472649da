-- +goose Up
-- The push API (issue 18). An API key's scope is 'full' (acts with its
-- role everywhere) or 'ingest' (may only push orders and products).
ALTER TABLE api_keys ADD COLUMN scope TEXT NOT NULL DEFAULT 'full' CHECK (scope IN ('full','ingest'));

-- push_requests keeps the outcome of each push sent with an Idempotency-Key
-- for a retention window: a retry with the same key and body gets the
-- stored response; state 'running' marks a push in progress, so that a
-- concurrent retry is told to wait (409) instead of running twice.
CREATE TABLE push_requests (
    publisher_id TEXT NOT NULL REFERENCES publishers (id) ON DELETE CASCADE,
    idem_key     TEXT NOT NULL,
    route        TEXT NOT NULL,
    body_sha256  TEXT NOT NULL,
    state        TEXT NOT NULL CHECK (state IN ('running','done')),
    status       INTEGER NOT NULL DEFAULT 0,
    content_type TEXT NOT NULL DEFAULT '',
    response     TEXT NOT NULL DEFAULT '',
    created_at   TIMESTAMP NOT NULL,
    PRIMARY KEY (publisher_id, idem_key)
);
CREATE INDEX push_requests_created ON push_requests (publisher_id, created_at);

-- push_log records every push a custom source received (also refused
-- ones), for the connector page: counts and a few rejected rows (JSON).
CREATE TABLE push_log (
    id           TEXT PRIMARY KEY,
    publisher_id TEXT NOT NULL REFERENCES publishers (id) ON DELETE CASCADE,
    connector_id TEXT NOT NULL REFERENCES connectors (id) ON DELETE CASCADE,
    kind         TEXT NOT NULL,
    received_at  TIMESTAMP NOT NULL,
    status       INTEGER NOT NULL,
    orders       INTEGER NOT NULL DEFAULT 0,
    lines        INTEGER NOT NULL DEFAULT 0,
    failed       INTEGER NOT NULL DEFAULT 0,
    rejected     TEXT NOT NULL DEFAULT '[]'
);
CREATE INDEX push_log_connector ON push_log (publisher_id, connector_id, received_at);

-- +goose Down
DROP TABLE push_log;
DROP TABLE push_requests;
ALTER TABLE api_keys DROP COLUMN scope;
