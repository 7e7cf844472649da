package auth

import (
	"sync"
	"time"
)

// Throttle limits failures per key (an IP, an email) within a window: after
// max failures the key is blocked until the window that began with its first
// failure ends. Successes do not count. It lives in memory, so each replica
// throttles on its own; that bounds guessing to replicas × max per window.
type Throttle struct {
	max    int
	window time.Duration
	now    func() time.Time

	mu   sync.Mutex
	hits map[string]*throttleEntry
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

// Fail records a failure of key.
func (t *Throttle) Fail(key string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	now := t.now()
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
	t.mu.Lock()
	delete(t.hits, key)
	t.mu.Unlock()
}
