package store_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/phantomos/phantomos"
	"github.com/phantomos/phantomos/internal/store"
	"github.com/phantomos/phantomos/internal/store/storetest"
)

// TestWritesOutlastALongImport holds one publisher's import open for longer
// than SQLite's busy wait (an upload of 32 MB runs for about ten seconds
// there) while another publisher's people sign in, use an API key, touch
// their session and save a change, its custom source has a push answer
// stored and a push logged, its sync cursor is reset and its filter
// rollups are rebuilt. Every one of them succeeds: SQLite's
// writes wait for the import to commit, and what only records use (an API
// key's, a session's) does not wait for it at all. Before, each write
// outside the import failed as "database is locked" after five seconds,
// and with it every request made with an API key that was due to record
// its use.
func TestWritesOutlastALongImport(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		long := ingestPublisher(t, s, "long", "USD")
		b := newFixture(t, s, "beta")
		u := mustUser(t, s, b.pub.ID, "u@b.io", phantomos.RoleAdmin)
		if _, err := s.CreateAPIKey(ctx, b.pub.ID, u.ID, "CI", "pk_b", "bkey", phantomos.RoleMember); err != nil {
			t.Fatal(err)
		}
		sess, err := s.CreateSession(ctx, u, "sess0", time.Now().Add(time.Hour), "", "")
		if err != nil {
			t.Fatal(err)
		}
		// A custom source with a push whose answer is stored after the
		// fact (a refused batch's), and whose pushes are logged.
		source, err := s.CustomConnector(ctx, b.pub.ID, "ERP")
		if err != nil {
			t.Fatal(err)
		}
		if _, claimed, err := s.ClaimPush(ctx, b.pub.ID, "k1", "/api/v1/orders", "h1", time.Hour, time.Hour); err != nil || !claimed {
			t.Fatalf("claim: %v, %v", claimed, err)
		}
		// Due to record its use again.
		s.SetClock(func() time.Time { return time.Now().Add(time.Hour) })

		hold := 6 * time.Second // beyond busy_timeout (5 s)
		if s.Dialect() == store.Postgres {
			hold = 200 * time.Millisecond // row locks: nothing waits
		}
		holding, released := make(chan struct{}), make(chan struct{})
		var done atomic.Bool
		imported := make(chan error, 1)
		go func() {
			_, err := s.Import(ctx, long, store.ImportSpec{Kind: store.ImportSales, Source: "Shop"}, func(w *store.ImportWriter) error {
				w.AddSeen(1)
				if err := w.WriteSales(ctx, []store.SaleRow{{Line: 2, OrderID: "1", LineID: "1", SKU: "MUG", Name: "Mug",
					OrderDate: time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC), Quantity: 1, Gross: 1000, Currency: "USD"}}); err != nil {
					return err
				}
				close(holding)
				<-released
				return nil
			})
			done.Store(true)
			imported <- err
		}()
		<-holding
		time.AfterFunc(hold, func() { close(released) })

		// Writes wait for it, however long it runs.
		writes := map[string]func() error{
			"sign-in": func() error {
				_, err := s.CreateSession(ctx, u, "sess1", time.Now().Add(time.Hour), "", "")
				return err
			},
			"new API key": func() error {
				_, err := s.CreateAPIKey(ctx, b.pub.ID, u.ID, "CI 2", "pk_b2", "bkey2", phantomos.RoleMember)
				return err
			},
			"sign-in throttle": func() error {
				_, err := s.ThrottleReserve(ctx, "login", "u@b.io", 5, time.Minute, time.Now())
				return err
			},
			"stored push answer": func() error {
				return s.FinishPush(ctx, b.pub.ID, "k1", 422, "application/problem+json", []byte(`{"status":422}`))
			},
			"push log": func() error {
				return s.LogPush(ctx, b.pub.ID, store.PushLog{ConnectorID: source, Kind: "orders", Status: 422, Orders: 1, Lines: 1, Failed: 1})
			},
			"sync cursor reset": func() error {
				return s.SaveConnectorCursor(ctx, b.pub.ID, source, []byte(`{"page":1}`))
			},
			"filter rollups rebuild": func() error {
				return s.RefreshFilterRollups(ctx, b.pub.ID)
			},
		}
		failed := make(chan error, len(writes))
		for what, write := range writes {
			go func() {
				if err := write(); err != nil {
					failed <- fmt.Errorf("%s during the import: %w", what, err)
					return
				}
				failed <- nil
			}()
		}
		// Recording a use does not wait for the import.
		if _, err := s.ActorByAPIKey(ctx, "bkey"); err != nil {
			t.Errorf("API key during the import: %v", err)
		}
		if err := s.TouchSession(ctx, b.pub.ID, sess.ID, time.Now().Add(2*time.Hour)); err != nil {
			t.Errorf("session touch during the import: %v", err)
		}
		if done.Load() {
			t.Errorf("recording uses waited for the import to end")
		}
		for range writes {
			if err := <-failed; err != nil {
				t.Error(err)
			}
		}
		if err := <-imported; err != nil {
			t.Fatal(err)
		}
		// What was written during the import is there.
		stored, claimed, err := s.ClaimPush(ctx, b.pub.ID, "k1", "/api/v1/orders", "h1", 48*time.Hour, 48*time.Hour)
		if err != nil || claimed || stored.Running || stored.Status != 422 {
			t.Errorf("the stored push answer: %+v, claimed %v, %v", stored, claimed, err)
		}
		if st, err := s.PushStats(ctx, b.pub.ID, source, 10); err != nil || st.Pushes != 1 {
			t.Errorf("push stats: %+v, %v", st, err)
		}
		if current, err := s.FilterRollupsCurrent(ctx, b.pub.ID); err != nil || !current {
			t.Errorf("filter rollups current: %v, %v", current, err)
		}
	})
}
