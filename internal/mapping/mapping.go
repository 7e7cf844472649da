// Package mapping runs a publisher's tagging: it builds the publisher's
// local tagger from its live catalogue, taught by its own review decisions
// and no one else's, and stores the suggestions for the products waiting
// for review. The web server (on demand and on its schedule) and the demo
// loader share it.
package mapping

import (
	"context"
	"fmt"
	"strings"

	"github.com/phantomos/phantomos"
	"github.com/phantomos/phantomos/internal/store"
	"github.com/phantomos/phantomos/internal/tagging"
	"github.com/phantomos/phantomos/internal/tagging/claudetag"
)

// Run says what one tagging run did.
type Run struct {
	Tagger    string `json:"tagger"`    // "local", or "claude" when Claude helped
	Products  int    `json:"products"`  // products looked at
	Suggested int    `json:"suggested"` // of which now have suggestions
	Failed    int    `json:"failed"`    // of which the local tagger failed on (skipped)
	// Failures names the first products the tagger failed on, up to
	// maxFailures, for the caller's log.
	Failures []Failure `json:"-"`
}

// Failure is one product the local tagger failed on.
type Failure struct {
	ProductID string
	Product   string // the name, clipped
	Err       error
}

// maxFailures bounds the failures a run keeps and records in full.
const maxFailures = 20

// Local is the local tagger as a run uses it: *tagging.Tagger, or a test's
// stand-in.
type Local interface {
	Suggest(tagging.Product) []tagging.Suggestion
}

// Options are a run's choices beyond its publisher.
type Options struct {
	// OnlyNew limits the run to products never looked at.
	OnlyNew bool
	// Claude, when set, reviews the products the local tagger is unsure
	// about.
	Claude *claudetag.Tagger
	// Local builds the publisher's local tagger; nil means Tagger. A nil
	// Local (no live asset) suggests nothing.
	Local func(ctx context.Context, s *store.Store, pub phantomos.PublisherID) (Local, error)
}

// MaxRun bounds one run; the schedule and the next request continue.
const MaxRun = 20000

// liveAssets is publisher pub's catalogue as the taggers see it: no
// archived asset or game IP.
func liveAssets(ctx context.Context, s *store.Store, pub phantomos.PublisherID) ([]tagging.Asset, error) {
	ips, err := s.GameIPs(ctx, pub)
	if err != nil {
		return nil, err
	}
	live := map[string]string{}
	for _, g := range ips {
		if g.ArchivedAt == nil {
			live[g.ID] = g.Name
		}
	}
	all, err := s.Assets(ctx, pub)
	if err != nil {
		return nil, err
	}
	var assets []tagging.Asset
	for _, a := range all {
		ip, ok := live[a.GameIPID]
		if !ok || a.ArchivedAt != nil {
			continue
		}
		assets = append(assets, tagging.Asset{ID: a.ID, GameIP: ip, Name: a.Name, Type: tagging.AssetType(a.AssetType), Aliases: a.Aliases})
	}
	return assets, nil
}

// Tagger builds publisher pub's local tagger: its live catalogue with its
// own review decisions applied. It is nil when the publisher has no live
// asset.
func Tagger(ctx context.Context, s *store.Store, pub phantomos.PublisherID) (*tagging.Tagger, error) {
	assets, err := liveAssets(ctx, s, pub)
	if err != nil || len(assets) == 0 {
		return nil, err
	}
	t, err := tagging.NewTagger(assets, tagging.Options{})
	if err != nil {
		return nil, fmt.Errorf("mapping: tagger: %w", err)
	}
	decisions, err := s.MappingDecisions(ctx, pub)
	if err != nil {
		return nil, err
	}
	fb := tagging.Feedback{Decisions: make([]tagging.Decision, len(decisions))}
	for i, d := range decisions {
		fb.Decisions[i] = tagging.Decision{Product: Product(d.Product), AssetID: d.AssetID, Confirmed: d.Confirmed}
	}
	return t.WithFeedback(fb), nil
}

// Product is a stored product as the tagger reads it.
func Product(p phantomos.Product) tagging.Product {
	return tagging.Product{ID: p.ID, Title: p.Name, Description: p.Description, Tags: p.Tags, SKU: p.SKU}
}

// Suggest runs publisher pub's tagger over its products that wait for a
// decision (only those never looked at when onlyNew) and stores the
// suggestions: a product with some becomes suggested, one without
// unmapped. Products decided meanwhile are never touched.
//
// With claude, the products the local tagger is unsure about are also sent
// to Claude, with the publisher's own confirmed mappings as examples; its
// suggestions are stored beside the local ones (source "llm"). When Claude
// fails part-way, what it answered and every local suggestion are still
// stored, and the error is returned with the run.
func Suggest(ctx context.Context, s *store.Store, pub phantomos.PublisherID, onlyNew bool, claude *claudetag.Tagger) (Run, error) {
	return SuggestWith(ctx, s, pub, Options{OnlyNew: onlyNew, Claude: claude})
}

