package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/phantomos/phantomos"
)

// apiKeyUseEvery is how stale a key's recorded last use may get: under
// load one key makes many requests a second, and writing each use would
// queue them all on the key's row.
const apiKeyUseEvery = time.Minute

// ActorByAPIKey returns the actor of the live API key whose token hashes to
// tokenHash and records its use (at most once every apiKeyUseEvery).
// Unknown, expired and revoked keys are EUNAUTHORIZED, and so are the keys
// of a disabled or removed user. The actor's role is the key's role capped
// at its user's current role, read at every use: a demoted user's keys
// lose the power the user lost, and regain at most the key's own role if
// the user is promoted again. A key without a user (created by tooling)
// acts with its own role.
func (s *Store) ActorByAPIKey(ctx context.Context, tokenHash string) (*phantomos.Actor, error) {
	now := s.nowUTC()
	var a phantomos.Actor
	var lastUsed, disabled sql.NullTime
	var userID string
	var userRole sql.NullString
	err := s.db.QueryRowContext(ctx, `SELECT k.id, k.publisher_id, k.role, k.last_used_at, COALESCE(CAST(k.user_id AS TEXT), ''), u.role, u.disabled_at
		FROM api_keys k LEFT JOIN users u ON u.id = k.user_id AND u.publisher_id = k.publisher_id
		WHERE k.token_hash = $1 AND k.revoked_at IS NULL AND (k.expires_at IS NULL OR k.expires_at > $2)`, tokenHash, now).
		Scan(&a.APIKeyID, &a.PublisherID, &a.Role, &lastUsed, &userID, &userRole, &disabled)
	if err != nil {
		if e := notFound(err, "API key"); phantomos.ErrorCode(e) == phantomos.ENOTFOUND {
			return nil, phantomos.Errorf(phantomos.EUNAUTHORIZED, "The API key is not valid.")
		}
		return nil, fmt.Errorf("store: api key: %w", err)
	}
	if userID != "" {
		if !userRole.Valid || disabled.Valid {
			return nil, phantomos.Errorf(phantomos.EUNAUTHORIZED, "The API key is not valid.")
		}
		a.Role = lowerRole(a.Role, phantomos.Role(userRole.String))
	}
	if stale := now.Add(-apiKeyUseEvery); !lastUsed.Valid || lastUsed.Time.Before(stale) {
		// The condition again, so that of concurrent requests one writes;
		// skipped while a long write holds SQLite's lock (see record).
		if err := s.record(ctx, `UPDATE api_keys SET last_used_at = $3 WHERE publisher_id = $1 AND id = $2
			AND (last_used_at IS NULL OR last_used_at < $4)`, a.PublisherID, a.APIKeyID, now, stale); err != nil {
			return nil, fmt.Errorf("store: api key use: %w", err)
		}
	}
	return &a, nil
}

// lowerRole returns the less powerful of two roles.
func lowerRole(a, b phantomos.Role) phantomos.Role {
	if a.AtLeast(b) {
		return b
	}
	return a
}

// MaxAPIKeys bounds the live (unrevoked) API keys of one publisher: far
// more than any integration needs, few enough that a loop of key
// creations cannot grow the table without end.
const MaxAPIKeys = 500

