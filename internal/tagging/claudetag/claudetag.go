// Package claudetag asks Claude (Anthropic's Messages API, through the
// official Go SDK) which of a publisher's IP assets each product depicts,
// for the products the local tagger of package tagging is unsure about.
//
// # Use
//
// Build one Tagger from a Config at start (only when an API key is
// configured; Describe words the situation for the UI either way) and call
// Tag for each run:
//
//	claude, err := claudetag.New(claudetag.Config{APIKey: key})
//	…
//	res, err := claude.Tag(ctx, claudetag.Request{
//		Publisher: pub,
//		Assets:    assets,   // the publisher's candidate assets, as for tagging.NewTagger
//		Examples:  examples, // that publisher's confirmed mappings, and only theirs
//		Products:  claudetag.Unsure(products, 0),
//	})
//
// Each Product carries the tagging.Product the local tagger saw, its image
// URL and the local suggestions (tagger.Suggest). Unsure keeps the products
// the local tagger abstained on or suggested below its calibrated level.
//
// # What is sent
//
// Products go in batches of Config.BatchSize, one Messages request each.
// The system prompt holds the instructions, the catalogue (assets named by
// short refs a1, a2 … rather than their ids: fewer tokens, and nothing to
// mistype) and the examples, and is marked for prompt caching, so the
// batches after the first read it from the cache. The first batch is sent
// alone, the others Config.Concurrency at a time. Each product is a JSON
// text block (title, vendor, SKU, tags, description cut to fit
// Config.MaxProductTokens, the local suggestions) followed by its image as
// a URL image block when its ImageURL is https. The API fetches the image
// itself and fails the whole request (400) when it cannot; a batch with
// images that meets a 400 is therefore sent once more without them.
//
// Examples must be the requesting publisher's own confirmed mappings:
// another publisher's decisions must never reach its prompt. Each Example
// names its publisher, and Tag refuses a request in which one differs from
// Request.Publisher.
//
// # Structured output and validation
//
// The answer is forced through one tool, record_tags, with tool_choice
// naming it and a strict JSON input schema (grammar-constrained on the
// models that support it). The tool input is validated nonetheless: entries
// naming an unknown product or asset ref, duplicates, and malformed entries
// are dropped and counted in Usage.Dropped; an input that is not the
// expected object, an answer cut at max_tokens or a refusal rejects the
// whole batch, whose products are listed in Result.Failed.
//
// # Calibration
//
// The local tagger's confidences are calibrated on evaluation data (of its
// suggestions at 0.9 or more, at least 90% are right), and 0.9 is where the
// workbench's bulk accept is meant to start. Claude's stated confidence is
// not calibrated (language models overstate it), so it is clamped to [0, 1]
// and capped at Config.MaxConfidence, 0.85 by default: a Claude suggestion
// alone never qualifies for bulk acceptance and always meets a reviewer. The
// exception is a suggestion backed by the publisher's own decisions: when
// the product's title or SKU shares a word with at least two of the
// publisher's confirmed examples and every example containing that word was
// mapped to the suggested asset (a product line's naming, confirmed more
// than once), the cap is Config.MaxBackedConfidence, 0.95 by default, and
// Suggestion.ExampleBacked is set.
//
// # Costs
//
// Costs are bounded before anything is sent: at most Config.MaxProducts
// products per run, Config.BatchSize per request, Config.MaxProductTokens
// of text per product (descriptions are cut), Config.OutputTokensPerProduct
// of answer per product (max_tokens), and Config.MaxInputTokens of
// estimated input per run, counting the system prompt of every batch at
// full price and each image at Config.ImageTokens. Products are taken in
// the caller's order; the first one that does not fit ends the run, and the
// rest are listed in Result.Skipped. Put the most valuable products first.
//
// # Errors and retries
//
// The SDK retries connection errors, 408, 409, 429 and 5xx (529 overloaded
// included) with exponential backoff from 0.5 s to 8 s, honouring
// retry-after-ms and retry-after, Config.MaxRetries times (3 by default,
// against the SDK's 2). A retry-after longer than Config.MaxRetryWait is not
// waited for: the call fails at once. Each attempt is bounded by
// Config.RequestTimeout and the whole run by Config.Timeout. Tag returns
// the batches completed before an error together with it; a rate limit or
// overload that outlasts the retries carries a phantomos.Error with code
// ERATELIMIT, an invalid request EINVALID, and the SDK's *anthropic.Error
// is in the chain for errors.As.
package claudetag

