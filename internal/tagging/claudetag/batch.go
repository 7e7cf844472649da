package claudetag

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/anthropics/anthropic-sdk-go/v2"
	"github.com/anthropics/anthropic-sdk-go/v2/option"

	"github.com/phantomos/phantomos"
	"github.com/phantomos/phantomos/internal/tagging"
)

// batchOutcome is what one batch produced.
type batchOutcome struct {
	tagged []Tagged
	failed []Failure
	usage  Usage
	done   bool // answered (usable or rejected) rather than stopped by an error
	err    error
}

// tagBatch sends batch bi of r and reads the answer.
func (t *Tagger) tagBatch(ctx context.Context, r *run, bi int) batchOutcome {
	items := r.batches[bi]
	var o batchOutcome
	o.usage.Products = len(items)
	o.usage.EstimatedInputTokens = r.systemTokens
	images := 0
	for _, it := range items {
		o.usage.EstimatedInputTokens += it.tokens
		if it.truncated {
			o.usage.Truncated++
		}
		if it.image != "" {
			images++
			o.usage.EstimatedInputTokens += t.cfg.ImageTokens
		}
	}
	var attempts atomic.Int64
	msg, err := t.send(ctx, t.params(r, items, true), &attempts)
	if err != nil && images > 0 && status(err) == http.StatusBadRequest {
		// The API could not fetch or read an image: once more without.
		o.usage.ImagesWithdrawn = images
		images = 0
		msg, err = t.send(ctx, t.params(r, items, false), &attempts)
	}
	o.usage.Requests = int(attempts.Load())
	if err != nil {
		o.err = t.explain(err, bi, len(r.batches))
		return o
	}
	o.done = true
	o.usage.Batches = 1
	o.usage.Images = images
	o.usage.InputTokens = msg.Usage.InputTokens
	o.usage.OutputTokens = msg.Usage.OutputTokens
	o.usage.CacheCreationInputTokens = msg.Usage.CacheCreationInputTokens
	o.usage.CacheReadInputTokens = msg.Usage.CacheReadInputTokens
	input, reject := answerInput(msg)
	if reject != "" {
		for _, it := range items {
			o.failed = append(o.failed, Failure{ProductID: it.product.ID, Reason: reject})
		}
		return o
	}
	o.tagged, o.failed = t.read(r, items, input, &o.usage.Dropped)
	return o
}

// params is the Messages request for a batch.
func (t *Tagger) params(r *run, items []*item, images bool) anthropic.MessageNewParams {
	content := []anthropic.ContentBlockParamUnion{anthropic.NewTextBlock(fmt.Sprintf("Tag these %d products.", len(items)))}
	refs := make([]string, len(items))
	for i, it := range items {
		refs[i] = it.ref
		text := it.text
		if !images {
			text = strings.Replace(text, `,"image_follows":true`, "", 1)
		}
		content = append(content, anthropic.NewTextBlock(text))
		if images && it.image != "" {
			content = append(content, anthropic.NewImageBlock(anthropic.URLImageSourceParam{URL: it.image}))
		}
	}
	content = append(content, anthropic.NewTextBlock("Call record_tags once, with an entry for each of "+strings.Join(refs, ", ")+"."))
	tool := anthropic.ToolParam{
		Name:        toolName,
		Description: anthropic.String("Records the catalogue assets each product depicts, with confidences and reasons."),
		InputSchema: toolSchema,
		Strict:      anthropic.Bool(true),
	}
	return anthropic.MessageNewParams{
		Model:     t.cfg.Model,
		MaxTokens: int64(t.cfg.OutputTokensPerProduct*len(items) + 100),
		System:    r.system,
		Messages:  []anthropic.MessageParam{anthropic.NewUserMessage(content...)},
		Tools:     []anthropic.ToolUnionParam{{OfTool: &tool}},
		ToolChoice: anthropic.ToolChoiceUnionParam{OfTool: &anthropic.ToolChoiceToolParam{
			Name:                   toolName,
			DisableParallelToolUse: anthropic.Bool(true),
		}},
	}
}

