package worker

import (
	"context"
	"runtime/debug"
	"time"

	"github.com/phantomos/phantomos"
	"github.com/phantomos/phantomos/internal/connector"
	"github.com/phantomos/phantomos/internal/demo"
	"github.com/phantomos/phantomos/internal/mapping"
	"github.com/phantomos/phantomos/internal/store"
)

// Tick is the work of the periodic schedule job (internal/jobs runs it
// once per period across every replica): it enqueues an insights run for
// each publisher whose insights are older than a day (without a queue it
// runs them itself), enqueues the syncs of active connectors whose last sync is
// older than their platform's interval, runs the local tagger over
// products it has not looked at yet, removes expired demo copies, enqueues
// again the file imports left waiting without a queue job and forgets old
// throttle counts. Each step is idempotent.
func (w *Worker) Tick(ctx context.Context) error {
	w.requeueWaitingImports(ctx)
	if err := w.store.SweepThrottles(ctx, w.now().Add(-24*time.Hour)); err != nil {
		w.logger.Warn("schedule: sweep throttles", "err", err)
	}
	w.tick(ctx)
	return nil
}

func (w *Worker) tick(ctx context.Context) {
	w.tickWith(ctx, w.localTagger)
}

// tickWith is tick with the local tagger built by local (nil: each
// publisher's own; tests pass a failing one). Each publisher's work is
// isolated: a failure, even a panic, in one is logged with the publisher
// and the others still get theirs.
func (w *Worker) tickWith(ctx context.Context, local func(context.Context, *store.Store, phantomos.PublisherID) (mapping.Local, error)) {
	pubs, err := w.store.Publishers(ctx)
	if err != nil {
		w.logger.Warn("schedule: publishers", "err", err)
		return
	}
	now := w.now()
	if n, err := demo.RemoveExpired(ctx, w.store, now, demo.MaxCopies); err != nil {
		w.logger.Warn("schedule: expired demo copies", "err", err)
	} else if n > 0 {
		w.logger.Info("schedule: removed expired demo copies", "count", n)
	}
	for _, pub := range pubs {
		if ctx.Err() != nil {
			return
		}
		if pub.Settings.ExpiresAt != nil && !pub.Settings.ExpiresAt.After(now) {
			continue // removed above
		}
		w.tickPublisher(ctx, pub, now, local)
	}
}

func (w *Worker) tickPublisher(ctx context.Context, pub *phantomos.Publisher, now time.Time, local func(context.Context, *store.Store, phantomos.PublisherID) (mapping.Local, error)) {
	defer func() {
		if r := recover(); r != nil {
			w.logger.Error("schedule: publisher failed", "publisher", pub.ID, "panic", r, "stack", string(debug.Stack()))
		}
	}()
	if last, err := w.store.LastInsightRun(ctx, pub.ID); err == nil && now.Sub(last) > InsightsMaxAge {
		// A job per publisher: each is retried on its own, and replicas
		// share the work. Without a queue (tests) it runs here.
		if w.jobs != nil {
			if err := w.jobs.EnqueueInsightsRun(ctx, pub.ID); err != nil {
				w.logger.Warn("schedule: enqueue insights", "publisher", pub.ID, "err", err)
			}
		} else if _, err := w.GenerateInsights(ctx, pub); err != nil {
			w.logger.Warn("schedule: insights", "publisher", pub.ID, "err", err)
		}
	}
	w.filterRollupsDue(ctx, pub.ID)
	w.SyncDue(ctx, pub.ID, now)
	w.PullDue(ctx, pub.ID, now)
	// Products that arrived since (syncs, webhooks) get suggestions.
	w.retagWith(ctx, pub.ID, true, local)
}

// filterRollupsDue rebuilds pub's filter rollups when they are older than
// its data (a job; without a queue, here). Until then questions under one
// product filter take the exact, slower path through the sale lines.
func (w *Worker) filterRollupsDue(ctx context.Context, pub phantomos.PublisherID) {
	current, err := w.store.FilterRollupsCurrent(ctx, pub)
	if err != nil || current {
		if err != nil {
			w.logger.Warn("schedule: filter rollups", "publisher", pub, "err", err)
		}
		return
	}
	if w.jobs != nil {
		err = w.jobs.EnqueueFilterRollups(ctx, pub)
	} else {
		err = w.RebuildFilterRollups(ctx, pub)
	}
	if err != nil {
		w.logger.Warn("schedule: filter rollups", "publisher", pub, "err", err)
	}
}

// RebuildFilterRollups is the work of a filter_rollups job.
func (w *Worker) RebuildFilterRollups(ctx context.Context, pub phantomos.PublisherID) error {
	if _, err := w.store.Publisher(ctx, pub); err != nil {
		return err // a publisher removed since: ENOTFOUND discards the job
	}
	return w.store.RefreshFilterRollups(ctx, pub)
}

// SyncDue starts the syncs of pub's active connectors that are due.
func (w *Worker) SyncDue(ctx context.Context, pub phantomos.PublisherID, now time.Time) {
	if w.conn == nil {
		return
	}
	conns, err := w.store.Connectors(ctx, pub)
	if err != nil {
		w.logger.Warn("schedule: connectors", "publisher", pub, "err", err)
		return
	}
	for _, c := range conns {
		p, ok := w.platform(c.Type)
		if !ok || c.Status != "active" || (c.LastSyncAt != nil && now.Sub(*c.LastSyncAt) < p.Info().Every()) {
			continue
		}
		t := connector.Target{Publisher: pub, ConnectorID: c.ID}
		_, src, err := w.OpenSource(ctx, c)
		if err != nil {
			continue
		}
		w.Subscribe(ctx, p, t, src) // re-created when the platform dropped them
		if err := w.BeginSync(ctx, t); err != nil && phantomos.ErrorCode(err) != phantomos.ECONFLICT {
			w.logger.Warn("schedule: enqueue sync", "publisher", pub, "connector", c.ID, "err", err)
		}
	}
}
