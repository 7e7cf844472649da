package ask

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/anthropics/anthropic-sdk-go/v2"

	"github.com/phantomos/phantomos"
	"github.com/phantomos/phantomos/internal/analytics"
	"github.com/phantomos/phantomos/internal/llm"
)

// DefaultClaudeModel is the Claude model that reads questions when none is
// configured: a fast current model, since a person waits for the answer.
const DefaultClaudeModel = anthropic.ModelClaudeHaiku5_5

// Bounds of a Claude interpretation.
const (
	// claudeMaxTokens caps the answer: a query is a few hundred tokens.
	claudeMaxTokens = 1024
	// claudeTimeout bounds one attempt; claudeDeadline the whole reading,
	// retries included.
	claudeTimeout  = 15 * time.Second
	claudeDeadline = 25 * time.Second
	// maxPromptAssets bounds the catalogue sent with a question.
	maxPromptAssets = 500
)

// Tool names: Claude answers with exactly one of them.
const (
	toolQuery  = "answer_query"
	toolRefuse = "cannot_answer"
)

// ClaudeConfig configures the Claude interpreter.
type ClaudeConfig struct {
	// APIKey is the Anthropic API key (ANTHROPIC_API_KEY).
	APIKey string
	// Model is the Claude model; "" means DefaultClaudeModel.
	Model string
	// BaseURL overrides the API address (tests point it at llmtest).
	BaseURL string
	// MaxTokens caps the answer; 0 means 1024.
	MaxTokens int64
	// Timeout bounds each attempt; 0 means 15 seconds. The whole reading,
	// retries included, is bounded by 25 seconds or ctx.
	Timeout time.Duration
	// MaxRetries is how often a rate-limited, overloaded or failed request
	// is retried; 0 means 1, negative means none.
	MaxRetries int
	// HTTPClient is the client to use; nil means the SDK's default.
	HTTPClient *http.Client
}

// Claude reads the questions the local interpreter cannot, with
// Anthropic's Messages API and tool use: the typed Query is the tool's
// input schema, so Claude only ever produces a Query, which is validated
// against the publisher's catalogue and run by the analytics code like
// the local interpreter's. Claude never sees a figure.
type Claude struct {
	client    anthropic.Client
	model     string
	maxTokens int64
}

// NewClaude returns the Claude interpreter of cfg. It reads nothing from
// the environment: the key and address are cfg's.
func NewClaude(cfg ClaudeConfig) *Claude {
	retries := cfg.MaxRetries
	if retries == 0 {
		retries = 1
	}
	timeout := cfg.Timeout
	if timeout <= 0 {
		timeout = claudeTimeout
	}
	c := &Claude{client: llm.NewClient(cfg.APIKey, cfg.BaseURL, retries, timeout, cfg.HTTPClient), model: cfg.Model, maxTokens: cfg.MaxTokens}
	if c.model == "" {
		c.model = DefaultClaudeModel
	}
	if c.maxTokens <= 0 {
		c.maxTokens = claudeMaxTokens
	}
	return c
}

// Model returns the Claude model used.
func (c *Claude) Model() string { return c.model }

// queryFieldsFromServer are the Query's fields Claude does not fill: the
// attribution model is always the publisher's, and the period's words come
// from the dates, never from a model's text.
var queryFieldsFromServer = []string{"attribution_model", "range_label"}

