package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"slices"
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
	_, err := s.exec(ctx, `INSERT INTO users (id, publisher_id, email, name, password_hash, role, created_at, updated_at)
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
	_, err := s.exec(ctx, `UPDATE users SET last_login_at = $3, updated_at = $3 WHERE publisher_id = $1 AND id = $2`, pub, id, now)
	if err != nil {
		return fmt.Errorf("store: record login: %w", err)
	}
	return nil
}

// UpdateProfile changes a user's name and email. A taken email is ECONFLICT.
func (s *Store) UpdateProfile(ctx context.Context, pub phantomos.PublisherID, id, name, email string) error {
	email = FoldEmail(email)
	if !strings.Contains(email, "@") || strings.ContainsAny(email, " \t\r\n") {
		return phantomos.Errorf(phantomos.EINVALID, "Email %q is not a valid address.", email)
	}
	res, err := s.exec(ctx, `UPDATE users SET name = $3, email = $4, updated_at = $5 WHERE publisher_id = $1 AND id = $2`,
		pub, id, strings.TrimSpace(name), email, s.nowUTC())
	if isUniqueViolation(err) {
		return phantomos.Errorf(phantomos.ECONFLICT, "Another account already uses %s.", email)
	}
	if err != nil {
		return fmt.Errorf("store: update profile: %w", err)
	}
	return affected(res, "User")
}

// PasswordHash returns the stored password hash of a user.
func (s *Store) PasswordHash(ctx context.Context, pub phantomos.PublisherID, id string) (string, error) {
	var h string
	err := s.db.QueryRowContext(ctx, `SELECT password_hash FROM users WHERE publisher_id = $1 AND id = $2`, pub, id).Scan(&h)
	if err != nil {
		return "", notFound(err, "User")
	}
	return h, nil
}

// SetPassword stores a new password hash and ends every session of the
// user except keepSession (the one that made the change; "" ends all).
func (s *Store) SetPassword(ctx context.Context, pub phantomos.PublisherID, id, hash, keepSession string) error {
	return s.tx(ctx, func(tx *sql.Tx) error {
		now := s.nowUTC()
		res, err := tx.ExecContext(ctx, `UPDATE users SET password_hash = $3, updated_at = $4 WHERE publisher_id = $1 AND id = $2`, pub, id, hash, now)
		if err != nil {
			return fmt.Errorf("store: set password: %w", err)
		}
		if err := affected(res, "User"); err != nil {
			return err
		}
		return revokeUserSessions(ctx, tx, pub, id, keepSession, now)
	})
}

func revokeUserSessions(ctx context.Context, tx *sql.Tx, pub phantomos.PublisherID, userID, keep string, now time.Time) error {
	_, err := tx.ExecContext(ctx, `UPDATE sessions SET revoked_at = $4, updated_at = $4
		WHERE publisher_id = $1 AND user_id = $2 AND id <> $3 AND revoked_at IS NULL`, pub, userID, keepOrNone(keep), now)
	if err != nil {
		return fmt.Errorf("store: revoke sessions: %w", err)
	}
	return nil
}

// keepOrNone returns an id no session has when keep is empty, so "id <> $n"
// matches every session.
func keepOrNone(keep string) string {
	if keep == "" {
		return "00000000-0000-0000-0000-000000000000"
	}
	return keep
}

// RevokeUserSessions ends every session of a user except keep.
func (s *Store) RevokeUserSessions(ctx context.Context, pub phantomos.PublisherID, userID, keep string) error {
	return s.tx(ctx, func(tx *sql.Tx) error { return revokeUserSessions(ctx, tx, pub, userID, keep, s.nowUTC()) })
}

// SetRole changes a member's role and ends their sessions, so the new role
// starts with a fresh sign-in. The last owner cannot be demoted (ECONFLICT).
func (s *Store) SetRole(ctx context.Context, pub phantomos.PublisherID, id string, role phantomos.Role) error {
	if _, err := phantomos.ParseRole(string(role)); err != nil {
		return err
	}
	return s.tx(ctx, func(tx *sql.Tx) error {
		now := s.nowUTC()
		var cur phantomos.Role
		if err := tx.QueryRowContext(ctx, `SELECT role FROM users WHERE publisher_id = $1 AND id = $2`, pub, id).Scan(&cur); err != nil {
			return notFound(err, "User")
		}
		if cur == role {
			return nil
		}
		if cur == phantomos.RoleOwner {
			if err := s.ensureAnotherOwner(ctx, tx, pub, id); err != nil {
				return err
			}
		}
		if _, err := tx.ExecContext(ctx, `UPDATE users SET role = $3, updated_at = $4 WHERE publisher_id = $1 AND id = $2`, pub, id, role, now); err != nil {
			return fmt.Errorf("store: set role: %w", err)
		}
		return revokeUserSessions(ctx, tx, pub, id, "", now)
	})
}

// ensureAnotherOwner fails unless the publisher has an active owner other
// than id. It locks the owners' rows on PostgreSQL so that two concurrent
// demotions cannot both pass.
func (s *Store) ensureAnotherOwner(ctx context.Context, tx *sql.Tx, pub phantomos.PublisherID, id string) error {
	q := `SELECT id FROM users WHERE publisher_id = $1 AND role = 'owner' AND disabled_at IS NULL AND id <> $2`
	if s.dialect == Postgres {
		q += ` FOR UPDATE`
	}
	rows, err := tx.QueryContext(ctx, q, pub, id)
	if err != nil {
		return fmt.Errorf("store: owners: %w", err)
	}
	defer rows.Close()
	if !rows.Next() {
		if err := rows.Err(); err != nil {
			return err
		}
		return phantomos.Errorf(phantomos.ECONFLICT, "A publisher needs at least one owner. Transfer ownership first.")
	}
	return nil
}

// DeleteUser removes a member of the team; their sessions and API keys end
// with them. The last owner cannot be removed.
func (s *Store) DeleteUser(ctx context.Context, pub phantomos.PublisherID, id string) error {
	if !phantomos.ValidID(id) {
		return phantomos.Errorf(phantomos.ENOTFOUND, "User not found.")
	}
	return s.tx(ctx, func(tx *sql.Tx) error {
		var role phantomos.Role
		if err := tx.QueryRowContext(ctx, `SELECT role FROM users WHERE publisher_id = $1 AND id = $2`, pub, id).Scan(&role); err != nil {
			return notFound(err, "User")
		}
		if role == phantomos.RoleOwner {
			if err := s.ensureAnotherOwner(ctx, tx, pub, id); err != nil {
				return err
			}
		}
		if _, err := tx.ExecContext(ctx, `UPDATE api_keys SET revoked_at = $3 WHERE publisher_id = $1 AND user_id = $2 AND revoked_at IS NULL`, pub, id, s.nowUTC()); err != nil {
			return fmt.Errorf("store: delete user keys: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM users WHERE publisher_id = $1 AND id = $2`, pub, id); err != nil {
			return fmt.Errorf("store: delete user: %w", err)
		}
		return nil
	})
}

