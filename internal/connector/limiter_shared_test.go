package connector

import (
	"context"
	"testing"
	"time"

	"github.com/phantomos/phantomos/internal/store"
	"github.com/phantomos/phantomos/internal/store/storetest"
)

// TestEngineRateIsOneBudget: two engines (two replicas) on one database
// pace a connector's requests as one budget: ten requests at 20 a second,
// five through each, take nine intervals, not four.
func TestEngineRateIsOneBudget(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, s *store.Store) {
		cfg := Config{Rate: 20, Burst: 1, Shared: s}
		e1 := NewEngine(&StoreSink{Store: s}, s, cfg)
		e2 := NewEngine(&StoreSink{Store: s}, s, cfg)
		ctx := context.Background()
		start := time.Now()
		for i := range 10 {
			if err := []*Engine{e1, e2}[i%2].limiter("conn-1").Wait(ctx); err != nil {
				t.Fatal(err)
			}
		}
		if took := time.Since(start); took < 430*time.Millisecond {
			t.Errorf("10 requests at 20/s over two engines took %s: each engine paced alone", took)
		}
		// Another connector has its own budget.
		start = time.Now()
		if err := e2.limiter("conn-2").Wait(ctx); err != nil || time.Since(start) > 40*time.Millisecond {
			t.Errorf("another connector waited %s (%v)", time.Since(start), err)
		}
	})
}
