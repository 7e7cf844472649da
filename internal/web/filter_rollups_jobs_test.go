package web

import (
	"context"
	"testing"
	"time"

	"github.com/phantomos/phantomos/internal/store"
	"github.com/phantomos/phantomos/internal/store/storetest"
)

// The filter rollups are rebuilt by a filter_rollups job that the schedule
// enqueues for a publisher whose tables are older than its data; reads
// never start one (nothing outlives a request).
func TestFilterRollupsRebuiltByTheSchedule(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		pub, _ := demoTenantN(t, s, 2_000)
		srv, _ := newTestServer(t, s)
		startJobs(t, srv, s)
		current := func() bool {
			t.Helper()
			ok, err := s.FilterRollupsCurrent(ctx, pub.ID)
			if err != nil {
				t.Fatal(err)
			}
			return ok
		}
		if current() {
			t.Fatal("filter rollups current before any rebuild")
		}
		// A question under one category reads the lines meanwhile, and
		// asks for nothing.
		from, to, err := s.SalesSpan(ctx, pub.ID)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.Totals(ctx, pub.ID, from, to, store.Filter{Categories: []string{"apparel"}}); err != nil {
			t.Fatal(err)
		}
		var jobs int
		if err := s.DB().QueryRow(`SELECT COUNT(*) FROM river_job WHERE kind = 'filter_rollups'`).Scan(&jobs); err != nil {
			t.Fatal(err)
		}
		if jobs != 0 {
			t.Fatalf("a read enqueued %d rebuilds", jobs)
		}
		if err := srv.work.Tick(ctx); err != nil {
			t.Fatal(err)
		}
		for i := 0; !current(); i++ {
			if i == 2400 {
				t.Fatal("the schedule's filter_rollups job did not make the tables current")
			}
			time.Sleep(25 * time.Millisecond)
		}
	})
}
