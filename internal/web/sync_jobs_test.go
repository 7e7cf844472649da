package web

import (
	"context"
	"go/ast"
	"go/parser"
	"go/token"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/phantomos/phantomos/internal/store"
	"github.com/phantomos/phantomos/internal/store/storetest"
)

// A sync is a job: asking again while it runs starts no second one, the
// page shows it, and an admin cancels it; what it wrote stays.
func TestSyncJobOnceAndCancel(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		h := newShop(t, s, false, "")
		id := h.connectWithToken(url.Values{"shop": {h.fake.Shop()}, "token": {h.fake.IssueToken("read_products,read_orders")}})
		h.waitSync(id, 1)
		// The connector's request pace slows to a crawl: the next sync
		// waits after its first request.
		slow := h.opts
		slow.Engine.Rate, slow.Engine.Burst = 0.001, 1
		h.srv.EnableConnectors(h.keys, slow)
		for range 2 {
			if resp, _ := h.send(http.MethodPost, "/connectors/"+id+"/sync", nil, nil); resp.StatusCode != http.StatusSeeOther {
				t.Fatalf("sync: %d", resp.StatusCode)
			}
		}
		ids, err := h.srv.jobs.SyncPending(ctx, h.a.pub.ID, id)
		if err != nil || !ids {
			t.Fatalf("sync pending: %v, %v", ids, err)
		}
		var runs []*store.SyncRun
		for range 400 {
			if runs, _ = s.SyncRuns(ctx, h.a.pub.ID, id, 10); len(runs) == 2 {
				break
			}
			time.Sleep(25 * time.Millisecond)
		}
		if len(runs) != 2 || runs[0].State != store.SyncRunning {
			t.Fatalf("runs: newest %s %q: want it running", runs[0].State, runs[0].Error)
		}
		_, page := h.send(http.MethodGet, "/connectors/"+id, nil, nil)
		if !strings.Contains(page, `id="sync-cancel"`) || !strings.Contains(page, `id="sync-running"`) {
			t.Errorf("running sync page lacks its progress or the cancel button")
		}
		if resp, _ := h.send(http.MethodPost, "/connectors/"+id+"/sync/cancel", nil, nil); resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("cancel: %d", resp.StatusCode)
		}
		run := h.waitSync(id, 2)
		if run.State != store.SyncCancelled {
			t.Errorf("cancelled sync ended %s", run.State)
		}
		if runs, _ := s.SyncRuns(ctx, h.a.pub.ID, id, 10); len(runs) != 2 {
			t.Errorf("%d sync runs, want 2: the second request started none", len(runs))
		}
		h.check(id) // the first sync's data is intact
	})
}

// Handlers start no goroutines: background work is enqueued, so nothing a
// request started outlives it (or is lost with its process).
func TestHandlersStartNoGoroutines(t *testing.T) {
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		src, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		f, err := parser.ParseFile(fset, name, src, 0)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(f, func(n ast.Node) bool {
			if g, ok := n.(*ast.GoStmt); ok && !allowedGo[fset.Position(g.Pos()).Filename] {
				t.Errorf("%s: a go statement in internal/web: enqueue a job instead", fset.Position(g.Pos()))
			}
			return true
		})
	}
}

// allowedGo are the files whose go statements are known and due to move
// to the queue (none left: file imports are jobs too).
var allowedGo = map[string]bool{}
