-- +goose Up
-- Scheduled pulls (issue 18): a custom source that fetches a CSV or JSON
-- file from a URL every so often and imports it like an upload. The
-- credential it sends (a header or basic auth) is sealed in the
-- connector's credentials, never here. etag and content_sha256 are those
-- of the last file imported, so that an unchanged file is skipped.
CREATE TABLE pull_sources (
    connector_id   TEXT PRIMARY KEY REFERENCES connectors (id) ON DELETE CASCADE,
    publisher_id   TEXT NOT NULL REFERENCES publishers (id) ON DELETE CASCADE,
    url            TEXT NOT NULL,
    kind           TEXT NOT NULL CHECK (kind IN ('sales','products')),
    format         TEXT NOT NULL DEFAULT 'auto' CHECK (format IN ('auto','csv','json')),
    auth           TEXT NOT NULL DEFAULT 'none' CHECK (auth IN ('none','header','basic')),
    every_minutes  INTEGER NOT NULL CHECK (every_minutes >= 15),
    etag           TEXT NOT NULL DEFAULT '',
    content_sha256 TEXT NOT NULL DEFAULT '',
    checked_at     TIMESTAMP,
    changed_at     TIMESTAMP,
    last_outcome   TEXT NOT NULL DEFAULT '' CHECK (last_outcome IN ('','imported','unchanged','failed')),
    last_error     TEXT NOT NULL DEFAULT '',
    created_at     TIMESTAMP NOT NULL,
    updated_at     TIMESTAMP NOT NULL
);
CREATE INDEX pull_sources_publisher ON pull_sources (publisher_id);

-- order_tombstones remembers each order a custom source deleted
-- (DELETE /api/v1/orders/{source}/{order_id}) and as of when, so that a
-- late push of an older version does not bring it back; a push of a newer
-- version restores the order and lifts the tombstone.
CREATE TABLE order_tombstones (
    publisher_id      TEXT NOT NULL REFERENCES publishers (id) ON DELETE CASCADE,
    connector_id      TEXT NOT NULL REFERENCES connectors (id) ON DELETE CASCADE,
    external_order_id TEXT NOT NULL,
    deleted_at        TIMESTAMP NOT NULL,
    PRIMARY KEY (publisher_id, connector_id, external_order_id)
);

-- +goose Down
DROP TABLE order_tombstones;
DROP TABLE pull_sources;