// SuggestWith is Suggest with every option. Each product is tagged on its
// own: when the local tagger fails on one (a panic), that product is
// skipped, counted in Run.Failed, named in Run.Failures and recorded in the
// publisher's audit log (action "tagging.failed"), and the run goes on with
// the others. A skipped product never looked at before is stored as looked
// at with no suggestion, so the schedule does not retry it on every tick;
// one looked at before keeps what it had. A change of catalogue looks at it
// again.
func SuggestWith(ctx context.Context, s *store.Store, pub phantomos.PublisherID, opts Options) (Run, error) {
	run := Run{Tagger: "local"}
	claude := opts.Claude
	products, err := s.TagCandidates(ctx, pub, opts.OnlyNew, MaxRun)
	if err != nil || len(products) == 0 {
		return run, err
	}
	var t Local
	if opts.Local != nil {
		t, err = opts.Local(ctx, s, pub)
	} else if tg, e := Tagger(ctx, s, pub); tg != nil {
		t = tg // a nil *tagging.Tagger must stay a nil Local
	} else {
		err = e
	}
	if err != nil {
		return run, err
	}
	out := make(map[string][]store.Suggestion, len(products))
	var unsure []claudetag.Product
	for _, p := range products {
		var list []store.Suggestion
		tp := Product(p.Product)
		var local []tagging.Suggestion
		if t != nil {
			local, err = suggestOne(t, tp)
			if err != nil {
				run.Failed++
				if len(run.Failures) < maxFailures {
					run.Failures = append(run.Failures, Failure{ProductID: p.ID, Product: clipName(p.Name), Err: err})
				}
				if p.SuggestedAt == nil {
					out[p.ID] = nil
				}
				continue
			}
			for _, x := range local {
				list = append(list, store.Suggestion{AssetID: x.AssetID, Confidence: x.Confidence, Primary: x.Primary, Evidence: x.Evidence, Source: "local"})
			}
		}
		out[p.ID] = list
		unsure = append(unsure, claudetag.Product{Product: tp, ImageURL: p.ImageURL, Local: local})
	}
	if run.Failed > 0 {
		if err := recordFailures(ctx, s, pub, run); err != nil {
			return run, err
		}
	}
	var claudeErr error
	if claude != nil && t != nil {
		if unsure = claudetag.Unsure(unsure, 0); len(unsure) > 0 {
			var used bool
			used, claudeErr = askClaude(ctx, s, pub, claude, unsure, out)
			if used {
				run.Tagger = "claude"
			}
		}
	}
	for _, list := range out {
		if len(list) > 0 {
			run.Suggested++
		}
	}
	run.Products = len(products)
	if _, err := s.SaveSuggestions(ctx, pub, out); err != nil {
		return run, err
	}
	return run, claudeErr
}

// suggestOne runs the local tagger on one product, turning a panic into
// an error so that one product cannot stop the run, the schedule or the
// process.
func suggestOne(t Local, p tagging.Product) (list []tagging.Suggestion, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("mapping: tagger failed on product %s: %v", p.ID, r)
		}
	}()
	return t.Suggest(p), nil
}

// recordFailures writes one audit entry for the products a run skipped,
// where the publisher's admins see it.
func recordFailures(ctx context.Context, s *store.Store, pub phantomos.PublisherID, run Run) error {
	target := fmt.Sprintf("%d products", run.Failed)
	if run.Failed == 1 {
		target = run.Failures[0].Product
	}
	var products []map[string]string
	for _, f := range run.Failures {
		products = append(products, map[string]string{"id": f.ProductID, "name": f.Product})
	}
	err := s.Audit(ctx, pub, store.AuditEntry{Actor: "tagger", Action: "tagging.failed", Target: target, Details: map[string]any{
		"failed": run.Failed, "products": products, "error": clipName(run.Failures[0].Err.Error()),
	}})
	if err != nil {
		return fmt.Errorf("mapping: record failures: %w", err)
	}
	return nil
}

// clipName shortens a stored text (names can be huge) for logs and the
// audit log.
func clipName(s string) string {
	const n = 80
	if len(s) <= n {
		return s
	}
	return strings.ToValidUTF8(s[:n], "") + "…"
}

// askClaude sends the unsure products to Claude and merges its answers
// into out: an asset both taggers suggest keeps the higher confidence, and
// Claude never takes the primary from a local suggestion it agrees with.
// It reports whether Claude answered for any product.
func askClaude(ctx context.Context, s *store.Store, pub phantomos.PublisherID, claude *claudetag.Tagger, products []claudetag.Product, out map[string][]store.Suggestion) (bool, error) {
	assets, err := liveAssets(ctx, s, pub)
	if err != nil {
		return false, err
	}
	decisions, err := s.MappingDecisions(ctx, pub)
	if err != nil {
		return false, err
	}
	// Examples: the publisher's own confirmed mappings, one per product.
	byProduct := map[string]*claudetag.Example{}
	var examples []claudetag.Example
	var order []string
	for _, d := range decisions {
		if !d.Confirmed {
			continue
		}
		ex := byProduct[d.Product.ID]
		if ex == nil {
			ex = &claudetag.Example{Publisher: pub, Title: d.Product.Name}
			byProduct[d.Product.ID] = ex
			order = append(order, d.Product.ID)
		}
		ex.AssetIDs = append(ex.AssetIDs, d.AssetID)
	}
	for _, id := range order {
		examples = append(examples, *byProduct[id])
	}
	res, err := claude.Tag(ctx, claudetag.Request{Publisher: pub, Assets: assets, Examples: examples, Products: products})
	for _, tagged := range res.Products {
		list := out[tagged.ProductID]
		for _, x := range tagged.Suggestions {
			merged := false
			for i := range list {
				if list[i].AssetID == x.AssetID {
					if x.Confidence > list[i].Confidence {
						list[i].Confidence = x.Confidence
						list[i].Source = "llm"
						list[i].Evidence = x.Evidence
					}
					merged = true
				}
			}
			if !merged {
				list = append(list, store.Suggestion{AssetID: x.AssetID, Confidence: x.Confidence, Primary: x.Primary && !hasPrimary(list), Evidence: x.Evidence, Source: "llm"})
			}
		}
		out[tagged.ProductID] = list
	}
	if err != nil {
		return len(res.Products) > 0, fmt.Errorf("mapping: claude: %w", err)
	}
	return len(res.Products) > 0, nil
}

func hasPrimary(list []store.Suggestion) bool {
	for _, x := range list {
		if x.Primary {
			return true
		}
	}
	return false
}
