package web

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/phantomos/phantomos"
	"github.com/phantomos/phantomos/internal/ask"
	"github.com/phantomos/phantomos/internal/auth"
	"github.com/phantomos/phantomos/internal/demo"
	"github.com/phantomos/phantomos/internal/store"
	"github.com/phantomos/phantomos/internal/store/storetest"
)

// TestAskDemo asks the three questions of issue 19 on the demo through
// POST /api/v1/ask with an analyst API key and through the /ask page, and
// follows each answer's link. The figures themselves are checked against
// naive SQL by the evaluation in internal/ask, which holds these questions.
func TestAskDemo(t *testing.T) {
	s := storetest.New(t, store.SQLite)
	ctx := context.Background()
	pub, err := demo.Load(ctx, s, demo.Options{Sales: 5_000, Seed: 42, Now: ask.EvalClock}, nil)
	if err != nil {
		t.Fatal(err)
	}
	srv, ts := newTestServer(t, s)
	srv.SetClock(func() time.Time { return ask.EvalClock })
	analyst := &phantomos.User{Email: "analyst@demo.test", Name: "Analyst", Role: phantomos.RoleAnalyst}
	if err := s.CreateUser(ctx, pub.ID, analyst, ""); err != nil {
		t.Fatal(err)
	}
	tok := apiKeyPrefix + auth.NewToken()
	if _, err := s.CreateAPIKey(ctx, pub.ID, analyst.ID, "ask", tok[:10], auth.HashToken(tok), phantomos.RoleAnalyst); err != nil {
		t.Fatal(err)
	}
	assets, err := s.Assets(ctx, pub.ID)
	if err != nil {
		t.Fatal(err)
	}
	byID := map[string]*phantomos.Asset{}
	for _, a := range assets {
		byID[a.ID] = a
	}
	type result struct {
		Understood  bool
		Interpreter string
		Answer      string
		Link        string
		Query       ask.Query
		Rows        []ask.Row
	}
	for _, c := range []struct {
		question string
		check    func(t *testing.T, r result)
	}{
		{"Which character generated the most revenue this quarter?", func(t *testing.T, r result) {
			if r.Query.Kind != ask.KindRank || len(r.Rows) != 1 || byID[r.Rows[0].Key] == nil || byID[r.Rows[0].Key].AssetType != phantomos.AssetCharacter {
				t.Errorf("answer %+v: want the one top character", r)
			}
			if !strings.HasPrefix(r.Link, "/assets?") || !strings.Contains(r.Link, "range=qtd") {
				t.Errorf("link %q, want the Assets page this quarter", r.Link)
			}
		}},
		{"How is our villain performing compared to our hero?", func(t *testing.T, r result) {
			if len(r.Rows) != 2 || r.Rows[0].Label != demo.Villain || r.Rows[1].Label != demo.Hero {
				t.Errorf("rows %+v, want %s then %s", r.Rows, demo.Villain, demo.Hero)
			}
			if !strings.HasPrefix(r.Link, "/assets/compare?") || strings.Count(r.Link, "asset=") != 2 {
				t.Errorf("link %q, want the comparison of the two", r.Link)
			}
		}},
		{"What product categories should we expand into?", func(t *testing.T, r result) {
			if r.Query.Kind != ask.KindExpansion || len(r.Rows) == 0 || !strings.HasPrefix(r.Answer, "Expand ") {
				t.Errorf("answer %+v, want categories to expand into", r)
			}
		}},
	} {
		body, _ := json.Marshal(map[string]string{"question": c.question})
		req, _ := http.NewRequest(http.MethodPost, ts.URL+"/api/v1/ask", strings.NewReader(string(body)))
		req.Header.Set("Authorization", "Bearer "+tok)
		req.Header.Set("Content-Type", "application/json")
		st, out := do(t, req)
		if st != http.StatusOK {
			t.Fatalf("%q: status %d: %s", c.question, st, out)
		}
		var r result
		if err := json.Unmarshal([]byte(out), &r); err != nil {
			t.Fatal(err)
		}
		if !r.Understood || r.Interpreter != ask.InterpreterLocal || r.Answer == "" {
			t.Fatalf("%q: %s", c.question, out)
		}
		c.check(t, r)
		// The link opens the page it names.
		req, _ = http.NewRequest(http.MethodGet, ts.URL+r.Link, nil)
		req.AddCookie(cookie(t, s, analyst))
		if st, _ := do(t, req); st != http.StatusOK {
			t.Errorf("%q: link %s: status %d", c.question, r.Link, st)
		}
		// The page shows the same answer, and keeps the question.
		req, _ = http.NewRequest(http.MethodGet, ts.URL+"/ask?q="+url.QueryEscape(c.question), nil)
		req.AddCookie(cookie(t, s, analyst))
		st, page := do(t, req)
		if st != http.StatusOK || !strings.Contains(page, `id="answer"`) || !strings.Contains(page, `id="answer-link"`) {
			t.Errorf("%q: /ask status %d without the answer", c.question, st)
		}
	}
	recent, err := s.AskQuestions(ctx, pub.ID, analyst.ID)
	if err != nil || len(recent) != 6 && len(recent) != 3 {
		t.Errorf("recent questions %v, %v", recent, err)
	}
	// Not understood: said plainly, with suggestions, not an error.
	req, _ := http.NewRequest(http.MethodGet, ts.URL+"/ask?q="+url.QueryEscape("What's the weather?"), nil)
	req.AddCookie(cookie(t, s, analyst))
	if st, page := do(t, req); st != http.StatusOK || !strings.Contains(page, `id="not-understood"`) || !strings.Contains(page, "expand into") {
		t.Errorf("/ask with an unanswerable question: status %d, want the refusal with suggestions", st)
	}
	// Every page carries the question box.
	req, _ = http.NewRequest(http.MethodGet, ts.URL+"/overview", nil)
	req.AddCookie(cookie(t, s, analyst))
	if _, page := do(t, req); !strings.Contains(page, `action="/ask"`) {
		t.Error("the Overview has no question box")
	}
}
