package store_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/phantomos/phantomos"
	"github.com/phantomos/phantomos/internal/store"
	"github.com/phantomos/phantomos/internal/store/storetest"
)

func mustUser(t *testing.T, s *store.Store, pub phantomos.PublisherID, email string, role phantomos.Role) *phantomos.User {
	t.Helper()
	u := &phantomos.User{Email: email, Role: role, Name: email}
	if err := s.CreateUser(context.Background(), pub, u, "hash"); err != nil {
		t.Fatal(err)
	}
	return u
}

func TestInvitations(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		a := newFixture(t, s, "alpha")
		b := newFixture(t, s, "beta")
		owner := mustUser(t, s, a.pub.ID, "owner@a.io", phantomos.RoleOwner)

		if _, err := s.CreateInvitation(ctx, a.pub.ID, owner.ID, "x@a.io", phantomos.RoleOwner, "h0"); phantomos.ErrorCode(err) != phantomos.EINVALID {
			t.Errorf("inviting an owner: %v, want invalid", err)
		}
		if _, err := s.CreateInvitation(ctx, a.pub.ID, owner.ID, "OWNER@a.io", phantomos.RoleMember, "h0"); phantomos.ErrorCode(err) != phantomos.ECONFLICT {
			t.Errorf("inviting a member of the team: %v, want conflict", err)
		}
		inv, err := s.CreateInvitation(ctx, a.pub.ID, owner.ID, "New@A.io", phantomos.RoleMember, "tok1")
		if err != nil {
			t.Fatal(err)
		}
		if inv.Email != "new@a.io" || inv.Status != "pending" || inv.InviterEmail != "owner@a.io" || inv.PublisherName != "Pub alpha" {
			t.Errorf("invitation = %+v", inv)
		}
		// Publisher B sees nothing of A's invitation.
		if _, err := s.Invitation(ctx, b.pub.ID, inv.ID); phantomos.ErrorCode(err) != phantomos.ENOTFOUND {
			t.Errorf("A's invitation as B: %v", err)
		}
		if err := s.RevokeInvitation(ctx, b.pub.ID, inv.ID); phantomos.ErrorCode(err) != phantomos.ENOTFOUND {
			t.Errorf("revoke A's invitation as B: %v", err)
		}
		if l, _ := s.Invitations(ctx, b.pub.ID); len(l) != 0 {
			t.Errorf("B lists %d invitations", len(l))
		}

		// Two concurrent redemptions: exactly one wins.
		var wg sync.WaitGroup
		errs := make([]error, 2)
		for i := range 2 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, errs[i] = s.AcceptInvitation(ctx, "tok1", "New", "pw")
			}()
		}
		wg.Wait()
		ok := 0
		for _, err := range errs {
			if err == nil {
				ok++
			} else if c := phantomos.ErrorCode(err); c != phantomos.ENOTFOUND && c != phantomos.ECONFLICT {
				t.Errorf("losing redemption: %v", err)
			}
		}
		if ok != 1 {
			t.Fatalf("%d concurrent redemptions succeeded, want 1 (%v)", ok, errs)
		}
		u, _, err := s.UserForLogin(ctx, "new@a.io")
		if err != nil || u.Role != phantomos.RoleMember || u.PublisherID != a.pub.ID {
			t.Errorf("accepted user = %+v, %v", u, err)
		}
		if _, err := s.AcceptInvitation(ctx, "tok1", "Again", "pw"); phantomos.ErrorCode(err) != phantomos.ENOTFOUND {
			t.Errorf("replayed invitation: %v", err)
		}

		// Expired invitations cannot be redeemed.
		if _, err := s.CreateInvitation(ctx, a.pub.ID, owner.ID, "late@a.io", phantomos.RoleAnalyst, "tok2"); err != nil {
			t.Fatal(err)
		}
		s.SetClock(func() time.Time { return time.Now().Add(store.InvitationTTL + time.Minute) })
		if inv, _ := s.InvitationByToken(ctx, "tok2"); inv.Status != "expired" {
			t.Errorf("status after expiry = %s", inv.Status)
		}
		if _, err := s.AcceptInvitation(ctx, "tok2", "Late", "pw"); phantomos.ErrorCode(err) != phantomos.ENOTFOUND {
			t.Errorf("expired invitation: %v", err)
		}
	})
}

