package web

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/phantomos/phantomos"
	"github.com/phantomos/phantomos/internal/connector"
	"github.com/phantomos/phantomos/internal/store"
	"github.com/phantomos/phantomos/internal/store/storetest"
)

// TestOrderlessRevenueIsNoted: when a period's revenue includes sales
// reported without orders (a vendor's sell-through), Overview and the
// asset page say how much, next to orders and average order value that
// leave it out; a period without such sales has no note. Both engines.
func TestOrderlessRevenueIsNoted(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		ct := newCacheTenant(t, s, "alpha", 10000, "2026-03-02", "2026-03-03")
		// 3 units of the mapped product sold through without orders.
		day := phantomos.Day("2026-03-05").Time().Add(12 * time.Hour)
		sink := &connector.StoreSink{Store: s}
		b := connector.Batch{Orders: []connector.Order{{ExternalID: "vendor|2026-03-05|0", Orderless: true, CreatedAt: day, UpdatedAt: day,
			Currency: "USD", Country: "US", Channel: "Vendor", Lines: []connector.OrderLine{{ExternalID: "0", ProductExternalID: "0",
				Name: "Nova Hoodie", Quantity: 3, UnitPrice: 1500, Gross: 4500, Net: 4500}}}}}
		if _, err := sink.Commit(ctx, connector.Target{Publisher: ct.pub.ID, ConnectorID: ct.conn}, b, nil); err != nil {
			t.Fatal(err)
		}
		_, ts := newTestServer(t, s)
		c := cookie(t, s, ct.users[phantomos.RoleAnalyst])
		page := func(path string) string {
			t.Helper()
			st, body := getAs(t, ts, c, path)
			if st != http.StatusOK {
				t.Fatalf("%s: %d", path, st)
			}
			return string(body)
		}
		const note = "Includes $45.00 of vendor sell-through, which has no orders; orders and average order value leave it out."
		p := page("/overview?from=2026-03-01&to=2026-03-31")
		for _, want := range []string{note, `id="kpi-net" data-minor="24500"`, `id="kpi-orders" data-minor="2"`, `id="kpi-aov" data-minor="10000"`} {
			if !strings.Contains(p, want) {
				t.Errorf("Overview with vendor sales lacks %q", want)
			}
		}
		if p := page("/overview?from=2026-03-01&to=2026-03-04"); strings.Contains(p, "orderless-note") || !strings.Contains(p, `id="kpi-aov" data-minor="10000"`) {
			t.Errorf("Overview of a period without vendor sales notes them, or its AOV changed")
		}
		if p := page("/assets/" + ct.asset + "?from=2026-03-01&to=2026-03-31"); !strings.Contains(p, note) {
			t.Errorf("the asset page with vendor sales lacks the note")
		}
		if p := page("/assets/" + ct.asset + "?from=2026-03-01&to=2026-03-04"); strings.Contains(p, "orderless-note") {
			t.Errorf("the asset page of a period without vendor sales notes them")
		}
	})
}
