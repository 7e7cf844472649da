package store

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/phantomos/phantomos"
)

// This file keeps the nonces of pending OAuth installs (a platform app's
// consent screen and callback). Each install carries a signed state with a
// fresh nonce; the callback must find and remove that nonce, so a state
// works exactly once, also when another replica or a restarted process
// serves the callback. Only a SHA-256 hash of the nonce is stored.

func nonceHash(nonce string) string {
	h := sha256.Sum256([]byte(nonce))
	return hex.EncodeToString(h[:])
}

// PutOAuthNonce records nonce of an install started by publisher pub until
// expires, and drops pub's expired ones. With pub "" the install belongs to
// no publisher yet (started from the platform before anyone signed in).
func (s *Store) PutOAuthNonce(ctx context.Context, pub phantomos.PublisherID, nonce string, expires time.Time) error {
	if nonce == "" {
		return fmt.Errorf("store: oauth nonce: empty")
	}
	now := s.nowUTC()
	if pub == "" {
		return s.putAnonymousNonce(ctx, nonce, expires, now)
	}
	if _, err := s.exec(ctx, `DELETE FROM oauth_states WHERE publisher_id = $1 AND expires_at < $2`, pub, now); err != nil {
		return fmt.Errorf("store: oauth nonce: %w", err)
	}
	_, err := s.exec(ctx, `INSERT INTO oauth_states (publisher_id, nonce_hash, expires_at, created_at) VALUES ($1, $2, $3, $4)`,
		pub, nonceHash(nonce), expires.UTC().Truncate(time.Microsecond), now)
	if isUniqueViolation(err) {
		return phantomos.Errorf(phantomos.ECONFLICT, "This install is already pending.")
	}
	if err != nil {
		return fmt.Errorf("store: oauth nonce: %w", err)
	}
	return nil
}

// ConsumeOAuthNonce removes nonce of publisher pub and reports whether it
// was there and had not expired. The removal is one statement, so of two
// callbacks racing with the same state only one gets true.
func (s *Store) ConsumeOAuthNonce(ctx context.Context, pub phantomos.PublisherID, nonce string) (bool, error) {
	var expires time.Time
	var err error
	if pub == "" {
		err = s.writeRow(ctx, `DELETE FROM oauth_states_anonymous WHERE nonce_hash = $1 RETURNING expires_at`,
			nonceHash(nonce)).Scan(&expires)
	} else {
		err = s.writeRow(ctx, `DELETE FROM oauth_states WHERE publisher_id = $1 AND nonce_hash = $2 RETURNING expires_at`,
			pub, nonceHash(nonce)).Scan(&expires)
	}
	if err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return false, nil
		}
		return false, fmt.Errorf("store: consume oauth nonce: %w", err)
	}
	return !s.nowUTC().After(expires.UTC()), nil
}

// putAnonymousNonce is PutOAuthNonce for an install no publisher started
// (from the platform's side, before anyone signed in).
func (s *Store) putAnonymousNonce(ctx context.Context, nonce string, expires, now time.Time) error {
	if _, err := s.exec(ctx, `DELETE FROM oauth_states_anonymous WHERE expires_at < $1`, now); err != nil {
		return fmt.Errorf("store: oauth nonce: %w", err)
	}
	_, err := s.exec(ctx, `INSERT INTO oauth_states_anonymous (nonce_hash, expires_at, created_at) VALUES ($1, $2, $3)`,
		nonceHash(nonce), expires.UTC().Truncate(time.Microsecond), now)
	if isUniqueViolation(err) {
		return phantomos.Errorf(phantomos.ECONFLICT, "This install is already pending.")
	}
	if err != nil {
		return fmt.Errorf("store: oauth nonce: %w", err)
	}
	return nil
}
