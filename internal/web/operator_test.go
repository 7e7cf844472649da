package web

import (
	"net/http"
	"strings"
	"testing"

	"github.com/phantomos/phantomos"
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
