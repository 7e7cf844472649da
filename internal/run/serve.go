package run

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"syscall"
	"time"

	"github.com/phantomos/phantomos"
	"github.com/phantomos/phantomos/internal/config"
	"github.com/phantomos/phantomos/internal/connector/platform"
	"github.com/phantomos/phantomos/internal/connector/platforms"
	"github.com/phantomos/phantomos/internal/demo"
	"github.com/phantomos/phantomos/internal/jobs"
	"github.com/phantomos/phantomos/internal/secret"
	"github.com/phantomos/phantomos/internal/store"
	"github.com/phantomos/phantomos/internal/web"
	"github.com/phantomos/phantomos/internal/worker"
)

func cmdServe(ctx context.Context, e *env, args []string) error {
	fs := flags(e, "serve", "[--addr :8080] [--db URL] [--demo] [--no-workers]")
	addr := fs.String("addr", "", "listen address (default $PHANTOMOS_ADDR or :8080)")
	db := fs.String("db", "", "database URL or SQLite file (default $DATABASE_URL or phantomos.db)")
	demoFlag := fs.Bool("demo", false, "load the demo publisher if missing and offer \"Explore the demo\" on the login page")
	noWorkers := fs.Bool("no-workers", false, "only enqueue background work; \"phantomos worker\" processes run it")
	if err := parse(fs, args); err != nil {
		return err
	}
	s, cfg, err := openStore(ctx, e, *db)
	if err != nil {
		return err
	}
	defer s.Close()
	if *addr != "" {
		cfg.Addr = *addr
	}
	// Imports a previous process was running when it died are failed, so
	// they do not show as running forever (only those nobody holds).
	if n, err := s.InterruptImportRuns(ctx); err != nil {
		e.logger.Warn("marking interrupted imports", "err", err)
	} else if n > 0 {
		e.logger.Info("imports interrupted by the last stop marked as failed", "runs", n)
	}
	if *demoFlag {
		cfg.Demo = true
	}
	if cfg.Demo {
		if err := ensureDemo(ctx, e, s); err != nil {
			return err
		}
	}
	srv, q, err := newWorkers(ctx, e, s, cfg, !*noWorkers)
	if err != nil {
		return err
	}
	defer q.Close()
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return listenError(cfg.Addr, err)
	}
	httpSrv := &http.Server{
		Handler:           srv.Handler(),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       5 * time.Minute, // uploads of large import files
		WriteTimeout:      5 * time.Minute, // exports
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          nil,
	}
	url := "http://" + displayAddr(ln.Addr())
	e.logger.Info("PhantomOS listening", "url", url, "database", s.Where(), "dialect", s.Dialect(), "demo", cfg.Demo, "version", version())
	// One plain line for the person who started it, beside the log.
	if cfg.Demo {
		fmt.Fprintf(e.stdout, "PhantomOS is ready: open %s and press Explore the demo\n", url)
	} else {
		fmt.Fprintf(e.stdout, "PhantomOS is ready: open %s\n", url)
	}
	if e.ready != nil {
		e.ready(ln.Addr().String())
	}
	errc := make(chan error, 1)
	go func() { errc <- httpSrv.Serve(ln) }()
	// Workers run until the server has stopped taking requests; the
	// queue's own context outlives ctx so that Stop can let jobs finish.
	if err := q.Start(context.WithoutCancel(ctx)); err != nil {
		httpSrv.Close()
		return err
	}
	select {
	case err := <-errc:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	e.logger.Info("shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := httpSrv.Shutdown(sctx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	if err := q.Stop(context.Background()); err != nil {
		return fmt.Errorf("stop workers: %w", err)
	}
	return nil
}

// newWorkers makes the server, whose worker does the jobs' work, and the
// job queue; work false makes an insert-only queue.
func newWorkers(ctx context.Context, e *env, s *store.Store, cfg config.Config, work bool) (*web.Server, *jobs.Queue, error) {
	srv, err := web.New(s, cfg, e.logger, version())
	if err != nil {
		return nil, nil, err
	}
	keys, reg, err := connectorSetup(e, cfg)
	if err != nil {
		return nil, nil, err
	}
	srv.EnableConnectors(keys, web.ConnectorOptions{BaseURL: cfg.BaseURL, Platforms: reg})
	srv.EnableNotifications(keys, web.NotifyOptions{})
	jcfg := jobsConfig(e, cfg)
	if work {
		jcfg.Work = srv.Worker()
	}
	q, err := jobs.Open(ctx, s, jcfg)
	if err != nil {
		return nil, nil, err
	}
	srv.SetJobs(q)
	return srv, q, nil
}

