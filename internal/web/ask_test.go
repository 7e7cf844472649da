package web

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/phantomos/phantomos"
	"github.com/phantomos/phantomos/internal/ask"
	"github.com/phantomos/phantomos/internal/auth"
	"github.com/phantomos/phantomos/internal/config"
	"github.com/phantomos/phantomos/internal/demo"
	"github.com/phantomos/phantomos/internal/llm/llmtest"
	"github.com/phantomos/phantomos/internal/store"
	"github.com/phantomos/phantomos/internal/store/storetest"
)

// TestAskDemo asks the three questions of issue 19 on the demo through
// POST /api/v1/ask with an analyst API key and through the /ask page, and
// follows each answer's link. The figures themselves are checked against
// naive SQL by the evaluation in internal/ask, which holds these questions.
func TestAskDemo(t *testing.T) {
	storetest.ForEachDialect(t, testAskDemo)
}

func testAskDemo(t *testing.T, s *store.Store) {
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

// TestAskClaudeAPI: with ANTHROPIC_API_KEY, a question the local
// interpreter cannot read goes to Claude (the fake Messages API), whose
// query is validated and run like the local one's; the answer says Claude
// understood it. A reading naming another publisher's asset is refused and
// the answer names nothing of it; an overloaded Claude leaves the local
// refusal standing.
func TestAskClaudeAPI(t *testing.T) {
	s := storetest.New(t, store.SQLite)
	ctx := context.Background()
	pub, err := demo.Load(ctx, s, demo.Options{Sales: 2_000, Seed: 42, Now: ask.EvalClock}, nil)
	if err != nil {
		t.Fatal(err)
	}
	other := newTenant(t, s, "ask-other")
	otherIP := &phantomos.GameIP{Name: "Secret Saga", Slug: "secret-saga"}
	if err := s.CreateGameIP(ctx, other.pub.ID, otherIP); err != nil {
		t.Fatal(err)
	}
	otherAsset := &phantomos.Asset{GameIPID: otherIP.ID, Name: "Secret Other Hero", AssetType: phantomos.AssetCharacter}
	if err := s.CreateAsset(ctx, other.pub.ID, otherAsset); err != nil {
		t.Fatal(err)
	}
	fake := llmtest.NewServer(t, "sk-ant-web")
	srv, err := New(s, config.Config{Signup: "open", AnthropicAPIKey: "sk-ant-web", AnthropicModel: "claude-web-test", AnthropicBaseURL: fake.URL},
		slog.New(slog.NewTextHandler(io.Discard, nil)), "test")
	if err != nil {
		t.Fatal(err)
	}
	srv.SetClock(func() time.Time { return ask.EvalClock })
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(ts.Close)
	analyst := &phantomos.User{Email: "analyst@claude.test", Name: "Analyst", Role: phantomos.RoleAnalyst}
	if err := s.CreateUser(ctx, pub.ID, analyst, ""); err != nil {
		t.Fatal(err)
	}
	tok := apiKeyPrefix + auth.NewToken()
	if _, err := s.CreateAPIKey(ctx, pub.ID, analyst.ID, "ask", tok[:10], auth.HashToken(tok), phantomos.RoleAnalyst); err != nil {
		t.Fatal(err)
	}
	askAPI := func(question string) map[string]any {
		t.Helper()
		body, _ := json.Marshal(map[string]string{"question": question})
		req, _ := http.NewRequest(http.MethodPost, ts.URL+"/api/v1/ask", strings.NewReader(string(body)))
		req.Header.Set("Authorization", "Bearer "+tok)
		req.Header.Set("Content-Type", "application/json")
		st, out := do(t, req)
		if st != http.StatusOK {
			t.Fatalf("%q: status %d: %s", question, st, out)
		}
		var res map[string]any
		if err := json.Unmarshal([]byte(out), &res); err != nil {
			t.Fatal(err)
		}
		return res
	}
	const slang = "gimme the lowdown on the dough we raked in, chief"
	fake.Push(llmtest.Reply{ToolName: "answer_query", ToolInput: json.RawMessage(`{"kind":"total","measure":"revenue","filter":{},"range":"ytd","compare":"previous"}`)})
	res := askAPI(slang)
	if res["understood"] != true || res["interpreter"] != ask.InterpreterClaude || !strings.Contains(res["answer"].(string), "year to date") {
		t.Errorf("answer %v: want Claude's reading, answered", res)
	}
	if reqs := fake.Requests(); len(reqs) != 1 || reqs[0].Body.Model != "claude-web-test" {
		t.Errorf("requests %+v, want one with the configured model", reqs)
	}
	// A local question is answered locally, and says so.
	if res := askAPI("Which character generated the most revenue this quarter?"); res["interpreter"] != ask.InterpreterLocal || fake.Calls() != 1 {
		t.Errorf("local question: interpreter %v, %d calls to Claude", res["interpreter"], fake.Calls())
	}
	// Claude naming another publisher's asset: refused, nothing of it shown.
	fake.Push(llmtest.Reply{ToolName: "answer_query", ToolInput: json.RawMessage(`{"kind":"trend","measure":"revenue","subjects":[{"kind":"asset","id":"` + otherAsset.ID + `"}],"filter":{},"range":"12m","compare":"none"}`)})
	res = askAPI("how's Secret Other Hero doing, chief")
	out, _ := json.Marshal(res)
	if res["understood"] != false || res["interpreter"] != ask.InterpreterClaude || strings.Contains(string(out), "Secret Saga") {
		t.Errorf("another publisher's asset: %s", out)
	}
	for _, r := range fake.Requests() {
		if sys := r.Body.SystemText(); strings.Contains(sys, "Secret") || strings.Contains(sys, otherAsset.ID) || !strings.Contains(sys, demo.Villain) {
			t.Errorf("Claude was sent another publisher's catalogue, or not this one's: %.300s", sys)
		}
	}
	// Overloaded: the local refusal stands, with suggestions.
	fake.Push(llmtest.Reply{Status: 529}, llmtest.Reply{Status: 529})
	res = askAPI(slang)
	if res["understood"] != false || res["suggestions"] == nil {
		t.Errorf("overloaded Claude: %v", res)
	}
	// The page says which interpreter understood the question.
	fake.Push(llmtest.Reply{ToolName: "answer_query", ToolInput: json.RawMessage(`{"kind":"total","measure":"units","filter":{},"range":"lq","compare":"none"}`)})
	req, _ := http.NewRequest(http.MethodGet, ts.URL+"/ask?q="+url.QueryEscape(slang), nil)
	req.AddCookie(cookie(t, s, analyst))
	if st, page := do(t, req); st != http.StatusOK || !strings.Contains(page, "understood by the claude interpreter") {
		t.Errorf("/ask with Claude: status %d, page does not name Claude", st)
	}
}

// TestAskCatalogueFollowsData: the catalogue a question is read against is
// cached per data version, so an asset created after a question is known
// to the next one.
func TestAskCatalogueFollowsData(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		tn := newTenant(t, s, "ask-cache")
		_, ts := newTestServer(t, s)
		asked := func() map[string]any {
			t.Helper()
			req := request(t, ts, "POST /api/v1/ask", "")
			req.Body = io.NopCloser(strings.NewReader(`{"question": "trend of Zorblax this year"}`))
			req.Header.Set("Content-Type", "application/json")
			req.AddCookie(cookie(t, s, tn.users[phantomos.RoleAnalyst]))
			st, body := do(t, req)
			if st != http.StatusOK {
				t.Fatalf("status %d: %s", st, body)
			}
			var res map[string]any
			if err := json.Unmarshal([]byte(body), &res); err != nil {
				t.Fatal(err)
			}
			return res
		}
		if res := asked(); res["understood"] != false {
			t.Fatalf("Zorblax known before it exists: %v", res)
		}
		ip := &phantomos.GameIP{Name: "Cache Saga", Slug: "cache-saga"}
		if err := s.CreateGameIP(ctx, tn.pub.ID, ip); err != nil {
			t.Fatal(err)
		}
		if err := s.CreateAsset(ctx, tn.pub.ID, &phantomos.Asset{GameIPID: ip.ID, Name: "Zorblax", AssetType: phantomos.AssetCharacter}); err != nil {
			t.Fatal(err)
		}
		if res := asked(); res["understood"] != true || res["interpreter"] != ask.InterpreterLocal {
			t.Errorf("Zorblax unknown after it was created: %v", res)
		}
	})
}
