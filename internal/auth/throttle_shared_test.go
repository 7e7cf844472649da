package auth_test

import (
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/phantomos/phantomos/internal/auth"
	"github.com/phantomos/phantomos/internal/store"
	"github.com/phantomos/phantomos/internal/store/storetest"
)

// Two replicas' throttles on one database enforce one budget: 30 bad
// logins spread across both, also all at once, let exactly max through.
func TestSharedThrottleOneBudget(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, s *store.Store) {
		var mu sync.Mutex
		clock := time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC)
		now := func() time.Time { mu.Lock(); defer mu.Unlock(); return clock }
		advance := func(d time.Duration) { mu.Lock(); clock = clock.Add(d); mu.Unlock() }
		const max, window = 10, 15 * time.Minute
		a := auth.NewThrottle(max, window, now).Shared("login-email", s, nil)
		b := auth.NewThrottle(max, window, now).Shared("login-email", s, nil)
		replicas := []*auth.Throttle{a, b}

		// One after the other, alternating replicas.
		passed := 0
		for i := range 30 {
			if replicas[i%2].Reserve("victim@example.com") == 0 {
				passed++
			}
		}
		if passed != max {
			t.Errorf("%d of 30 sequential attempts passed across two replicas, want %d", passed, max)
		}
		if w := b.Wait("victim@example.com"); w != window {
			t.Errorf("wait %s, want %s (the window of the first failure)", w, window)
		}
		// Another key, and another throttle name, have their own budget.
		if a.Reserve("other@example.com") != 0 {
			t.Errorf("another key is blocked")
		}
		if auth.NewThrottle(max, window, now).Shared("login-ip", s, nil).Reserve("victim@example.com") != 0 {
			t.Errorf("another throttle's budget is shared")
		}
		// A reservation given back (a right password) lets exactly one more through.
		a.Release("victim@example.com")
		if b.Reserve("victim@example.com") != 0 || a.Reserve("victim@example.com") == 0 {
			t.Errorf("after one release: want one more attempt, not two")
		}

		// The window ends: the key may try again, max times.
		advance(window)
		if w := a.Wait("victim@example.com"); w != 0 {
			t.Errorf("wait after the window: %s", w)
		}

		// All at once, 30 attempts spread across both replicas.
		var ok atomic.Int32
		var wg sync.WaitGroup
		for i := range 30 {
			wg.Go(func() {
				if replicas[i%2].Reserve("victim@example.com") == 0 {
					ok.Add(1)
				}
			})
		}
		wg.Wait()
		if ok.Load() != max {
			t.Errorf("%d of 30 simultaneous attempts passed, want %d", ok.Load(), max)
		}
		// A success resets the key for every replica.
		b.Reset("victim@example.com")
		if a.Wait("victim@example.com") != 0 || a.Reserve("victim@example.com") != 0 {
			t.Errorf("a reset key is still blocked on the other replica")
		}
		// Failures recorded after the fact count too.
		for range max {
			a.Fail("x@example.com")
		}
		if b.Reserve("x@example.com") == 0 {
			t.Errorf("%d failures on one replica did not block the key on the other", max)
		}
	})
}