import (
	"cmp"
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/anthropics/anthropic-sdk-go/v2"
	"golang.org/x/sync/errgroup"

	"github.com/phantomos/phantomos"
	"github.com/phantomos/phantomos/internal/llm"
	"github.com/phantomos/phantomos/internal/tagging"
)

// DefaultModel is the Claude model used when none is configured: the fast,
// low-cost model meant for high-volume work. Tagging is a choice among
// listed candidates, repeated over thousands of products; it does not need
// the largest model, and Config.Model can name another.
const DefaultModel = anthropic.ModelClaudeHaiku5_5

// DefaultUnsureBelow is the local confidence under which Unsure hands a
// product to Claude: the level from which the local tagger's suggestions
// are calibrated to be right at least 90% of the time.
const DefaultUnsureBelow = 0.9

// maxBatchSize bounds Config.BatchSize: the API takes at most 100 images a
// request, and a longer answer is more likely to be cut.
const maxBatchSize = 50

// Config configures a Tagger. The zero value of every field but APIKey
// gives its default.
type Config struct {
	// APIKey is the Anthropic API key. Required.
	APIKey string
	// BaseURL overrides the API address (tests point it at llmtest).
	BaseURL string
	// Model is the Claude model; "" means DefaultModel.
	Model string
	// HTTPClient is the client to use; nil means the SDK's default.
	HTTPClient *http.Client

	// BatchSize is the number of products per request; 0 means 20, at
	// most 50.
	BatchSize int
	// MaxProducts caps the products sent in one Tag call; 0 means 200.
	MaxProducts int
	// MaxExamples caps the confirmed mappings shown to Claude; 0 means 40,
	// negative means none.
	MaxExamples int
	// MaxProductTokens caps the estimated tokens of one product's text;
	// descriptions are cut to fit. 0 means 250.
	MaxProductTokens int
	// OutputTokensPerProduct sets max_tokens: this many per product of
	// the batch, plus a little; 0 means 150.
	OutputTokensPerProduct int
	// MaxInputTokens caps the estimated input tokens of one Tag call,
	// system prompts and images included; 0 means 500,000.
	MaxInputTokens int
	// ImageTokens is the estimated cost of one image (the API scales
	// images down to about 1,600 tokens); 0 means 1,600.
	ImageTokens int
	// NoImages sends no images.
	NoImages bool
	// MaxCatalogueTokens refuses a catalogue longer than this estimate
	// (pass one game IP's assets instead); 0 means 40,000.
	MaxCatalogueTokens int

	// MinConfidence drops Claude's suggestions below it; 0 means 0.5.
	MinConfidence float64
	// MaxConfidence caps Claude's confidence; 0 means 0.85 (see the
	// package documentation on calibration).
	MaxConfidence float64
	// MaxBackedConfidence caps the confidence of an example-backed
	// suggestion; 0 means 0.95.
	MaxBackedConfidence float64
	// MaxSuggestions caps suggestions per product; 0 means 5.
	MaxSuggestions int

	// MaxRetries is how often the SDK retries a failed attempt; 0 means 3,
	// negative means none.
	MaxRetries int
	// MaxRetryWait is the longest retry-after honoured; a longer one
	// fails the call at once. 0 means 30 seconds.
	MaxRetryWait time.Duration
	// RequestTimeout bounds each attempt; 0 means 90 seconds.
	RequestTimeout time.Duration
	// Timeout bounds a whole Tag call; 0 means 5 minutes.
	Timeout time.Duration
	// Concurrency is how many batches are in flight at once after the
	// first; 0 means 3.
	Concurrency int
}

func (c Config) withDefaults() Config {
	def := func(v *int, d int) {
		if *v <= 0 {
			*v = d
		}
	}
	deff := func(v *float64, d float64) {
		if *v <= 0 {
			*v = d
		}
	}
	defd := func(v *time.Duration, d time.Duration) {
		if *v <= 0 {
			*v = d
		}
	}
	c.Model = cmp.Or(c.Model, DefaultModel)
	def(&c.BatchSize, 20)
	c.BatchSize = min(c.BatchSize, maxBatchSize)
	def(&c.MaxProducts, 200)
	if c.MaxExamples == 0 {
		c.MaxExamples = 40
	}
	def(&c.MaxProductTokens, 250)
	def(&c.OutputTokensPerProduct, 150)
	def(&c.MaxInputTokens, 500_000)
	def(&c.ImageTokens, 1600)
	def(&c.MaxCatalogueTokens, 40_000)
	deff(&c.MinConfidence, 0.5)
	deff(&c.MaxConfidence, 0.85)
	deff(&c.MaxBackedConfidence, 0.95)
	c.MaxConfidence = min(c.MaxConfidence, 1)
	c.MaxBackedConfidence = min(max(c.MaxBackedConfidence, c.MaxConfidence), 1)
	def(&c.MaxSuggestions, 5)
	if c.MaxRetries == 0 {
		c.MaxRetries = 3
	}
	c.MaxRetries = max(c.MaxRetries, 0)
	defd(&c.MaxRetryWait, 30*time.Second)
	defd(&c.RequestTimeout, 90*time.Second)
	defd(&c.Timeout, 5*time.Minute)
	def(&c.Concurrency, 3)
	return c
}

