package ask_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/phantomos/phantomos"
	"github.com/phantomos/phantomos/internal/ask"
	"github.com/phantomos/phantomos/internal/demo"
	"github.com/phantomos/phantomos/internal/llm/llmtest"
	"github.com/phantomos/phantomos/internal/store"
	"github.com/phantomos/phantomos/internal/store/storetest"
)

// TestQuerySchemaMatchesQuery holds the answer_query tool's input schema
// to the Query Go type: every JSON field of Query (and of its nested
// Filter and Ref) is a property of the schema with the matching JSON type,
// except the fields the server fills, and the required properties are the
// fields without omitempty. The enums are the package's own lists.
func TestQuerySchemaMatchesQuery(t *testing.T) {
	schema := ask.QuerySchema()
	serverFilled := []string{"attribution_model", "range_label"}
	var check func(path string, typ reflect.Type, s map[string]any, skip []string)
	check = func(path string, typ reflect.Type, s map[string]any, skip []string) {
		if s["type"] != "object" || s["additionalProperties"] != false {
			t.Errorf("%s: schema type %v, additionalProperties %v, want a closed object", path, s["type"], s["additionalProperties"])
		}
		props, _ := s["properties"].(map[string]any)
		var fields, required []string
		for i := range typ.NumField() {
			f := typ.Field(i)
			tag := strings.Split(f.Tag.Get("json"), ",")
			name := tag[0]
			if name == "" || name == "-" {
				t.Fatalf("%s.%s has no JSON name", path, f.Name)
			}
			if slices.Contains(skip, name) {
				if _, ok := props[name]; ok {
					t.Errorf("%s.%s is the server's to fill, yet in the schema", path, name)
				}
				continue
			}
			fields = append(fields, name)
			if !slices.Contains(tag[1:], "omitempty") {
				required = append(required, name)
			}
			p, ok := props[name].(map[string]any)
			if !ok {
				t.Errorf("%s.%s is not in the schema", path, name)
				continue
			}
			want := map[reflect.Kind]string{reflect.String: "string", reflect.Int: "integer", reflect.Slice: "array", reflect.Struct: "object"}[f.Type.Kind()]
			if p["type"] != want {
				t.Errorf("%s.%s: schema type %v, want %s", path, name, p["type"], want)
			}
			switch f.Type.Kind() {
			case reflect.Struct:
				check(path+"."+name, f.Type, p, nil)
			case reflect.Slice:
				items, _ := p["items"].(map[string]any)
				if f.Type.Elem().Kind() == reflect.Struct {
					check(path+"."+name+"[]", f.Type.Elem(), items, nil)
				} else if items["type"] != "string" {
					t.Errorf("%s.%s: items of type %v, want string", path, name, items["type"])
				}
			}
		}
		var inSchema []string
		for k := range props {
			inSchema = append(inSchema, k)
		}
		sort.Strings(fields)
		sort.Strings(inSchema)
		if !slices.Equal(fields, inSchema) {
			t.Errorf("%s: schema properties %v, Go fields %v", path, inSchema, fields)
		}
		req, _ := s["required"].([]string)
		req = slices.Clone(req)
		sort.Strings(req)
		sort.Strings(required)
		if !slices.Equal(req, required) {
			t.Errorf("%s: schema requires %v, Go fields without omitempty %v", path, req, required)
		}
	}
	check("Query", reflect.TypeFor[ask.Query](), schema, serverFilled)
	props := schema["properties"].(map[string]any)
	for name, list := range map[string][]string{"kind": ask.Kinds, "measure": ask.Measures, "group_by": ask.Groupings} {
		if got := props[name].(map[string]any)["enum"]; !reflect.DeepEqual(got, list) {
			t.Errorf("%s enum %v, want %v", name, got, list)
		}
	}
	if got := props["limit"].(map[string]any)["maximum"]; got != ask.MaxLimit {
		t.Errorf("limit maximum %v, want %d", got, ask.MaxLimit)
	}
}

// claudeDemo loads a small demo and returns its Asker using Claude through
// the fake Messages API.
func claudeDemo(t *testing.T, s *store.Store, cfg ask.ClaudeConfig) (*ask.Asker, *llmtest.Server, map[string]*phantomos.Asset) {
	t.Helper()
	ctx := context.Background()
	pub, err := demo.Load(ctx, s, demo.Options{Sales: 3_000, Seed: 42, Now: testNow}, nil)
	if err != nil {
		t.Fatal(err)
	}
	a, err := ask.New(ctx, s, pub, func() time.Time { return testNow })
	if err != nil {
		t.Fatal(err)
	}
	fake := llmtest.NewServer(t, "sk-ant-test")
	cfg.APIKey, cfg.BaseURL = "sk-ant-test", fake.URL
	a.UseClaude(ask.NewClaude(cfg))
	byName := map[string]*phantomos.Asset{}
	for _, as := range a.Catalogue().Assets {
		byName[as.Name] = as
	}
	return a, fake, byName
}

// slang is a question the local interpreter does not read.
const slang = "yo how'd the baddie do next to the good guy, give me the lowdown"

