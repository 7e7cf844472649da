-- +goose Up
-- Invitation emails are sent by a job (issue 14): where the email of an
-- invitation stands, for the team page and the API. email_state is ''
-- (not emailed: no SMTP), queued, retrying, sent or failed; email_error
-- is the last failure's reason.
ALTER TABLE invitations ADD COLUMN email_state TEXT NOT NULL DEFAULT '';
ALTER TABLE invitations ADD COLUMN email_error TEXT NOT NULL DEFAULT '';
ALTER TABLE invitations ADD COLUMN emailed_at TIMESTAMP;

-- +goose Down
ALTER TABLE invitations DROP COLUMN emailed_at;
ALTER TABLE invitations DROP COLUMN email_error;
ALTER TABLE invitations DROP COLUMN email_state;
