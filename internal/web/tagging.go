package web

import (
	"context"
	"runtime/debug"
	"time"

	"github.com/phantomos/phantomos"
	"github.com/phantomos/phantomos/internal/ingest"
	"github.com/phantomos/phantomos/internal/mapping"
	"github.com/phantomos/phantomos/internal/store"
)

// catalogue is a publisher's game IPs and assets, indexed for pages.
type catalogue struct {
	GameIPs []*phantomos.GameIP
	Assets  []*phantomos.Asset
	ipByID  map[string]*phantomos.GameIP
	byID    map[string]*phantomos.Asset
}

func (s *Server) catalogue(ctx context.Context, pub phantomos.PublisherID) (*catalogue, error) {
	ips, err := s.store.GameIPs(ctx, pub)
	if err != nil {
		return nil, err
	}
	assets, err := s.store.Assets(ctx, pub)
	if err != nil {
		return nil, err
	}
	c := &catalogue{GameIPs: ips, Assets: assets, ipByID: map[string]*phantomos.GameIP{}, byID: map[string]*phantomos.Asset{}}
	for _, g := range ips {
		c.ipByID[g.ID] = g
	}
	for _, a := range assets {
		c.byID[a.ID] = a
	}
	return c, nil
}

// ipName is the name of the asset's game IP.
func (c *catalogue) ipName(a *phantomos.Asset) string {
	if g := c.ipByID[a.GameIPID]; g != nil {
		return g.Name
	}
	return ""
}

// live returns the assets that can take new mappings, grouped by game IP.
func (c *catalogue) live() []assetGroup {
	var out []assetGroup
	for _, g := range c.GameIPs {
		if g.ArchivedAt != nil {
			continue
		}
		grp := assetGroup{GameIP: g.Name}
		for _, a := range c.Assets {
			if a.GameIPID == g.ID && a.ArchivedAt == nil {
				grp.Assets = append(grp.Assets, a)
			}
		}
		if len(grp.Assets) > 0 {
			out = append(out, grp)
		}
	}
	return out
}

type assetGroup struct {
	GameIP string
	Assets []*phantomos.Asset
}

// suggestMappings runs the tagger over publisher pub's products waiting
// for a decision (only those never looked at when onlyNew), with Claude for
// the products the local tagger is unsure about when one is configured. A
// person asks for it (the Suggest mappings button, POST /api/ai/tagging):
// Claude costs money, so automatic runs use retag.
func (s *Server) suggestMappings(ctx context.Context, pub phantomos.PublisherID, onlyNew bool) (mapping.Run, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Minute)
	defer cancel()
	run, err := mapping.Suggest(ctx, s.store, pub, onlyNew, s.claude)
	for _, f := range run.Failures {
		s.logger.Error("tagging: product skipped", "publisher", pub, "product", f.ProductID, "name", f.Product, "err", f.Err)
	}
	if err != nil && run.Products > 0 {
		// Claude failed part-way: every local suggestion and what Claude
		// answered are stored; say so in the log and carry on.
		s.logger.Warn("tagging: claude", "publisher", pub, "err", err)
		return run, nil
	}
	return run, err
}

// retag runs the local tagger alone, after changes that call for it: new
// products (imports, the schedule after syncs) or a changed catalogue. A
// failure is logged: the change itself has succeeded.
func (s *Server) retag(ctx context.Context, pub phantomos.PublisherID, onlyNew bool) {
	s.retagWith(ctx, pub, onlyNew, nil)
}

// retagWith is retag with the local tagger built by local (nil: the
// publisher's own; tests pass a failing one). It never panics: it runs after
// imports in the background and on the schedule for every publisher, where
// a panic would take the process down. A product the tagger fails on is
// skipped by the run (and recorded in the audit log); each is logged here
// with its publisher.
func (s *Server) retagWith(ctx context.Context, pub phantomos.PublisherID, onlyNew bool, local func(context.Context, *store.Store, phantomos.PublisherID) (mapping.Local, error)) {
	defer func() {
		if r := recover(); r != nil {
			s.logger.Error("tagging: run failed", "publisher", pub, "panic", r, "stack", string(debug.Stack()))
		}
	}()
	run, err := mapping.SuggestWith(ctx, s.store, pub, mapping.Options{OnlyNew: onlyNew, Local: local})
	for _, f := range run.Failures {
		s.logger.Error("tagging: product skipped", "publisher", pub, "product", f.ProductID, "name", f.Product, "err", f.Err)
	}
	if run.Failed > len(run.Failures) {
		s.logger.Error("tagging: more products skipped", "publisher", pub, "count", run.Failed-len(run.Failures))
	}
	if err != nil {
		s.logger.Warn("tagging", "publisher", pub, "err", err)
	}
}

// retagAfterImport brings suggestions up to date after an import that wrote
// something: new products get theirs, and a new catalogue re-examines every
// product waiting for review.
func (s *Server) retagAfterImport(ctx context.Context, pub phantomos.PublisherID, kind ingest.Kind, res *ingest.Result) {
	if res == nil || res.DryRun || res.Inserted+res.Updated == 0 {
		return
	}
	switch kind {
	case ingest.KindProducts, ingest.KindSales:
		s.retag(ctx, pub, true)
	case ingest.KindAssets:
		s.retag(ctx, pub, false)
	}
}