// QuerySchema returns the JSON schema of a Query as Claude fills it: the
// input schema of the answer_query tool. A test holds it to the Query type.
func QuerySchema() map[string]any {
	enum := func(desc string, values []string) map[string]any {
		return map[string]any{"type": "string", "enum": values, "description": desc}
	}
	ids := func(desc string) map[string]any {
		return map[string]any{"type": "array", "items": map[string]any{"type": "string"}, "maxItems": 20, "description": desc}
	}
	var ranges []string
	for _, p := range analytics.Presets {
		ranges = append(ranges, p.Key)
	}
	ranges = append(ranges, "custom")
	refKinds := append(slices.DeleteFunc(slices.Clone(Groupings), func(g string) bool { return g == GroupProduct }), RefTag)
	date := map[string]any{"type": "string", "pattern": `^\d{4}-\d{2}-\d{2}$`, "description": "YYYY-MM-DD, only with range custom; both ends included"}
	return map[string]any{
		"type": "object",
		"properties": map[string]any{
			"kind":     enum("The shape of the question.", Kinds),
			"measure":  enum("What is measured: net revenue, units, orders, or net revenue growth against the comparison period.", Measures),
			"group_by": enum("What a rank or change lists (required for kind rank and change).", Groupings),
			"subjects": map[string]any{
				"type":        "array",
				"maxItems":    6,
				"description": "The things the question is about, by id from the catalogue (compare needs two or more of one kind; share, trend and forecast take one).",
				"items": map[string]any{
					"type": "object",
					"properties": map[string]any{
						"kind": enum("What the id names; a tag stands for the top-earning asset carrying it.", refKinds),
						"id":   map[string]any{"type": "string", "description": "An id of the catalogue (asset, game IP), an asset type, category, channel or country code as listed, or a tag."},
					},
					"required":             []string{"kind", "id"},
					"additionalProperties": false,
				},
			},
			"filter": map[string]any{
				"type":        "object",
				"description": "Narrows the sales counted, by ids and keys of the catalogue.",
				"properties": map[string]any{
					"game_ips":    ids("Game IP ids."),
					"assets":      ids("Asset ids."),
					"asset_types": ids("Asset types; narrows asset rankings (\"which character\" is asset_types [character])."),
					"categories":  ids("Product categories."),
					"channels":    ids("Sales channels."),
					"countries":   ids("Country codes."),
				},
				"additionalProperties": false,
			},
			"range":   enum("The period: a preset (7d, 30d, 90d, 12m = the last 12 calendar months, qtd = quarter to date, ytd = year to date, lq = the last whole quarter) or custom with from and to.", ranges),
			"from":    date,
			"to":      date,
			"compare": enum("The comparison period: the previous equal period, the same dates a year earlier, or none.", []string{"previous", "year", "none"}),
			"order":   enum("top or bottom of a ranking.", []string{"top", "bottom"}),
			"limit":   map[string]any{"type": "integer", "minimum": 1, "maximum": MaxLimit, "description": "Rows of a ranking."},
		},
		"required":             []string{"kind", "measure", "filter", "range", "compare"},
		"additionalProperties": false,
	}
}

var refuseSchema = map[string]any{
	"type": "object",
	"properties": map[string]any{
		"reason": map[string]any{"type": "string", "maxLength": 300},
	},
	"required":             []string{"reason"},
	"additionalProperties": false,
}

const claudeInstructions = `You turn questions about a game publisher's merchandise sales into a typed query, by calling the answer_query tool. You never answer with figures: the analytics code computes the answer from the query.

Rules:
- Use only ids, names and keys of the catalogue below; never invent one. A tag stands for the top-earning asset carrying it ("our villain" is the tag villain).
- Read relative dates against today in the publisher's time zone. Prefer a preset range when it matches the question exactly; otherwise use range custom with from and to (both included). "Since launch" starts on the first sale day.
- Ranking by units is not possible for assets or asset types, nor ranking by orders for any grouping.
- If the question is not about these sales, or cannot be expressed as a query, call cannot_answer instead.

`

// promptCatalogue is the catalogue as Claude reads it: ids and names only
// of the publisher's own things.
func promptCatalogue(c *Catalogue, loc *time.Location, first phantomos.Day, now time.Time) ([]byte, error) {
	type asset struct {
		ID      string   `json:"id"`
		Name    string   `json:"name"`
		Type    string   `json:"asset_type"`
		GameIP  string   `json:"game_ip_id"`
		Aliases []string `json:"aliases,omitempty"`
		Tags    []string `json:"tags,omitempty"`
	}
	type gameIP struct {
		ID   string `json:"id"`
		Name string `json:"name"`
	}
	out := struct {
		Today        string   `json:"today"`
		TimeZone     string   `json:"time_zone"`
		FirstSaleDay string   `json:"first_sale_day,omitempty"`
		GameIPs      []gameIP `json:"game_ips"`
		Assets       []asset  `json:"assets"`
		AssetTypes   []string `json:"asset_types"`
		Categories   []string `json:"categories"`
		Channels     []string `json:"channels"`
		Countries    []string `json:"countries"`
	}{Today: string(phantomos.DayOf(now, loc)), TimeZone: loc.String(), FirstSaleDay: string(first),
		AssetTypes: assetTypes, Categories: c.Categories, Channels: c.Channels, Countries: c.Countries}
	for _, g := range c.GameIPs {
		out.GameIPs = append(out.GameIPs, gameIP{g.ID, g.Name})
	}
	for _, a := range c.Assets[:min(len(c.Assets), maxPromptAssets)] {
		out.Assets = append(out.Assets, asset{a.ID, a.Name, a.AssetType, a.GameIPID, a.Aliases, a.Tags})
	}
	return json.Marshal(out)
}

