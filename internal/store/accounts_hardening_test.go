package store_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/phantomos/phantomos"
	"github.com/phantomos/phantomos/internal/store"
	"github.com/phantomos/phantomos/internal/store/storetest"
)

// TestAPIKeyRoleFollowsUser: a key acts with its role capped at its
// user's current role, read at every use; a removed user's key stops; the
// listing says which role each key acts with.
func TestAPIKeyRoleFollowsUser(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		a := newFixture(t, s, "alpha")
		mustUser(t, s, a.pub.ID, "owner@a.io", phantomos.RoleOwner)
		admin := mustUser(t, s, a.pub.ID, "admin@a.io", phantomos.RoleAdmin)
		id, err := s.CreateAPIKey(ctx, a.pub.ID, admin.ID, "CI", "pk_adm", "adminkey", phantomos.RoleAdmin)
		if err != nil {
			t.Fatal(err)
		}
		role := func() phantomos.Role {
			act, err := s.ActorByAPIKey(ctx, "adminkey")
			if err != nil {
				return phantomos.Role(phantomos.ErrorCode(err))
			}
			return act.Role
		}
		if got := role(); got != phantomos.RoleAdmin {
			t.Fatalf("before: %s", got)
		}
		if err := s.SetRole(ctx, a.pub.ID, admin.ID, phantomos.RoleAnalyst); err != nil {
			t.Fatal(err)
		}
		if got := role(); got != phantomos.RoleAnalyst {
			t.Errorf("after demotion to analyst: key acts as %s", got)
		}
		k, err := s.APIKey(ctx, a.pub.ID, id)
		if err != nil || k.Role != phantomos.RoleAdmin || k.UserRole != phantomos.RoleAnalyst || k.EffectiveRole() != phantomos.RoleAnalyst {
			t.Errorf("APIKey = %+v (effective %s), %v", k, k.EffectiveRole(), err)
		}
		if _, err := s.APIKey(ctx, "00000000-0000-7000-8000-000000000000", id); phantomos.ErrorCode(err) != phantomos.ENOTFOUND {
			t.Errorf("key from another publisher: %v, want not found", err)
		}
		if err := s.SetRole(ctx, a.pub.ID, admin.ID, phantomos.RoleAdmin); err != nil {
			t.Fatal(err)
		}
		if got := role(); got != phantomos.RoleAdmin {
			t.Errorf("after promotion back: %s, want admin (never above the key's own role)", got)
		}
		if err := s.DeleteUser(ctx, a.pub.ID, admin.ID); err != nil {
			t.Fatal(err)
		}
		if got := role(); got != phantomos.EUNAUTHORIZED {
			t.Errorf("removed user's key: %s, want unauthorized", got)
		}
	})
}

// TestTOTPStepAcceptedOnce: a time step is accepted once, later steps
// still are, and of parallel uses of one step exactly one wins.
func TestTOTPStepAcceptedOnce(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		a := newFixture(t, s, "alpha")
		u := mustUser(t, s, a.pub.ID, "u@a.io", phantomos.RoleMember)
		b := newFixture(t, s, "beta")
		for _, tc := range []struct {
			pub  phantomos.PublisherID
			step int64
			want bool
		}{
			{a.pub.ID, 100, true}, {a.pub.ID, 100, false}, {a.pub.ID, 99, false}, {b.pub.ID, 101, false}, {a.pub.ID, 101, true},
		} {
			ok, err := s.AcceptTOTPStep(ctx, tc.pub, u.ID, tc.step)
			if err != nil || ok != tc.want {
				t.Errorf("AcceptTOTPStep(step %d) = %v, %v; want %v", tc.step, ok, err, tc.want)
			}
		}
		var wg sync.WaitGroup
		var won atomic.Int32
		for range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				ok, err := s.AcceptTOTPStep(ctx, a.pub.ID, u.ID, 200)
				if err != nil {
					t.Error(err)
				}
				if ok {
					won.Add(1)
				}
			}()
		}
		wg.Wait()
		if n := won.Load(); n != 1 {
			t.Errorf("%d of 8 parallel uses of one step accepted, want 1", n)
		}
	})
}