// send makes one Messages call with the SDK's retries, counting attempts
// and refusing to wait for a retry-after longer than Config.MaxRetryWait.
func (t *Tagger) send(ctx context.Context, p anthropic.MessageNewParams, attempts *atomic.Int64) (*anthropic.Message, error) {
	count := func(req *http.Request, next option.MiddlewareNext) (*http.Response, error) {
		attempts.Add(1)
		res, err := next(req)
		if err == nil && res != nil && (res.StatusCode == http.StatusTooManyRequests || res.StatusCode >= 500) {
			if wait, ok := retryAfter(res.Header); ok && wait > t.cfg.MaxRetryWait {
				// The SDK would sleep that long: tell it not to retry.
				res.Header.Set("x-should-retry", "false")
			}
		}
		return res, err
	}
	return t.client.Messages.New(ctx, p, option.WithMiddleware(count))
}

// retryAfter reads the wait a response asks for, as the SDK does.
func retryAfter(h http.Header) (time.Duration, bool) {
	if v := h.Get("retry-after-ms"); v != "" {
		if ms, err := strconv.ParseFloat(v, 64); err == nil {
			return time.Duration(ms * float64(time.Millisecond)), true
		}
	}
	v := h.Get("retry-after")
	if v == "" {
		return 0, false
	}
	if s, err := strconv.ParseFloat(v, 64); err == nil {
		return time.Duration(s * float64(time.Second)), true
	}
	if at, err := http.ParseTime(v); err == nil {
		return time.Until(at), true
	}
	return 0, false
}

func status(err error) int {
	if apiErr, ok := errors.AsType[*anthropic.Error](err); ok {
		return apiErr.StatusCode
	}
	return 0
}

// explain wraps an API error with the batch and, for the errors a user can
// act on, a phantomos.Error.
func (t *Tagger) explain(err error, bi, n int) error {
	prefix := fmt.Sprintf("claudetag: batch %d of %d", bi+1, n)
	apiErr, ok := errors.AsType[*anthropic.Error](err)
	switch {
	case ok && apiErr.StatusCode == http.StatusTooManyRequests:
		wait := ""
		if apiErr.Response != nil {
			if d, ok := retryAfter(apiErr.Response.Header); ok && d > 0 {
				wait = fmt.Sprintf(" Try again in %s.", d.Round(time.Second))
			}
		}
		if wait == "" {
			wait = " Try again in a minute."
		}
		return fmt.Errorf("%s: %w: %w", prefix, phantomos.Errorf(phantomos.ERATELIMIT, "Claude's rate limit for this account is reached.%s", wait), err)
	case ok && apiErr.StatusCode == 529:
		return fmt.Errorf("%s: %w: %w", prefix, phantomos.Errorf(phantomos.ERATELIMIT, "Claude is overloaded. Try again in a few minutes."), err)
	case ok && (apiErr.StatusCode == http.StatusUnauthorized || apiErr.StatusCode == http.StatusForbidden):
		return fmt.Errorf("%s: the Anthropic API refused the key (check ANTHROPIC_API_KEY): %w", prefix, err)
	case ok:
		return fmt.Errorf("%s: the Anthropic API answered %d %s: %w", prefix, apiErr.StatusCode, apiErr.Message, err)
	case errors.Is(err, context.DeadlineExceeded):
		return fmt.Errorf("%s: no answer in time (each attempt may take %s, the run %s): %w", prefix, t.cfg.RequestTimeout, t.cfg.Timeout, err)
	}
	return fmt.Errorf("%s: %w", prefix, err)
}

