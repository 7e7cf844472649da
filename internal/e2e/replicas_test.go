package e2e

import (
	"bufio"
	"context"
	"database/sql"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/phantomos/phantomos/internal/connector/shopify/shopifytest"
	"github.com/phantomos/phantomos/internal/secret"
	"github.com/phantomos/phantomos/internal/store"
	"github.com/phantomos/phantomos/internal/store/storetest"
)

// replica is a "phantomos serve" process started from the built binary.
type replica struct {
	name   string
	srv    *server
	cmd    *exec.Cmd
	done   chan error
	killed bool
}

// buildBinary builds cmd/phantomos into a temporary folder.
func buildBinary(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "phantomos")
	cmd := exec.Command("go", "build", "-o", bin, "../../cmd/phantomos")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// startReplica runs the binary's serve on db with environ and waits
// until it says it is ready; it is stopped (SIGTERM) when the test ends.
func startReplica(t *testing.T, bin, name, db string, environ []string) *replica {
	t.Helper()
	cmd := exec.Command(bin, "serve", "--addr", "127.0.0.1:0", "--db", db)
	cmd.Env = append(os.Environ(), environ...)
	cmd.Env = append(cmd.Env, "PHANTOMOS_WORKER_ID="+name)
	stderr := &syncBuffer{}
	cmd.Stderr = stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	r := &replica{name: name, cmd: cmd, done: make(chan error, 1), srv: &server{DB: db, stderr: stderr}}
	ready := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if m := readyLine.FindStringSubmatch(sc.Text()); m != nil {
				ready <- m[1]
			}
		}
	}()
	go func() { r.done <- cmd.Wait() }()
	t.Cleanup(func() {
		if r.killed {
			return
		}
		cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-r.done:
		case <-time.After(40 * time.Second):
			cmd.Process.Kill()
			t.Errorf("%s did not stop on SIGTERM", name)
		}
		if t.Failed() {
			t.Logf("%s log:\n%s", name, stderr)
		}
	})
	select {
	case u := <-ready:
		r.srv.URL = u
	case err := <-r.done:
		t.Fatalf("%s exited: %v\n%s", name, err, stderr)
	case <-time.After(90 * time.Second):
		t.Fatalf("%s did not start\n%s", name, stderr)
	}
	return r
}

var readyLine = regexp.MustCompile(`PhantomOS is ready: open (http://\S+)`)

// kill ends the replica with SIGKILL, as a crash would.
func (r *replica) kill(t *testing.T) {
	t.Helper()
	r.killed = true
	if err := r.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-r.done
}

