-- +goose Up
-- Expiring access tokens are refreshed in place. credentials_version counts
-- every write of the credentials, so a refresh stores its result only if
-- nothing changed since it read them (compare-and-swap), and
-- credentials_lease_until lets one process at a time spend the refresh
-- token (which the platform may accept once) while the others wait for the
-- new credentials.
ALTER TABLE connectors ADD COLUMN credentials_version BIGINT NOT NULL DEFAULT 0;
ALTER TABLE connectors ADD COLUMN credentials_lease_until TIMESTAMP;

-- An install started from the platform's side, before anyone signed in:
-- its sealed credentials wait here, found by the hash of a token kept in
-- the installer's cookie, until that person signs in or creates an
-- organization and claims them (once), or they expire. No publisher owns
-- them yet.
CREATE TABLE pending_installs (
    token_hash  TEXT PRIMARY KEY,
    platform    TEXT NOT NULL,
    account     TEXT NOT NULL,
    credentials BYTEA NOT NULL,
    credentials_key_id TEXT NOT NULL,
    expires_at  TIMESTAMP NOT NULL,
    created_at  TIMESTAMP NOT NULL
);
CREATE INDEX pending_installs_expiry ON pending_installs (expires_at);

-- The nonces of OAuth installs started from the platform's side before
-- anyone signed in: like oauth_states, but belonging to no publisher yet.
CREATE TABLE oauth_states_anonymous (
    nonce_hash TEXT PRIMARY KEY,
    expires_at TIMESTAMP NOT NULL,
    created_at TIMESTAMP NOT NULL
);

-- +goose Down
DROP TABLE oauth_states_anonymous;
DROP TABLE pending_installs;
ALTER TABLE connectors DROP COLUMN credentials_lease_until;
ALTER TABLE connectors DROP COLUMN credentials_version;