func TestOwnersAndRoles(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		a := newFixture(t, s, "alpha")
		b := newFixture(t, s, "beta")
		owner := mustUser(t, s, a.pub.ID, "owner@a.io", phantomos.RoleOwner)
		admin := mustUser(t, s, a.pub.ID, "admin@a.io", phantomos.RoleAdmin)

		if err := s.SetRole(ctx, a.pub.ID, owner.ID, phantomos.RoleAdmin); phantomos.ErrorCode(err) != phantomos.ECONFLICT {
			t.Errorf("demoting the last owner: %v, want conflict", err)
		}
		if err := s.DeleteUser(ctx, a.pub.ID, owner.ID); phantomos.ErrorCode(err) != phantomos.ECONFLICT {
			t.Errorf("removing the last owner: %v, want conflict", err)
		}
		if err := s.SetRole(ctx, b.pub.ID, admin.ID, phantomos.RoleAnalyst); phantomos.ErrorCode(err) != phantomos.ENOTFOUND {
			t.Errorf("A's user changed as B: %v", err)
		}
		if err := s.DeleteUser(ctx, b.pub.ID, admin.ID); phantomos.ErrorCode(err) != phantomos.ENOTFOUND {
			t.Errorf("A's user removed as B: %v", err)
		}

		// A role change ends the member's sessions.
		if _, err := s.CreateSession(ctx, admin, "adm", time.Now().Add(time.Hour), "", ""); err != nil {
			t.Fatal(err)
		}
		if err := s.SetRole(ctx, a.pub.ID, admin.ID, phantomos.RoleMember); err != nil {
			t.Fatal(err)
		}
		if _, _, err := s.SessionByToken(ctx, "adm"); phantomos.ErrorCode(err) != phantomos.EUNAUTHORIZED {
			t.Errorf("session after role change: %v", err)
		}

		if err := s.TransferOwnership(ctx, a.pub.ID, owner.ID, admin.ID); err != nil {
			t.Fatal(err)
		}
		users, _ := s.Users(ctx, a.pub.ID)
		roles := map[string]phantomos.Role{}
		for _, u := range users {
			roles[u.Email] = u.Role
		}
		if roles["owner@a.io"] != phantomos.RoleAdmin || roles["admin@a.io"] != phantomos.RoleOwner {
			t.Errorf("after transfer: %v", roles)
		}
		// Now the former owner can be removed, with their sessions.
		if _, err := s.CreateSession(ctx, owner, "own", time.Now().Add(time.Hour), "", ""); err != nil {
			t.Fatal(err)
		}
		if err := s.DeleteUser(ctx, a.pub.ID, owner.ID); err != nil {
			t.Fatal(err)
		}
		if _, _, err := s.SessionByToken(ctx, "own"); phantomos.ErrorCode(err) != phantomos.EUNAUTHORIZED {
			t.Errorf("session of a removed user: %v", err)
		}
	})
}

func TestPasswordChangeEndsOtherSessions(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		a := newFixture(t, s, "alpha")
		u := mustUser(t, s, a.pub.ID, "u@a.io", phantomos.RoleMember)
		keep, _ := s.CreateSession(ctx, u, "keep", time.Now().Add(time.Hour), "", "")
		s.CreateSession(ctx, u, "other", time.Now().Add(time.Hour), "", "")
		if err := s.SetPassword(ctx, a.pub.ID, u.ID, "newhash", keep.ID); err != nil {
			t.Fatal(err)
		}
		if _, _, err := s.SessionByToken(ctx, "keep"); err != nil {
			t.Errorf("the changing session ended: %v", err)
		}
		if _, _, err := s.SessionByToken(ctx, "other"); phantomos.ErrorCode(err) != phantomos.EUNAUTHORIZED {
			t.Errorf("other session survived a password change: %v", err)
		}
		if h, _ := s.PasswordHash(ctx, a.pub.ID, u.ID); h != "newhash" {
			t.Errorf("hash = %q", h)
		}
	})
}

func TestAPIKeysAndAudit(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		a := newFixture(t, s, "alpha")
		b := newFixture(t, s, "beta")
		u := mustUser(t, s, a.pub.ID, "u@a.io", phantomos.RoleAdmin)
		id, err := s.CreateAPIKey(ctx, a.pub.ID, u.ID, "CI", "pk_abc", "keyhash", phantomos.RoleMember)
		if err != nil {
			t.Fatal(err)
		}
		act, err := s.ActorByAPIKey(ctx, "keyhash")
		if err != nil || act.PublisherID != a.pub.ID || act.Role != phantomos.RoleMember || act.APIKeyID != id {
			t.Fatalf("ActorByAPIKey = %+v, %v", act, err)
		}
		keys, _ := s.APIKeys(ctx, a.pub.ID)
		if len(keys) != 1 || keys[0].LastUsedAt == nil || keys[0].Prefix != "pk_abc" {
			t.Fatalf("keys = %+v", keys)
		}
		// Use is recorded at most once a minute: a busy key does not write
		// on every request.
		first := *keys[0].LastUsedAt
		for _, later := range []time.Duration{30 * time.Second, 2 * time.Minute} {
			s.SetClock(func() time.Time { return first.Add(later) })
			if _, err := s.ActorByAPIKey(ctx, "keyhash"); err != nil {
				t.Fatal(err)
			}
			keys, _ = s.APIKeys(ctx, a.pub.ID)
			want := first
			if later > time.Minute {
				want = first.Add(later)
			}
			if got := *keys[0].LastUsedAt; !got.Equal(want) {
				t.Errorf("last use after a request %s later = %s, want %s", later, got, want)
			}
		}
		s.SetClock(time.Now)
		if err := s.RevokeAPIKey(ctx, b.pub.ID, id); phantomos.ErrorCode(err) != phantomos.ENOTFOUND {
			t.Errorf("revoke A's key as B: %v", err)
		}
		if err := s.RevokeAPIKey(ctx, a.pub.ID, id); err != nil {
			t.Fatal(err)
		}
		if _, err := s.ActorByAPIKey(ctx, "keyhash"); phantomos.ErrorCode(err) != phantomos.EUNAUTHORIZED {
			t.Errorf("revoked key: %v", err)
		}

		if err := s.Audit(ctx, a.pub.ID, store.AuditEntry{ActorID: u.ID, Actor: u.Email, Action: "apikey.revoke", Target: id, Details: map[string]any{"name": "CI"}}); err != nil {
			t.Fatal(err)
		}
		log, err := s.AuditLog(ctx, a.pub.ID, time.Time{}, 10)
		if err != nil || len(log) != 1 || log[0].Action != "apikey.revoke" || log[0].Details["name"] != "CI" {
			t.Errorf("audit log = %+v, %v", log, err)
		}
		if log, _ := s.AuditLog(ctx, b.pub.ID, time.Time{}, 10); len(log) != 0 {
			t.Errorf("B sees A's audit log: %+v", log)
		}
	})
}
