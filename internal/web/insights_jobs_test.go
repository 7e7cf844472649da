package web

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/phantomos/phantomos"
	"github.com/phantomos/phantomos/internal/store"
	"github.com/phantomos/phantomos/internal/store/storetest"
)

// Insight generation is an insights_run job: the Find insights button
// answers at once and the page says a run is under way until a worker has
// stored them; the schedule enqueues a job per publisher whose insights
// are stale rather than generating them itself.
func TestInsightsRunAsJobs(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		pub, users := demoTenantN(t, s, 3_000)
		srv, _ := newTestServer(t, s)
		now := intelligenceNow
		srv.SetClock(func() time.Time { return now })
		ts := intelligenceServer(t, srv)
		startJobs(t, srv, s)
		member := cookie(t, s, users[phantomos.RoleMember])

		completed := func() int {
			var n int
			if err := s.DB().QueryRow(`SELECT COUNT(*) FROM river_job WHERE kind = 'insights_run' AND state = 'completed'`).Scan(&n); err != nil {
				t.Fatal(err)
			}
			return n
		}
		waitRuns := func(n int) {
			t.Helper()
			for i := 0; completed() < n; i++ {
				if i == 1200 {
					t.Fatalf("%d insights_run jobs completed, want %d", completed(), n)
				}
				time.Sleep(25 * time.Millisecond)
			}
		}
		if st, h, _ := send(t, ts, member, http.MethodPost, "/intelligence/generate", form, ""); st != http.StatusSeeOther || h.Get("Location") != "/intelligence" {
			t.Fatalf("POST /intelligence/generate: %d %q", st, h.Get("Location"))
		}
		waitRuns(1)
		last, err := s.LastInsightRun(ctx, pub.ID)
		if err != nil || last.IsZero() {
			t.Fatalf("after the job, the last run is %v (%v)", last, err)
		}
		if list, _ := s.Insights(ctx, pub.ID, store.InsightFilter{}); len(list) == 0 {
			t.Error("the job stored no insights")
		}

		// A day later the schedule finds them stale and enqueues a run.
		now = last.Add(25 * time.Hour)
		if err := srv.work.Tick(ctx); err != nil {
			t.Fatal(err)
		}
		waitRuns(2)
		if again, _ := s.LastInsightRun(ctx, pub.ID); !again.After(last) {
			t.Errorf("after the schedule's job, the last run is %v, was %v", again, last)
		}
	})
}
