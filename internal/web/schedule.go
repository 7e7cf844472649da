package web

import (
	"context"
	"time"

	"github.com/phantomos/phantomos"
	"github.com/phantomos/phantomos/internal/connector"
	"github.com/phantomos/phantomos/internal/connector/shopify"
)

// syncEvery is how often an active connector syncs on its own.
const syncEvery = 6 * time.Hour

// Schedule does the periodic work until ctx ends: every interval it
// regenerates insights older than a day, syncs active connectors whose
// last sync is older than syncEvery and runs the local tagger over products
// it has not looked at yet. Both are idempotent, so a tick that
// overlaps another replica's duplicates nothing; a durable job queue
// would also spread the work and survive restarts.
func (s *Server) Schedule(ctx context.Context, interval time.Duration) {
	// The first tick waits an interval: start-up stays quick, and pages
	// generate what they need on first visit anyway.
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		s.tick(ctx)
	}
}

func (s *Server) tick(ctx context.Context) {
	pubs, err := s.store.Publishers(ctx)
	if err != nil {
		s.logger.Warn("schedule: publishers", "err", err)
		return
	}
	now := s.now()
	for _, pub := range pubs {
		if ctx.Err() != nil {
			return
		}
		if last, err := s.store.LastInsightRun(ctx, pub.ID); err == nil && now.Sub(last) > insightsMaxAge {
			if _, err := s.generateInsights(ctx, pub); err != nil {
				s.logger.Warn("schedule: insights", "publisher", pub.ID, "err", err)
			}
		}
		s.syncDue(ctx, pub.ID, now)
		// Products that arrived since (syncs, webhooks) get suggestions.
		s.retag(ctx, pub.ID, true)
	}
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
		if c.Type != phantomos.ConnectorShopify || c.Status != "active" || (c.LastSyncAt != nil && now.Sub(*c.LastSyncAt) < syncEvery) {
			continue
		}
		t := connector.Target{Publisher: pub, ConnectorID: c.ID}
		var cr shopify.Credentials
		if err := s.conn.vault.Load(ctx, t, &cr); err != nil {
			continue
		}
		src, err := s.shopifyClient(t, cr)
		if err != nil {
			continue
		}
		s.registerWebhooks(ctx, t, src, cr) // re-created when Shopify dropped them
		s.startSync(t, src)
	}
}
