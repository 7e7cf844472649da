package ask_test

import (
	"context"
	"strings"
	"testing"

	"github.com/phantomos/phantomos/internal/ask"
	"github.com/phantomos/phantomos/internal/store"
	"github.com/phantomos/phantomos/internal/store/storetest"
)

// TestEval asks the evaluation set on the demo publisher and checks the
// targets of issue 19: at least 90% exact answers, at most 2% wrong. The
// expected answers are computed by naive SQL over the raw sales table.
func TestEval(t *testing.T) {
	cases, err := ask.EvalCases()
	if err != nil {
		t.Fatal(err)
	}
	if len(cases) < 150 {
		t.Fatalf("%d questions in the set, want at least 150", len(cases))
	}
	storetest.ForEachDialect(t, func(t *testing.T, s *store.Store) {
		_, a := loadDemo(t, s)
		rep, err := ask.Eval(context.Background(), a, cases)
		if err != nil {
			t.Fatal(err)
		}
		var b strings.Builder
		rep.Print(&b)
		t.Log("\n" + b.String())
		n := len(rep.Results)
		if float64(rep.Exact) < 0.9*float64(n) {
			t.Errorf("%d of %d exact, want at least 90%%", rep.Exact, n)
		}
		if float64(rep.Wrong) > 0.02*float64(n) {
			t.Errorf("%d of %d wrong, want at most 2%%", rep.Wrong, n)
		}
	})
}
