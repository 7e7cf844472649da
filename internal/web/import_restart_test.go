package web

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/phantomos/phantomos"
	"github.com/phantomos/phantomos/internal/jobs"
	"github.com/phantomos/phantomos/internal/store"
	"github.com/phantomos/phantomos/internal/store/storetest"
)

// salesFile is a generic sales file of n orders of one line each.
func salesFile(n int) string {
	var b strings.Builder
	b.WriteString("order_id,date,sku,quantity,total,currency\n")
	for i := range n {
		fmt.Fprintf(&b, "R%05d,2026-01-%02d,SKU-%d,2,10.00,USD\n", i, 1+i%28, i%7)
	}
	return b.String()
}

// openJobs opens a job queue on the database of s with srv doing the work,
// started, and stopped when the test ends unless the test stops it.
func openJobs(t *testing.T, srv *Server, s *store.Store, cfg jobs.Config) *jobs.Queue {
	t.Helper()
	cfg.Work, cfg.ScheduleEvery, cfg.PollEvery = srv.work, -1, 20*time.Millisecond
	cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	q, err := jobs.Open(context.Background(), s, cfg)
	if err != nil {
		t.Fatal(err)
	}
	srv.SetJobs(q)
	if err := q.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	var once sync.Once
	t.Cleanup(func() {
		once.Do(func() {
			q.Stop(context.Background())
			q.Close()
		})
	})
	return q
}

// pauseImports makes srv's imports wait after their first batch (a file
// of up to 10,000 sales rows is one batch: written in the transaction, not
// committed) until their context ends; reached
// is closed when one waits.
func pauseImports(srv *Server) (reached chan struct{}) {
	reached = make(chan struct{})
	var once sync.Once
	srv.work.SetImportPause(func(ctx context.Context, rows int64) {
		once.Do(func() { close(reached) })
		<-ctx.Done()
	})
	return reached
}

func waitReached(t *testing.T, c chan struct{}) {
	t.Helper()
	select {
	case <-c:
	case <-time.After(30 * time.Second):
		t.Fatal("the import never started")
	}
}

// An owner cancels a running import: it stops mid-way, its transaction is
// rolled back, and nothing of it is written; its page says so. A member
// who did not start it cannot cancel it.
func TestImportJobCancel(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		a := newTenant(t, s, "alpha")
		srv, ts := newTestServer(t, s)
		srv.imports.backgroundRows = 2
		reached := pauseImports(srv)
		startJobs(t, srv, s)
		admin := importFlow{t, ts, cookie(t, s, a.users[phantomos.RoleAdmin])}
		owner := importFlow{t, ts, cookie(t, s, a.users[phantomos.RoleOwner])}
		member := importFlow{t, ts, cookie(t, s, a.users[phantomos.RoleMember])}

		token := admin.upload("orders.csv", salesFile(3000))
		st, loc := admin.confirm(url.Values{"token": {token}})
		if st != http.StatusSeeOther {
			t.Fatalf("confirm: %d", st)
		}
		job := strings.TrimPrefix(loc, "/products/import/jobs/")
		waitReached(t, reached)
		if st, p := owner.progress(job); st != http.StatusOK || p.State != "running" || p.Done != 3000 || p.Total != 3000 {
			t.Errorf("running import seen by the owner: %d %+v", st, p)
		}
		if _, page := owner.get(loc); !strings.Contains(page, `action="/products/import/jobs/`+job+`/cancel"`) {
			t.Errorf("running import page lacks its cancel button")
		}
		// A member who did not start it is told it does not exist.
		if st, _ := member.post(loc + "/cancel"); st != http.StatusNotFound {
			t.Errorf("member's cancel of another's import: %d, want 404", st)
		}
		if st, got := owner.post(loc + "/cancel"); st != http.StatusSeeOther || got != loc {
			t.Fatalf("cancel: %d %q", st, got)
		}
		p := owner.wait(job)
		if p.State != "cancelled" || p.Error != store.ImportCancelledMessage {
			t.Errorf("cancelled import: %+v", p)
		}
		if n, _ := s.SalesCount(ctx, a.pub.ID); n != 0 {
			t.Errorf("a cancelled import wrote %d sales", n)
		}
		_, page := admin.get(loc)
		if !strings.Contains(page, "Import cancelled") || !strings.Contains(page, store.ImportCancelledMessage) {
			t.Errorf("cancelled import page:\n%s", page)
		}
		j, err := s.ImportJob(ctx, a.pub.ID, job)
		if err != nil {
			t.Fatal(err)
		}
		qj := waitQueueJob(t, srv.jobs, j.RiverJobID)
		if qj.State != "cancelled" || qj.Attempt != 1 {
			t.Errorf("queue job %s after %d attempts: a cancelled import is not retried", qj.State, qj.Attempt)
		}
		// Cancelling again, or a finished import, changes nothing.
		if st, _ := owner.post(loc + "/cancel"); st != http.StatusSeeOther {
			t.Errorf("second cancel: %d", st)
		}
		if p := owner.wait(job); p.State != "cancelled" {
			t.Errorf("after a second cancel: %+v", p)
		}
	})
}