// TransferOwnership makes user to an owner and the current owner from an
// admin, in one transaction.
func (s *Store) TransferOwnership(ctx context.Context, pub phantomos.PublisherID, from, to string) error {
	if from == to {
		return phantomos.Errorf(phantomos.EINVALID, "You already own this publisher.")
	}
	return s.tx(ctx, func(tx *sql.Tx) error {
		now := s.nowUTC()
		res, err := tx.ExecContext(ctx, `UPDATE users SET role = 'owner', updated_at = $3 WHERE publisher_id = $1 AND id = $2 AND disabled_at IS NULL`, pub, to, now)
		if err != nil {
			return fmt.Errorf("store: transfer ownership: %w", err)
		}
		if err := affected(res, "User"); err != nil {
			return err
		}
		res, err = tx.ExecContext(ctx, `UPDATE users SET role = 'admin', updated_at = $3 WHERE publisher_id = $1 AND id = $2 AND role = 'owner'`, pub, from, now)
		if err != nil {
			return fmt.Errorf("store: transfer ownership: %w", err)
		}
		if err := affected(res, "Owner"); err != nil {
			return err
		}
		return revokeUserSessions(ctx, tx, pub, to, "", now)
	})
}

// TOTP returns a user's two-factor secret, whether it is enabled, and the
// hashes of the unused recovery codes.
func (s *Store) TOTP(ctx context.Context, pub phantomos.PublisherID, id string) (secret string, enabled bool, recovery []string, err error) {
	var codes string
	err = s.db.QueryRowContext(ctx, `SELECT totp_secret, totp_enabled, recovery_codes FROM users WHERE publisher_id = $1 AND id = $2`, pub, id).
		Scan(&secret, &enabled, &codes)
	if err != nil {
		return "", false, nil, notFound(err, "User")
	}
	if err := json.Unmarshal([]byte(codes), &recovery); err != nil {
		return "", false, nil, fmt.Errorf("store: recovery codes: %w", err)
	}
	return secret, enabled, recovery, nil
}

