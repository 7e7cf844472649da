package store

import (
	"context"
	"fmt"

	"github.com/phantomos/phantomos"
)

// ActorByAPIKey returns the actor of the live API key whose token hashes to
// tokenHash and records its use. Unknown, expired and revoked keys are
// EUNAUTHORIZED.
func (s *Store) ActorByAPIKey(ctx context.Context, tokenHash string) (*phantomos.Actor, error) {
	now := s.nowUTC()
	var a phantomos.Actor
	err := s.db.QueryRowContext(ctx, `SELECT id, publisher_id, role FROM api_keys
		WHERE token_hash = $1 AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > $2)`, tokenHash, now).
		Scan(&a.APIKeyID, &a.PublisherID, &a.Role)
	if err != nil {
		if e := notFound(err, "API key"); phantomos.ErrorCode(e) == phantomos.ENOTFOUND {
			return nil, phantomos.Errorf(phantomos.EUNAUTHORIZED, "The API key is not valid.")
		}
		return nil, fmt.Errorf("store: api key: %w", err)
	}
	if _, err := s.db.ExecContext(ctx, `UPDATE api_keys SET last_used_at = $3 WHERE publisher_id = $1 AND id = $2`, a.PublisherID, a.APIKeyID, now); err != nil {
		return nil, fmt.Errorf("store: api key use: %w", err)
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
