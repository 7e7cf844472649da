package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/phantomos/phantomos"
)

// MaxAskQuestions is how many questions the store keeps per user.
const MaxAskQuestions = 20

// AskQuestion is a question a user asked, for their recent list.
type AskQuestion struct {
	Question  string
	CreatedAt time.Time
}

// SaveAskQuestion records question as asked by user of publisher pub and
// drops the user's questions beyond the last MaxAskQuestions. Asking the
// same question again moves it to the top rather than listing it twice.
func (s *Store) SaveAskQuestion(ctx context.Context, pub phantomos.PublisherID, user, question string) error {
	return s.tx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM ask_questions WHERE publisher_id = $1 AND user_id = $2 AND question = $3`, pub, user, question); err != nil {
			return fmt.Errorf("store: save question: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO ask_questions (id, publisher_id, user_id, question, created_at) VALUES ($1, $2, $3, $4, $5)`,
			phantomos.NewID(), pub, user, question, s.nowUTC()); err != nil {
			return fmt.Errorf("store: save question: %w", err)
		}
		// Ids are time-ordered, so the newest rows have the largest ids even
		// within one clock tick.
		if _, err := tx.ExecContext(ctx, `DELETE FROM ask_questions WHERE publisher_id = $1 AND user_id = $2 AND id NOT IN (
			SELECT id FROM ask_questions WHERE publisher_id = $1 AND user_id = $2 ORDER BY created_at DESC, id DESC LIMIT $3)`, pub, user, MaxAskQuestions); err != nil {
			return fmt.Errorf("store: trim questions: %w", err)
		}
		return nil
	})
}

// AskQuestions returns user's recent questions in publisher pub, newest
// first.
func (s *Store) AskQuestions(ctx context.Context, pub phantomos.PublisherID, user string) ([]AskQuestion, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT question, created_at FROM ask_questions WHERE publisher_id = $1 AND user_id = $2
		ORDER BY created_at DESC, id DESC LIMIT $3`, pub, user, MaxAskQuestions)
	if err != nil {
		return nil, fmt.Errorf("store: questions: %w", err)
	}
	defer rows.Close()
	var out []AskQuestion
	for rows.Next() {
		var q AskQuestion
		if err := rows.Scan(&q.Question, &q.CreatedAt); err != nil {
			return nil, fmt.Errorf("store: questions: %w", err)
		}
		out = append(out, q)
	}
	return out, rows.Err()
}
