package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/phantomos/phantomos"
)

const userColumns = `id, publisher_id, email, name, role, last_login_at, disabled_at, created_at`

func scanUser(row interface{ Scan(...any) error }, extra ...any) (*phantomos.User, error) {
	var u phantomos.User
	var last, disabled sql.NullTime
	dest := append([]any{&u.ID, &u.PublisherID, &u.Email, &u.Name, &u.Role, &last, &disabled, &u.CreatedAt}, extra...)
	if err := row.Scan(dest...); err != nil {
		return nil, err
	}
	u.LastLoginAt = timePtr(last)
	u.DisabledAt = timePtr(disabled)
	return &u, nil
}

func timePtr(t sql.NullTime) *time.Time {
	if !t.Valid {
		return nil
	}
	v := t.Time.UTC()
	return &v
}

// FoldEmail is the canonical form of an email address: trimmed and
// lower-cased, so that sign-in and uniqueness ignore case.
func FoldEmail(email string) string { return strings.ToLower(strings.TrimSpace(email)) }

// CreateUser stores a new user of publisher pub with the given password
// hash. A taken email is ECONFLICT.
func (s *Store) CreateUser(ctx context.Context, pub phantomos.PublisherID, u *phantomos.User, passwordHash string) error {
	u.PublisherID = pub
	u.Email = FoldEmail(u.Email)
	if u.ID == "" {
		u.ID = phantomos.NewID()
	}
	if !strings.Contains(u.Email, "@") || strings.ContainsAny(u.Email, " \t\r\n") {
		return phantomos.Errorf(phantomos.EINVALID, "Email %q is not a valid address.", u.Email)
	}
	if _, err := phantomos.ParseRole(string(u.Role)); err != nil {
		return err
	}
	u.CreatedAt = s.nowUTC()
	_, err := s.db.ExecContext(ctx, `INSERT INTO users (id, publisher_id, email, name, password_hash, role, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $7)`, u.ID, pub, u.Email, u.Name, passwordHash, u.Role, u.CreatedAt)
	if isUniqueViolation(err) {
		return phantomos.Errorf(phantomos.ECONFLICT, "A user with email %s already exists.", u.Email)
	}
	if err != nil {
		return fmt.Errorf("store: create user: %w", err)
	}
	return nil
}

// User returns user id of publisher pub.
func (s *Store) User(ctx context.Context, pub phantomos.PublisherID, id string) (*phantomos.User, error) {
	if !phantomos.ValidID(id) {
		return nil, phantomos.Errorf(phantomos.ENOTFOUND, "User not found.")
	}
	u, err := scanUser(s.db.QueryRowContext(ctx, `SELECT `+userColumns+` FROM users WHERE publisher_id = $1 AND id = $2`, pub, id))
	if err != nil {
		return nil, notFound(err, "User")
	}
	return u, nil
}

// UserForLogin returns the user with the given email and its password hash.
// It is the one lookup without a publisher: sign-in starts from the email.
func (s *Store) UserForLogin(ctx context.Context, email string) (*phantomos.User, string, error) {
	var hash string
	u, err := scanUser(s.db.QueryRowContext(ctx, `SELECT `+userColumns+`, password_hash FROM users WHERE email = $1`, FoldEmail(email)), &hash)
	if err != nil {
		return nil, "", notFound(err, "User")
	}
	return u, hash, nil
}

// Users lists the team of publisher pub, oldest first.
func (s *Store) Users(ctx context.Context, pub phantomos.PublisherID) ([]*phantomos.User, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+userColumns+` FROM users WHERE publisher_id = $1 ORDER BY created_at, id`, pub)
	if err != nil {
		return nil, fmt.Errorf("store: users: %w", err)
	}
	defer rows.Close()
	var users []*phantomos.User
	for rows.Next() {
		u, err := scanUser(rows)
		if err != nil {
			return nil, fmt.Errorf("store: users: %w", err)
		}
		users = append(users, u)
	}
	return users, rows.Err()
}

// RecordLogin sets the user's last sign-in time.
func (s *Store) RecordLogin(ctx context.Context, pub phantomos.PublisherID, id string) error {
	now := s.nowUTC()
	_, err := s.db.ExecContext(ctx, `UPDATE users SET last_login_at = $3, updated_at = $3 WHERE publisher_id = $1 AND id = $2`, pub, id, now)
	if err != nil {
		return fmt.Errorf("store: record login: %w", err)
	}
	return nil
}
