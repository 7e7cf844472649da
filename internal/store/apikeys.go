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
// Unknown, expired and revoked keys are EUNAUTHORIZED.
func (s *Store) ActorByAPIKey(ctx context.Context, tokenHash string) (*phantomos.Actor, error) {
	now := s.nowUTC()
	var a phantomos.Actor
	var lastUsed sql.NullTime
	err := s.db.QueryRowContext(ctx, `SELECT id, publisher_id, role, last_used_at FROM api_keys
		WHERE token_hash = $1 AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > $2)`, tokenHash, now).
		Scan(&a.APIKeyID, &a.PublisherID, &a.Role, &lastUsed)
	if err != nil {
		if e := notFound(err, "API key"); phantomos.ErrorCode(e) == phantomos.ENOTFOUND {
			return nil, phantomos.Errorf(phantomos.EUNAUTHORIZED, "The API key is not valid.")
		}
		return nil, fmt.Errorf("store: api key: %w", err)
	}
	if stale := now.Add(-apiKeyUseEvery); !lastUsed.Valid || lastUsed.Time.Before(stale) {
		// The condition again, so that of concurrent requests one writes.
		if _, err := s.db.ExecContext(ctx, `UPDATE api_keys SET last_used_at = $3 WHERE publisher_id = $1 AND id = $2
			AND (last_used_at IS NULL OR last_used_at < $4)`, a.PublisherID, a.APIKeyID, now, stale); err != nil {
			return nil, fmt.Errorf("store: api key use: %w", err)
		}
	}
	return &a, nil
}

// CreateAPIKey stores a key of publisher pub acting as role, whose token
// hashes to tokenHash; prefix is the visible start of the token.
func (s *Store) CreateAPIKey(ctx context.Context, pub phantomos.PublisherID, userID, name, prefix, tokenHash string, role phantomos.Role) (string, error) {
	id := phantomos.NewID()
	now := s.nowUTC()
	var uid any
	if userID != "" {
		uid = userID
	}
	_, err := s.db.ExecContext(ctx, `INSERT INTO api_keys (id, publisher_id, user_id, name, prefix, token_hash, role, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8)`, id, pub, uid, name, prefix, tokenHash, role, now)
	if err != nil {
		return "", fmt.Errorf("store: create api key: %w", err)
	}
	return id, nil
}

// APIKey describes a key without its secret.
type APIKey struct {
	ID         string
	Name       string
	Prefix     string
	Role       phantomos.Role
	UserID     string
	CreatedAt  time.Time
	LastUsedAt *time.Time
}

// APIKeys lists the live keys of publisher pub, newest first.
func (s *Store) APIKeys(ctx context.Context, pub phantomos.PublisherID) ([]APIKey, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT id, name, prefix, role, COALESCE(CAST(user_id AS TEXT), ''), created_at, last_used_at
		FROM api_keys WHERE publisher_id = $1 AND revoked_at IS NULL ORDER BY created_at DESC`, pub)
	if err != nil {
		return nil, fmt.Errorf("store: api keys: %w", err)
	}
	defer rows.Close()
	var out []APIKey
	for rows.Next() {
		var k APIKey
		var last sql.NullTime
		if err := rows.Scan(&k.ID, &k.Name, &k.Prefix, &k.Role, &k.UserID, &k.CreatedAt, &last); err != nil {
			return nil, fmt.Errorf("store: api keys: %w", err)
		}
		k.LastUsedAt = timePtr(last)
		out = append(out, k)
	}
	return out, rows.Err()
}

// RevokeAPIKey ends a key of publisher pub.
func (s *Store) RevokeAPIKey(ctx context.Context, pub phantomos.PublisherID, id string) error {
	if !phantomos.ValidID(id) {
		return phantomos.Errorf(phantomos.ENOTFOUND, "API key not found.")
	}
	res, err := s.db.ExecContext(ctx, `UPDATE api_keys SET revoked_at = $3, updated_at = $3 WHERE publisher_id = $1 AND id = $2 AND revoked_at IS NULL`,
		pub, id, s.nowUTC())
	if err != nil {
		return fmt.Errorf("store: revoke api key: %w", err)
	}
	return affected(res, "API key")
}
