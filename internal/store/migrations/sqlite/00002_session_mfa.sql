-- +goose Up
-- A session that passed the password but not yet the second factor: it
-- authenticates nothing except the two-factor step.
ALTER TABLE sessions ADD COLUMN mfa_pending BOOLEAN NOT NULL DEFAULT 0;

-- +goose Down
ALTER TABLE sessions DROP COLUMN mfa_pending;
