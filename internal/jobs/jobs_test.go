package jobs_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/phantomos/phantomos"
	"github.com/phantomos/phantomos/internal/connector"
	"github.com/phantomos/phantomos/internal/connector/connectortest"
	"github.com/phantomos/phantomos/internal/jobs"
	"github.com/phantomos/phantomos/internal/store"
	"github.com/phantomos/phantomos/internal/store/storetest"
)

var t0 = time.Date(2026, 2, 1, 9, 0, 0, 0, time.UTC)

// shop is a fake store platform: orders served a page at a time, oldest
// first. While gate is set, serving page number gateAt waits for it (or
// for the caller to give up), so a test can stop a process mid-sync.
type shop struct {
	mu       sync.Mutex
	orders   []connector.Order
	pageSize int
	gateAt   int
	gate     chan struct{}
	served   int
	reached  chan struct{} // closed when gateAt is reached
	once     sync.Once
}

func newShop(n, pageSize int) *shop {
	s := &shop{pageSize: pageSize, reached: make(chan struct{})}
	for i := range n {
		s.orders = append(s.orders, connector.Order{ExternalID: fmt.Sprintf("o%03d", i), Name: fmt.Sprintf("#%d", 1000+i),
			CreatedAt: t0, UpdatedAt: t0.Add(time.Duration(i) * time.Minute), Currency: "EUR",
			Lines: []connector.OrderLine{{ExternalID: "1", ProductExternalID: "p1", Quantity: 2, Gross: 1000, Net: 1000}}})
	}
	return s
}

func (s *shop) Test(context.Context) (connector.Account, error) {
	return connector.Account{Name: "Shop", Currency: "EUR"}, nil
}

func (s *shop) Products(context.Context, connector.Query) (connector.Page[connector.Product], error) {
	return connector.Page[connector.Product]{}, nil
}

func (s *shop) Orders(ctx context.Context, q connector.Query) (connector.Page[connector.Order], error) {
	s.mu.Lock()
	s.served++
	gated := s.gate != nil && s.served == s.gateAt
	gate := s.gate
	s.mu.Unlock()
	if gated {
		s.once.Do(func() { close(s.reached) })
		select {
		case <-gate:
		case <-ctx.Done():
			return connector.Page[connector.Order]{}, ctx.Err()
		}
	}
	var match []connector.Order
	for _, o := range s.orders {
		if !o.UpdatedAt.Before(q.Since) {
			match = append(match, o)
		}
	}
	off, _ := strconv.Atoi(q.Page)
	end := min(off+s.pageSize, len(match))
	p := connector.Page[connector.Order]{Items: match[off:end]}
	if end < len(match) {
		p.Next = strconv.Itoa(end)
	}
	return p, nil
}

// work syncs through the real engine into a sink; the platform is the
// fake shop.
type work struct {
	st     *store.Store
	engine *connector.Engine
	src    connector.Source
	syncs  atomic.Int32 // syncs started
	ticks  atomic.Int32
}

func (w *work) SyncConnector(ctx context.Context, pub phantomos.PublisherID, id string) error {
	if _, err := w.st.Connector(ctx, pub, id); err != nil {
		return err
	}
	w.syncs.Add(1)
	_, err := w.engine.Sync(ctx, connector.Target{Publisher: pub, ConnectorID: id}, w.src, connector.SyncOptions{})
	return err
}

func (w *work) ImportFile(context.Context, jobs.ImportAttempt) error { return nil }

func (w *work) Tick(context.Context) error {
	w.ticks.Add(1)
	return nil
}

type fixture struct {
	dsn    string
	st     *store.Store
	sink   *connectortest.MemorySink
	target connector.Target
}

func newFixture(t *testing.T, d store.Dialect) *fixture {
	t.Helper()
	ctx := context.Background()
	dsn := storetest.URL(t, d)
	st, err := store.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if _, err := st.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	pub := &phantomos.Publisher{Name: "Pub", Slug: "pub", Timezone: "UTC", ReportingCurrency: "EUR", SubscriptionTier: "starter"}
	if err := st.CreatePublisher(ctx, pub); err != nil {
		t.Fatal(err)
	}
	c := &phantomos.Connector{Type: phantomos.ConnectorShopify, Name: "Shop"}
	if err := st.CreateConnector(ctx, pub.ID, c); err != nil {
		t.Fatal(err)
	}
	return &fixture{dsn: dsn, st: st, sink: connectortest.NewMemorySink(), target: connector.Target{Publisher: pub.ID, ConnectorID: c.ID}}
}

