package web

import (
	"context"

	"github.com/phantomos/phantomos"
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

// retagLater enqueues a local tagging run after a change that calls for
// one (a changed catalogue); a worker, here or in another process, runs
// it. Without a queue, or when it cannot take the job, it runs here.
func (s *Server) retagLater(ctx context.Context, pub phantomos.PublisherID, onlyNew bool) {
	if s.jobs != nil {
		err := s.jobs.EnqueueTagRun(ctx, pub, onlyNew)
		if err == nil {
			return
		}
		s.logger.Warn("tagging: enqueue", "publisher", pub, "err", err)
	}
	s.work.Retag(ctx, pub, onlyNew)
}
