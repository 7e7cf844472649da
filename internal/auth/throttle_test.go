package auth

import (
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestThrottle(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	th := NewThrottle(3, time.Minute, func() time.Time { return now })
	for i := range 3 {
		if w := th.Wait("k"); w != 0 {
			t.Fatalf("attempt %d: wait %v, want 0", i, w)
		}
		th.Fail("k")
		now = now.Add(time.Second)
	}
	if w := th.Wait("k"); w != 57*time.Second {
		t.Errorf("after 3 failures: wait %v, want 57s", w)
	}
	if w := th.Wait("other"); w != 0 {
		t.Errorf("other key throttled: %v", w)
	}
	now = now.Add(57 * time.Second)
	if w := th.Wait("k"); w != 0 {
		t.Errorf("after the window: wait %v, want 0", w)
	}
	th.Fail("k")
	th.Reset("k")
	if w := th.Wait("k"); w != 0 {
		t.Errorf("after reset: wait %v", w)
	}
}

// TestThrottleReserveIsAtomic: 30 simultaneous attempts on one key with a
// limit of 10 get exactly 10 reservations; released ones can be taken
// again, and a reset clears the key.
func TestThrottleReserveIsAtomic(t *testing.T) {
	th := NewThrottle(10, time.Minute, nil)
	var wg sync.WaitGroup
	var passed atomic.Int32
	for range 30 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if th.Reserve("k") == 0 {
				passed.Add(1)
			}
		}()
	}
	wg.Wait()
	if n := passed.Load(); n != 10 {
		t.Fatalf("%d of 30 simultaneous attempts passed, want 10", n)
	}
	if w := th.Reserve("k"); w <= 0 || w > time.Minute {
		t.Errorf("11th attempt: wait %v, want within the window", w)
	}
	th.Release("k")
	if w := th.Reserve("k"); w != 0 {
		t.Errorf("after a release: wait %v, want 0", w)
	}
	if w := th.Reserve("k"); w == 0 {
		t.Error("the released slot was given twice")
	}
	th.Reset("k")
	if w := th.Reserve("k"); w != 0 {
		t.Errorf("after reset: wait %v", w)
	}
}
