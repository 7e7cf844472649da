package web

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/phantomos/phantomos"
	"github.com/phantomos/phantomos/internal/store"
	"github.com/phantomos/phantomos/internal/store/storetest"
)

// TestImportedHistoryIsFound: a publisher whose sales are all years old
// (an imported history) is not shown empty pages. The analytics pages say
// where its sales are and link to that range, the workbench's revenue at
// stake counts the twelve months up to its last sale, and Intelligence
// analyses up to that sale. Both engines.
func TestImportedHistoryIsFound(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, s *store.Store) {
		ct := newCacheTenant(t, s, "alpha", 12345, "2021-01-05", "2021-02-10", "2021-03-02", "2021-04-01", "2021-05-20", "2021-06-15")
		srv, ts := newTestServer(t, s)
		srv.SetClock(func() time.Time { return time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC) })
		c := cookie(t, s, ct.users[phantomos.RoleAnalyst])
		get := func(path string) string {
			t.Helper()
			st, body := getAs(t, ts, c, path)
			if st != http.StatusOK {
				t.Fatalf("%s: %d\n%s", path, st, body)
			}
			return string(body)
		}

		for _, path := range []string{"/overview", "/assets", "/assets/" + ct.asset, "/assets/compare"} {
			page := get(path)
			if !strings.Contains(page, "your sales run from 2021-01-05 to 2021-06-15") {
				t.Errorf("%s does not say where the sales are", path)
			}
			if want := `href="` + path + `?from=2021-01-05&amp;to=2021-06-15"`; !strings.Contains(page, want) {
				t.Errorf("%s has no link %s", path, want)
			}
		}
		// A range that holds sales says nothing of the kind.
		if page := get("/overview?from=2021-03-01&to=2021-03-31"); strings.Contains(page, "your sales run from") {
			t.Errorf("a range with sales still points elsewhere")
		}

		page := get("/products?status=all&sort=name")
		if !strings.Contains(page, "Revenue since 2020-07") {
			t.Errorf("the workbench's revenue window does not end at the last sale")
		}
		// Nova Hoodie sold on three of the six days: $370.35 at stake.
		if !strings.Contains(page, "$370.35") {
			t.Errorf("the workbench shows no revenue at stake for the imported history")
		}

		page = get("/intelligence")
		if !strings.Contains(page, "Your sales end on 2021-06-15") || !strings.Contains(page, "As of 2021-06-15, your latest sales") {
			t.Errorf("Intelligence does not say it analyses up to the last sale")
		}
		if strings.Contains(page, "No complete month of sales yet") {
			t.Errorf("Intelligence claims there are no sales")
		}
	})
}
