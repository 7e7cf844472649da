package web

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
// once per period across every replica): it regenerates insights older
// than a day, enqueues the syncs of active connectors whose last sync is
// older than their platform's interval, runs the local tagger over products it has not
// looked at yet and removes expired demo copies. Each step is idempotent.
func (s *Server) Tick(ctx context.Context) error {
	s.tick(ctx)
	return nil
}

func (s *Server) tick(ctx context.Context) {
	s.tickWith(ctx, nil)
}

// tickWith is tick with the local tagger built by local (nil: each
// publisher's own; tests pass a failing one). Each publisher's work is
// isolated: a failure, even a panic, in one is logged with the publisher
// and the others still get theirs.
func (s *Server) tickWith(ctx context.Context, local func(context.Context, *store.Store, phantomos.PublisherID) (mapping.Local, error)) {
	pubs, err := s.store.Publishers(ctx)
	if err != nil {
		s.logger.Warn("schedule: publishers", "err", err)
		return
	}
	now := s.now()
	if n, err := demo.RemoveExpired(ctx, s.store, now, demo.MaxCopies); err != nil {
		s.logger.Warn("schedule: expired demo copies", "err", err)
	} else if n > 0 {
		s.logger.Info("schedule: removed expired demo copies", "count", n)
	}
	for _, pub := range pubs {
		if ctx.Err() != nil {
			return
		}
		if pub.Settings.ExpiresAt != nil && !pub.Settings.ExpiresAt.After(now) {
			continue // removed above
		}
		s.tickPublisher(ctx, pub, now, local)
	}
}

func (s *Server) tickPublisher(ctx context.Context, pub *phantomos.Publisher, now time.Time, local func(context.Context, *store.Store, phantomos.PublisherID) (mapping.Local, error)) {
	defer func() {
		if r := recover(); r != nil {
			s.logger.Error("schedule: publisher failed", "publisher", pub.ID, "panic", r, "stack", string(debug.Stack()))
		}
	}()
	if last, err := s.store.LastInsightRun(ctx, pub.ID); err == nil && now.Sub(last) > insightsMaxAge {
		if _, err := s.generateInsights(ctx, pub); err != nil {
			s.logger.Warn("schedule: insights", "publisher", pub.ID, "err", err)
		}
	}
	s.syncDue(ctx, pub.ID, now)
	s.pullDue(ctx, pub.ID, now)
	// Products that arrived since (syncs, webhooks) get suggestions.
	s.retagWith(ctx, pub.ID, true, local)
}

// syncDue starts the syncs of pub's active connectors that are due.
func (s *Server) syncDue(ctx context.Context, pub phantomos.PublisherID, now time.Time) {
	if s.conn == nil {
		return
	}
	conns, err := s.store.Connectors(ctx, pub)
	if err != nil {
		s.logger.Warn("schedule: connectors", "publisher", pub, "err", err)
		return
	}
	for _, c := range conns {
		p, ok := s.platform(c.Type)
		if !ok || c.Status != "active" || (c.LastSyncAt != nil && now.Sub(*c.LastSyncAt) < p.Info().Every()) {
			continue
		}
		t := connector.Target{Publisher: pub, ConnectorID: c.ID}
		_, src, err := s.openSource(ctx, c)
		if err != nil {
			continue
		}
		s.subscribe(ctx, p, t, src) // re-created when the platform dropped them
		if err := s.beginSync(ctx, t); err != nil && phantomos.ErrorCode(err) != phantomos.ECONFLICT {
			s.logger.Warn("schedule: enqueue sync", "publisher", pub, "connector", c.ID, "err", err)
		}
	}
}