// Interpret asks Claude to turn question into a Query for catalogue c as
// of now in loc. It returns a *NotUnderstood when Claude says the question
// cannot be a query, an error when Claude could not be asked or its output
// is not a Query of the schema. The Query is not yet validated against c:
// Asker.Run does that, as for the local interpreter's.
func (c *Claude) Interpret(ctx context.Context, question string, cat *Catalogue, loc *time.Location, first phantomos.Day, now time.Time) (*Query, error) {
	if len(question) > MaxQuestion {
		return nil, phantomos.Errorf(phantomos.EINVALID, "The question is longer than %d characters.", MaxQuestion)
	}
	catalogue, err := promptCatalogue(cat, loc, first, now)
	if err != nil {
		return nil, fmt.Errorf("ask: claude: catalogue: %w", err)
	}
	ctx, cancel := context.WithTimeout(ctx, claudeDeadline)
	defer cancel()
	tool := anthropic.ToolUnionParamOfTool(anthropic.ToolInputSchemaParam{}, toolQuery)
	tool.OfTool.InputSchema = schemaParam(QuerySchema())
	tool.OfTool.Description = anthropic.String("Answer the question with this typed query over the publisher's sales.")
	refuse := anthropic.ToolUnionParamOfTool(schemaParam(refuseSchema), toolRefuse)
	refuse.OfTool.Description = anthropic.String("The question is not about these sales or cannot be expressed as a query.")
	msg, err := c.client.Messages.New(ctx, anthropic.MessageNewParams{
		Model:     c.model,
		MaxTokens: c.maxTokens,
		System:    []anthropic.TextBlockParam{{Text: claudeInstructions + "Catalogue (JSON):\n" + string(catalogue)}},
		Messages: []anthropic.MessageParam{
			anthropic.NewUserMessage(anthropic.NewTextBlock(question)),
		},
		Tools:      []anthropic.ToolUnionParam{tool, refuse},
		ToolChoice: anthropic.ToolChoiceUnionParam{OfAny: &anthropic.ToolChoiceAnyParam{DisableParallelToolUse: anthropic.Bool(true)}},
	})
	if err != nil {
		return nil, fmt.Errorf("ask: claude: %w", err)
	}
	if msg.StopReason != anthropic.StopReasonToolUse {
		return nil, fmt.Errorf("ask: claude stopped with %q, not with a tool call", msg.StopReason)
	}
	var calls []anthropic.ContentBlockUnion
	for _, b := range msg.Content {
		if b.Type == "tool_use" {
			calls = append(calls, b)
		}
	}
	if len(calls) != 1 {
		return nil, fmt.Errorf("ask: claude made %d tool calls, want one", len(calls))
	}
	switch calls[0].Name {
	case toolRefuse:
		return nil, &NotUnderstood{Reason: "Claude could not read it as a question about these sales either.", Interpreter: InterpreterClaude}
	case toolQuery:
	default:
		return nil, fmt.Errorf("ask: claude called an unknown tool %q", calls[0].Name)
	}
	return decodeClaudeQuery(calls[0].Input)
}

// decodeClaudeQuery reads a tool input as a Query: strictly, so that a
// field outside the schema refuses the whole reading.
func decodeClaudeQuery(input json.RawMessage) (*Query, error) {
	var q Query
	dec := json.NewDecoder(strings.NewReader(string(input)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&q); err != nil {
		return nil, fmt.Errorf("ask: claude's query is not of the schema: %w", err)
	}
	if dec.More() {
		return nil, fmt.Errorf("ask: claude's query has data after it")
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(input, &fields); err != nil {
		return nil, fmt.Errorf("ask: claude's query is not an object: %w", err)
	}
	for _, f := range queryFieldsFromServer {
		if _, ok := fields[f]; ok {
			return nil, fmt.Errorf("ask: claude's query sets %s, which is not its to set", f)
		}
	}
	for _, f := range QuerySchema()["required"].([]string) {
		if _, ok := fields[f]; !ok {
			return nil, fmt.Errorf("ask: claude's query lacks %s", f)
		}
	}
	return &q, nil
}

func schemaParam(s map[string]any) anthropic.ToolInputSchemaParam {
	p := anthropic.ToolInputSchemaParam{Properties: s["properties"], Required: s["required"].([]string)}
	p.ExtraFields = map[string]any{"additionalProperties": false}
	return p
}
