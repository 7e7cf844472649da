package run

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/phantomos/phantomos/internal/ask"
	"github.com/phantomos/phantomos/internal/demo"
	"github.com/phantomos/phantomos/internal/store"
)

// evalAsk loads the demo publisher into a scratch SQLite database as of
// the evaluation's clock and asks the question set kept in internal/ask,
// printing exact answers, refusals, wrong answers and answer times.
func evalAsk(ctx context.Context, e *env, args []string) error {
	fs := flags(e, "eval ask", "[--sales N]")
	sales := fs.Int("sales", 20_000, "demo sale rows to load")
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
	s, err := store.Open(ctx, filepath.Join(dir, "eval.db"))
	if err != nil {
		return err
	}
	defer s.Close()
	if _, err := s.Migrate(ctx); err != nil {
		return err
	}
	pub, err := demo.Load(ctx, s, demo.Options{Sales: *sales, Seed: 42, Now: ask.EvalClock}, nil)
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
	fmt.Fprintf(e.stdout, "ask evaluation on the demo publisher (%d sale rows, SQLite, as of %s)\n", *sales, ask.EvalClock.Format(time.DateOnly))
	rep.Print(e.stdout)
	return nil
}
