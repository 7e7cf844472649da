package worker

import (
	"context"
	"runtime/debug"
	"time"

	"github.com/phantomos/phantomos"
	"github.com/phantomos/phantomos/internal/ingest"
	"github.com/phantomos/phantomos/internal/jobs"
	"github.com/phantomos/phantomos/internal/mapping"
	"github.com/phantomos/phantomos/internal/store"
)

// SuggestMappings runs the tagger over publisher pub's products waiting
// for a decision (only those never looked at when onlyNew), with Claude for
// the products the local tagger is unsure about when one is configured. A
// person asks for it (the Suggest mappings button, POST /api/ai/tagging):
// Claude costs money, so automatic runs use Retag.
func (w *Worker) SuggestMappings(ctx context.Context, pub phantomos.PublisherID, onlyNew bool) (mapping.Run, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Minute)
	defer cancel()
	run, err := mapping.Suggest(ctx, w.store, pub, onlyNew, w.claude)
	for _, f := range run.Failures {
		w.logger.Error("tagging: product skipped", "publisher", pub, "product", f.ProductID, "name", f.Product, "err", f.Err)
	}
	if err != nil && run.Products > 0 {
		// Claude failed part-way: every local suggestion and what Claude
		// answered are stored; say so in the log and carry on.
		w.logger.Warn("tagging: claude", "publisher", pub, "err", err)
		return run, nil
	}
	return run, err
}

// Retag runs the local tagger alone, after changes that call for it: new
// products (imports, the schedule after syncs) or a changed catalogue. A
// failure is logged: the change itself has succeeded.
func (w *Worker) Retag(ctx context.Context, pub phantomos.PublisherID, onlyNew bool) {
	w.retagWith(ctx, pub, onlyNew, nil)
}

// retagWith is Retag with the local tagger built by local (nil: the
// publisher's own; tests pass a failing one). It never panics: it runs after
// imports in the background and on the schedule for every publisher, where
// a panic would take the process down. A product the tagger fails on is
// skipped by the run (and recorded in the audit log); each is logged here
// with its publisher.
func (w *Worker) retagWith(ctx context.Context, pub phantomos.PublisherID, onlyNew bool, local func(context.Context, *store.Store, phantomos.PublisherID) (mapping.Local, error)) {
	defer func() {
		if r := recover(); r != nil {
			w.logger.Error("tagging: run failed", "publisher", pub, "panic", r, "stack", string(debug.Stack()))
		}
	}()
	run, err := mapping.SuggestWith(ctx, w.store, pub, mapping.Options{OnlyNew: onlyNew, Local: local})
	for _, f := range run.Failures {
		w.logger.Error("tagging: product skipped", "publisher", pub, "product", f.ProductID, "name", f.Product, "err", f.Err)
	}
	if run.Failed > len(run.Failures) {
		w.logger.Error("tagging: more products skipped", "publisher", pub, "count", run.Failed-len(run.Failures))
	}
	if err != nil {
		w.logger.Warn("tagging", "publisher", pub, "err", err)
	}
}

// RetagAfterImport brings suggestions up to date after an import that wrote
// something: new products get theirs, and a new catalogue re-examines every
// product waiting for review.
func (w *Worker) RetagAfterImport(ctx context.Context, pub phantomos.PublisherID, kind ingest.Kind, res *ingest.Result) {
	if res == nil || res.DryRun || res.Inserted+res.Updated == 0 {
		return
	}
	switch kind {
	case ingest.KindProducts, ingest.KindSales:
		w.Retag(ctx, pub, true)
	case ingest.KindAssets:
		w.Retag(ctx, pub, false)
	}
}

// TagRun is the work of a tag_run job: the local tagger over pub's
// products (those never looked at when onlyNew). Products it fails on are
// logged and skipped, as in every automatic run.
func (w *Worker) TagRun(ctx context.Context, pub phantomos.PublisherID, onlyNew bool) error {
	if _, err := w.store.Publisher(ctx, pub); err != nil {
		return err
	}
	w.Retag(ctx, pub, onlyNew)
	return nil
}

var _ jobs.SuggestWork = (*Worker)(nil)

// SuggestRun is the work of a suggest_run job: SuggestMappings, whose
// summary (mapping.Run) the job records for the page or API client that
// follows it.
func (w *Worker) SuggestRun(ctx context.Context, pub phantomos.PublisherID, onlyNew bool) (any, error) {
	if _, err := w.store.Publisher(ctx, pub); err != nil {
		return nil, err
	}
	run, err := w.SuggestMappings(ctx, pub, onlyNew)
	if err != nil {
		return nil, err
	}
	return run, nil
}
