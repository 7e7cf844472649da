package run

import (
	"bytes"
	"context"
	"io"
	"path/filepath"
	"sync"
	"testing"

	"github.com/phantomos/phantomos/internal/store"
	"github.com/phantomos/phantomos/internal/store/storetest"
)

// proc is a command running in the test, as a process would.
type proc struct {
	args   []string
	cancel context.CancelFunc
	ready  chan string
	done   chan error
	once   sync.Once
	err    error
}

// launch starts a command; wait for it to be ready, stop it at the end.
func launch(t *testing.T, args []string, getenv func(string) string, out io.Writer) *proc {
	ctx, cancel := context.WithCancel(context.Background())
	p := &proc{args: args, cancel: cancel, ready: make(chan string, 1), done: make(chan error, 1)}
	go func() {
		p.done <- Run(ctx, args, getenv, out, io.Discard, Options{Ready: func(a string) { p.ready <- a }})
	}()
	t.Cleanup(func() { p.stop() })
	return p
}

func (p *proc) wait(t *testing.T) {
	t.Helper()
	select {
	case <-p.ready:
	case err := <-p.done:
		p.once.Do(func() { p.err = err })
		t.Fatalf("%v exited: %v", p.args, err)
	}
}

// stop interrupts the command and returns its error.
func (p *proc) stop() error {
	p.once.Do(func() { p.cancel(); p.err = <-p.done })
	return p.err
}

// TestWorkerRunsAlone: phantomos worker starts the queue's workers without
// a web server and stops cleanly when interrupted.
func TestWorkerRunsAlone(t *testing.T) {
	dir := t.TempDir()
	getenv := func(k string) string {
		if k == "PHANTOMOS_DATA_DIR" {
			return dir
		}
		return ""
	}
	db := filepath.Join(dir, "worker.db")
	if err := Run(context.Background(), []string{"migrate", "--db", db}, getenv, io.Discard, io.Discard); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	p := launch(t, []string{"worker", "--db", db}, getenv, &out)
	p.wait(t)
	if err := p.stop(); err != nil {
		t.Fatalf("worker stopped with %v", err)
	}
	if want := "PhantomOS workers are running\n"; out.String() != want {
		t.Errorf("stdout %q, want %q", out.String(), want)
	}
}

// TestTwoServesOnOnePostgres: two serve processes and a worker start at
// once on one fresh PostgreSQL database (River's tables are migrated
// once, under a lock) and stop cleanly.
func TestTwoServesOnOnePostgres(t *testing.T) {
	url := storetest.URL(t, store.Postgres)
	dir := t.TempDir()
	key := secretKeyForTest() // shared, as replicas share it
	getenv := func(k string) string {
		switch k {
		case "PHANTOMOS_DATA_DIR":
			return dir
		case "PHANTOMOS_SECRET_KEY":
			return key
		}
		return ""
	}
	if err := Run(context.Background(), []string{"migrate", "--db", url}, getenv, io.Discard, io.Discard); err != nil {
		t.Fatal(err)
	}
	var procs []*proc
	for _, args := range [][]string{
		{"serve", "--addr", "127.0.0.1:0", "--db", url},
		{"serve", "--addr", "127.0.0.1:0", "--db", url},
		{"worker", "--db", url},
	} {
		procs = append(procs, launch(t, args, getenv, io.Discard))
	}
	for _, p := range procs {
		p.wait(t)
	}
	for _, p := range procs {
		if err := p.stop(); err != nil {
			t.Errorf("%v stopped with %v", p.args, err)
		}
	}
}
