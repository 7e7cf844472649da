package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/phantomos/phantomos"
	"github.com/phantomos/phantomos/internal/store"
	"github.com/phantomos/phantomos/internal/store/storetest"
)

// TestAuditLogNames: entries whose target or API-key actor is an id read
// as the object's name; an object that is gone reads as the name its entry
// recorded; another publisher's object is never named. Both engines.
func TestAuditLogNames(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		a := newFixture(t, s, "alpha")
		b := newFixture(t, s, "beta")
		u := mustUser(t, s, a.pub.ID, "u@a.io", phantomos.RoleAdmin)
		key, err := s.CreateAPIKey(ctx, a.pub.ID, u.ID, "Nightly export", "pk_abc", "keyhash", phantomos.RoleMember)
		if err != nil {
			t.Fatal(err)
		}
		gone := phantomos.NewID()
		entries := []store.AuditEntry{
			{Actor: "api key " + key, Action: "product.review", Target: a.products[0].ID},
			{ActorID: u.ID, Actor: u.Email, Action: "connector.sync", Target: a.conn.ID},
			{ActorID: u.ID, Actor: u.Email, Action: "asset.delete", Target: gone, Details: map[string]any{"name": "Old Nova"}},
			{ActorID: u.ID, Actor: u.Email, Action: "member.remove", Target: "x@a.io"},
			{ActorID: u.ID, Actor: u.Email, Action: "product.review", Target: b.products[1].ID},
		}
		at := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
		for i, e := range entries {
			s.SetClock(func() time.Time { return at.Add(time.Duration(len(entries)-i) * time.Minute) })
			if err := s.Audit(ctx, a.pub.ID, e); err != nil {
				t.Fatal(err)
			}
		}
		s.SetClock(time.Now)
		log, err := s.AuditLog(ctx, a.pub.ID, time.Time{}, 10)
		if err != nil {
			t.Fatal(err)
		}
		type named struct{ Actor, Target string }
		var got []named
		for _, e := range log {
			got = append(got, named{e.ActorName, e.TargetName})
		}
		want := []named{
			{`API key “Nightly export”`, `product “Nova Hoodie”`},
			{"", `connector “Files”`},
			{"", `“Old Nova”`},
			{"", ""},
			{"", ""}, // beta's product stays an id in alpha's log
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("audit log names (-want +got):\n%s", diff)
		}
	})
}
