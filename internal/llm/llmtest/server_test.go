package llmtest_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/phantomos/phantomos/internal/llm/llmtest"
)

// post sends body to the fake as the SDK would and decodes the answer.
func post(t *testing.T, fake *llmtest.Server, body string) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, fake.URL+"/v1/messages", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("x-api-key", "k")
	req.Header.Set("anthropic-version", "2023-06-01")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var m map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&m); err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, m
}

const toolRequest = `{"model":"m","max_tokens":50,
	"tools":[{"name":"record_tags","input_schema":{"type":"object","properties":{"n":{"type":"integer"}}},"strict":true}],
	"tool_choice":{"type":"tool","name":"record_tags","disable_parallel_tool_use":true},
	"messages":[{"role":"user","content":[{"type":"text","text":"tag"},{"type":"image","source":{"type":"url","url":"https://cdn.example.com/a.png"}}]}]}`

func TestToolUseAnswer(t *testing.T) {
	fake := llmtest.NewServer(t, "k", llmtest.Reply{ToolInput: json.RawMessage(`{"n": 3}`)})
	status, m := post(t, fake, toolRequest)
	if status != 200 || m["stop_reason"] != "tool_use" {
		t.Fatalf("%d %v", status, m)
	}
	content := m["content"].([]any)
	if len(content) != 1 {
		t.Fatalf("content = %v, want one tool_use block", content)
	}
	block := content[0].(map[string]any)
	if block["type"] != "tool_use" || block["name"] != "record_tags" || !strings.HasPrefix(block["id"].(string), "toolu_") {
		t.Errorf("block = %v", block)
	}
	if in, _ := json.Marshal(block["input"]); string(in) != `{"n":3}` {
		t.Errorf("input = %s", in)
	}
	usage := m["usage"].(map[string]any)
	if usage["input_tokens"].(float64) < 1 || usage["output_tokens"].(float64) < 1 {
		t.Errorf("usage = %v", usage)
	}
	reqs := fake.Requests()
	if len(reqs) != 1 {
		t.Fatalf("%d requests recorded", len(reqs))
	}
	body := reqs[0].Body
	if len(body.Tools) != 1 || !body.Tools[0].Strict || body.ToolChoice == nil || body.ToolChoice.Name != "record_tags" || !body.ToolChoice.DisableParallelToolUse {
		t.Errorf("tools %+v, choice %+v", body.Tools, body.ToolChoice)
	}
	blocks := body.Blocks(0)
	if len(blocks) != 2 || blocks[1].Type != "image" || blocks[1].Source.URL != "https://cdn.example.com/a.png" {
		t.Errorf("blocks = %+v", blocks)
	}
}

func TestRespondAfterScript(t *testing.T) {
	fake := llmtest.NewServer(t, "k", llmtest.Reply{Text: "scripted"})
	fake.Respond(func(r llmtest.Request) llmtest.Reply { return llmtest.Reply{Text: "computed for " + r.Body.Model} })
	msg := `{"model":"m7","max_tokens":5,"messages":[{"role":"user","content":"hi"}]}`
	for _, want := range []string{"scripted", "computed for m7", "computed for m7"} {
		_, m := post(t, fake, msg)
		if got := m["content"].([]any)[0].(map[string]any)["text"]; got != want {
			t.Errorf("text = %v, want %q", got, want)
		}
	}
}

func TestRejectImages(t *testing.T) {
	fake := llmtest.NewServer(t, "k", llmtest.Reply{ToolInput: json.RawMessage(`{}`)})
	fake.RejectImages(func(u string) bool { return strings.Contains(u, "/a.png") })
	status, m := post(t, fake, toolRequest)
	e, _ := m["error"].(map[string]any)
	if status != 400 || e["type"] != "invalid_request_error" || e["message"] != "Could not process image" {
		t.Errorf("%d %v", status, m)
	}
	if len(fake.Requests()) != 1 {
		t.Errorf("the request was not recorded")
	}
	// The reply is still there for the next request.
	if status, _ := post(t, fake, strings.Replace(toolRequest, "/a.png", "/b.png", 1)); status != 200 {
		t.Errorf("status %d after an accepted image", status)
	}
}

