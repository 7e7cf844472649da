package llm_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/phantomos/phantomos/internal/llm"
	"github.com/phantomos/phantomos/internal/llm/llmtest"
)

const (
	risingID    = "0195f0e2-1111-7000-8000-000000000001"
	decliningID = "0195f0e2-2222-7000-8000-000000000002"
	assetID     = "0195f0e2-aaaa-7000-8000-00000000000a"
)

func brief() *llm.Brief {
	return &llm.Brief{
		Publisher: "Nebula Forge Games", Currency: "USD", AsOf: "2026-03-15",
		Findings: []llm.Finding{
			{ID: risingID, Type: "trend_detection", Title: "Pixel is rising", Description: "Pixel's revenue grew on last year.",
				Confidence: 0.97, Suggestion: "Add Pixel products in collectibles.",
				Evidence: json.RawMessage(`{"subject": {"kind": "asset", "id": "` + assetID + `", "name": "Pixel"},
					"period": {"from": "2025-12-01", "to": "2026-02-28"},
					"figures": [{"label": "Attributed net revenue", "amount": 1234567}, {"label": "Same months last year", "amount": 666100}],
					"stats": [{"key": "change", "value": 0.8534, "unit": "fraction"}, {"key": "p_value", "value": 0.002, "unit": "p"},
						{"key": "share", "value": 0.0612, "unit": "fraction"}, {"key": "t", "value": 3.1, "unit": "number"}]}`)},
			{ID: decliningID, Type: "risk_alert", Title: "Sir Bramblewick is declining", Description: "Revenue fell.",
				Confidence: 0.99, Suggestion: "Reduce Sir Bramblewick stock.",
				Evidence: json.RawMessage(`{"figures": [{"amount": 250000}, {"amount": 900000}], "stats": [{"key": "change", "value": -0.7222, "unit": "fraction"}]}`)},
		},
	}
}

func answer(summary string, recs ...llm.Recommendation) string {
	b, _ := json.Marshal(map[string]any{"summary": summary, "recommendations": recs})
	return string(b)
}

// newNarrator returns the configured narrator against a fake API, and the
// log it writes.
func newNarrator(t *testing.T, replies ...llmtest.Reply) (llm.Narrator, *llmtest.Server, *bytes.Buffer) {
	t.Helper()
	fake := llmtest.NewServer(t, "sk-test-key", replies...)
	var logs bytes.Buffer
	n := llm.New(llm.Config{APIKey: "sk-test-key", BaseURL: fake.URL}, slog.New(slog.NewTextHandler(&logs, nil)))
	return n, fake, &logs
}

