package web

import (
	"context"
	"io"
	"log/slog"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/phantomos/phantomos"
	"github.com/phantomos/phantomos/internal/config"
	"github.com/phantomos/phantomos/internal/jobs"
	"github.com/phantomos/phantomos/internal/store"
	"github.com/phantomos/phantomos/internal/store/storetest"
)

// Environment of the crash helper process.
const (
	crashDSNEnv    = "PHANTOMOS_TEST_CRASH_DSN"
	crashMarkerEnv = "PHANTOMOS_TEST_CRASH_MARKER"
)

// crashRescueAfter is how long a job stays running before the rescuer
// hands it to another process, in the crash test (and its helper).
const crashRescueAfter = 20 * time.Second

// TestImportCrashHelper is not a test: it is the worker process that
// TestImportJobSurvivesKill starts and kills. It runs import jobs, and
// the first one waits mid-way (its transaction open) forever after
// creating the marker file.
func TestImportCrashHelper(t *testing.T) {
	dsn := os.Getenv(crashDSNEnv)
	if dsn == "" {
		t.Skip("the crash test's worker process")
	}
	ctx := context.Background()
	s, err := store.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	srv, err := New(s, config.Config{}, slog.New(slog.NewTextHandler(io.Discard, nil)), "test")
	if err != nil {
		t.Fatal(err)
	}
	srv.work.SetImportPause(func(ctx context.Context, rows int64) {
		os.WriteFile(os.Getenv(crashMarkerEnv), []byte("reached"), 0o600)
		select {} // until killed
	})
	q, err := jobs.Open(ctx, s, jobs.Config{Work: srv.work, ScheduleEvery: -1, PollEvery: 20 * time.Millisecond, RescueAfter: crashRescueAfter})
	if err != nil {
		t.Fatal(err)
	}
	if err := q.Start(ctx); err != nil {
		t.Fatal(err)
	}
	select {}
}

// A worker killed with SIGKILL mid-import leaves its job running; the
// rescuer of another process hands it back, and that process imports the
// file whole: exact totals, no duplicates, the interrupted run marked.
func TestImportJobSurvivesKill(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		a := newTenant(t, s, "alpha")
		// The web replica only enqueues; the worker is another process.
		web, ts := newTestServer(t, s)
		web.imports.backgroundRows = 2
		wq, err := jobs.Open(ctx, s, jobs.Config{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(wq.Close)
		web.SetJobs(wq)

		marker := filepath.Join(t.TempDir(), "reached")
		cmd := exec.Command(os.Args[0], "-test.run=^TestImportCrashHelper$", "-test.count=1")
		cmd.Env = append(os.Environ(), crashDSNEnv+"="+s.DSN(), crashMarkerEnv+"="+marker)
		var out strings.Builder
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })

		member := importFlow{t, ts, cookie(t, s, a.users[phantomos.RoleMember])}
		token := member.upload("orders.csv", salesFile(12000))
		_, loc := member.confirm(url.Values{"token": {token}})
		job := strings.TrimPrefix(loc, "/products/import/jobs/")
		deadline := time.Now().Add(2 * time.Minute)
		for {
			if _, err := os.Stat(marker); err == nil {
				break
			}
			if time.Now().After(deadline) {
				cmd.Process.Kill()
				cmd.Wait()
				t.Fatalf("the worker process never started the import:\n%s", out.String())
			}
			time.Sleep(20 * time.Millisecond)
		}
		if err := cmd.Process.Kill(); err != nil { // SIGKILL
			t.Fatal(err)
		}
		cmd.Wait()
		if n, _ := s.SalesCount(ctx, a.pub.ID); n != 0 {
			t.Fatalf("%d sales written by the killed import", n)
		}
		if j, err := s.ImportJob(ctx, a.pub.ID, job); err != nil || j.State != store.ImportRunning {
			t.Fatalf("after the kill: %+v, %v; want it still marked running", j, err)
		}

		// Another worker process takes over once the rescuer sees the job
		// stuck.
		other, err := New(s, web.cfg, web.logger, "test")
		if err != nil {
			t.Fatal(err)
		}
		openJobs(t, other, s, jobs.Config{RescueAfter: crashRescueAfter})
		ts2 := httptest.NewServer(other.Handler())
		t.Cleanup(ts2.Close)
		member = importFlow{t, ts2, member.c}
		deadline = time.Now().Add(2 * time.Minute)
		var p importProgress
		for {
			_, p = member.progress(job)
			if p.Ended() || time.Now().After(deadline) {
				break
			}
			time.Sleep(100 * time.Millisecond)
		}
		if p.State != "succeeded" || p.Done != 12000 {
			t.Fatalf("after the kill and the rescue: %+v", p)
		}
		if n, _ := s.SalesCount(ctx, a.pub.ID); n != 12000 {
			t.Errorf("%d sales, want exactly 12000", n)
		}
		// The killed attempt's run is marked failed; the last one inserted
		// every row (an attempt the loaded machine timed out wrote nothing).
		runs, err := s.ImportRuns(ctx, a.pub.ID, 10)
		if err != nil || len(runs) < 2 || runs[0].State != "succeeded" || runs[0].Inserted != 12000 {
			t.Fatalf("import runs %v, %v: want one that inserted 12000 after the killed one", runs, err)
		}
		for _, r := range runs[1:] {
			if r.State != "failed" || r.Inserted != 0 {
				t.Errorf("earlier run %s inserted %d: want failed, nothing written", r.State, r.Inserted)
			}
		}
	})
}
