package ask_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/phantomos/phantomos"
	"github.com/phantomos/phantomos/internal/ask"
	"github.com/phantomos/phantomos/internal/demo"
	"github.com/phantomos/phantomos/internal/store"
	"github.com/phantomos/phantomos/internal/store/storetest"
)

// testNow is the clock of the tests: the demo data ends the day before.
var testNow = ask.EvalClock

func loadDemo(t testing.TB, s *store.Store) (*phantomos.Publisher, *ask.Asker) {
	t.Helper()
	ctx := context.Background()
	pub, err := demo.Load(ctx, s, demo.Options{Sales: 20_000, Seed: 42, Now: testNow}, nil)
	if err != nil {
		t.Fatal(err)
	}
	a, err := ask.New(ctx, s, pub, func() time.Time { return testNow })
	if err != nil {
		t.Fatal(err)
	}
	return pub, a
}

func TestSmoke(t *testing.T) {
	s := storetest.New(t, store.SQLite)
	_, a := loadDemo(t, s)
	for _, q := range []string{
		"Which character generated the most revenue this quarter?",
		"How is our villain performing compared to our hero?",
		"What product categories should we expand into?",
		"top 3 countries by units last month",
		"trend of Mossy",
		"share of Hollowmere in Q3 2026",
		"what changed most by channel last quarter",
		"fastest growing game ips",
		"how much revenue did we make year to date",
		"Captian Nova vs Void Empres",
		"what's the weather",
	} {
		ans, err := a.Ask(context.Background(), q)
		var nu *ask.NotUnderstood
		if errors.As(err, &nu) {
			t.Logf("%s → not understood: %s", q, nu.Reason)
			continue
		}
		if err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		t.Logf("%s → %s | %s | %s | %+v", q, ans.Sentence, ans.Interpretation, ans.Link, *ans.Query)
	}
}
