-- +goose Up
-- Notifications (issue 21). notify_prefs is one rule of one user: which
-- insights (kinds, game IPs or assets, minimum confidence) go where
-- (email, a signed webhook, a Slack incoming webhook) and how often
-- (at once, or in a daily or weekly digest). secret holds the sealed
-- webhook signing secret or Slack URL (see internal/secret); target_label
-- is what pages show of the destination.
CREATE TABLE notify_prefs (
    id             UUID PRIMARY KEY,
    publisher_id   UUID NOT NULL REFERENCES publishers (id) ON DELETE CASCADE,
    user_id        UUID NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    kinds          TEXT NOT NULL,
    game_ips       TEXT NOT NULL DEFAULT '[]',
    assets         TEXT NOT NULL DEFAULT '[]',
    min_confidence DOUBLE PRECISION NOT NULL DEFAULT 0,
    channel        TEXT NOT NULL CHECK (channel IN ('email','webhook','slack')),
    target         TEXT NOT NULL DEFAULT '',
    secret         BYTEA,
    secret_key_id  TEXT NOT NULL DEFAULT '',
    rhythm         TEXT NOT NULL CHECK (rhythm IN ('immediate','daily','weekly')),
    last_digest_at TIMESTAMP,
    paused_at      TIMESTAMP,
    created_at     TIMESTAMP NOT NULL,
    updated_at     TIMESTAMP NOT NULL
);
CREATE INDEX notify_prefs_user ON notify_prefs (publisher_id, user_id);

-- notify_users is a user's weekly digest subscription; unsubscribed_at is
-- set by the unsubscribe link.
CREATE TABLE notify_users (
    publisher_id    UUID NOT NULL REFERENCES publishers (id) ON DELETE CASCADE,
    user_id         UUID NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    weekly_digest   BOOLEAN NOT NULL DEFAULT FALSE,
    unsubscribed_at TIMESTAMP,
    updated_at      TIMESTAMP NOT NULL,
    PRIMARY KEY (publisher_id, user_id)
);

-- notify_reports is an Overview or Assets view saved as a report and
-- emailed as CSV on a schedule.
CREATE TABLE notify_reports (
    id           UUID PRIMARY KEY,
    publisher_id UUID NOT NULL REFERENCES publishers (id) ON DELETE CASCADE,
    created_by   UUID REFERENCES users (id) ON DELETE SET NULL,
    name         TEXT NOT NULL,
    view         TEXT NOT NULL CHECK (view IN ('overview','assets')),
    query        TEXT NOT NULL DEFAULT '',
    schedule     TEXT NOT NULL CHECK (schedule IN ('daily','weekly','monthly')),
    recipients   TEXT NOT NULL DEFAULT '[]',
    last_period  TEXT NOT NULL DEFAULT '',
    created_at   TIMESTAMP NOT NULL,
    updated_at   TIMESTAMP NOT NULL
);
CREATE INDEX notify_reports_publisher ON notify_reports (publisher_id);

-- notify_deliveries is every message to send. dedup_key is its stable
-- identity within the publisher (an alert: the rule and the insight's
-- fingerprint), so that a finding found again is never sent again.
CREATE TABLE notify_deliveries (
    id           UUID PRIMARY KEY,
    publisher_id UUID NOT NULL REFERENCES publishers (id) ON DELETE CASCADE,
    pref_id      UUID REFERENCES notify_prefs (id) ON DELETE SET NULL,
    user_id      UUID REFERENCES users (id) ON DELETE SET NULL,
    report_id    UUID REFERENCES notify_reports (id) ON DELETE SET NULL,
    dedup_key    TEXT NOT NULL,
    kind         TEXT NOT NULL CHECK (kind IN ('alert','digest','weekly','report')),
    channel      TEXT NOT NULL,
    payload      TEXT NOT NULL,
    status       TEXT NOT NULL CHECK (status IN ('pending','sent','failed')),
    attempts     INTEGER NOT NULL DEFAULT 0,
    last_error   TEXT NOT NULL DEFAULT '',
    created_at   TIMESTAMP NOT NULL,
    updated_at   TIMESTAMP NOT NULL,
    sent_at      TIMESTAMP,
    UNIQUE (publisher_id, dedup_key)
);
CREATE INDEX notify_deliveries_pref ON notify_deliveries (publisher_id, pref_id, created_at);
CREATE INDEX notify_deliveries_user ON notify_deliveries (publisher_id, user_id, created_at);

-- notify_alerts records which insight (by fingerprint) each rule has
-- covered and in which delivery: a digest covers many.
CREATE TABLE notify_alerts (
    publisher_id UUID NOT NULL REFERENCES publishers (id) ON DELETE CASCADE,
    pref_id      UUID NOT NULL REFERENCES notify_prefs (id) ON DELETE CASCADE,
    fingerprint  TEXT NOT NULL,
    delivery_id  UUID NOT NULL REFERENCES notify_deliveries (id) ON DELETE CASCADE,
    created_at   TIMESTAMP NOT NULL,
    PRIMARY KEY (pref_id, fingerprint)
);
CREATE INDEX notify_alerts_delivery ON notify_alerts (delivery_id);

-- +goose Down
DROP TABLE notify_alerts;
DROP TABLE notify_deliveries;
DROP TABLE notify_reports;
DROP TABLE notify_users;
DROP TABLE notify_prefs;
