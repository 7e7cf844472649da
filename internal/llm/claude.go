package llm

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/anthropics/anthropic-sdk-go/v2"
	"github.com/anthropics/anthropic-sdk-go/v2/option"
)

// DefaultModel is the Claude model used when none is configured: a current
// model that answers a short structured request quickly.
const DefaultModel = anthropic.ModelClaudeSonnet5_5

// NewClient returns an Anthropic API client for key that reads nothing from
// the environment: baseURL ("" for Anthropic's) replaces the address,
// retries is how often a rate-limited, overloaded or failed request is
// retried (negative: never), timeout bounds each attempt, and hc (nil for
// the SDK's default) makes the requests. Every Claude caller builds its
// client here.
func NewClient(key, baseURL string, retries int, timeout time.Duration, hc *http.Client) anthropic.Client {
	opts := []option.RequestOption{
		option.WithoutEnvironmentDefaults(),
		option.WithAPIKey(key),
		option.WithMaxRetries(max(retries, 0)),
		option.WithRequestTimeout(timeout),
	}
	if baseURL != "" {
		opts = append(opts, option.WithBaseURL(baseURL))
	}
	if hc != nil {
		opts = append(opts, option.WithHTTPClient(hc))
	}
	return anthropic.NewClient(opts...)
}

// Claude narrates with Anthropic's Messages API through the official SDK.
type Claude struct {
	client    anthropic.Client
	model     string
	maxTokens int64
}

// NewClaude returns a Claude narrator for cfg (see Config for defaults). It
// reads nothing from the environment: the key and address are cfg's.
func NewClaude(cfg Config) *Claude {
	retries := cfg.MaxRetries
	if retries == 0 {
		retries = 2
	}
	timeout := cfg.Timeout
	if timeout == 0 {
		timeout = 30 * time.Second
	}
	c := &Claude{client: NewClient(cfg.APIKey, cfg.BaseURL, retries, timeout, cfg.HTTPClient), model: cfg.Model, maxTokens: cfg.MaxTokens}
	if c.model == "" {
		c.model = DefaultModel
	}
	if c.maxTokens <= 0 {
		c.maxTokens = 1024
	}
	return c
}

// instructions open the system prompt; the evidence follows them.
const instructions = `You write the summary and recommendations of a merchandise analytics report for a game publisher's licensing and merchandise team.

Use only the findings in the JSON below. They were computed from the publisher's sales by statistical tests; do not add facts, causes or figures of your own.
Rules:
- Every number you write must appear in the findings, written as it appears or rounded (values under keys ending in "amount" are minor units of the currency: 123456 with USD is $1,234.56; fractions such as 0.853 may be written as 85%). Do not compute new numbers such as sums, differences or ratios.
- The summary is 2 to 4 plain sentences for a busy executive: the most important risks first, then the strongest trends and opportunities.
- Give 2 to 5 recommendations: concrete, strategic actions (product lines to expand, licensing or marketing moves, inventory to reduce), each one sentence or two, each naming in finding_ids the ids of the findings it rests on.
- Answer with the JSON object only.

Findings (JSON):
`

// answerSchema is the structured output Claude is asked for.
var answerSchema = map[string]any{
	"type": "object",
	"properties": map[string]any{
		"summary": map[string]any{"type": "string"},
		"recommendations": map[string]any{
			"type": "array",
			"items": map[string]any{
				"type": "object",
				"properties": map[string]any{
					"text":        map[string]any{"type": "string"},
					"finding_ids": map[string]any{"type": "array", "items": map[string]any{"type": "string"}},
				},
				"required":             []string{"text", "finding_ids"},
				"additionalProperties": false,
			},
		},
	},
	"required":             []string{"summary", "recommendations"},
	"additionalProperties": false,
}

// Narrate asks Claude for the narrative of b and checks it (see Check). The
// system prompt holds the instructions and b as JSON, nothing else.
func (c *Claude) Narrate(ctx context.Context, b *Brief) (*Narrative, error) {
	evidence, err := json.Marshal(b)
	if err != nil {
		return nil, fmt.Errorf("llm: brief: %w", err)
	}
	msg, err := c.client.Messages.New(ctx, anthropic.MessageNewParams{
		Model:     c.model,
		MaxTokens: c.maxTokens,
		System:    []anthropic.TextBlockParam{{Text: instructions + string(evidence)}},
		Messages: []anthropic.MessageParam{
			anthropic.NewUserMessage(anthropic.NewTextBlock("Write the summary and the recommendations as the JSON object described.")),
		},
		OutputConfig: anthropic.OutputConfigParam{Format: anthropic.JSONOutputFormatParam{Schema: answerSchema}},
	})
	if err != nil {
		return nil, fmt.Errorf("llm: claude: %w", err)
	}
	if msg.StopReason != anthropic.StopReasonEndTurn {
		return nil, fmt.Errorf("llm: claude stopped with %q, not at the end of its answer", msg.StopReason)
	}
	var text strings.Builder
	for _, block := range msg.Content {
		if block.Type == "text" {
			text.WriteString(block.Text)
		}
	}
	var answer struct {
		Summary         *string          `json:"summary"`
		Recommendations []Recommendation `json:"recommendations"`
	}
	dec := json.NewDecoder(strings.NewReader(strings.TrimSpace(text.String())))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&answer); err != nil {
		return nil, fmt.Errorf("llm: claude answer is not the JSON asked for: %w", err)
	}
	if dec.More() {
		return nil, fmt.Errorf("llm: claude answer has text after its JSON")
	}
	if answer.Summary == nil {
		return nil, fmt.Errorf("llm: claude answer has no summary")
	}
	return Check(&Narrative{Summary: *answer.Summary, Recommendations: answer.Recommendations, Source: SourceLLM, Model: c.model}, b)
}
