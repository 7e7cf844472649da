package store_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/phantomos/phantomos"
	"github.com/phantomos/phantomos/internal/store"
	"github.com/phantomos/phantomos/internal/store/storetest"
)

// TestAPIKeysBounded: a publisher holds at most MaxAPIKeys live keys; the
// next is refused with a reason, a revoked key makes room, and another
// publisher's keys do not count.
func TestAPIKeysBounded(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		a := &phantomos.Publisher{Name: "A", Slug: "alpha"}
		b := &phantomos.Publisher{Name: "B", Slug: "beta"}
		for _, p := range []*phantomos.Publisher{a, b} {
			if err := s.CreatePublisher(ctx, p); err != nil {
				t.Fatal(err)
			}
		}
		var first string
		for i := range store.MaxAPIKeys {
			id, err := s.CreateAPIKey(ctx, a.ID, "", "k", "phk_x", fmt.Sprintf("hash-%d", i), phantomos.RoleMember)
			if err != nil {
				t.Fatalf("key %d: %v", i, err)
			}
			if i == 0 {
				first = id
			}
		}
		_, err := s.CreateAPIKey(ctx, a.ID, "", "k", "phk_x", "hash-over", phantomos.RoleMember)
		if phantomos.ErrorCode(err) != phantomos.EINVALID {
			t.Fatalf("key %d: %v, want EINVALID", store.MaxAPIKeys+1, err)
		}
		if _, err := s.CreateAPIKey(ctx, b.ID, "", "k", "phk_x", "hash-b", phantomos.RoleMember); err != nil {
			t.Errorf("another publisher's key: %v", err)
		}
		if err := s.RevokeAPIKey(ctx, a.ID, first); err != nil {
			t.Fatal(err)
		}
		if _, err := s.CreateAPIKey(ctx, a.ID, "", "k", "phk_x", "hash-again", phantomos.RoleMember); err != nil {
			t.Errorf("after a revocation: %v", err)
		}
	})
}
