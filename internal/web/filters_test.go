package web

import (
	"context"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/phantomos/phantomos"
	"github.com/phantomos/phantomos/internal/store"
	"github.com/phantomos/phantomos/internal/store/storetest"
)

// TestUnknownCountryAndChannelFilters: sales without a country or with a
// channel that is an app id are shown as "Unknown" and "Other app (…)";
// the filter form selects "All" when no filter is applied, and choosing
// "Unknown" filters to exactly those sales. Both engines.
func TestUnknownCountryAndChannelFilters(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, s *store.Store) {
		ct := newCacheTenant(t, s, "alpha", 0)
		for i, sale := range []struct {
			country, channel string
			net              int64
		}{{"US", "web", 1000}, {"", "580111", 300}, {"DE", "sell-on-amazon", 50}} {
			x := &phantomos.Sale{ProductID: ct.products[0], ConnectorID: ct.conn, ExternalOrderID: string(rune('a' + i)), ExternalLineID: "1",
				OrderDate: time.Date(2026, 3, 2+i, 12, 0, 0, 0, time.UTC), Day: phantomos.Day("2026-03-0" + string(rune('2'+i))), Quantity: 1,
				Gross: sale.net, Net: sale.net, Currency: "USD", NetReporting: sale.net, GrossReporting: sale.net, Country: sale.country, Channel: sale.channel}
			if _, err := s.BulkLoadSales(context.Background(), ct.pub.ID, slices.Values([]*phantomos.Sale{x})); err != nil {
				t.Fatal(err)
			}
		}
		_, ts := newTestServer(t, s)
		c := cookie(t, s, ct.users[phantomos.RoleAnalyst])
		const rng = "from=2026-03-01&to=2026-03-31"

		st, body := getAs(t, ts, c, "/overview?"+rng)
		if st != http.StatusOK {
			t.Fatalf("overview: %d", st)
		}
		page := string(body)
		for _, name := range []string{"country", "channel"} {
			sel := regexp.MustCompile(`(?s)<select name="` + name + `">(.*?)</select>`).FindStringSubmatch(page)
			if sel == nil {
				t.Fatalf("no %s select on the overview", name)
			}
			if strings.Contains(sel[1], "selected") {
				t.Errorf("with no filter the %s select has a selected option: %s", name, sel[1])
			}
		}
		for _, want := range []string{"Other app (580111)", "Online Store", "Amazon (through Shopify)", `<option value="-">Unknown</option>`} {
			if !strings.Contains(page, want) {
				t.Errorf("the overview does not show %q", want)
			}
		}

		for _, tc := range []struct {
			query string
			net   int64
		}{{"country=-", 300}, {"country=US", 1000}, {"channel=-", 0}, {"channel=580111", 300}, {"", 1350}} {
			_, body := getAs(t, ts, c, "/api/analytics?"+rng+"&"+tc.query)
			if got := netOf(t, body); got != tc.net {
				t.Errorf("%s: net %d, want %d", tc.query, got, tc.net)
			}
		}
		_, body = getAs(t, ts, c, "/overview?"+rng+"&country=-")
		if !regexp.MustCompile(`<option value="-" selected>Unknown</option>`).Match(body) {
			t.Errorf("country=- does not select Unknown in the form")
		}
	})
}

func TestChannelName(t *testing.T) {
	for raw, want := range map[string]string{
		"web": "Online Store", "pos": "Point of Sale", "580111": "Other app (580111)", "Sell-on-amazon": "Amazon (through Shopify)",
		"Iphone": "Shopify mobile (iPhone)", "shopify_draft_order": "Draft orders", "": "Unknown", "Amazon.com": "Amazon.com",
		"wholesale-partner": "Wholesale partner",
	} {
		if got := channelName(raw); got != want {
			t.Errorf("channelName(%q) = %q, want %q", raw, got, want)
		}
	}
}