// jobsConfig is the queue's configuration from cfg's job settings.
func jobsConfig(e *env, cfg config.Config) jobs.Config {
	return jobs.Config{Logger: e.logger, ScheduleEvery: cfg.ScheduleEvery, SyncTimeout: cfg.JobTimeout, ImportTimeout: cfg.JobTimeout, ID: cfg.WorkerID}
}

// connectorSetup loads the credential keys and the configured platforms.
func connectorSetup(e *env, cfg config.Config) (*secret.Keyring, *platform.Registry, error) {
	keys, err := secret.LoadOrCreate(cfg.DataDirectory(), cfg.SecretKey)
	if err != nil {
		return nil, nil, err
	}
	e.logger.Info("connector credentials are encrypted", "key", keys.CurrentID(), "from", keys.Origin())
	// Each platform reads and checks its own settings (platform.Registration.Env).
	reg, err := platform.Open(platforms.All(), platform.Config{Getenv: e.getenv, Logger: e.logger})
	if err != nil {
		return nil, nil, err
	}
	return keys, reg, nil
}

// newWorker makes a worker and the queue that runs it, without a web
// server.
func newWorker(ctx context.Context, e *env, s *store.Store, cfg config.Config) (*jobs.Queue, error) {
	w, err := worker.New(s, cfg, e.logger)
	if err != nil {
		return nil, err
	}
	keys, reg, err := connectorSetup(e, cfg)
	if err != nil {
		return nil, err
	}
	w.EnableConnectors(keys, worker.ConnectorOptions{BaseURL: cfg.BaseURL, Platforms: reg})
	w.EnableNotifications(keys, worker.NotifyOptions{})
	jcfg := jobsConfig(e, cfg)
	jcfg.Work = w
	q, err := jobs.Open(ctx, s, jcfg)
	if err != nil {
		return nil, err
	}
	w.SetJobs(q)
	return q, nil
}

// cmdWorker runs the background workers without the web server (syncs,
// imports, tagging, insights, notifications and the periodic schedule,
// which one process of the cluster runs at a time) until interrupted,
// then lets running jobs finish or hands them back.
func cmdWorker(ctx context.Context, e *env, args []string) error {
	fs := flags(e, "worker", "[--db URL]")
	db := fs.String("db", "", "database URL or SQLite file (default $DATABASE_URL or phantomos.db)")
	if err := parse(fs, args); err != nil {
		return err
	}
	s, cfg, err := openStore(ctx, e, *db)
	if err != nil {
		return err
	}
	defer s.Close()
	q, err := newWorker(ctx, e, s, cfg)
	if err != nil {
		return err
	}
	defer q.Close()
	if err := q.Start(context.WithoutCancel(ctx)); err != nil {
		return err
	}
	e.logger.Info("PhantomOS workers running", "database", s.Where(), "dialect", s.Dialect(), "version", version())
	fmt.Fprintln(e.stdout, "PhantomOS workers are running")
	if e.ready != nil {
		e.ready("")
	}
	<-ctx.Done()
	e.logger.Info("stopping workers")
	return q.Stop(context.Background())
}

// ensureDemo loads the demo publisher unless it is already there.
func ensureDemo(ctx context.Context, e *env, s *store.Store) error {
	ok, err := demo.Exists(ctx, s)
	if err != nil || ok {
		return err
	}
	e.logger.Info("loading the demo publisher (first start with --demo)")
	start := time.Now()
	pub, err := demo.Load(ctx, s, demo.Options{}, nil)
	if phantomos.ErrorCode(err) == phantomos.ECONFLICT {
		return nil // another replica loaded it first
	}
	if err != nil {
		return fmt.Errorf("load demo: %w", err)
	}
	e.logger.Info("demo publisher loaded", "publisher", pub.Name, "took", time.Since(start).Round(time.Millisecond))
	return nil
}

func listenError(addr string, err error) error {
	switch {
	case errors.Is(err, syscall.EADDRINUSE):
		return fmt.Errorf("listen on %s: address already in use (another server is running there; choose another with --addr)", addr)
	case errors.Is(err, syscall.EACCES):
		return fmt.Errorf("listen on %s: permission denied (ports below 1024 need privileges)", addr)
	}
	return fmt.Errorf("listen on %s: %v", addr, err)
}

// displayAddr turns a wildcard listen address into one a browser can open.
func displayAddr(a net.Addr) string {
	s := a.String()
	if strings.HasPrefix(s, "[::]:") || strings.HasPrefix(s, "0.0.0.0:") {
		_, port, _ := net.SplitHostPort(s)
		return "localhost:" + port
	}
	return s
}
