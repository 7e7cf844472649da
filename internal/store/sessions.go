package store

import (
	"context"
	"fmt"
	"time"

	"github.com/phantomos/phantomos"
)

// CreateSession stores a session for user u whose token hashes to
// tokenHash, valid until expires.
func (s *Store) CreateSession(ctx context.Context, u *phantomos.User, tokenHash string, expires time.Time, ip, userAgent string) (*phantomos.Session, error) {
	return s.createSession(ctx, u, tokenHash, expires, ip, userAgent, false)
}

// CreatePendingSession stores a session that still has to pass the second
// factor (CompleteMFA).
func (s *Store) CreatePendingSession(ctx context.Context, u *phantomos.User, tokenHash string, expires time.Time, ip, userAgent string) (*phantomos.Session, error) {
	return s.createSession(ctx, u, tokenHash, expires, ip, userAgent, true)
}

func (s *Store) createSession(ctx context.Context, u *phantomos.User, tokenHash string, expires time.Time, ip, userAgent string, pending bool) (*phantomos.Session, error) {
	now := s.nowUTC()
	sess := &phantomos.Session{
		ID: phantomos.NewID(), PublisherID: u.PublisherID, UserID: u.ID, Role: u.Role,
		ExpiresAt: expires.UTC().Truncate(time.Microsecond), LastUsedAt: now, CreatedAt: now, MFAPending: pending,
	}
	_, err := s.exec(ctx, `INSERT INTO sessions (id, publisher_id, user_id, token_hash, role, ip, user_agent, expires_at, last_used_at, created_at, updated_at, mfa_pending)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9, $9, $10)`,
		sess.ID, sess.PublisherID, sess.UserID, tokenHash, sess.Role, ip, userAgent, sess.ExpiresAt, now, pending)
	if err != nil {
		return nil, fmt.Errorf("store: create session: %w", err)
	}
	return sess, nil
}

// SessionByToken returns the live session whose token hashes to tokenHash,
// with its user. Expired or revoked sessions, and sessions of disabled
// users, are EUNAUTHORIZED.
func (s *Store) SessionByToken(ctx context.Context, tokenHash string) (*phantomos.Session, *phantomos.User, error) {
	var sess phantomos.Session
	u, err := scanUser(s.db.QueryRowContext(ctx, `SELECT u.id, u.publisher_id, u.email, u.name, u.role, u.last_login_at, u.disabled_at, u.created_at,
			s.id, s.expires_at, s.last_used_at, s.created_at, s.mfa_pending
		FROM sessions s JOIN users u ON u.id = s.user_id AND u.publisher_id = s.publisher_id
		WHERE s.token_hash = $1 AND s.revoked_at IS NULL AND s.expires_at > $2 AND u.disabled_at IS NULL`,
		tokenHash, s.nowUTC()), &sess.ID, &sess.ExpiresAt, &sess.LastUsedAt, &sess.CreatedAt, &sess.MFAPending)
	if err != nil {
		if e := notFound(err, "Session"); phantomos.ErrorCode(e) == phantomos.ENOTFOUND {
			return nil, nil, phantomos.Errorf(phantomos.EUNAUTHORIZED, "Your session has ended. Please sign in again.")
		}
		return nil, nil, fmt.Errorf("store: session: %w", err)
	}
	sess.PublisherID, sess.UserID, sess.Role = u.PublisherID, u.ID, u.Role
	return &sess, u, nil
}

// TouchSession records use of a session and slides its expiry to expires,
// never beyond what the caller allows; skipped while a long write holds
// SQLite's lock (see record).
func (s *Store) TouchSession(ctx context.Context, pub phantomos.PublisherID, id string, expires time.Time) error {
	err := s.record(ctx, `UPDATE sessions SET last_used_at = $3, expires_at = $4, updated_at = $3 WHERE publisher_id = $1 AND id = $2`,
		pub, id, s.nowUTC(), expires.UTC().Truncate(time.Microsecond))
	if err != nil {
		return fmt.Errorf("store: touch session: %w", err)
	}
	return nil
}

// RevokeSession ends one session.
func (s *Store) RevokeSession(ctx context.Context, pub phantomos.PublisherID, id string) error {
	now := s.nowUTC()
	_, err := s.exec(ctx, `UPDATE sessions SET revoked_at = $3, updated_at = $3 WHERE publisher_id = $1 AND id = $2 AND revoked_at IS NULL`, pub, id, now)
	if err != nil {
		return fmt.Errorf("store: revoke session: %w", err)
	}
	return nil
}

// CompleteMFA marks a pending session as fully signed in and gives it a new
// token, so the token that only passed the password is worth nothing.
func (s *Store) CompleteMFA(ctx context.Context, pub phantomos.PublisherID, id, newTokenHash string) error {
	res, err := s.exec(ctx, `UPDATE sessions SET mfa_pending = $3, token_hash = $4, updated_at = $5
		WHERE publisher_id = $1 AND id = $2 AND mfa_pending = $6 AND revoked_at IS NULL`, pub, id, false, newTokenHash, s.nowUTC(), true)
	if err != nil {
		return fmt.Errorf("store: complete mfa: %w", err)
	}
	return affected(res, "Pending session")
}
