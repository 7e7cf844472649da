-- +goose Up
-- The last TOTP time step (Unix time / 30 s) accepted for each user: a code
-- is refused unless its step is after this one, so a code observed once
-- (or sent from several half-signed-in sessions at once) opens one session.
ALTER TABLE users ADD COLUMN totp_last_step BIGINT NOT NULL DEFAULT 0;

-- +goose Down
ALTER TABLE users DROP COLUMN totp_last_step;
