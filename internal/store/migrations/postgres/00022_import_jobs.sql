-- +goose Up
-- Background work that survives restarts (issue 14).
--
-- import_uploads keeps a file uploaded for import between its preview and
-- its confirmation, in the database so that any replica (and a worker
-- process) can import it. The upload's token is kept hashed.
CREATE TABLE import_uploads (
    id             UUID PRIMARY KEY,
    publisher_id   UUID NOT NULL REFERENCES publishers (id) ON DELETE CASCADE,
    token_hash     TEXT NOT NULL UNIQUE,
    created_by     UUID REFERENCES users (id) ON DELETE SET NULL,
    kind           TEXT NOT NULL,
    format         TEXT NOT NULL,
    file_name      TEXT NOT NULL,
    source         TEXT NOT NULL DEFAULT '',
    row_count      BIGINT NOT NULL DEFAULT 0,
    orders_changed BIGINT NOT NULL DEFAULT 0,
    errors         JSONB NOT NULL DEFAULT '[]',
    data           BYTEA NOT NULL,
    created_at     TIMESTAMP NOT NULL
);
CREATE INDEX import_uploads_created ON import_uploads (created_at);

-- import_jobs are the confirmed imports run by the file_import job: their
-- state, progress and outcome, which any replica's page shows.
CREATE TABLE import_jobs (
    id               UUID PRIMARY KEY,
    publisher_id     UUID NOT NULL REFERENCES publishers (id) ON DELETE CASCADE,
    upload_id        UUID REFERENCES import_uploads (id) ON DELETE SET NULL,
    created_by       UUID REFERENCES users (id) ON DELETE SET NULL,
    kind             TEXT NOT NULL,
    file_name        TEXT NOT NULL,
    valid_only       BOOLEAN NOT NULL DEFAULT FALSE,
    state            TEXT NOT NULL CHECK (state IN ('queued','running','succeeded','failed','cancelled')),
    cancel_requested BOOLEAN NOT NULL DEFAULT FALSE,
    river_job_id     BIGINT NOT NULL DEFAULT 0,
    attempt          INTEGER NOT NULL DEFAULT 0,
    rows_total       BIGINT NOT NULL DEFAULT 0,
    rows_done        BIGINT NOT NULL DEFAULT 0,
    result           JSONB,
    error            TEXT NOT NULL DEFAULT '',
    created_at       TIMESTAMP NOT NULL,
    updated_at       TIMESTAMP NOT NULL,
    finished_at      TIMESTAMP
);
CREATE INDEX import_jobs_publisher ON import_jobs (publisher_id, created_at);
-- One unfinished import per upload: a confirmation sent twice joins it.
CREATE UNIQUE INDEX import_jobs_upload_active ON import_jobs (upload_id) WHERE state IN ('queued','running');

-- throttle_hits are the failures counted by the login and MFA throttles,
-- shared by every replica: one budget per key (a hash of an IP, an email,
-- a user) and throttle. window_start is in Unix milliseconds.
CREATE TABLE throttle_hits (
    name         TEXT NOT NULL,
    key_hash     TEXT NOT NULL,
    window_start BIGINT NOT NULL,
    hits         INTEGER NOT NULL,
    PRIMARY KEY (name, key_hash)
);
CREATE INDEX throttle_hits_window ON throttle_hits (window_start);

-- +goose Down
DROP TABLE throttle_hits;
DROP TABLE import_jobs;
DROP TABLE import_uploads;
