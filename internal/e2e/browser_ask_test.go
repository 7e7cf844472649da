package e2e

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/phantomos/phantomos/internal/ask"
	"github.com/phantomos/phantomos/internal/demo"
	"github.com/phantomos/phantomos/internal/store"
	"github.com/phantomos/phantomos/internal/store/storetest"
)

// TestBrowserAsk asks the three questions of issue 19 on the demo through
// the question box in the header, reads each answer and follows its link.
// The right answer is known independently: the evaluation's checker
// recomputes it by naive SQL over the raw sales of the same database, and
// the page must name its leading rows and link where it does.
func TestBrowserAsk(t *testing.T) {
	db := storetest.URL(t, store.SQLite)
	if out, err := cli(t, "", "demo", "--db", db, "--sales", "20000"); err != nil {
		t.Fatalf("demo: %v\n%s", err, out)
	}
	questions := []string{
		"Which character generated the most revenue this quarter?",
		"How is our villain performing compared to our hero?",
		"What product categories should we expand into?",
	}
	want := expectedAnswers(t, db, questions)
	srv := startServer(t, db, "--demo")
	// The browser's time runs from here: loading the demo is not its.
	ctx := browser(t)
	if err := chromedp.Do(ctx,
		chromedp.EmulateViewport(1440, 900),
		chromedp.Navigate(srv.URL+"/login"),
		chromedp.Click(chromedp.ID("explore-demo")),
		chromedp.WaitVisible(chromedp.ID("kpi-net")),
	); err != nil {
		t.Fatal(err)
	}
	for i, c := range []struct {
		must, page string
	}{
		{"generated the most revenue in this quarter", "Assets"},
		{demo.Villain, "Compare assets"},
		{"Expand ", "Overview"},
	} {
		question, w := questions[i], want[i]
		if err := chromedp.Do(ctx,
			chromedp.Navigate(srv.URL+"/overview"),
			chromedp.WaitVisible(chromedp.ID("askbox-q")),
			chromedp.SendKeys(chromedp.ID("askbox-q"), question),
			chromedp.Submit(chromedp.ID("askbox-q")),
			chromedp.WaitVisible(chromedp.ID("answer")),
		); err != nil {
			t.Fatalf("%q: %v", question, err)
		}
		answer := do(t, ctx, chromedp.Text(chromedp.ID("answer")))
		if !strings.Contains(answer, c.must) {
			t.Errorf("%q: answer %q, want %q in it", question, answer, c.must)
		}
		// The rows the naive check confirmed lead the answer.
		if len(w.Rows) == 0 {
			t.Fatalf("%q: no rows in the expected answer", question)
		}
		labels := strings.Split(w.Rows[0].Label, " × ") // an expansion's game IP and category
		if w.Query.Kind == ask.KindCompare {
			labels = []string{w.Rows[0].Label, w.Rows[1].Label}
		}
		for _, l := range labels {
			if !strings.Contains(strings.ToLower(answer), strings.ToLower(l)) {
				t.Errorf("%q: answer %q does not name %q", question, answer, l)
			}
		}
		if w.Query.Kind == ask.KindCompare && !strings.Contains(answer, demo.Hero) {
			t.Errorf("%q: answer %q does not name %s", question, answer, demo.Hero)
		}
		if err := chromedp.Do(ctx, chromedp.Click(chromedp.ID("answer-link")), chromedp.WaitVisible(chromedp.CSS("main h1"))); err != nil {
			t.Fatalf("%q: link: %v", question, err)
		}
		if h := do(t, ctx, chromedp.Text(chromedp.CSS("main h1"))); h != c.page {
			t.Errorf("%q: the link opens %q, want %q", question, h, c.page)
		}
		// The link carries the answer's filters and period.
		if loc := do(t, ctx, chromedp.Location()); loc != srv.URL+w.Link {
			t.Errorf("%q: the link opens %s, want %s", question, loc, srv.URL+w.Link)
		}
	}
}

// expectedAnswers answers questions on the demo of db as the server will
// today, checking each against naive SQL over the raw sales (the
// evaluation's checker): a question not answered exactly fails the test.
func expectedAnswers(t *testing.T, db string, questions []string) []*ask.Answer {
	t.Helper()
	ctx := context.Background()
	s, err := store.Open(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	pub, err := s.PublisherBySlug(ctx, demo.Slug)
	if err != nil {
		t.Fatal(err)
	}
	a, err := ask.New(ctx, s, pub, time.Now)
	if err != nil {
		t.Fatal(err)
	}
	cases, err := ask.EvalCases()
	if err != nil {
		t.Fatal(err)
	}
	cases = slices.DeleteFunc(cases, func(c ask.EvalCase) bool { return !slices.Contains(questions, c.Question) })
	rep, err := ask.Eval(ctx, a, cases)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Results) != len(questions) || rep.Exact != len(questions) {
		t.Fatalf("the naive check of the three questions: %+v", rep.Results)
	}
	var out []*ask.Answer
	for _, q := range questions {
		ans, err := a.Ask(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, ans)
	}
	return out
}