// SetTOTP stores a user's two-factor state. An empty secret with enabled
// false turns two-factor authentication off.
func (s *Store) SetTOTP(ctx context.Context, pub phantomos.PublisherID, id, secret string, enabled bool, recoveryHashes []string) error {
	res, err := s.exec(ctx, `UPDATE users SET totp_secret = $3, totp_enabled = $4, recovery_codes = $5, updated_at = $6 WHERE publisher_id = $1 AND id = $2`,
		pub, id, secret, enabled, phantomos.JSONList(recoveryHashes), s.nowUTC())
	if err != nil {
		return fmt.Errorf("store: set totp: %w", err)
	}
	return affected(res, "User")
}

// AcceptTOTPStep records that a code of time step step was used by a user
// and reports whether it may be accepted: only when step is after the last
// step accepted. The update is conditional, so of concurrent uses of one
// code (or of codes of one step) exactly one is accepted.
func (s *Store) AcceptTOTPStep(ctx context.Context, pub phantomos.PublisherID, id string, step int64) (bool, error) {
	res, err := s.exec(ctx, `UPDATE users SET totp_last_step = $3 WHERE publisher_id = $1 AND id = $2 AND totp_last_step < $3`,
		pub, id, step)
	if err != nil {
		return false, fmt.Errorf("store: accept totp step: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("store: accept totp step: %w", err)
	}
	return n == 1, nil
}

// UseRecoveryCode consumes one recovery code by its hash; false when it is
// not (or no longer) one of the user's codes. Concurrent uses of the same
// code cannot both succeed: the update is conditional on the old list.
func (s *Store) UseRecoveryCode(ctx context.Context, pub phantomos.PublisherID, id, codeHash string) (bool, error) {
	_, _, codes, err := s.TOTP(ctx, pub, id)
	if err != nil {
		return false, err
	}
	i := slices.Index(codes, codeHash)
	if i < 0 {
		return false, nil
	}
	rest := slices.Delete(slices.Clone(codes), i, i+1)
	res, err := s.exec(ctx, `UPDATE users SET recovery_codes = $3 WHERE publisher_id = $1 AND id = $2 AND recovery_codes = $4`,
		pub, id, phantomos.JSONList(rest), phantomos.JSONList(codes))
	if err != nil {
		return false, fmt.Errorf("store: use recovery code: %w", err)
	}
	n, _ := res.RowsAffected()
	return n == 1, nil
}

func affected(res sql.Result, what string) error {
	if n, err := res.RowsAffected(); err == nil && n == 0 {
		return phantomos.Errorf(phantomos.ENOTFOUND, "%s not found.", what)
	}
	return nil
}
