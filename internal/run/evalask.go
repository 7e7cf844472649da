package run

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"

	"github.com/phantomos/phantomos"
	"github.com/phantomos/phantomos/internal/ask"
	"github.com/phantomos/phantomos/internal/demo"
	"github.com/phantomos/phantomos/internal/store"
)

// evalAsk loads the demo publisher into a scratch SQLite database (and,
// with --postgres, a scratch PostgreSQL database) as of the evaluation's
// clock and asks the question set kept in internal/ask, printing exact
// answers, refusals, wrong answers and answer times for each engine.
func evalAsk(ctx context.Context, e *env, args []string) error {
	fs := flags(e, "eval ask", "[--sales N] [--postgres URL]")
	sales := fs.Int("sales", 20_000, "demo sale rows to load")
	pg := fs.String("postgres", "", "also evaluate on PostgreSQL: a server URL on which a scratch database is created, then dropped")
	if err := parse(fs, args); err != nil {
		return err
	}
	cases, err := ask.EvalCases()
	if err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "phantomos-eval-ask-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	if err := evalAskOn(ctx, e, "SQLite", filepath.Join(dir, "eval.db"), *sales, cases); err != nil {
		return err
	}
	if *pg == "" {
		return nil
	}
	fmt.Fprintln(e.stdout)
	url, drop, err := scratchPostgres(ctx, e, *pg)
	if err != nil {
		return err
	}
	defer drop()
	return evalAskOn(ctx, e, "PostgreSQL", url, *sales, cases)
}

func evalAskOn(ctx context.Context, e *env, engine, dbURL string, sales int, cases []ask.EvalCase) error {
	s, err := store.Open(ctx, dbURL)
	if err != nil {
		return err
	}
	defer s.Close()
	if _, err := s.Migrate(ctx); err != nil {
		return err
	}
	pub, err := demo.Load(ctx, s, demo.Options{Sales: sales, Seed: 42, Now: ask.EvalClock}, nil)
	if err != nil {
		return err
	}
	a, err := ask.New(ctx, s, pub, func() time.Time { return ask.EvalClock })
	if err != nil {
		return err
	}
	rep, err := ask.Eval(ctx, a, cases)
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "ask evaluation on the demo publisher (%d sale rows, %s, as of %s)\n", sales, engine, ask.EvalClock.Format(time.DateOnly))
	rep.Print(e.stdout)
	return nil
}

// scratchPostgres creates an empty database on the server of admin (a
// postgres:// URL) and returns its URL and a function that drops it.
func scratchPostgres(ctx context.Context, e *env, admin string) (string, func(), error) {
	if !strings.HasPrefix(admin, "postgres://") && !strings.HasPrefix(admin, "postgresql://") {
		return "", nil, fmt.Errorf("--postgres %q: want a postgres:// URL", admin)
	}
	cfg, err := pgx.ParseConfig(admin)
	if err != nil {
		return "", nil, fmt.Errorf("--postgres: %w", err)
	}
	cfg.ConnectTimeout = 5 * time.Second
	db := stdlib.OpenDB(*cfg)
	name := "phantomos_eval_ask_" + strings.ReplaceAll(phantomos.NewID()[24:], "-", "")
	if _, err := db.ExecContext(ctx, "CREATE DATABASE "+name); err != nil {
		db.Close()
		return "", nil, fmt.Errorf("--postgres: create a scratch database: %w", err)
	}
	u, err := url.Parse(admin)
	if err != nil {
		db.Close()
		return "", nil, fmt.Errorf("--postgres: %w", err)
	}
	u.Path = "/" + name
	drop := func() {
		defer db.Close()
		if _, err := db.ExecContext(context.WithoutCancel(ctx), "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
			fmt.Fprintf(e.stderr, "eval ask: drop scratch database %s: %v\n", name, err)
		}
	}
	return u.String(), drop, nil
}
