package demo

import (
	"context"
	"testing"
	"time"

	"github.com/phantomos/phantomos"
	"github.com/phantomos/phantomos/internal/store"
	"github.com/phantomos/phantomos/internal/store/storetest"
)

// testCopySales keeps the copies of the tests small.
const testCopySales = 2000

// TestPrivateCopies: each visitor's copy is a publisher of its own, owned
// by a fresh account, with the demo's data; copies expire, and making one
// beyond the bound removes the oldest. Both engines.
func TestPrivateCopies(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		now := time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC)
		a, ownerA, err := LoadCopy(ctx, s, now, testCopySales)
		if err != nil {
			t.Fatal(err)
		}
		b, ownerB, err := LoadCopy(ctx, s, now.Add(time.Hour), testCopySales)
		if err != nil {
			t.Fatal(err)
		}
		if a.ID == b.ID || a.Slug == b.Slug || ownerA.Email == ownerB.Email {
			t.Fatalf("two visitors share a copy: %s %s, %s %s", a.Slug, b.Slug, ownerA.Email, ownerB.Email)
		}
		for _, c := range []struct {
			pub   *phantomos.Publisher
			owner *phantomos.User
		}{{a, ownerA}, {b, ownerB}} {
			u, _, err := s.UserForLogin(ctx, c.owner.Email)
			if err != nil || u.PublisherID != c.pub.ID || u.Role != phantomos.RoleOwner {
				t.Errorf("owner of %s: %+v, %v", c.pub.Slug, u, err)
			}
			var n int64
			if err := s.DB().QueryRow(`SELECT COUNT(*) FROM sales WHERE publisher_id = $1`, c.pub.ID).Scan(&n); err != nil || n != testCopySales {
				t.Errorf("copy %s has %d sales (%v), want %d", c.pub.Slug, n, err, testCopySales)
			}
			got, err := s.Publisher(ctx, c.pub.ID)
			if err != nil || got.Settings.ExpiresAt == nil {
				t.Fatalf("copy %s: %+v, %v", c.pub.Slug, got, err)
			}
		}

		// Keeping one removes the older copy only.
		if n, err := RemoveExpired(ctx, s, now.Add(2*time.Hour), 1); err != nil || n != 1 {
			t.Fatalf("RemoveExpired keep 1 = %d, %v", n, err)
		}
		if _, err := s.Publisher(ctx, a.ID); phantomos.ErrorCode(err) != phantomos.ENOTFOUND {
			t.Errorf("the older copy is still there: %v", err)
		}
		if _, err := s.Publisher(ctx, b.ID); err != nil {
			t.Errorf("the newer copy is gone: %v", err)
		}
		// A day later the other one has expired; nothing else is touched.
		other := &phantomos.Publisher{Name: "Real studio", Slug: "real-studio", ReportingCurrency: "USD", Timezone: "UTC"}
		if err := s.CreatePublisher(ctx, other); err != nil {
			t.Fatal(err)
		}
		if n, err := RemoveExpired(ctx, s, now.Add(CopyLifetime+2*time.Hour), MaxCopies); err != nil || n != 1 {
			t.Fatalf("RemoveExpired after a day = %d, %v", n, err)
		}
		if _, err := s.Publisher(ctx, b.ID); phantomos.ErrorCode(err) != phantomos.ENOTFOUND {
			t.Errorf("the expired copy is still there: %v", err)
		}
		if _, err := s.Publisher(ctx, other.ID); err != nil {
			t.Errorf("a real publisher was removed: %v", err)
		}
	})
}