// An import whose process stops mid-way (its transaction rolled back) is
// handed back and imported whole by another: exact totals, no duplicate.
func TestImportJobSurvivesRestart(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		a := newTenant(t, s, "alpha")
		srv, ts := newTestServer(t, s)
		srv.imports.backgroundRows = 2
		reached := pauseImports(srv)
		q1 := openJobs(t, srv, s, jobs.Config{ShutdownGrace: 100 * time.Millisecond})
		member := importFlow{t, ts, cookie(t, s, a.users[phantomos.RoleMember])}

		token := member.upload("orders.csv", salesFile(3000))
		_, loc := member.confirm(url.Values{"token": {token}})
		job := strings.TrimPrefix(loc, "/products/import/jobs/")
		waitReached(t, reached)
		// The process stops: the grace is short, the running import is
		// cancelled and handed back.
		if err := q1.Stop(ctx); err != nil {
			t.Fatalf("stop: %v", err)
		}
		q1.Close()
		if n, _ := s.SalesCount(ctx, a.pub.ID); n != 0 {
			t.Fatalf("%d sales written by the stopped import", n)
		}
		_, p := member.progress(job)
		if p.State != "queued" {
			t.Errorf("after the stop: %+v, want queued for its next attempt", p)
		}
		if _, page := member.get(loc); !strings.Contains(page, "Attempt 1 did not finish") {
			t.Errorf("waiting import page does not say why:\n%s", page)
		}

		// Another replica takes it over.
		other, err := New(s, srv.cfg, srv.logger, "test")
		if err != nil {
			t.Fatal(err)
		}
		other.imports.backgroundRows = 2
		openJobs(t, other, s, jobs.Config{})
		ts2 := httptest.NewServer(other.Handler())
		t.Cleanup(ts2.Close)
		member = importFlow{t, ts2, member.c} // the first replica is gone
		if p := member.wait(job); p.State != "succeeded" || p.Done != 3000 || p.Total != 3000 {
			t.Fatalf("after the restart: %+v", p)
		}
		if n, _ := s.SalesCount(ctx, a.pub.ID); n != 3000 {
			t.Errorf("%d sales after the restart, want exactly 3000", n)
		}
		runs, err := s.ImportRuns(ctx, a.pub.ID, 10)
		if err != nil || len(runs) != 2 || runs[0].State != "succeeded" || runs[0].Inserted != 3000 || runs[1].State != "failed" {
			t.Errorf("import runs %+v, %v: want the interrupted one failed and one that inserted 3000", runs, err)
		}
	})
}

// waitQueueJob waits until queue job id has finished.
func waitQueueJob(t *testing.T, q *jobs.Queue, id int64) *jobs.Job {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		j, err := q.Job(context.Background(), id)
		if err != nil {
			t.Fatal(err)
		}
		if j.Finished || time.Now().After(deadline) {
			return j
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (f importFlow) post(path string) (int, string) {
	f.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, f.ts.URL+path, strings.NewReader(""))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", f.ts.URL)
	req.AddCookie(f.c)
	resp, err := noRedirect.Do(req)
	if err != nil {
		f.t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode, resp.Header.Get("Location")
}

// logBuffer is a log destination a test reads.
type logBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// An import job whose arguments no longer make sense (its publisher was
// removed, taking the import with it; an import that never existed) is
// discarded at its first attempt with a logged reason, not retried.
func TestImportJobOfRemovedPublisherDiscarded(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		a := newTenant(t, s, "alpha")
		gone := newTenant(t, s, "gone")
		srv, _ := newTestServer(t, s)
		var logs logBuffer
		q, err := jobs.Open(ctx, s, jobs.Config{Work: srv.work, ScheduleEvery: -1, PollEvery: 20 * time.Millisecond,
			Logger: slog.New(slog.NewTextHandler(&logs, nil))})
		if err != nil {
			t.Fatal(err)
		}
		job := newTestImportJob(t, s, gone.pub.ID, gone.users[phantomos.RoleOwner].ID)
		if err := s.DeletePublisher(ctx, gone.pub.ID); err != nil {
			t.Fatal(err)
		}
		removed, err := q.EnqueueImport(ctx, gone.pub.ID, job)
		if err != nil {
			t.Fatal(err)
		}
		never, err := q.EnqueueImport(ctx, a.pub.ID, phantomos.NewID())
		if err != nil {
			t.Fatal(err)
		}
		if err := q.Start(ctx); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			q.Stop(context.Background())
			q.Close()
		})
		for _, id := range []int64{removed, never} {
			j := waitQueueJob(t, q, id)
			if j.State != "cancelled" || j.Attempt != 1 || len(j.Errors) != 1 || j.Errors[0] != "Import not found." {
				t.Errorf("queue job %d: %s after %d attempts, errors %q; want cancelled at once with \"Import not found.\"", id, j.State, j.Attempt, j.Errors)
			}
		}
		if l := logs.String(); strings.Count(l, "jobs: discarded") != 2 || !strings.Contains(l, "kind=file_import") || !strings.Contains(l, "Import not found.") {
			t.Errorf("the discards are not logged with their reason:\n%s", l)
		}
	})
}
