// Package llm writes the narrative of PhantomOS's intelligence: a short
// summary of what the detectors found and the recommendations that follow.
//
// A Narrator receives a Brief, which holds only what the local engines
// computed (findings with their evidence), and returns a Narrative. The
// Local narrator works offline from templates. The Claude narrator asks
// Anthropic's Messages API (official SDK) for the same JSON and checks the
// answer: malformed output is rejected, every number in its text must come
// from the evidence, and references to unknown findings are dropped. New
// returns Claude guarded by the Local narrator when an API key is
// configured, so that a failure or a rejected answer never leaves a page
// without its narrative.
package llm

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"time"
)

// Sources of a narrative, matching the insight sources of the store.
const (
	SourceLocal = "local"
	SourceLLM   = "llm"
)

// Finding is one detected insight as a narrator sees it: its text, its
// confidence and its evidence, the only facts the narrative may use.
type Finding struct {
	ID          string          `json:"id"`
	Type        string          `json:"type"`
	Title       string          `json:"title"`
	Description string          `json:"description"`
	Confidence  float64         `json:"confidence"`
	Evidence    json.RawMessage `json:"evidence"`
	// Suggestion is the local engine's recommendation for the finding, ""
	// when it has none.
	Suggestion string `json:"suggestion,omitempty"`
}

// Brief is everything a narrator is given.
type Brief struct {
	Publisher string    `json:"publisher"`
	Currency  string    `json:"currency"`
	AsOf      string    `json:"as_of"` // YYYY-MM-DD
	Findings  []Finding `json:"findings"`
}

// Recommendation is one piece of advice, grounded on the findings it names.
type Recommendation struct {
	Text     string   `json:"text"`
	Findings []string `json:"finding_ids"`
}

// Narrative is a summary and recommendations.
type Narrative struct {
	Summary         string           `json:"summary"`
	Recommendations []Recommendation `json:"recommendations"`
	// Source is SourceLocal or SourceLLM; Model names the language model.
	Source string `json:"source"`
	Model  string `json:"model,omitempty"`
}

// Narrator writes a narrative from a brief.
type Narrator interface {
	Narrate(ctx context.Context, b *Brief) (*Narrative, error)
}

// Config chooses the narrator.
type Config struct {
	// APIKey is the Anthropic API key; without one the narrator is local.
	APIKey string
	// Model is the Claude model; "" means DefaultModel.
	Model string
	// BaseURL overrides the API address (tests point it at llmtest).
	BaseURL string
	// MaxTokens caps the answer; 0 means 1024.
	MaxTokens int64
	// MaxRetries is how often a rate-limited or overloaded request is
	// retried; 0 means 2, negative means none.
	MaxRetries int
	// Timeout bounds each attempt; 0 means 30 seconds.
	Timeout time.Duration
	// HTTPClient is the client to use; nil means the SDK's default.
	HTTPClient *http.Client
}

// New returns the narrator cfg asks for: the Local narrator without an API
// key, else Claude guarded by the Local narrator, which logs to logger why
// it fell back.
func New(cfg Config, logger *slog.Logger) Narrator {
	if cfg.APIKey == "" {
		return Local{}
	}
	return Guarded{Primary: NewClaude(cfg), Fallback: Local{}, Logger: logger}
}

// Guarded uses Primary and, when it fails, Fallback, logging the failure.
type Guarded struct {
	Primary  Narrator
	Fallback Narrator
	Logger   *slog.Logger
}

// Narrate returns Primary's narrative, or Fallback's when Primary fails or
// its answer does not pass Check.
func (g Guarded) Narrate(ctx context.Context, b *Brief) (*Narrative, error) {
	n, err := g.Primary.Narrate(ctx, b)
	if err == nil {
		n, err = Check(n, b)
	}
	if err == nil {
		return n, nil
	}
	if g.Logger != nil {
		g.Logger.Error("llm: narrative not used, falling back to the local one", "err", err)
	}
	return g.Fallback.Narrate(ctx, b)
}

// Describe says in plain words where narratives come from under cfg.
func Describe(cfg Config) string {
	if cfg.APIKey == "" {
		// Said to every reader: how the key is set is the operator's
		// business, shown to owners in Settings (web's organization page).
		return "Narratives are written by the local engine from the evidence below."
	}
	model := cfg.Model
	if model == "" {
		model = DefaultModel
	}
	return "Narratives are written by Claude (" + model + ") from the evidence below; every number is checked against it, and the local engine writes them when a check fails."
}