// answerInput returns the record_tags input of an answer, or why the
// answer is rejected.
func answerInput(msg *anthropic.Message) ([]json.RawMessage, string) {
	switch msg.StopReason {
	case anthropic.StopReasonToolUse, anthropic.StopReasonEndTurn:
	case anthropic.StopReasonMaxTokens:
		return nil, "Claude's answer was cut at max_tokens; lower BatchSize or raise OutputTokensPerProduct"
	case anthropic.StopReasonRefusal:
		return nil, "Claude declined to answer"
	default:
		return nil, fmt.Sprintf("Claude stopped with %q instead of calling %s", msg.StopReason, toolName)
	}
	var products []json.RawMessage
	calls := 0
	for _, block := range msg.Content {
		if block.Type != "tool_use" || block.Name != toolName {
			continue
		}
		calls++
		var input struct {
			Products []json.RawMessage `json:"products"`
		}
		dec := json.NewDecoder(bytes.NewReader(block.Input))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&input); err != nil || input.Products == nil {
			if err == nil {
				err = errors.New("no products")
			}
			return nil, fmt.Sprintf("Claude's %s input is malformed: %v", toolName, err)
		}
		products = append(products, input.Products...)
	}
	if calls == 0 {
		return nil, "Claude did not call " + toolName
	}
	return products, ""
}

// read validates the entries of an answer: each must name a product of
// the batch once, and its assets must be catalogue refs, each once, with a
// confidence. What fails is dropped and counted. Products the answer left
// out are failures.
func (t *Tagger) read(r *run, items []*item, entries []json.RawMessage, d *Dropped) ([]Tagged, []Failure) {
	byRef := make(map[string]*item, len(items))
	for _, it := range items {
		byRef[it.ref] = it
	}
	answers := map[*item][]Suggestion{}
	for _, raw := range entries {
		var e struct {
			Product *string           `json:"product"`
			Assets  []json.RawMessage `json:"assets"`
		}
		if strictDecode(raw, &e) != nil || e.Product == nil || e.Assets == nil {
			d.Malformed++
			continue
		}
		it, ok := byRef[strings.TrimSpace(*e.Product)]
		if !ok {
			d.UnknownProducts++
			continue
		}
		if _, dup := answers[it]; dup {
			d.Duplicates++
			continue
		}
		answers[it] = t.suggestions(r, it, e.Assets, d)
	}
	var tagged []Tagged
	var failed []Failure
	for _, it := range items {
		s, ok := answers[it]
		if !ok {
			failed = append(failed, Failure{ProductID: it.product.ID, Reason: "Claude's answer left it out"})
			continue
		}
		tagged = append(tagged, Tagged{ProductID: it.product.ID, Suggestions: s})
	}
	return tagged, failed
}

// suggestions validates and calibrates Claude's assets for one product.
func (t *Tagger) suggestions(r *run, it *item, raws []json.RawMessage, d *Dropped) []Suggestion {
	out := []Suggestion{}
	seen := map[int]bool{}
	for _, raw := range raws {
		var a struct {
			Asset      *string  `json:"asset"`
			Confidence *float64 `json:"confidence"`
			Reason     string   `json:"reason"`
		}
		if strictDecode(raw, &a) != nil || a.Asset == nil || a.Confidence == nil {
			d.Malformed++
			continue
		}
		k, ok := r.refs[strings.TrimSpace(*a.Asset)]
		if !ok {
			d.UnknownAssets++
			continue
		}
		if seen[k] {
			d.Duplicates++
			continue
		}
		seen[k] = true
		c := math.Min(math.Max(*a.Confidence, 0), 1)
		if c < t.cfg.MinConfidence {
			continue
		}
		if len(out) == t.cfg.MaxSuggestions {
			d.Excess++
			continue
		}
		backed := r.backing.backs(it.words, k)
		limit := t.cfg.MaxConfidence
		if backed {
			limit = t.cfg.MaxBackedConfidence
		}
		asset := r.assets[k]
		out = append(out, Suggestion{
			Suggestion: tagging.Suggestion{
				AssetID:    asset.ID,
				GameIP:     asset.GameIP,
				Asset:      asset.Name,
				Confidence: math.Round(math.Min(c, limit)*1000) / 1000,
				Primary:    len(out) == 0,
				Evidence:   truncateRunes(oneLine(a.Reason), maxReasonRunes),
			},
			ExampleBacked: backed,
		})
	}
	return out
}

// strictDecode decodes one JSON value into v, refusing unknown fields and
// trailing data.
func strictDecode(raw json.RawMessage, v any) error {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if dec.More() {
		return errors.New("trailing data")
	}
	return nil
}
