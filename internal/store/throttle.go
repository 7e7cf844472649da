package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// The login and MFA throttles (internal/auth) count failures here, so
// that every replica enforces one budget per key. A key is counted in
// windows: its first failure starts one, and after max failures it is
// blocked until that window ends. Keys arrive hashed.

// ThrottleReserve counts an attempt of key under throttle name, unless
// the key is blocked: then it returns how long it must wait and counts
// nothing. Of any number of simultaneous attempts, across processes, at
// most max pass in a window.
//
// hits may stand one above max: the key was blocked at least once in the
// window (ThrottleRelease then gives back from max).
func (s *Store) ThrottleReserve(ctx context.Context, name, key string, max int, window time.Duration, now time.Time) (time.Duration, error) {
	var start int64
	var hits int
	nowMs := now.UnixMilli()
	err := s.writeRow(ctx, `INSERT INTO throttle_hits (name, key_hash, window_start, hits) VALUES ($1, $2, $3, 1)
		ON CONFLICT (name, key_hash) DO UPDATE SET
			window_start = CASE WHEN throttle_hits.window_start <= $4 THEN $3 ELSE throttle_hits.window_start END,
			hits = CASE WHEN throttle_hits.window_start <= $4 THEN 1 WHEN throttle_hits.hits >= $5 THEN $5 + 1 ELSE throttle_hits.hits + 1 END
		RETURNING window_start, hits`, name, key, nowMs, nowMs-window.Milliseconds(), max).Scan(&start, &hits)
	if err != nil {
		return 0, fmt.Errorf("store: throttle: %w", err)
	}
	if hits > max {
		return time.UnixMilli(start).Add(window).Sub(now), nil
	}
	return 0, nil
}

// ThrottleFail counts a failure of key under throttle name, blocked or
// not.
func (s *Store) ThrottleFail(ctx context.Context, name, key string, window time.Duration, now time.Time) error {
	nowMs := now.UnixMilli()
	_, err := s.exec(ctx, `INSERT INTO throttle_hits (name, key_hash, window_start, hits) VALUES ($1, $2, $3, 1)
		ON CONFLICT (name, key_hash) DO UPDATE SET
			window_start = CASE WHEN throttle_hits.window_start <= $4 THEN $3 ELSE throttle_hits.window_start END,
			hits = CASE WHEN throttle_hits.window_start <= $4 THEN 1 ELSE throttle_hits.hits + 1 END`,
		name, key, nowMs, nowMs-window.Milliseconds())
	if err != nil {
		return fmt.Errorf("store: throttle: %w", err)
	}
	return nil
}

// ThrottleRelease gives back one reservation of key under throttle name
// (max is the throttle's).
func (s *Store) ThrottleRelease(ctx context.Context, name, key string, max int) error {
	if _, err := s.exec(ctx, `UPDATE throttle_hits SET hits = CASE WHEN hits > $3 THEN $3 - 1 WHEN hits > 0 THEN hits - 1 ELSE 0 END
		WHERE name = $1 AND key_hash = $2`, name, key, max); err != nil {
		return fmt.Errorf("store: throttle: %w", err)
	}
	return nil
}

// ThrottleReset forgets key's failures under throttle name.
func (s *Store) ThrottleReset(ctx context.Context, name, key string) error {
	if _, err := s.exec(ctx, `DELETE FROM throttle_hits WHERE name = $1 AND key_hash = $2`, name, key); err != nil {
		return fmt.Errorf("store: throttle: %w", err)
	}
	return nil
}

// ThrottleWait returns how long key must wait under throttle name before
// its next attempt; 0 when it may try now.
func (s *Store) ThrottleWait(ctx context.Context, name, key string, max int, window time.Duration, now time.Time) (time.Duration, error) {
	var start int64
	var hits int
	err := s.db.QueryRowContext(ctx, `SELECT window_start, hits FROM throttle_hits WHERE name = $1 AND key_hash = $2`, name, key).Scan(&start, &hits)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("store: throttle: %w", err)
	}
	end := time.UnixMilli(start).Add(window)
	if !now.Before(end) || hits < max {
		return 0, nil
	}
	return end.Sub(now), nil
}

// SweepThrottles removes the throttle counts whose window began before
// before (every window is shorter than a day).
func (s *Store) SweepThrottles(ctx context.Context, before time.Time) error {
	if _, err := s.exec(ctx, `DELETE FROM throttle_hits WHERE window_start < $1`, before.UnixMilli()); err != nil {
		return fmt.Errorf("store: sweep throttles: %w", err)
	}
	return nil
}

// RateTake reserves the next request of key at rate requests a second
// with bursts of up to burst, and returns how long the caller waits
// before sending it. The pace is one budget for every process on the
// database: each call moves the key's theoretical arrival time (kept in
// window_start, in milliseconds) one interval on, atomically, so callers
// in several replicas queue behind one another. A rate of at most zero
// waits for nothing; the interval is at least a millisecond.
func (s *Store) RateTake(ctx context.Context, key string, rate float64, burst int, now time.Time) (time.Duration, error) {
	if rate <= 0 {
		return 0, nil
	}
	burst = max(burst, 1)
	interval := max(int64(1000/rate), 1)
	nowMs := now.UnixMilli()
	var tat int64
	err := s.writeRow(ctx, `INSERT INTO throttle_hits (name, key_hash, window_start, hits) VALUES ($1, $2, $3, 1)
		ON CONFLICT (name, key_hash) DO UPDATE SET
			window_start = CASE WHEN throttle_hits.window_start > $4 THEN throttle_hits.window_start ELSE $4 END + $5,
			hits = 1
		RETURNING window_start`, rateName, key, nowMs+interval, nowMs, interval).Scan(&tat)
	if err != nil {
		return 0, fmt.Errorf("store: rate: %w", err)
	}
	// This request's slot is burst intervals before the new arrival time.
	if at := tat - int64(burst)*interval; at > nowMs {
		return time.Duration(at-nowMs) * time.Millisecond, nil
	}
	return 0, nil
}

// rateName is the throttle name of the request paces of RateTake.
const rateName = "rate"
