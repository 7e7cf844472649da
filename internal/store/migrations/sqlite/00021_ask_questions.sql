-- +goose Up
-- Questions people asked on /ask (issue 19), kept per user for the recent
-- list; the store keeps only the last 20 of each user.
CREATE TABLE ask_questions (
    id           TEXT PRIMARY KEY,
    publisher_id TEXT NOT NULL REFERENCES publishers (id) ON DELETE CASCADE,
    user_id      TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    question     TEXT NOT NULL,
    created_at   TIMESTAMP NOT NULL
);
CREATE INDEX ask_questions_user ON ask_questions (publisher_id, user_id, created_at);

-- +goose Down
DROP TABLE ask_questions;
