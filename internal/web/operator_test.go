package web

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/phantomos/phantomos"
	"github.com/phantomos/phantomos/internal/demo"
	"github.com/phantomos/phantomos/internal/store"
	"github.com/phantomos/phantomos/internal/store/storetest"
)

// TestOperatorSettingsForOwnersOnly: how to enable Claude is the server
// operator's concern. People who read Intelligence are not told to set
// environment variables; owners find it in Settings, Organization.
func TestOperatorSettingsForOwnersOnly(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, s *store.Store) {
		tn := newTenant(t, s, "acme")
		_, ts := newTestServer(t, s)
		for _, c := range []struct {
			role  phantomos.Role
			path  string
			shown bool
		}{
			{phantomos.RoleAnalyst, "/intelligence", false},
			{phantomos.RoleOwner, "/intelligence", false},
			{phantomos.RoleAdmin, "/settings/organization", false},
			{phantomos.RoleOwner, "/settings/organization", true},
		} {
			st, body := getAs(t, ts, cookie(t, s, tn.users[c.role]), c.path)
			if st != http.StatusOK {
				t.Fatalf("%s %s: %d", c.role, c.path, st)
			}
			if got := strings.Contains(string(body), "ANTHROPIC_API_KEY"); got != c.shown {
				t.Errorf("%s sees ANTHROPIC_API_KEY on %s: %v, want %v", c.role, c.path, got, c.shown)
			}
		}
	})
}

// TestSharedDemoAccountOffersNoChanges: the demo's analyst account is
// shared by every visitor and refuses changes, so its profile and security
// pages offer no form that would answer 403; another analyst's pages do.
func TestSharedDemoAccountOffersNoChanges(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, s *store.Store) {
		tn := newTenant(t, s, "acme")
		shared := &phantomos.User{Email: demo.AnalystEmail, Name: "Demo Analyst", Role: phantomos.RoleAnalyst}
		if err := s.CreateUser(context.Background(), tn.pub.ID, shared, ""); err != nil {
			t.Fatal(err)
		}
		_, ts := newTestServer(t, s)
		for _, c := range []struct {
			user  *phantomos.User
			forms bool
		}{{shared, false}, {tn.users[phantomos.RoleAnalyst], true}} {
			for _, path := range []string{"/settings/profile", "/settings/security"} {
				st, body := getAs(t, ts, cookie(t, s, c.user), path)
				if st != http.StatusOK {
					t.Fatalf("%s %s: %d", c.user.Email, path, st)
				}
				if got := strings.Contains(string(body), `method="post" action="/settings/`); got != c.forms {
					t.Errorf("%s on %s: forms shown %v, want %v", c.user.Email, path, got, c.forms)
				}
			}
		}
	})
}