func TestToolRequestValidation(t *testing.T) {
	fake := llmtest.NewServer(t, "k")
	user := `"messages":[{"role":"user","content":"hi"}]`
	for _, tc := range []struct{ name, body, msg string }{
		{"bad tool name", `{"model":"m","max_tokens":5,"tools":[{"name":"record tags","input_schema":{"type":"object"}}],` + user + `}`, "pattern"},
		{"no schema", `{"model":"m","max_tokens":5,"tools":[{"name":"t"}],` + user + `}`, "input_schema"},
		{"duplicate tool", `{"model":"m","max_tokens":5,"tools":[{"name":"t","input_schema":{"type":"object"}},{"name":"t","input_schema":{"type":"object"}}],` + user + `}`, "unique"},
		{"choice of a missing tool", `{"model":"m","max_tokens":5,"tools":[{"name":"t","input_schema":{"type":"object"}}],"tool_choice":{"type":"tool","name":"u"},` + user + `}`, "not found"},
		{"choice without tools", `{"model":"m","max_tokens":5,"tool_choice":{"type":"any"},` + user + `}`, "tool_choice"},
		{"image without source", `{"model":"m","max_tokens":5,"messages":[{"role":"user","content":[{"type":"image"}]}]}`, "source"},
		{"image of a relative URL", `{"model":"m","max_tokens":5,"messages":[{"role":"user","content":[{"type":"image","source":{"type":"url","url":"/a.png"}}]}]}`, "valid URL"},
		{"base64 of a bad type", `{"model":"m","max_tokens":5,"messages":[{"role":"user","content":[{"type":"image","source":{"type":"base64","media_type":"image/bmp","data":"AA=="}}]}]}`, "media_type"},
		{"empty text", `{"model":"m","max_tokens":5,"messages":[{"role":"user","content":[{"type":"text","text":""}]}]}`, "non-empty"},
		{"five breakpoints", `{"model":"m","max_tokens":5,"system":[` + strings.Repeat(`{"type":"text","text":"x","cache_control":{"type":"ephemeral"}},`, 4) + `{"type":"text","text":"y"}],"messages":[{"role":"user","content":[{"type":"text","text":"q","cache_control":{"type":"ephemeral"}}]}]}`, "maximum of 4"},
	} {
		status, m := post(t, fake, tc.body)
		e, _ := m["error"].(map[string]any)
		if status != 400 || e["type"] != "invalid_request_error" || !strings.Contains(e["message"].(string), tc.msg) {
			t.Errorf("%s: %d %v, want 400 mentioning %q", tc.name, status, m, tc.msg)
		}
	}
	if len(fake.Requests()) != 0 {
		t.Errorf("malformed requests were recorded")
	}
}

func TestPromptCaching(t *testing.T) {
	fake := llmtest.NewServer(t, "k")
	fake.Respond(func(llmtest.Request) llmtest.Reply { return llmtest.Reply{Text: "ok"} })
	system := strings.Repeat("catalogue line ", 400) // 6,000 bytes: 1,500 tokens
	body := func(question string, marked bool) string {
		cc := ""
		if marked {
			cc = `,"cache_control":{"type":"ephemeral"}`
		}
		return `{"model":"m","max_tokens":5,"system":[{"type":"text","text":"` + system + `"` + cc + `}],"messages":[{"role":"user","content":"` + question + `"}]}`
	}
	usage := func(b string) (in, created, read float64) {
		_, m := post(t, fake, b)
		u := m["usage"].(map[string]any)
		return u["input_tokens"].(float64), u["cache_creation_input_tokens"].(float64), u["cache_read_input_tokens"].(float64)
	}
	in1, c1, r1 := usage(body("first", true))
	in2, c2, r2 := usage(body("second, a longer question", true))
	in3, c3, r3 := usage(body("third", false))
	if c1 < llmtest.MinCacheTokens || r1 != 0 {
		t.Errorf("first: created %v read %v, want the prefix written", c1, r1)
	}
	if c2 != 0 || r2 != c1 || in2 <= in1 {
		t.Errorf("second: input %v created %v read %v, want the prefix (%v) read", in2, c2, r2, c1)
	}
	if c3 != 0 || r3 != 0 || in3 < c1 {
		t.Errorf("unmarked: input %v created %v read %v, want no caching", in3, c3, r3)
	}
	// A prefix under the minimum is not cached.
	short := `{"model":"m","max_tokens":5,"system":[{"type":"text","text":"short","cache_control":{"type":"ephemeral"}}],"messages":[{"role":"user","content":"q"}]}`
	usage(short)
	if _, c, r := usage(short); c != 0 || r != 0 {
		t.Errorf("short prefix: created %v read %v", c, r)
	}
}