func TestClaudeInterprets(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		a, fake, byName := claudeDemo(t, s, ask.ClaudeConfig{Model: "claude-test-model"})
		// The local interpreter refuses the question: that is what sends it
		// to Claude.
		if _, err := a.Interpreter().Interpret(slang, testNow); err == nil {
			t.Fatalf("the local interpreter reads %q: pick another question", slang)
		}
		villain, hero := byName[demo.Villain], byName[demo.Hero]
		input := fmt.Sprintf(`{"kind":"compare","measure":"revenue","subjects":[{"kind":"asset","id":%q},{"kind":"asset","id":%q}],"filter":{},"range":"qtd","compare":"previous"}`, villain.ID, hero.ID)
		fake.Push(llmtest.Reply{ToolInput: json.RawMessage(input), ToolName: "answer_query"})
		ans, err := a.Ask(ctx, slang)
		if err != nil {
			t.Fatal(err)
		}
		if ans.Interpreter != ask.InterpreterClaude || ans.Query.Kind != ask.KindCompare || len(ans.Rows) != 2 || ans.Rows[0].Label != demo.Villain {
			t.Fatalf("answer %+v", ans)
		}
		// The figures are the analytics code's: the same query run directly
		// gives the same rows.
		var q ask.Query
		json.Unmarshal([]byte(input), &q)
		direct, err := a.Run(ctx, &q)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(direct.Rows, ans.Rows) || ans.Query.Model == "" {
			t.Errorf("rows %+v, run directly %+v (model %q)", ans.Rows, direct.Rows, ans.Query.Model)
		}
		// The request: the configured model, bounded tokens, the query tool
		// with the schema and a refusal tool, one call forced, the question
		// as the user's message, the publisher's catalogue and no figure.
		reqs := fake.Requests()
		if len(reqs) != 1 {
			t.Fatalf("%d requests, want 1", len(reqs))
		}
		body := reqs[0].Body
		if body.Model != "claude-test-model" || body.MaxTokens != 1024 {
			t.Errorf("model %q, max_tokens %d", body.Model, body.MaxTokens)
		}
		if len(body.Tools) != 2 || body.Tools[0].Name != "answer_query" || body.Tools[1].Name != "cannot_answer" ||
			body.ToolChoice == nil || body.ToolChoice.Type != "any" || !body.ToolChoice.DisableParallelToolUse {
			t.Fatalf("tools %+v, tool_choice %+v", body.Tools, body.ToolChoice)
		}
		var sent map[string]any
		if err := json.Unmarshal(body.Tools[0].InputSchema, &sent); err != nil {
			t.Fatal(err)
		}
		want, _ := json.Marshal(ask.QuerySchema())
		var wantSchema map[string]any
		json.Unmarshal(want, &wantSchema)
		if !reflect.DeepEqual(sent, wantSchema) {
			t.Errorf("input_schema sent %v, want QuerySchema", sent)
		}
		if b := body.Blocks(0); len(b) != 1 || b[0].Text != slang {
			t.Errorf("user message %+v", b)
		}
		sys := body.SystemText()
		if !strings.Contains(sys, villain.ID) || !strings.Contains(sys, `"today":"2026-12-06"`) || strings.Contains(sys, "net_") {
			t.Errorf("system prompt lacks the catalogue or has figures: %.300s", sys)
		}
		// A question the local interpreter reads never goes to Claude.
		if _, err := a.Ask(ctx, "Which character generated the most revenue this quarter?"); err != nil {
			t.Fatal(err)
		}
		if n := fake.Calls(); n != 1 {
			t.Errorf("%d calls to Claude, want 1", n)
		}
	})
}

