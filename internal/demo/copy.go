package demo

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"slices"
	"time"

	"github.com/phantomos/phantomos"
	"github.com/phantomos/phantomos/internal/store"
)

const (
	// CopySales is the number of sale rows of a visitor's private copy:
	// enough for every page to tell its stories, quick to load.
	CopySales = 20_000
	// CopyLifetime is how long a private copy is kept.
	CopyLifetime = 24 * time.Hour
	// MaxCopies bounds the private copies kept at once: making one more
	// removes the oldest.
	MaxCopies = 50
	// copyEmailDomain is the domain of the owners of private copies.
	copyEmailDomain = "visitors.demo.phantomos.local"
)

// LoadCopy creates a private copy of the demo publisher for one visitor:
// the same studio with sales rows (0: CopySales) as of now, and an owner
// without a
// password whom the web layer signs in. The copy expires after
// CopyLifetime (RemoveExpired removes it). Before creating it, the oldest
// copies beyond MaxCopies-1 are removed, so copies never pile up.
func LoadCopy(ctx context.Context, s *store.Store, now time.Time, sales int) (*phantomos.Publisher, *phantomos.User, error) {
	if sales == 0 {
		sales = CopySales
	}
	if _, err := RemoveExpired(ctx, s, now, MaxCopies-1); err != nil {
		return nil, nil, err
	}
	loc, tz := location()
	p, err := newPlan(Options{Sales: sales, Now: now}, loc)
	if err != nil {
		return nil, nil, fmt.Errorf("demo: %w", err)
	}
	var b [6]byte
	rand.Read(b[:])
	id := hex.EncodeToString(b[:])
	pub := newPublisher("demo-"+id, tz)
	expires := now.Add(CopyLifetime).UTC().Truncate(time.Second)
	pub.Settings.ExpiresAt = &expires
	if err := s.CreatePublisher(ctx, pub); err != nil {
		return nil, nil, fmt.Errorf("demo: copy: %w", err)
	}
	owner := &phantomos.User{Email: "visitor-" + id + "@" + copyEmailDomain, Name: "Demo visitor", Role: phantomos.RoleOwner}
	if err := fill(ctx, s, pub, p, owner, nil); err != nil {
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
		defer cancel()
		s.DeletePublisher(cctx, pub.ID)
		return nil, nil, err
	}
	return pub, owner, nil
}

// RemoveExpired removes the private demo copies that expired by now, and
// the oldest of the others beyond keep, with all their data. It returns
// how many it removed.
func RemoveExpired(ctx context.Context, s *store.Store, now time.Time, keep int) (int, error) {
	pubs, err := s.Publishers(ctx)
	if err != nil {
		return 0, fmt.Errorf("demo: copies: %w", err)
	}
	var copies []*phantomos.Publisher
	for _, p := range pubs {
		if p.Settings.ExpiresAt != nil {
			copies = append(copies, p)
		}
	}
	// Newest first: the ones past keep, and any expired, go.
	slices.SortFunc(copies, func(a, b *phantomos.Publisher) int { return b.Settings.ExpiresAt.Compare(*a.Settings.ExpiresAt) })
	removed := 0
	for i, p := range copies {
		if i < keep && p.Settings.ExpiresAt.After(now) {
			continue
		}
		if err := s.DeletePublisher(ctx, p.ID); err != nil && phantomos.ErrorCode(err) != phantomos.ENOTFOUND {
			return removed, fmt.Errorf("demo: remove copy %s: %w", p.Slug, err)
		}
		removed++
	}
	return removed, nil
}
