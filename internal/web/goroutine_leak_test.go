package web

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/phantomos/phantomos"
	"github.com/phantomos/phantomos/internal/jobs"
	"github.com/phantomos/phantomos/internal/store"
	"github.com/phantomos/phantomos/internal/store/storetest"
)

// goroutines returns the stacks of the live goroutines by id ("goroutine
// 12"), each with its "created by" line.
func goroutines() map[string]string {
	buf := make([]byte, 1<<20)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			buf = buf[:n]
			break
		}
		buf = make([]byte, 2*len(buf))
	}
	out := map[string]string{}
	for _, g := range bytes.Split(buf, []byte("\n\n")) {
		head, _, _ := bytes.Cut(g, []byte(" ["))
		out[string(head)] = string(g)
	}
	return out
}

// ours reports whether a goroutine runs, or was started by, PhantomOS code
// other than this test's own.
func ours(stack string) bool {
	for line := range strings.SplitSeq(stack, "\n") {
		if strings.Contains(line, "github.com/phantomos/phantomos") && !strings.Contains(line, "_test.go") &&
			!strings.Contains(line, "internal/store/storetest") && !strings.Contains(line, "testing.tRunner") {
			return true
		}
	}
	return false
}

// TestNoGoroutineOutlivesItsRequest requests every route as an owner and
// as an analyst (an empty form, an id of nothing), on a server whose queue only enqueues, as a web tier without
// workers does. Once the requests are answered and the connections
// closed, no goroutine running or started by PhantomOS code may be left
// beside those that were there before: background work is a job, never a
// goroutine of a handler. Complements TestHandlersStartNoGoroutines (no go
// statement in internal/web), which cannot see a goroutine started in
// another package on a handler's behalf.
func TestNoGoroutineOutlivesItsRequest(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		a := newTenant(t, s, "alpha")
		srv, ts := newTestServer(t, s)
		q, err := jobs.Open(ctx, s, jobs.Config{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(q.Close)
		srv.SetJobs(q)
		// Nothing runs the jobs: requests that wait for theirs stop soon.
		srv.jobWait = jobWaits{page: 50 * time.Millisecond, api: 50 * time.Millisecond}
		// Warm up: the first requests open database connections and
		// parse what is parsed once; those live as long as the server.
		for range 2 {
			req := request(t, ts, "GET /overview", "")
			req.AddCookie(cookie(t, s, a.users[phantomos.RoleOwner]))
			do(t, req)
		}
		noRedirect.CloseIdleConnections()
		before := goroutines()

		ids := []string{phantomos.NewID()}
		for _, role := range []phantomos.Role{phantomos.RoleOwner, phantomos.RoleAnalyst} {
			for _, rt := range srv.Routes() {
				for _, id := range ids {
					// A fresh session each time: some routes end theirs.
					req := request(t, ts, rt.Pattern, id)
					req.AddCookie(cookie(t, s, a.users[role]))
					st, _ := do(t, req)
					if rt.Pattern == "GET /overview" && st != http.StatusOK {
						t.Fatalf("%s as %s: %d; the test must sign in", rt.Pattern, role, st)
					}
				}
			}
		}
		noRedirect.CloseIdleConnections()
		http.DefaultClient.CloseIdleConnections()

		// A goroutine ending just after its request's answer gets a moment.
		var left []string
		deadline := time.Now().Add(10 * time.Second)
		for {
			left = left[:0]
			for id, stack := range goroutines() {
				if _, ok := before[id]; !ok && ours(stack) {
					left = append(left, stack)
				}
			}
			if len(left) == 0 || time.Now().After(deadline) {
				break
			}
			time.Sleep(50 * time.Millisecond)
		}
		for _, stack := range left {
			t.Errorf("a goroutine outlived the requests that started it:\n%s", stack)
		}
	})
}
