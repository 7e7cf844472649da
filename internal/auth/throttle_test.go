package auth

import (
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