// TestReplicasOnOnePostgres runs two serve processes, built from
// cmd/phantomos, on one PostgreSQL database: the periodic schedule runs
// once per period across both; 30 bad logins spread over both are
// throttled as one budget; and when the process running a long sync is
// killed with SIGKILL, the other finishes it with the fake store's exact
// totals.
func TestReplicasOnOnePostgres(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and runs two servers")
	}
	bin := buildBinary(t)
	db := storetest.URL(t, store.Postgres)
	if out, err := cli(t, "a long replica password\n", "publisher", "add", "--db", db, "--name", "Nova Games", "--slug", "nova", "--owner-email", "nia@nova.test"); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	fake := shopifytest.New(t, shopifytest.Options{Name: "Nova Merch", Currency: "USD", RestoreRate: 50000})
	var wantLines, wantNet int64
	addOrders := func(n int) {
		p := fake.AddProduct(shopifytest.Product{Title: "Nova Hoodie", ProductType: "Apparel", Variants: []shopifytest.Variant{{SKU: fmt.Sprintf("NOVA-%d", wantLines), Price: "20.00"}}})
		for i := range n {
			q := 1 + i%3
			fake.AddOrder(shopifytest.Order{Country: "DE", Lines: []shopifytest.LineItem{
				{ProductID: p.ID, VariantID: p.Variants[0].ID, SKU: p.Variants[0].SKU, Name: p.Title, Quantity: q, Price: "20.00"}}})
			wantLines++
			wantNet += int64(q) * 2000
		}
	}
	addOrders(8)

	const period = 2 * time.Second
	environ := []string{
		"PHANTOMOS_DATA_DIR=" + t.TempDir(),
		"PHANTOMOS_SECRET_KEY=" + secret.Generate(),
		"PHANTOMOS_SHOPIFY_BASE_URL=" + fake.URL,
		"PHANTOMOS_SCHEDULE_EVERY=" + period.String(),
		"PHANTOMOS_JOB_TIMEOUT=6s", // a dead process's job is handed on after 8s
	}
	start := time.Now()
	a := startReplica(t, bin, "replica-a", db, environ)
	b := startReplica(t, bin, "replica-b", db, environ)
	replicas := map[string]*replica{a.name: a, b.name: b}

	ctx := context.Background()
	s, err := store.Open(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	pub, err := s.PublisherBySlug(ctx, "nova")
	if err != nil {
		t.Fatal(err)
	}

	t.Run("bad logins share one budget", func(t *testing.T) {
		var refused, throttled int
		for i := range 30 {
			r := []*replica{a, b}[i%2]
			resp := post(t, newClient(t), r.srv, "/login", url.Values{"email": {"guess@nova.test"}, "password": {"wrong password"}})
			resp.Body.Close()
			switch resp.StatusCode {
			case http.StatusUnauthorized:
				refused++
			case http.StatusTooManyRequests:
				throttled++
			default:
				t.Fatalf("bad login %d on %s: %d", i+1, r.name, resp.StatusCode)
			}
		}
		// The per-email budget is 10 failures in 15 minutes, across every
		// replica: one budget per process would let 20 through.
		if refused != 10 || throttled != 20 {
			t.Errorf("30 bad logins over two replicas: %d checked, %d throttled; want 10 and 20", refused, throttled)
		}
	})

	t.Run("the schedule runs once per period", func(t *testing.T) {
		time.Sleep(4*period - time.Since(start)%period + period/2)
		elapsed := time.Since(start)
		rows, err := s.DB().QueryContext(ctx, `SELECT created_at, state, attempted_by FROM river_job WHERE kind = 'schedule' ORDER BY created_at`)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		var times []time.Time
		var ran int
		for rows.Next() {
			var at time.Time
			var state string
			var by sql.NullString
			if err := rows.Scan(&at, &state, &by); err != nil {
				t.Fatal(err)
			}
			times = append(times, at)
			if state == "completed" {
				ran++
			}
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
		t.Logf("schedule jobs at %v", times)
		if max := int(elapsed/period) + 1; len(times) < 3 || len(times) > max {
			t.Errorf("%d schedule jobs in %s at a period of %s: want 3 to %d", len(times), elapsed.Round(time.Millisecond), period, max)
		}
		for i := 1; i < len(times); i++ {
			if gap := times[i].Sub(times[i-1]); gap < period/2 {
				t.Errorf("schedule jobs %d and %d enqueued %s apart: two replicas both ran the period", i, i+1, gap)
			}
		}
		if ran < len(times)-1 {
			t.Errorf("%d of %d schedule jobs ran", ran, len(times))
		}
	})

	t.Run("a killed replica's sync is finished by the other", func(t *testing.T) {
		c := newClient(t)
		resp := post(t, c, a.srv, "/login", url.Values{"email": {"nia@nova.test"}, "password": {"a long replica password"}})
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || resp.Request.URL.Path == "/login" {
			t.Fatalf("sign in: %d at %s", resp.StatusCode, resp.Request.URL)
		}
		resp = post(t, c, a.srv, "/connectors/shopify", url.Values{"shop": {fake.Shop()}, "token": {fake.IssueToken("read_products,read_orders")}})
		page := body(t, resp)
		id, ok := strings.CutSuffix(strings.TrimPrefix(resp.Request.URL.Path, "/connectors/"), "/setup")
		if !ok {
			t.Fatalf("connect ended at %s:\n%.500s", resp.Request.URL, page)
		}
		lines := func() (n, net int64) {
			t.Helper()
			if err := s.DB().QueryRowContext(ctx, `SELECT COUNT(*), COALESCE(SUM(net), 0) FROM sales WHERE publisher_id = $1 AND connector_id = $2`, pub.ID, id).Scan(&n, &net); err != nil {
				t.Fatal(err)
			}
			return n, net
		}
		// syncDone waits for n finished sync runs with no sync job left.
		syncDone := func(n int, within time.Duration) *store.SyncRun {
			t.Helper()
			for deadline := time.Now().Add(within); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
				runs, err := s.SyncRuns(ctx, pub.ID, id, 10)
				if err != nil {
					t.Fatal(err)
				}
				var open int
				if err := s.DB().QueryRowContext(ctx, `SELECT COUNT(*) FROM river_job WHERE kind = 'connector_sync' AND finalized_at IS NULL`).Scan(&open); err != nil {
					t.Fatal(err)
				}
				if len(runs) >= n && runs[0].State != store.SyncRunning && open == 0 {
					return runs[0]
				}
			}
			t.Fatalf("sync %d did not finish within %s\nreplica-a:\n%s\nreplica-b:\n%s", n, within, a.srv.stderr, b.srv.stderr)
			return nil
		}
		if run := syncDone(1, time.Minute); run.State != store.SyncSucceeded {
			t.Fatalf("first sync: %s %q", run.State, run.Error)
		}
		if n, net := lines(); n != wantLines || net != wantNet {
			t.Fatalf("first sync stored %d lines, net %d; the fake has %d, %d", n, net, wantLines, wantNet)
		}

		// The store sells more, and its API slows down: the next sync
		// pages through the new orders for a while.
		fake.Advance(time.Hour)
		addOrders(80)
		fake.SetBucket(1000, slowRestore, 0)
		resp = post(t, c, a.srv, "/connectors/"+id+"/sync", nil)
		resp.Body.Close()
		var runner string
		for deadline := time.Now().Add(time.Minute); ; time.Sleep(50 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("the sync never wrote part of its pages")
			}
			var by sql.NullString
			err := s.DB().QueryRowContext(ctx, `SELECT attempted_by[array_length(attempted_by, 1)] FROM river_job WHERE kind = 'connector_sync' AND state = 'running'`).Scan(&by)
			if err == sql.ErrNoRows {
				continue
			}
			if err != nil {
				t.Fatal(err)
			}
			if n, _ := lines(); n > 8 && n < wantLines {
				runner = by.String
				break
			}
		}
		dead, other := replicas[runner], a
		if dead == nil {
			t.Fatalf("the sync runs on %q, neither replica", runner)
		}
		if dead == a {
			other = b
		}
		n, _ := lines()
		t.Logf("%s runs the sync; killed with %d of %d lines written", dead.name, n, wantLines)
		dead.kill(t)

		run := syncDone(2, 3*time.Minute)
		if n, net := lines(); n != wantLines || net != wantNet {
			t.Errorf("after the kill, %d lines, net %d; the fake has %d lines, net %d", n, net, wantLines, wantNet)
		}
		if run.State != store.SyncSucceeded {
			t.Errorf("the resumed sync ended %s %q", run.State, run.Error)
		}
		var by string
		if err := s.DB().QueryRowContext(ctx, `SELECT array_to_string(attempted_by, ',') FROM river_job WHERE kind = 'connector_sync' ORDER BY id DESC LIMIT 1`).Scan(&by); err != nil {
			t.Fatal(err)
		}
		if by != dead.name+","+other.name {
			t.Errorf("the sync job was attempted by %s, want %s then %s", by, dead.name, other.name)
		}
	})
}

// slowRestore is the fake store's cost restore rate during the long sync
// (points a second): a page of orders waits for it.
const slowRestore = 400