// CreateAPIKey stores a key of publisher pub acting as role, whose token
// hashes to tokenHash; prefix is the visible start of the token. A
// publisher holding MaxAPIKeys live keys gets EINVALID.
func (s *Store) CreateAPIKey(ctx context.Context, pub phantomos.PublisherID, userID, name, prefix, tokenHash string, role phantomos.Role) (string, error) {
	id := phantomos.NewID()
	now := s.nowUTC()
	var uid any
	if userID != "" {
		uid = userID
	}
	res, err := s.exec(ctx, `INSERT INTO api_keys (id, publisher_id, user_id, name, prefix, token_hash, role, created_at, updated_at)
		SELECT $1, $2, $3, $4, $5, $6, $7, $8, $8
		WHERE (SELECT COUNT(*) FROM api_keys WHERE publisher_id = $2 AND revoked_at IS NULL) < $9`,
		id, pub, uid, name, prefix, tokenHash, role, now, MaxAPIKeys)
	if err != nil {
		return "", fmt.Errorf("store: create api key: %w", err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return "", fmt.Errorf("store: create api key: %w", err)
	} else if n == 0 {
		return "", phantomos.Errorf(phantomos.EINVALID, "This organization has %d live API keys, the most it may have: revoke unused keys first.", MaxAPIKeys)
	}
	return id, nil
}

// APIKey describes a key without its secret.
type APIKey struct {
	ID     string
	Name   string
	Prefix string
	// Role is the role the key was created with; it acts with at most its
	// user's current role (UserRole).
	Role       phantomos.Role
	UserID     string
	UserRole   phantomos.Role // "" for a key without a user
	CreatedAt  time.Time
	LastUsedAt *time.Time
}

// EffectiveRole is the role the key acts with now: its own, capped at its
// user's.
func (k APIKey) EffectiveRole() phantomos.Role {
	if k.UserID == "" || k.UserRole == "" {
		return k.Role
	}
	return lowerRole(k.Role, k.UserRole)
}

const apiKeySelect = `SELECT k.id, k.name, k.prefix, k.role, COALESCE(CAST(k.user_id AS TEXT), ''), COALESCE(u.role, ''), k.created_at, k.last_used_at
	FROM api_keys k LEFT JOIN users u ON u.id = k.user_id AND u.publisher_id = k.publisher_id`

func scanAPIKey(row interface{ Scan(...any) error }) (APIKey, error) {
	var k APIKey
	var last sql.NullTime
	if err := row.Scan(&k.ID, &k.Name, &k.Prefix, &k.Role, &k.UserID, &k.UserRole, &k.CreatedAt, &last); err != nil {
		return k, err
	}
	k.LastUsedAt = timePtr(last)
	return k, nil
}

// APIKey returns the live key id of publisher pub.
func (s *Store) APIKey(ctx context.Context, pub phantomos.PublisherID, id string) (APIKey, error) {
	if !phantomos.ValidID(id) {
		return APIKey{}, phantomos.Errorf(phantomos.ENOTFOUND, "API key not found.")
	}
	k, err := scanAPIKey(s.db.QueryRowContext(ctx, apiKeySelect+` WHERE k.publisher_id = $1 AND k.id = $2 AND k.revoked_at IS NULL`, pub, id))
	if err != nil {
		return APIKey{}, notFound(err, "API key")
	}
	return k, nil
}

// APIKeys lists the live keys of publisher pub, newest first.
func (s *Store) APIKeys(ctx context.Context, pub phantomos.PublisherID) ([]APIKey, error) {
	rows, err := s.db.QueryContext(ctx, apiKeySelect+` WHERE k.publisher_id = $1 AND k.revoked_at IS NULL ORDER BY k.created_at DESC, k.id`, pub)
	if err != nil {
		return nil, fmt.Errorf("store: api keys: %w", err)
	}
	defer rows.Close()
	var out []APIKey
	for rows.Next() {
		k, err := scanAPIKey(rows)
		if err != nil {
			return nil, fmt.Errorf("store: api keys: %w", err)
		}
		out = append(out, k)
	}
	return out, rows.Err()
}

// RevokeAPIKey ends a key of publisher pub.
func (s *Store) RevokeAPIKey(ctx context.Context, pub phantomos.PublisherID, id string) error {
	if !phantomos.ValidID(id) {
		return phantomos.Errorf(phantomos.ENOTFOUND, "API key not found.")
	}
	res, err := s.exec(ctx, `UPDATE api_keys SET revoked_at = $3, updated_at = $3 WHERE publisher_id = $1 AND id = $2 AND revoked_at IS NULL`,
		pub, id, s.nowUTC())
	if err != nil {
		return fmt.Errorf("store: revoke api key: %w", err)
	}
	return affected(res, "API key")
}
