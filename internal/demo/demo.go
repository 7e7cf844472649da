// Package demo creates the demo publisher: an invented game studio with
// three franchises, their characters and other assets, a few hundred
// products on three sales connectors and two years of sales, so that
// `phantomos serve --demo` shows a complete product on a fresh machine.
//
// Everything is drawn from one seed, so the same Options give the same data,
// and the sales are generated lazily and streamed into the store, so ten
// million rows load in flat memory. The data tells stories the product is
// meant to find: holiday peaks and a summer dip, launch spikes, a hero and a
// villain, a character on the rise (RisingCharacter) and one in decline
// (DecliningCharacter), and a share of products still waiting to be tagged.
package demo

import (
	"context"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/phantomos/phantomos"
	"github.com/phantomos/phantomos/internal/mapping"
	"github.com/phantomos/phantomos/internal/store"
)

const (
	// Slug is the slug of the demo publisher.
	Slug = "demo"
	// PublisherName is the name of the demo publisher.
	PublisherName = "Nebula Forge Games"
	// AnalystEmail is the email of the demo publisher's read-only analyst.
	// It has no password: the web layer signs it in through "Explore the
	// demo".
	AnalystEmail = "demo@phantomos.local"
	// DefaultSales is the number of sale rows loaded when Options.Sales is
	// zero.
	DefaultSales = 50_000
	// timezone is the demo publisher's time zone, when the system knows it.
	timezone = "America/Los_Angeles"
)

// Options choose how much demo data to make and from which seed.
type Options struct {
	// Sales is the exact number of sale rows (order lines); 0 means
	// DefaultSales.
	Sales int
	// Seed selects the data: the same seed gives the same data.
	Seed int64
	// Now is the "as of" time: the sales cover the 24 months of whole days
	// before its day. The zero value means time.Now().
	Now time.Time
}

// Load creates the demo publisher in s with its connectors, game IPs,
// assets, products, sales and analyst user, and returns the publisher. If a
// publisher with slug Slug exists already it returns an ECONFLICT error and
// changes nothing. If loading fails part way it removes what it created, so
// that it can simply be run again.
//
// progress, when not nil, is called with the sale rows loaded so far and
// their total: at the start, about every 100,000 rows and at the end.
func Load(ctx context.Context, s *store.Store, opts Options, progress func(done, total int64)) (*phantomos.Publisher, error) {
	loc, tz := location()
	p, err := newPlan(opts, loc)
	if err != nil {
		return nil, fmt.Errorf("demo: %w", err)
	}
	pub := newPublisher(Slug, tz)
	err = s.CreatePublisher(ctx, pub)
	if phantomos.ErrorCode(err) == phantomos.ECONFLICT {
		// A load killed part-way leaves a publisher without its analyst (added
		// last): remove it and start again, so a retry loses and duplicates
		// nothing.
		old, oerr := s.PublisherBySlug(ctx, Slug)
		if oerr == nil && !complete(ctx, s, old.ID) {
			if derr := s.DeletePublisher(ctx, old.ID); derr != nil {
				return nil, fmt.Errorf("demo: remove incomplete demo publisher: %w", derr)
			}
			pub.ID = ""
			err = s.CreatePublisher(ctx, pub)
		}
	}
	if err != nil {
		if phantomos.ErrorCode(err) == phantomos.ECONFLICT {
			return nil, fmt.Errorf("demo: %w", phantomos.Errorf(phantomos.ECONFLICT, "The demo publisher %q already exists.", Slug))
		}
		return nil, fmt.Errorf("demo: create publisher: %w", err)
	}
	analyst := &phantomos.User{Email: AnalystEmail, Name: "Demo Analyst", Role: phantomos.RoleAnalyst}
	if err := fill(ctx, s, pub, p, analyst, progress); err != nil {
		// The publisher is ours and incomplete: remove it, even when ctx is
		// what was cancelled.
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
		defer cancel()
		if derr := s.DeletePublisher(cctx, pub.ID); derr != nil {
			err = errors.Join(err, fmt.Errorf("demo: remove incomplete demo publisher: %w", derr))
		}
		return nil, err
	}
	return pub, nil
}

// Exists reports whether the complete demo publisher exists in s. One left
// incomplete by a killed load does not count: Load replaces it.
func Exists(ctx context.Context, s *store.Store) (bool, error) {
	pub, err := s.PublisherBySlug(ctx, Slug)
	switch phantomos.ErrorCode(err) {
	case "":
		return complete(ctx, s, pub.ID), nil
	case phantomos.ENOTFOUND:
		return false, nil
	}
	return false, fmt.Errorf("demo: %w", err)
}

// location returns the demo publisher's time zone and its name, UTC on a
// system without time zone data.
func location() (*time.Location, string) {
	if loc, err := time.LoadLocation(timezone); err == nil {
		return loc, timezone
	}
	return time.UTC, "UTC"
}

// newPublisher is the demo studio under slug, in time zone tz.
func newPublisher(slug, tz string) *phantomos.Publisher {
	return &phantomos.Publisher{
		Name:              PublisherName,
		Slug:              slug,
		Website:           "https://nebulaforge.example",
		SubscriptionTier:  "growth",
		ReportingCurrency: "USD",
		Timezone:          tz,
		Settings: phantomos.PublisherSettings{
			AttributionModel: phantomos.AttributionWeighted,
			IncludeRefunds:   true,
			IncludeDiscounts: true,
		},
	}
}

