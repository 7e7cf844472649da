package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/phantomos/phantomos"
	"github.com/phantomos/phantomos/internal/store"
	"github.com/phantomos/phantomos/internal/store/storetest"
)

// TestInterruptImportRuns: a run left "running" by a process that died is
// marked failed at start-up, while a run whose import is alive (here in
// this process, as it would be on another replica) is left alone and
// finishes normally.
func TestInterruptImportRuns(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		pub := &phantomos.Publisher{Name: "Runs", Slug: "runs", ReportingCurrency: "USD"}
		if err := s.CreatePublisher(ctx, pub); err != nil {
			t.Fatal(err)
		}
		// The row a killed import leaves: running, with no transaction.
		dead := phantomos.NewID()
		now := time.Now().UTC().Truncate(time.Second)
		if _, err := s.DB().ExecContext(ctx, `INSERT INTO import_runs (id, publisher_id, kind, format, file_name, state, started_at, created_at, updated_at)
			VALUES ($1, $2, 'sales', 'generic', 'killed.csv', 'running', $3, $3, $3)`, dead, pub.ID, now); err != nil {
			t.Fatal(err)
		}

		started, release := make(chan string), make(chan struct{})
		done := make(chan error, 1)
		go func() {
			spec := store.ImportSpec{Kind: store.ImportFX, Format: "generic", FileName: "alive.csv"}
			_, err := s.Import(ctx, pub.ID, spec, func(w *store.ImportWriter) error {
				started <- w.Report().RunID
				<-release
				return nil
			})
			done <- err
		}()
		alive := <-started

		n, err := s.InterruptImportRuns(ctx)
		if err != nil {
			t.Fatal(err)
		}
		// On SQLite the live import holds the write lock, so nothing can be
		// told apart and nothing is marked; on PostgreSQL the dead run is.
		wantMarked := 1
		if s.Dialect() == store.SQLite {
			wantMarked = 0
		}
		if n != wantMarked {
			t.Errorf("with an import alive: marked %d, want %d", n, wantMarked)
		}
		if r, err := s.ImportRun(ctx, pub.ID, alive); err != nil || r.State != "running" {
			t.Errorf("live run: %+v, %v; want still running", r, err)
		}
		close(release)
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		if r, err := s.ImportRun(ctx, pub.ID, alive); err != nil || r.State != "succeeded" {
			t.Errorf("live run after it finished: %+v, %v", r, err)
		}

		// With no import alive, the dead run is marked (again a no-op on
		// PostgreSQL, where it already was).
		if _, err := s.InterruptImportRuns(ctx); err != nil {
			t.Fatal(err)
		}
		r, err := s.ImportRun(ctx, pub.ID, dead)
		if err != nil || r.State != "failed" || r.FinishedAt == nil || len(r.Errors) != 1 || r.Errors[0].Reason != store.InterruptedImport {
			t.Errorf("killed run: %+v, %v; want failed as interrupted", r, err)
		}
		if n, err := s.InterruptImportRuns(ctx); err != nil || n != 0 {
			t.Errorf("second start-up marked %d, %v; want 0", n, err)
		}
	})
}