func localNarrative(t *testing.T) *llm.Narrative {
	t.Helper()
	n, err := llm.Local{}.Narrate(context.Background(), brief())
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func TestClaudeNarrativeAccepted(t *testing.T) {
	summary := "Sir Bramblewick's revenue fell 72% while Pixel grew 85% on last year, to $12,345.67 (about $12.3K) in December to February 2026."
	recs := []llm.Recommendation{
		{Text: "License Pixel for a collectibles line: it now carries 6.1% of revenue.", Findings: []string{risingID}},
		{Text: "Slow Sir Bramblewick reorders.", Findings: []string{decliningID, "0195f0e2-9999-7000-8000-000000000009"}},
		{Text: "Invented grounding.", Findings: []string{"not-a-finding"}},
	}
	n, fake, logs := newNarrator(t, llmtest.Reply{Text: answer(summary, recs...)})
	got, err := n.Narrate(context.Background(), brief())
	if err != nil {
		t.Fatal(err)
	}
	want := &llm.Narrative{Summary: summary, Source: llm.SourceLLM, Model: llm.DefaultModel, Recommendations: []llm.Recommendation{
		{Text: recs[0].Text, Findings: []string{risingID}},
		{Text: recs[1].Text, Findings: []string{decliningID}},
	}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("narrative (-want +got):\n%s\nlog: %s", diff, logs)
	}
	reqs := fake.Requests()
	if len(reqs) != 1 {
		t.Fatalf("%d requests, want 1", len(reqs))
	}
	r := reqs[0]
	if r.Header.Get("anthropic-version") == "" || (r.Header.Get("x-api-key") != "sk-test-key" && r.Header.Get("Authorization") != "Bearer sk-test-key") {
		t.Errorf("headers = %v", r.Header)
	}
	if r.Body.Model != llm.DefaultModel || r.Body.MaxTokens <= 0 || r.Body.MaxTokens > 2048 {
		t.Errorf("model %q, max_tokens %d", r.Body.Model, r.Body.MaxTokens)
	}
	sys := r.Body.SystemText()
	if !strings.Contains(sys, `"findings"`) || !strings.Contains(sys, "1234567") || !strings.Contains(sys, risingID) {
		t.Errorf("system prompt lacks the evidence JSON:\n%s", sys)
	}
	if !strings.Contains(string(r.Body.OutputConfig), `"json_schema"`) || !strings.Contains(string(r.Body.OutputConfig), `"recommendations"`) {
		t.Errorf("structured output not requested: %s", r.Body.OutputConfig)
	}
}

func TestClaudeFallsBackToLocal(t *testing.T) {
	valid := answer("Pixel grew 85% on last year.", llm.Recommendation{Text: "Expand Pixel.", Findings: []string{risingID}})
	for _, tc := range []struct {
		name    string
		replies []llmtest.Reply
		calls   int
		log     string
	}{
		{"invented number", []llmtest.Reply{{Text: answer("Pixel grew 40% on last year and will reach $2M.")}}, 1, `the number \"40%\" is not in the evidence`},
		{"invented number in a recommendation", []llmtest.Reply{{Text: answer("Pixel grew 85%.", llm.Recommendation{Text: "Make 40 new plush toys.", Findings: []string{risingID}})}}, 1, `the number \"40\"`},
		{"malformed JSON", []llmtest.Reply{{Text: `{"summary": "Pixel grew 85%", "recommendations": [`}}, 1, "not the JSON asked for"},
		{"prose instead of JSON", []llmtest.Reply{{Text: "Here is your summary: Pixel grew."}}, 1, "not the JSON asked for"},
		{"wrong fields", []llmtest.Reply{{Text: `{"summary": "Pixel grew.", "recommendations": [], "mood": "great"}`}}, 1, "unknown field"},
		{"empty summary", []llmtest.Reply{{Text: answer("  ")}}, 1, "no summary"},
		{"unknown id in the summary", []llmtest.Reply{{Text: answer("Asset 0195f0e2-9999-7000-8000-000000000009 is rising.")}}, 1, "unknown id"},
		{"truncated", []llmtest.Reply{{Text: valid, StopReason: "max_tokens"}}, 1, "max_tokens"},
		{"unauthorized", []llmtest.Reply{{Status: http.StatusUnauthorized, Message: "invalid x-api-key"}}, 1, "401"},
		{"overloaded every time", []llmtest.Reply{{Status: 529, RetryAfter: "0"}, {Status: 529, RetryAfter: "0"}, {Status: 529, RetryAfter: "0"}}, 3, "529"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n, fake, logs := newNarrator(t, tc.replies...)
			got, err := n.Narrate(context.Background(), brief())
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(localNarrative(t), got); diff != "" {
				t.Errorf("want the local narrative (-want +got):\n%s", diff)
			}
			if fake.Calls() != tc.calls {
				t.Errorf("%d calls to the API, want %d", fake.Calls(), tc.calls)
			}
			if !strings.Contains(logs.String(), "level=ERROR") || !strings.Contains(logs.String(), tc.log) {
				t.Errorf("log does not report the failure (%q):\n%s", tc.log, logs)
			}
		})
	}
}

func TestClaudeRetriesRateLimit(t *testing.T) {
	n, fake, logs := newNarrator(t,
		llmtest.Reply{Status: http.StatusTooManyRequests, Message: "Number of request tokens has exceeded your per-minute rate limit", RetryAfter: "0"},
		llmtest.Reply{Text: answer("Pixel grew 85% on last year.", llm.Recommendation{Text: "Expand Pixel.", Findings: []string{risingID}})})
	got, err := n.Narrate(context.Background(), brief())
	if err != nil {
		t.Fatal(err)
	}
	if got.Source != llm.SourceLLM || got.Summary != "Pixel grew 85% on last year." {
		t.Errorf("narrative = %+v, want Claude's after the retry; log: %s", got, logs)
	}
	if fake.Calls() != 2 || logs.Len() != 0 {
		t.Errorf("%d calls (want 2), log %q (want none)", fake.Calls(), logs)
	}
}