// fill stores everything of the demo publisher pub but the publisher
// itself. The user comes last, so that a demo publisher with its user is a
// complete one.
func fill(ctx context.Context, s *store.Store, pub *phantomos.Publisher, p *plan, user *phantomos.User, progress func(done, total int64)) error {
	connectorIDs := make([]string, numConnectors)
	for i, spec := range p.connectors {
		c := &phantomos.Connector{Type: spec.typ, Name: spec.name, Status: "active"}
		if err := s.CreateConnector(ctx, pub.ID, c); err != nil {
			return fmt.Errorf("demo: connector %s: %w", spec.name, err)
		}
		connectorIDs[i] = c.ID
	}

	ipIDs := make([]string, len(p.ips))
	for i, spec := range p.ips {
		g := &phantomos.GameIP{Name: spec.name, Slug: spec.slug, Genre: spec.genre, Platforms: spec.platforms}
		if err := s.CreateGameIP(ctx, pub.ID, g); err != nil {
			return fmt.Errorf("demo: game IP %s: %w", spec.name, err)
		}
		ipIDs[i] = g.ID
	}
	assetIDs := make([]string, len(p.assets))
	for i, spec := range p.assets {
		a := &phantomos.Asset{
			GameIPID:   ipIDs[spec.ip],
			Name:       spec.name,
			AssetType:  spec.typ,
			Aliases:    spec.aliases,
			Tags:       spec.tags,
			Popularity: min(100, math.Round(spec.demand*1000)/10),
		}
		if err := s.CreateAsset(ctx, pub.ID, a); err != nil {
			return fmt.Errorf("demo: asset %s: %w", spec.name, err)
		}
		assetIDs[i] = a.ID
	}

	products := make([]*phantomos.Product, len(p.listings))
	productIDs := make([]string, len(p.listings))
	var links []phantomos.ProductAsset
	for i, l := range p.listings {
		pr := &phantomos.Product{
			ID:            phantomos.NewID(),
			ConnectorID:   connectorIDs[l.conn],
			ExternalID:    l.externalID,
			Name:          l.name,
			Description:   l.description,
			SKU:           l.sku,
			Category:      l.category,
			Price:         l.price,
			Currency:      "USD",
			Tags:          l.tags,
			MappingStatus: l.status,
		}
		if l.gameIP >= 0 {
			pr.GameIPID = ipIDs[l.gameIP]
		}
		for _, k := range l.links {
			links = append(links, phantomos.ProductAsset{
				ProductID:  pr.ID,
				AssetID:    assetIDs[k.asset],
				IsPrimary:  k.primary,
				Weight:     k.weight,
				Source:     k.source,
				Confidence: k.confidence,
			})
		}
		products[i], productIDs[i] = pr, pr.ID
	}
	if err := s.CreateProducts(ctx, pub.ID, products, links); err != nil {
		return fmt.Errorf("demo: products: %w", err)
	}
	// The products waiting for review get their suggestions from the same
	// tagger the workbench runs, taught by the demo's confirmed mappings.
	if _, err := mapping.Suggest(ctx, s, pub.ID, true, nil); err != nil {
		return fmt.Errorf("demo: suggestions: %w", err)
	}

	if progress != nil {
		progress(0, p.total)
	}
	n, err := s.BulkLoadSales(ctx, pub.ID, p.sales(productIDs, connectorIDs, progress))
	if err != nil {
		return fmt.Errorf("demo: sales: %w", err)
	}
	if n != p.total {
		return fmt.Errorf("demo: sales: loaded %d rows, want %d", n, p.total)
	}

	// The live store's history shows the backfill that brought its sales,
	// so its page and its last sync agree.
	for i, spec := range p.connectors {
		if spec.typ == phantomos.ConnectorCSV {
			continue
		}
		products, lines, err := s.ConnectorTotals(ctx, pub.ID, connectorIDs[i])
		if err != nil {
			return fmt.Errorf("demo: connector %s: %w", spec.name, err)
		}
		run, err := s.StartSyncRun(ctx, pub.ID, connectorIDs[i])
		if err != nil {
			return fmt.Errorf("demo: connector %s: %w", spec.name, err)
		}
		counts := store.SyncCounts{Seen: products + lines, Inserted: products + lines}
		if err := s.FinishSyncRun(ctx, pub.ID, run.ID, store.SyncSucceeded, counts, ""); err != nil {
			return fmt.Errorf("demo: connector %s: %w", spec.name, err)
		}
	}

	if err := s.CreateUser(ctx, pub.ID, user, ""); err != nil {
		return fmt.Errorf("demo: user: %w", err)
	}
	if progress != nil {
		progress(p.total, p.total)
	}
	return nil
}

// complete reports whether the demo publisher pub was loaded to the end:
// its analyst, created last, exists.
func complete(ctx context.Context, s *store.Store, pub phantomos.PublisherID) bool {
	u, _, err := s.UserForLogin(ctx, AnalystEmail)
	return err == nil && u.PublisherID == pub
}