// Tagger tags products with Claude. It is safe for concurrent use.
type Tagger struct {
	client anthropic.Client
	cfg    Config
}

// New returns a Tagger for cfg (see Config for the defaults). It reads
// nothing from the environment: the key and address are cfg's.
func New(cfg Config) (*Tagger, error) {
	if cfg.APIKey == "" {
		return nil, errors.New("claudetag: no API key")
	}
	cfg = cfg.withDefaults()
	return &Tagger{client: llm.NewClient(cfg.APIKey, cfg.BaseURL, cfg.MaxRetries, cfg.RequestTimeout, cfg.HTTPClient), cfg: cfg}, nil
}

// Model returns the Claude model the Tagger asks.
func (t *Tagger) Model() string { return t.cfg.Model }

// Describe says in plain words where suggestions come from when the
// Anthropic API key is apiKey ("" when none is configured).
func Describe(apiKey string) string {
	if apiKey == "" {
		return "Suggestions come from the local tagger, which works offline. Set ANTHROPIC_API_KEY to have Claude review the products it is unsure about."
	}
	return "Suggestions come from the local tagger; Claude reviews the products it is unsure about, with your confirmed mappings as examples. Claude's suggestions always wait for a reviewer."
}

// Request is one tagging run for one publisher.
type Request struct {
	// Publisher is the publisher whose products are tagged. Required.
	Publisher phantomos.PublisherID
	// Assets are the candidate assets; their IDs are the only ones a
	// suggestion can name. Required, IDs unique.
	Assets []tagging.Asset
	// Examples are the publisher's confirmed mappings, most useful first
	// (recent, or for the products at hand). Each must carry Publisher:
	// a request with another publisher's example is refused. Up to
	// Config.MaxExamples are shown, chosen for the words they share with
	// the products; all of them serve to judge example backing.
	Examples []Example
	// Products are the products to tag, most valuable first. IDs must be
	// non-empty and unique.
	Products []Product
}

// Example is a product a publisher mapped by hand.
type Example struct {
	// Publisher is the publisher who confirmed the mapping.
	Publisher phantomos.PublisherID
	// Title is the product's title.
	Title string
	// AssetIDs are the confirmed assets, the primary one first. IDs not
	// in Request.Assets are ignored.
	AssetIDs []string
}

// Product is a product to tag.
type Product struct {
	// Product is the text the local tagger saw.
	tagging.Product
	// ImageURL is the product's image; only an https URL is sent.
	ImageURL string
	// Local are the local tagger's suggestions for the product
	// (Tagger.Suggest), shown to Claude with their confidences.
	Local []tagging.Suggestion
}

// Unsure returns the products the local tagger is unsure about: those
// without suggestions or whose best confidence is below below (0 or less
// means DefaultUnsureBelow), in their order.
func Unsure(products []Product, below float64) []Product {
	if below <= 0 {
		below = DefaultUnsureBelow
	}
	var out []Product
	for _, p := range products {
		top := 0.0
		for _, s := range p.Local {
			top = max(top, s.Confidence)
		}
		if len(p.Local) == 0 || top < below {
			out = append(out, p)
		}
	}
	return out
}

// Result is the outcome of a Tag call.
type Result struct {
	// Model is the Claude model that answered.
	Model string
	// Products are the products Claude answered for, in request order.
	Products []Tagged
	// Skipped are the IDs of the products not sent because a budget
	// (MaxProducts, MaxInputTokens) ran out, in request order.
	Skipped []string
	// Failed are the products sent whose answer was rejected or missing,
	// or that an error kept from being answered.
	Failed []Failure
	// Usage is what the run cost.
	Usage Usage
}

// Tagged is Claude's answer for one product.
type Tagged struct {
	ProductID string
	// Suggestions are the assets Claude says the product depicts, in
	// Claude's order, the first one Primary; empty when Claude abstains.
	Suggestions []Suggestion
}

