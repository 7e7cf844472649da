package store

import (
	"context"
	"fmt"
	"time"

	"github.com/phantomos/phantomos"
)

// This file keeps what must be handled once across replicas and restarts:
// webhook deliveries already applied, and the ids of signed requests
// already accepted. Keys are stored hashed (SHA-256), like OAuth nonces.
// Lifetimes are durations from the store's clock, so a caller's clock
// (a platform's, a fake's) never makes a row expire early.

// maxReplayTTL bounds how long a key is kept.
const maxReplayTTL = 30 * 24 * time.Hour

func replayExpiry(now time.Time, ttl time.Duration) (time.Time, error) {
	if ttl <= 0 || ttl > maxReplayTTL {
		return time.Time{}, fmt.Errorf("store: replay key lifetime %s out of range", ttl)
	}
	return now.Add(ttl), nil
}

// ClaimDelivery records delivery key of connector connectorID of pub for
// ttl and reports whether it is new: false while an unexpired claim of
// the same key exists. Of two replicas racing with one delivery, one gets
// true. It also drops the connector's expired claims.
func (s *Store) ClaimDelivery(ctx context.Context, pub phantomos.PublisherID, connectorID, key string, ttl time.Duration) (bool, error) {
	if key == "" {
		return false, fmt.Errorf("store: claim delivery: empty key")
	}
	now := s.nowUTC()
	expires, err := replayExpiry(now, ttl)
	if err != nil {
		return false, err
	}
	if _, err := s.exec(ctx, `DELETE FROM webhook_deliveries WHERE publisher_id = $1 AND connector_id = $2 AND expires_at < $3`,
		pub, connectorID, now); err != nil {
		return false, fmt.Errorf("store: claim delivery: %w", err)
	}
	res, err := s.exec(ctx, `INSERT INTO webhook_deliveries (publisher_id, connector_id, key_hash, expires_at, created_at)
		VALUES ($1, $2, $3, $4, $5)
		ON CONFLICT (publisher_id, connector_id, key_hash) DO UPDATE SET expires_at = excluded.expires_at, created_at = excluded.created_at
		WHERE webhook_deliveries.expires_at < excluded.created_at`,
		pub, connectorID, nonceHash(key), expires, now)
	if err != nil {
		return false, fmt.Errorf("store: claim delivery: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("store: claim delivery: %w", err)
	}
	return n == 1, nil
}

// ReleaseDelivery removes the claim of key for connector connectorID of
// pub: the delivery failed, and the platform's retry must be applied.
func (s *Store) ReleaseDelivery(ctx context.Context, pub phantomos.PublisherID, connectorID, key string) error {
	if _, err := s.exec(ctx, `DELETE FROM webhook_deliveries WHERE publisher_id = $1 AND connector_id = $2 AND key_hash = $3`,
		pub, connectorID, nonceHash(key)); err != nil {
		return fmt.Errorf("store: release delivery: %w", err)
	}
	return nil
}

// ConsumeSignedID records id of a signed request from issuer (a platform)
// for ttl and reports whether it was new. Expired ids are dropped.
func (s *Store) ConsumeSignedID(ctx context.Context, issuer, id string, ttl time.Duration) (bool, error) {
	if issuer == "" || id == "" {
		return false, fmt.Errorf("store: signed request id: empty")
	}
	now := s.nowUTC()
	expires, err := replayExpiry(now, ttl)
	if err != nil {
		return false, err
	}
	if _, err := s.exec(ctx, `DELETE FROM signed_request_ids WHERE expires_at < $1`, now); err != nil {
		return false, fmt.Errorf("store: signed request id: %w", err)
	}
	res, err := s.exec(ctx, `INSERT INTO signed_request_ids (issuer, id_hash, expires_at, created_at) VALUES ($1, $2, $3, $4)
		ON CONFLICT (issuer, id_hash) DO NOTHING`, issuer, nonceHash(id), expires, now)
	if err != nil {
		return false, fmt.Errorf("store: signed request id: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("store: signed request id: %w", err)
	}
	return n == 1, nil
}