func TestFakeServerRejectsMalformedRequests(t *testing.T) {
	fake := llmtest.NewServer(t, "k", llmtest.Reply{Text: "never served"})
	for _, tc := range []struct {
		name, key, version, body string
		status                   int
		errType                  string
	}{
		{"no key", "", "2023-06-01", `{"model":"m","max_tokens":5,"messages":[{"role":"user","content":"hi"}]}`, 401, "authentication_error"},
		{"no version", "k", "", `{"model":"m","max_tokens":5,"messages":[{"role":"user","content":"hi"}]}`, 400, "invalid_request_error"},
		{"no model", "k", "2023-06-01", `{"max_tokens":5,"messages":[{"role":"user","content":"hi"}]}`, 400, "invalid_request_error"},
		{"no messages", "k", "2023-06-01", `{"model":"m","max_tokens":5,"messages":[]}`, 400, "invalid_request_error"},
		{"bad role", "k", "2023-06-01", `{"model":"m","max_tokens":5,"messages":[{"role":"robot","content":"hi"}]}`, 400, "invalid_request_error"},
	} {
		req, _ := http.NewRequest(http.MethodPost, fake.URL+"/v1/messages", strings.NewReader(tc.body))
		req.Header.Set("Content-Type", "application/json")
		if tc.key != "" {
			req.Header.Set("x-api-key", tc.key)
		}
		if tc.version != "" {
			req.Header.Set("anthropic-version", tc.version)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var e struct {
			Type  string
			Error struct{ Type, Message string }
		}
		json.NewDecoder(resp.Body).Decode(&e)
		resp.Body.Close()
		if resp.StatusCode != tc.status || e.Type != "error" || e.Error.Type != tc.errType || e.Error.Message == "" {
			t.Errorf("%s: %d %+v, want %d %s", tc.name, resp.StatusCode, e, tc.status, tc.errType)
		}
	}
	if len(fake.Requests()) != 0 {
		t.Errorf("malformed requests consumed a reply")
	}
}

func TestCheckNumbers(t *testing.T) {
	b := brief()
	for _, tc := range []struct {
		text string
		ok   bool
	}{
		{"Pixel earned $12,345.67.", true},
		{"Pixel earned $12,346.", true},
		{"Pixel earned $12.3K, up 85%.", true},
		{"Pixel earned about $12K.", true},
		{"Up 85.3% on last year.", true},
		{"Down 72%, p = 0.002, share 6.1%.", true},
		{"In December 2025 to February 2026.", true},
		{"Pixel earned $13,500.", false},
		{"Up 90% on last year.", false},
		{"Sales will double to 3 million units.", false},
		{"Pixel earned $1.2M.", false},
		{"Pixel made one of two top sellers.", true},
		{"Pixel almost doubled on last year.", true},
		{"Sir Bramblewick's revenue fell by almost three quarters.", true},
		{"Sir Bramblewick's revenue halved.", false},
		{"Revenue will triple next year.", false},
		{"Add seven plush toys.", false},
		{"Sales reached 1.2 million.", false},
	} {
		_, err := llm.Check(&llm.Narrative{Summary: tc.text}, b)
		if (err == nil) != tc.ok {
			t.Errorf("Check(%q) = %v, want ok %v", tc.text, err, tc.ok)
		}
	}
}

func TestLocalNarrative(t *testing.T) {
	got := localNarrative(t)
	if got.Source != llm.SourceLocal || !strings.HasPrefix(got.Summary, "Sir Bramblewick is declining. Pixel is rising.") {
		t.Errorf("summary = %q, want the risk first", got.Summary)
	}
	want := []llm.Recommendation{
		{Text: "Reduce Sir Bramblewick stock.", Findings: []string{decliningID}},
		{Text: "Add Pixel products in collectibles.", Findings: []string{risingID}},
	}
	if diff := cmp.Diff(want, got.Recommendations); diff != "" {
		t.Errorf("recommendations (-want +got):\n%s", diff)
	}
	empty, _ := llm.Local{}.Narrate(context.Background(), &llm.Brief{Currency: "USD"})
	if empty.Summary == "" || len(empty.Recommendations) != 0 {
		t.Errorf("empty brief: %+v", empty)
	}
	if _, err := llm.Check(got, brief()); err != nil {
		t.Errorf("the local narrative fails its own check: %v", err)
	}
}