func (f *fixture) work(src connector.Source) *work {
	eng := connector.NewEngine(f.sink, f.st, connector.Config{Rate: -1, BaseBackoff: time.Millisecond, MaxBackoff: 5 * time.Millisecond,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	return &work{st: f.st, engine: eng, src: src}
}

// start opens and starts a queue on the fixture's database.
func (f *fixture) start(t *testing.T, w jobs.Work, cfg jobs.Config) *jobs.Queue {
	t.Helper()
	cfg.Work = w
	if cfg.ScheduleEvery == 0 {
		cfg.ScheduleEvery = -1
	}
	cfg.PollEvery = 50 * time.Millisecond
	q, err := jobs.Open(context.Background(), f.st, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := q.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		q.Stop(context.Background())
		q.Close()
	})
	return q
}

// waitJob waits until job id is finished and returns it.
func waitJob(t *testing.T, q *jobs.Queue, id int64, within time.Duration) *jobs.Job {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		j, err := q.Job(context.Background(), id)
		if err != nil {
			t.Fatal(err)
		}
		if j.Finished {
			return j
		}
		if time.Now().After(deadline) {
			t.Fatalf("job %d still %s after %s (errors %q)", id, j.State, within, j.Errors)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func syncJobID(t *testing.T, q *jobs.Queue, f *fixture) int64 {
	t.Helper()
	id, _, err := q.EnqueueSync(context.Background(), f.target.Publisher, f.target.ConnectorID)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func TestSyncOnceAtATime(t *testing.T) {
	forEachDialect(t, func(t *testing.T, f *fixture) {
		src := newShop(30, 5)
		src.gate, src.gateAt = make(chan struct{}), 2
		w := f.work(src)
		q := f.start(t, w, jobs.Config{})
		ctx := context.Background()
		id, added, err := q.EnqueueSync(ctx, f.target.Publisher, f.target.ConnectorID)
		if err != nil || !added {
			t.Fatalf("first enqueue: added %v, %v", added, err)
		}
		<-src.reached // the sync runs and waits on its second page
		id2, added, err := q.EnqueueSync(ctx, f.target.Publisher, f.target.ConnectorID)
		if err != nil {
			t.Fatal(err)
		}
		if added || id2 != id {
			t.Errorf("second enqueue while running: added %v, job %d (first %d); want the running job", added, id2, id)
		}
		close(src.gate)
		if j := waitJob(t, q, id, 20*time.Second); j.State != "completed" {
			t.Fatalf("sync job %s, errors %q", j.State, j.Errors)
		}
		if n := w.syncs.Load(); n != 1 {
			t.Errorf("%d syncs started, want 1", n)
		}
		if got := f.sink.Totals(f.target).Orders; got != 30 {
			t.Errorf("%d orders synced, want 30", got)
		}
		// Once finished, the connector can sync again.
		if _, added, err := q.EnqueueSync(ctx, f.target.Publisher, f.target.ConnectorID); err != nil || !added {
			t.Errorf("enqueue after the sync finished: added %v, %v", added, err)
		}
	})
}

// forEachDialect runs fn on a fresh database of each engine.
func forEachDialect(t *testing.T, fn func(t *testing.T, f *fixture)) {
	for _, d := range []store.Dialect{store.SQLite, store.Postgres} {
		t.Run(string(d), func(t *testing.T) { fn(t, newFixture(t, d)) })
	}
}

// A process stopped mid-sync hands its job back; another process resumes
// it from the last committed page, and the totals are exact.
func TestSyncSurvivesRestart(t *testing.T) {
	forEachDialect(t, func(t *testing.T, f *fixture) {
		src := newShop(40, 5)
		src.gate, src.gateAt = make(chan struct{}), 4 // three pages written, then the process stops
		a := f.start(t, f.work(src), jobs.Config{ShutdownGrace: 100 * time.Millisecond})
		id := syncJobID(t, a, f)
		<-src.reached
		if err := a.Stop(context.Background()); err != nil {
			t.Fatalf("stop: %v", err)
		}
		if got := f.sink.Totals(f.target).Orders; got != 15 {
			t.Fatalf("%d orders written before the stop, want 15", got)
		}
		commits := f.sink.Commits()
		src.mu.Lock()
		src.gate = nil
		src.mu.Unlock()
		b := f.start(t, f.work(src), jobs.Config{})
		if j := waitJob(t, b, id, 30*time.Second); j.State != "completed" {
			t.Fatalf("sync job %s after restart, errors %q", j.State, j.Errors)
		}
		tot := f.sink.Totals(f.target)
		if tot.Orders != 40 || tot.Units != 80 || tot.Gross != 40000 {
			t.Errorf("totals %+v, want 40 orders, 80 units, 40000 gross", tot)
		}
		// The second process resumed: it wrote the five remaining pages
		// (the last committed page may be read again, idempotently).
		if n := f.sink.Commits() - commits; n > 6 {
			t.Errorf("%d pages committed after the restart, want at most 6 (resumed, not restarted)", n)
		}
	})
}

// A sync of a connector that no longer exists is discarded at once with
// the reason, not retried.
func TestSyncOfDeletedConnectorDiscarded(t *testing.T) {
	forEachDialect(t, func(t *testing.T, f *fixture) {
		w := f.work(newShop(1, 5))
		q := f.start(t, w, jobs.Config{})
		id, _, err := q.EnqueueSync(context.Background(), f.target.Publisher, phantomos.NewID())
		if err != nil {
			t.Fatal(err)
		}
		j := waitJob(t, q, id, 20*time.Second)
		if j.State != "cancelled" || j.Attempt != 1 || len(j.Errors) != 1 || j.Errors[0] != "Connector not found." {
			t.Errorf("job %s after %d attempts, errors %q; want cancelled after 1 with \"Connector not found.\"", j.State, j.Attempt, j.Errors)
		}
		if n := w.syncs.Load(); n != 0 {
			t.Errorf("%d syncs ran", n)
		}
	})
}

// An owner cancels a running sync: it stops at once and is not retried.
func TestCancelSync(t *testing.T) {
	forEachDialect(t, func(t *testing.T, f *fixture) {
		src := newShop(20, 5)
		src.gate, src.gateAt = make(chan struct{}), 2
		q := f.start(t, f.work(src), jobs.Config{})
		id := syncJobID(t, q, f)
		<-src.reached
		ok, err := q.CancelSync(context.Background(), f.target.Publisher, f.target.ConnectorID)
		if err != nil || !ok {
			t.Fatalf("cancel: %v, %v", ok, err)
		}
		if j := waitJob(t, q, id, 20*time.Second); j.State != "cancelled" {
			t.Errorf("job %s, want cancelled", j.State)
		}
		if ok, err := q.CancelSync(context.Background(), f.target.Publisher, f.target.ConnectorID); err != nil || ok {
			t.Errorf("second cancel: %v, %v; want nothing to cancel", ok, err)
		}
		runs, err := f.st.SyncRuns(context.Background(), f.target.Publisher, f.target.ConnectorID, 5)
		if err != nil || len(runs) != 1 || runs[0].State != store.SyncCancelled {
			t.Errorf("sync runs %v, %v; want one cancelled", runs, err)
		}
	})
}

// Two processes on one PostgreSQL database run the schedule once per
// period between them: only the elected leader enqueues it.
func TestScheduleOncePerPeriodAcrossProcesses(t *testing.T) {
	f := newFixture(t, store.Postgres)
	const every = 500 * time.Millisecond
	wa, wb := f.work(newShop(0, 5)), f.work(newShop(0, 5))
	start := time.Now()
	f.start(t, wa, jobs.Config{ScheduleEvery: every, ID: "a"})
	f.start(t, wb, jobs.Config{ScheduleEvery: every, ID: "b"})
	time.Sleep(6 * time.Second)
	n := int(wa.ticks.Load() + wb.ticks.Load())
	periods := int(time.Since(start) / every)
	if n == 0 || n > periods+1 {
		t.Errorf("schedule ran %d times (a %d, b %d) in %d periods; want at most one per period", n, wa.ticks.Load(), wb.ticks.Load(), periods)
	}
	if wa.ticks.Load() > 0 && wb.ticks.Load() > 0 {
		t.Logf("both processes ran the schedule (a %d, b %d): River hands periodic jobs to any worker, the leader only enqueues", wa.ticks.Load(), wb.ticks.Load())
	}
}

// On SQLite the queue shares the file with the store, which allows one
// writer at a time: an enqueue made while a long import transaction holds
// the write lock waits for it, and neither fails.
func TestEnqueueWaitsForStoreWriter(t *testing.T) {
	f := newFixture(t, store.SQLite)
	q := f.start(t, f.work(newShop(0, 5)), jobs.Config{})
	ctx := context.Background()
	tx, err := f.st.DB().BeginTx(ctx, nil) // immediate: takes the write lock now
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.ExecContext(ctx, `UPDATE connectors SET name = 'Held' WHERE id = $1`, f.target.ConnectorID); err != nil {
		t.Fatal(err)
	}
	const hold = 2 * time.Second
	done := make(chan error, 1)
	start := time.Now()
	go func() {
		_, _, err := q.EnqueueSync(ctx, f.target.Publisher, f.target.ConnectorID)
		done <- err
	}()
	time.Sleep(hold)
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatalf("enqueue while the store writes: %v", err)
	}
	if took := time.Since(start); took < hold {
		t.Errorf("enqueue took %s: it should have waited for the writer (%s)", took, hold)
	}
	c, err := f.st.Connector(ctx, f.target.Publisher, f.target.ConnectorID)
	if err != nil || c.Name != "Held" {
		t.Errorf("the store's transaction: %v, %v", c, err)
	}
}