// TestClaudeRefused: whatever Claude answers that is not a valid query of
// the publisher's catalogue is refused, never run; so are failures of the
// API, after a bounded retry.
func TestClaudeRefused(t *testing.T) {
	s := storetest.New(t, store.SQLite)
	ctx := context.Background()
	a, fake, _ := claudeDemo(t, s, ask.ClaudeConfig{Timeout: 500 * time.Millisecond})
	// Another publisher's asset in the same database: a real id, not this
	// publisher's.
	otherPub := &phantomos.Publisher{Name: "Other Games", Slug: "other-games"}
	if err := s.CreatePublisher(ctx, otherPub); err != nil {
		t.Fatal(err)
	}
	otherIP := &phantomos.GameIP{Name: "Other Saga", Slug: "other-saga"}
	if err := s.CreateGameIP(ctx, otherPub.ID, otherIP); err != nil {
		t.Fatal(err)
	}
	otherAsset := &phantomos.Asset{GameIPID: otherIP.ID, Name: "Other Secret Hero", AssetType: phantomos.AssetCharacter, Tags: []string{"hero"}}
	if err := s.CreateAsset(ctx, otherPub.ID, otherAsset); err != nil {
		t.Fatal(err)
	}
	q := func(s string) llmtest.Reply {
		return llmtest.Reply{ToolInput: json.RawMessage(s), ToolName: "answer_query"}
	}
	for _, c := range []struct {
		name    string
		replies []llmtest.Reply
		reason  string // in the refusal
		calls   int
	}{
		{"asset of another publisher", []llmtest.Reply{q(`{"kind":"trend","measure":"revenue","subjects":[{"kind":"asset","id":"` + otherAsset.ID + `"}],"filter":{},"range":"12m","compare":"none"}`)}, "refused: subjects[0]", 1},
		{"unknown kind", []llmtest.Reply{q(`{"kind":"poem","measure":"revenue","filter":{},"range":"12m","compare":"none"}`)}, "Unknown kind", 1},
		{"units of assets", []llmtest.Reply{q(`{"kind":"rank","measure":"units","group_by":"asset","filter":{},"range":"12m","compare":"none","limit":3}`)}, "Units are not attributed", 1},
		{"bad range", []llmtest.Reply{q(`{"kind":"total","measure":"revenue","filter":{},"range":"forever","compare":"none"}`)}, "Unknown range", 1},
		{"field outside the schema", []llmtest.Reply{q(`{"kind":"total","measure":"revenue","filter":{},"range":"12m","compare":"none","attribution_model":"equal"}`)}, "gave no usable reading", 1},
		{"invented field", []llmtest.Reply{q(`{"kind":"total","measure":"revenue","filter":{},"range":"12m","compare":"none","answer":1234}`)}, "gave no usable reading", 1},
		{"wrong type", []llmtest.Reply{q(`{"kind":"rank","measure":"revenue","group_by":"asset","filter":{},"range":"12m","compare":"none","limit":"five"}`)}, "gave no usable reading", 1},
		{"missing field", []llmtest.Reply{q(`{"kind":"total","measure":"revenue","range":"12m"}`)}, "gave no usable reading", 1},
		{"text instead of a tool call", []llmtest.Reply{{Text: "Revenue was $1,000,000."}}, "gave no usable reading", 1},
		{"cannot answer", []llmtest.Reply{{ToolInput: json.RawMessage(`{"reason":"about the weather"}`), ToolName: "cannot_answer"}}, "could not read it", 1},
		{"overloaded twice", []llmtest.Reply{{Status: 529}, {Status: 529}}, "gave no usable reading", 2},
		{"server error twice", []llmtest.Reply{{Status: 500}, {Status: 503}}, "gave no usable reading", 2},
		{"rate limited twice", []llmtest.Reply{{Status: 429, RetryAfter: "0"}, {Status: 429, RetryAfter: "0"}}, "gave no usable reading", 2},
	} {
		t.Run(c.name, func(t *testing.T) {
			before := fake.Calls()
			fake.Push(c.replies...)
			ans, err := a.Ask(ctx, slang)
			var nu *ask.NotUnderstood
			if !errors.As(err, &nu) {
				t.Fatalf("answer %+v, err %v: want a refusal", ans, err)
			}
			if nu.Interpreter != ask.InterpreterClaude || !strings.Contains(nu.Reason, c.reason) {
				t.Errorf("refusal %+v, want %q in it", nu, c.reason)
			}
			if strings.Contains(nu.Reason, "1,000,000") || strings.Contains(nu.Reason, "weather") {
				t.Errorf("refusal repeats Claude's text: %q", nu.Reason)
			}
			if n := fake.Calls() - before; n != c.calls {
				t.Errorf("%d calls, want %d", n, c.calls)
			}
		})
	}
	// A rate limit or an overload retried once then answered.
	for _, status := range []int{429, 529} {
		before := fake.Calls()
		fake.Push(llmtest.Reply{Status: status, RetryAfter: "0"}, q(`{"kind":"total","measure":"revenue","filter":{},"range":"ytd","compare":"none"}`))
		ans, err := a.Ask(ctx, slang)
		if err != nil || ans.Interpreter != ask.InterpreterClaude || ans.Query.Kind != ask.KindTotal {
			t.Errorf("after a %d: %+v, %v", status, ans, err)
		}
		if n := fake.Calls() - before; n != 2 {
			t.Errorf("after a %d: %d calls, want 2", status, n)
		}
	}
	// A Claude slower than the timeout is given up on.
	slow := llmtest.NewServer(t, "sk-ant-test")
	slow.Respond(func(llmtest.Request) llmtest.Reply {
		time.Sleep(1500 * time.Millisecond)
		return q(`{"kind":"total","measure":"revenue","filter":{},"range":"ytd","compare":"none"}`)
	})
	a.UseClaude(ask.NewClaude(ask.ClaudeConfig{APIKey: "sk-ant-test", BaseURL: slow.URL, Timeout: 300 * time.Millisecond, MaxRetries: -1}))
	start := time.Now()
	_, err := a.Ask(ctx, slang)
	var nu *ask.NotUnderstood
	if !errors.As(err, &nu) || nu.Cause == nil || time.Since(start) > 1200*time.Millisecond {
		t.Errorf("slow Claude: %v after %s, want a refusal at the timeout", err, time.Since(start))
	}
	// A question longer than the bound never reaches Claude.
	before := slow.Calls()
	if _, err := a.Ask(ctx, strings.Repeat("lowdown ", ask.MaxQuestion)); err == nil {
		t.Error("an over-long question was answered")
	}
	if slow.Calls() != before {
		t.Error("an over-long question reached Claude")
	}
}