// Suggestion is one asset Claude suggests. Its tagging.Suggestion carries
// the asset's ID, name and game IP, the calibrated confidence, Primary,
// and Claude's short reason as Evidence.
type Suggestion struct {
	tagging.Suggestion
	// ExampleBacked is set when the publisher's confirmed examples back
	// the suggestion (see the package documentation), which lifts its cap.
	ExampleBacked bool
}

// Failure is a product sent to Claude that got no usable answer.
type Failure struct {
	ProductID string
	Reason    string
}

// Usage counts what a run sent and spent.
type Usage struct {
	// Requests counts HTTP attempts, retries included; Batches the
	// batches answered.
	Requests, Batches int
	// Products were sent; Skipped were not (budget).
	Products, Skipped int
	// Images were sent; ImagesWithdrawn were removed after the API could
	// not process them. Truncated products had text cut to fit.
	Images, ImagesWithdrawn, Truncated int
	// EstimatedInputTokens is the budget's estimate of the input sent.
	EstimatedInputTokens int
	// Tokens as the API reported them.
	InputTokens, OutputTokens, CacheCreationInputTokens, CacheReadInputTokens int64
	// Dropped counts what validation removed.
	Dropped Dropped
}

// Dropped counts the entries removed from Claude's answers and the
// examples removed from the request.
type Dropped struct {
	// UnknownProducts and UnknownAssets name refs that were not given.
	UnknownProducts, UnknownAssets int
	// Duplicates repeat a product or an asset of the same product.
	Duplicates int
	// Malformed entries lack a field or have one of the wrong type.
	Malformed int
	// Excess are suggestions beyond Config.MaxSuggestions.
	Excess int
	// Examples were ignored: no title, or no asset in the catalogue.
	Examples int
}

func (u *Usage) add(o Usage) {
	u.Requests += o.Requests
	u.Batches += o.Batches
	u.Products += o.Products
	u.Images += o.Images
	u.ImagesWithdrawn += o.ImagesWithdrawn
	u.Truncated += o.Truncated
	u.EstimatedInputTokens += o.EstimatedInputTokens
	u.InputTokens += o.InputTokens
	u.OutputTokens += o.OutputTokens
	u.CacheCreationInputTokens += o.CacheCreationInputTokens
	u.CacheReadInputTokens += o.CacheReadInputTokens
	u.Dropped.UnknownProducts += o.Dropped.UnknownProducts
	u.Dropped.UnknownAssets += o.Dropped.UnknownAssets
	u.Dropped.Duplicates += o.Dropped.Duplicates
	u.Dropped.Malformed += o.Dropped.Malformed
	u.Dropped.Excess += o.Dropped.Excess
}

// Tag asks Claude for the assets of req's products. See the package
// documentation for what is sent, validated and bounded. On error, the
// Result still holds the batches answered before it (their tokens are
// spent) and lists the other products sent as Failed.
func (t *Tagger) Tag(ctx context.Context, req Request) (Result, error) {
	res := Result{Model: t.cfg.Model}
	run, err := t.prepare(req)
	if err != nil {
		return res, err
	}
	res.Usage.Dropped.Examples = run.droppedExamples
	res.Usage.Skipped = len(run.skipped)
	res.Skipped = run.skipped
	if len(run.batches) == 0 {
		return res, nil
	}
	ctx, cancel := context.WithTimeout(ctx, t.cfg.Timeout)
	defer cancel()

	outcomes := make([]batchOutcome, len(run.batches))
	// The first batch goes alone: it writes the prompt cache that the
	// others then read.
	outcomes[0] = t.tagBatch(ctx, run, 0)
	err = outcomes[0].err
	if err == nil && len(run.batches) > 1 {
		g, gctx := errgroup.WithContext(ctx)
		g.SetLimit(t.cfg.Concurrency)
		for i := 1; i < len(run.batches); i++ {
			g.Go(func() error {
				outcomes[i] = t.tagBatch(gctx, run, i) // each goroutine its own element
				return outcomes[i].err
			})
		}
		err = g.Wait()
	}
	for i, o := range outcomes {
		res.Usage.add(o.usage)
		res.Products = append(res.Products, o.tagged...)
		res.Failed = append(res.Failed, o.failed...)
		if !o.done {
			for _, it := range run.batches[i] {
				res.Failed = append(res.Failed, Failure{ProductID: it.product.ID, Reason: "not tagged: the run stopped on an error"})
			}
		}
	}
	return res, err
}
