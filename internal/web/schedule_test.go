package web

import (
	"context"
	"testing"
	"time"

	"github.com/phantomos/phantomos/internal/demo"
	"github.com/phantomos/phantomos/internal/store"
	"github.com/phantomos/phantomos/internal/store/storetest"
)

// TestScheduleGeneratesStaleInsights: a tick generates insights for a
// publisher that has none, and leaves fresh ones alone.
func TestScheduleGeneratesStaleInsights(t *testing.T) {
	s := storetest.New(t, store.SQLite)
	ctx := context.Background()
	now := time.Date(2026, 6, 15, 12, 0, 0, 0, time.UTC)
	pub, err := demo.Load(ctx, s, demo.Options{Sales: 8000, Seed: 5, Now: now}, nil)
	if err != nil {
		t.Fatal(err)
	}
	srv, _ := newTestServer(t, s)
	srv.SetClock(func() time.Time { return now })
	srv.work.Tick(ctx)
	list, err := s.Insights(ctx, pub.ID, store.InsightFilter{})
	if err != nil || len(list) == 0 {
		t.Fatalf("after a tick: %d insights, %v", len(list), err)
	}
	last, _ := s.LastInsightRun(ctx, pub.ID)
	srv.work.Tick(ctx)
	if again, _ := s.LastInsightRun(ctx, pub.ID); !again.Equal(last) {
		t.Errorf("fresh insights regenerated: %v then %v", last, again)
	}
}
