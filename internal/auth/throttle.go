package auth

import (
	"context"
	"log/slog"
	"sync"
	"time"
)

// Throttle limits failures per key (an IP, an email) within a window: after
// max failures the key is blocked until the window that began with its first
// failure ends. Successes do not count.
//
// A throttle made with Shared counts in the database, so that every
// replica enforces one budget per key; otherwise (and, for as long as the
// database fails, as a fallback) it counts in memory, and each process
// throttles on its own.
type Throttle struct {
	max    int
	window time.Duration
	now    func() time.Time

	name   string        // the shared throttle's name
	shared ThrottleStore // nil: in memory only
	logger *slog.Logger

	mu   sync.Mutex
	hits map[string]*throttleEntry
}

// ThrottleStore keeps the counts of shared throttles (the store does). Keys
// arrive hashed.
type ThrottleStore interface {
	ThrottleReserve(ctx context.Context, name, key string, max int, window time.Duration, now time.Time) (time.Duration, error)
	ThrottleFail(ctx context.Context, name, key string, window time.Duration, now time.Time) error
	ThrottleRelease(ctx context.Context, name, key string, max int) error
	ThrottleReset(ctx context.Context, name, key string) error
	ThrottleWait(ctx context.Context, name, key string, max int, window time.Duration, now time.Time) (time.Duration, error)
}

// sharedTimeout bounds one database call of a shared throttle; past it
// the throttle counts in memory.
const sharedTimeout = 2 * time.Second

// Shared makes t count in st under name (unique among the throttles on
// st) and returns it. Errors of st are logged on logger and the count
// falls back to memory.
func (t *Throttle) Shared(name string, st ThrottleStore, logger *slog.Logger) *Throttle {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	t.name, t.shared, t.logger = name, st, logger
	return t
}

// db runs fn on the shared store with a bounded context; false when the
// throttle is not shared or the store failed (then the caller counts in
// memory).
func (t *Throttle) db(fn func(ctx context.Context) error) bool {
	if t.shared == nil {
		return false
	}
	ctx, cancel := context.WithTimeout(context.Background(), sharedTimeout)
	defer cancel()
	if err := fn(ctx); err != nil {
		t.logger.Warn("throttle: shared count failed; counting in memory", "throttle", t.name, "err", err)
		return false
	}
	return true
}

type throttleEntry struct {
	start time.Time
	count int
}

// NewThrottle returns a throttle allowing max failures per window.
func NewThrottle(max int, window time.Duration, now func() time.Time) *Throttle {
	if now == nil {
		now = time.Now
	}
	return &Throttle{max: max, window: window, now: now, hits: map[string]*throttleEntry{}}
}

// Wait returns how long key must wait before its next attempt; 0 when it
// may try now.
func (t *Throttle) Wait(key string) time.Duration {
	var wait time.Duration
	if t.db(func(ctx context.Context) (err error) {
		wait, err = t.shared.ThrottleWait(ctx, t.name, HashToken(key), t.max, t.window, t.now())
		return err
	}) {
		return wait
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	e, ok := t.hits[key]
	if !ok {
		return 0
	}
	now := t.now()
	if end := e.start.Add(t.window); !now.Before(end) {
		delete(t.hits, key)
		return 0
	} else if e.count >= t.max {
		return end.Sub(now)
	}
	return 0
}

// Reserve counts an attempt of key as a failure before it is made, so that
// parallel attempts cannot all pass the check before any failure is
// recorded: of any number of simultaneous attempts at most max get through
// in a window. It returns 0 when the attempt may go ahead (the caller then
// keeps the failure, or calls Release or Reset on success), or how long the
// key must wait when it is blocked (nothing is counted then).
func (t *Throttle) Reserve(key string) time.Duration {
	var wait time.Duration
	if t.db(func(ctx context.Context) (err error) {
		wait, err = t.shared.ThrottleReserve(ctx, t.name, HashToken(key), t.max, t.window, t.now())
		return err
	}) {
		return wait
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	now := t.now()
	e, ok := t.hits[key]
	if ok && now.Before(e.start.Add(t.window)) && e.count >= t.max {
		return e.start.Add(t.window).Sub(now)
	}
	t.add(key, now)
	return 0
}

// Release gives back a reservation that turned out not to be a failure (a
// right password for the per-IP count, or an attempt that never ran).
func (t *Throttle) Release(key string) {
	if t.db(func(ctx context.Context) error { return t.shared.ThrottleRelease(ctx, t.name, HashToken(key), t.max) }) {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if e, ok := t.hits[key]; ok && e.count > 0 {
		e.count--
	}
}

// Fail records a failure of key.
func (t *Throttle) Fail(key string) {
	if t.db(func(ctx context.Context) error {
		return t.shared.ThrottleFail(ctx, t.name, HashToken(key), t.window, t.now())
	}) {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	t.add(key, t.now())
}

// add counts one failure of key at now; t.mu is held.
func (t *Throttle) add(key string, now time.Time) {
	e, ok := t.hits[key]
	if !ok || !now.Before(e.start.Add(t.window)) {
		e = &throttleEntry{start: now}
		t.hits[key] = e
	}
	e.count++
	// Keep the map from growing without bound under a spray of keys.
	if len(t.hits) > 100_000 {
		for k, v := range t.hits {
			if !now.Before(v.start.Add(t.window)) {
				delete(t.hits, k)
			}
		}
	}
}

// Reset forgets key's failures, after a success.
func (t *Throttle) Reset(key string) {
	if t.db(func(ctx context.Context) error { return t.shared.ThrottleReset(ctx, t.name, HashToken(key)) }) {
		return
	}
	t.mu.Lock()
	delete(t.hits, key)
	t.mu.Unlock()
}
