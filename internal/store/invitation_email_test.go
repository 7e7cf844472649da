package store_test

import (
	"context"
	"strings"
	"testing"

	"github.com/phantomos/phantomos"
	"github.com/phantomos/phantomos/internal/store"
	"github.com/phantomos/phantomos/internal/store/storetest"
)

// TestInvitationEmailState: an invitation's email state is recorded and
// read back with the invitation (sent with its time, a failure with its
// reason, clipped); another publisher cannot set it, and an unknown state
// is refused. On both engines.
func TestInvitationEmailState(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		a := newFixture(t, s, "alpha")
		b := newFixture(t, s, "beta")
		owner := mustUser(t, s, a.pub.ID, "owner@a.io", phantomos.RoleOwner)
		inv, err := s.CreateInvitation(ctx, a.pub.ID, owner.ID, "new@a.io", phantomos.RoleMember, "tok-email")
		if err != nil {
			t.Fatal(err)
		}
		if inv.EmailState != "" || inv.EmailedAt != nil {
			t.Errorf("a new invitation's email: %q %v", inv.EmailState, inv.EmailedAt)
		}
		if err := s.SetInvitationEmail(ctx, b.pub.ID, inv.ID, store.EmailSent, ""); phantomos.ErrorCode(err) != phantomos.ENOTFOUND {
			t.Errorf("B setting A's invitation email: %v, want not found", err)
		}
		if err := s.SetInvitationEmail(ctx, a.pub.ID, inv.ID, "lost", ""); err == nil {
			t.Errorf("an unknown state was accepted")
		}
		if err := s.SetInvitationEmail(ctx, a.pub.ID, inv.ID, store.EmailRetrying, strings.Repeat("x", 900)); err != nil {
			t.Fatal(err)
		}
		got, err := s.Invitation(ctx, a.pub.ID, inv.ID)
		if err != nil || got.EmailState != store.EmailRetrying || len(got.EmailError) != 500 || got.EmailedAt != nil {
			t.Fatalf("retrying: %+v, %v", got, err)
		}
		if err := s.SetInvitationEmail(ctx, a.pub.ID, inv.ID, store.EmailSent, ""); err != nil {
			t.Fatal(err)
		}
		list, err := s.Invitations(ctx, a.pub.ID)
		if err != nil || len(list) != 1 || list[0].EmailState != store.EmailSent || list[0].EmailError != "" || list[0].EmailedAt == nil {
			t.Fatalf("sent: %+v, %v", list, err)
		}
		if other, err := s.Invitations(ctx, b.pub.ID); err != nil || len(other) != 0 {
			t.Errorf("B's invitations: %+v, %v", other, err)
		}
	})
}
