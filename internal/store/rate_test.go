package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/phantomos/phantomos/internal/store"
	"github.com/phantomos/phantomos/internal/store/storetest"
)

// TestRateTakeIsOneBudget: requests of one key through two handles on the
// database (two replicas) queue behind one another: a burst, then one an
// interval; another key has its own budget.
func TestRateTakeIsOneBudget(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		other, err := store.Open(ctx, s.DSN())
		if err != nil {
			t.Fatal(err)
		}
		defer other.Close()
		now := time.UnixMilli(1_800_000_000_000)
		var waits []time.Duration
		for i := range 6 {
			h := []*store.Store{s, other}[i%2]
			w, err := h.RateTake(ctx, "connector:c1", 10, 2, now)
			if err != nil {
				t.Fatal(err)
			}
			waits = append(waits, w)
		}
		ms := time.Millisecond
		if diff := cmp.Diff([]time.Duration{0, 0, 100 * ms, 200 * ms, 300 * ms, 400 * ms}, waits); diff != "" {
			t.Errorf("waits at 10/s, burst 2, over two handles (-want +got):\n%s", diff)
		}
		if w, err := other.RateTake(ctx, "connector:c2", 10, 2, now); err != nil || w != 0 {
			t.Errorf("another key waits %s, %v", w, err)
		}
		// Time passing refills the bucket: a second after the last slot
		// the burst is there again.
		later := now.Add(1500 * ms)
		for i, want := range []time.Duration{0, 0, 100 * ms} {
			if w, err := s.RateTake(ctx, "connector:c1", 10, 2, later); err != nil || w != want {
				t.Errorf("after a pause, request %d waits %s (%v), want %s", i+1, w, err, want)
			}
		}
		if w, err := s.RateTake(ctx, "connector:c1", 0, 2, now); err != nil || w != 0 {
			t.Errorf("no rate waits %s, %v", w, err)
		}
	})
}
