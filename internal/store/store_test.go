package store_test

import (
	"context"
	"database/sql"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/phantomos/phantomos"
	"github.com/phantomos/phantomos/internal/store"
	"github.com/phantomos/phantomos/internal/store/storetest"
)

// fixture is one publisher with a connector, a game IP, an asset and two
// products: the least a sales test needs.
type fixture struct {
	pub      *phantomos.Publisher
	conn     *phantomos.Connector
	products []*phantomos.Product
}

func newFixture(t *testing.T, s *store.Store, slug string) fixture {
	t.Helper()
	ctx := context.Background()
	pub := &phantomos.Publisher{Name: "Pub " + slug, Slug: slug, Timezone: "Europe/Berlin", ReportingCurrency: "EUR"}
	if err := s.CreatePublisher(ctx, pub); err != nil {
		t.Fatal(err)
	}
	conn := &phantomos.Connector{Type: phantomos.ConnectorCSV, Name: "Files"}
	if err := s.CreateConnector(ctx, pub.ID, conn); err != nil {
		t.Fatal(err)
	}
	g := &phantomos.GameIP{Name: "Star Quest", Slug: "star-quest", Platforms: []string{"pc"}}
	if err := s.CreateGameIP(ctx, pub.ID, g); err != nil {
		t.Fatal(err)
	}
	a := &phantomos.Asset{GameIPID: g.ID, Name: "Nova", AssetType: phantomos.AssetCharacter, Aliases: []string{"Captain Nova"}}
	if err := s.CreateAsset(ctx, pub.ID, a); err != nil {
		t.Fatal(err)
	}
	products := []*phantomos.Product{
		{ConnectorID: conn.ID, ExternalID: "p1", Name: "Nova Hoodie", Category: phantomos.CategoryApparel, Price: 4999, Currency: "EUR", MappingStatus: phantomos.MappingConfirmed},
		{ConnectorID: conn.ID, ExternalID: "p2", Name: "Mystery Mug", Category: phantomos.CategoryHome, Price: 1299, Currency: "EUR"},
	}
	if err := s.CreateProducts(ctx, pub.ID, products, nil); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateProducts(ctx, pub.ID, products[:0], []phantomos.ProductAsset{{ProductID: products[0].ID, AssetID: a.ID, IsPrimary: true, Weight: 1, Source: "human", Confidence: 1}}); err != nil {
		t.Fatal(err)
	}
	return fixture{pub: pub, conn: conn, products: products}
}

func TestPublishersAndUsers(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		a := newFixture(t, s, "alpha")
		b := newFixture(t, s, "beta")

		got, err := s.PublisherBySlug(ctx, "alpha")
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(a.pub, got); diff != "" {
			t.Errorf("publisher round trip (-want +got):\n%s", diff)
		}
		if err := s.CreatePublisher(ctx, &phantomos.Publisher{Name: "Again", Slug: "alpha"}); phantomos.ErrorCode(err) != phantomos.ECONFLICT {
			t.Errorf("duplicate slug: got %v, want conflict", err)
		}

		u := &phantomos.User{Email: " Ada@Example.COM ", Name: "Ada", Role: phantomos.RoleAdmin}
		if err := s.CreateUser(ctx, a.pub.ID, u, "hash"); err != nil {
			t.Fatal(err)
		}
		if u.Email != "ada@example.com" {
			t.Errorf("email not folded: %q", u.Email)
		}
		if err := s.CreateUser(ctx, b.pub.ID, &phantomos.User{Email: "ADA@example.com", Role: phantomos.RoleMember}, "h"); phantomos.ErrorCode(err) != phantomos.ECONFLICT {
			t.Errorf("duplicate email in other case: got %v, want conflict", err)
		}
		lu, hash, err := s.UserForLogin(ctx, "ada@EXAMPLE.com")
		if err != nil || lu.ID != u.ID || hash != "hash" {
			t.Fatalf("UserForLogin = %v, %q, %v", lu, hash, err)
		}
		// Tenant isolation: publisher B cannot see publisher A's user.
		if _, err := s.User(ctx, b.pub.ID, u.ID); phantomos.ErrorCode(err) != phantomos.ENOTFOUND {
			t.Errorf("user of A as B: got %v, want not found", err)
		}
		if _, err := s.User(ctx, a.pub.ID, "not-a-uuid"); phantomos.ErrorCode(err) != phantomos.ENOTFOUND {
			t.Errorf("malformed id: got %v, want not found", err)
		}
		users, err := s.Users(ctx, b.pub.ID)
		if err != nil || len(users) != 0 {
			t.Errorf("users of B = %v, %v; want none", users, err)
		}
	})
}

func TestSessions(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		a := newFixture(t, s, "alpha")
		u := &phantomos.User{Email: "a@x.io", Role: phantomos.RoleMember}
		if err := s.CreateUser(ctx, a.pub.ID, u, "h"); err != nil {
			t.Fatal(err)
		}
		now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
		s.SetClock(func() time.Time { return now })
		sess, err := s.CreateSession(ctx, u, "tokhash", now.Add(time.Hour), "127.0.0.1", "test")
		if err != nil {
			t.Fatal(err)
		}
		got, gu, err := s.SessionByToken(ctx, "tokhash")
		if err != nil || got.ID != sess.ID || gu.ID != u.ID || got.Role != phantomos.RoleMember {
			t.Fatalf("SessionByToken = %+v, %+v, %v", got, gu, err)
		}
		if !got.ExpiresAt.Equal(now.Add(time.Hour)) {
			t.Errorf("expires = %v, want %v", got.ExpiresAt, now.Add(time.Hour))
		}
		now = now.Add(2 * time.Hour)
		if _, _, err := s.SessionByToken(ctx, "tokhash"); phantomos.ErrorCode(err) != phantomos.EUNAUTHORIZED {
			t.Errorf("expired session: got %v, want unauthorized", err)
		}
		now = now.Add(-2 * time.Hour)
		if err := s.RevokeSession(ctx, a.pub.ID, sess.ID); err != nil {
			t.Fatal(err)
		}
		if _, _, err := s.SessionByToken(ctx, "tokhash"); phantomos.ErrorCode(err) != phantomos.EUNAUTHORIZED {
			t.Errorf("revoked session: got %v, want unauthorized", err)
		}
	})
}

func TestBulkLoadSalesKeepsRollupsExact(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		a := newFixture(t, s, "alpha")
		b := newFixture(t, s, "beta")
		mk := func(f fixture, order, line string, day phantomos.Day, p int, qty, net int64, country string) *phantomos.Sale {
			return &phantomos.Sale{ProductID: f.products[p].ID, ConnectorID: f.conn.ID, ExternalOrderID: order, ExternalLineID: line,
				OrderDate: day.Time().Add(10 * time.Hour), Day: day, Quantity: qty, Gross: net + 100, Discount: 100, Net: net, Currency: "EUR",
				NetReporting: net, GrossReporting: net + 100, DiscountReporting: 100, Country: country, Channel: "web"}
		}
		salesA := []*phantomos.Sale{
			// One order with two products counts once.
			mk(a, "o1", "1", "2026-01-05", 0, 1, 4999, "DE"),
			mk(a, "o1", "2", "2026-01-05", 1, 2, 2598, "DE"),
			mk(a, "o2", "1", "2026-01-06", 0, 1, 4999, "FR"),
			mk(a, "o3", "1", "2026-02-01", 1, 3, 3897, "US"),
		}
		n, err := s.BulkLoadSales(ctx, a.pub.ID, slices.Values(salesA))
		if err != nil || n != 4 {
			t.Fatalf("BulkLoadSales = %d, %v", n, err)
		}
		if _, err := s.BulkLoadSales(ctx, b.pub.ID, slices.Values([]*phantomos.Sale{mk(b, "o1", "1", "2026-01-05", 0, 5, 100000, "DE")})); err != nil {
			t.Fatal(err)
		}
		got, err := s.Summary(ctx, a.pub.ID, "2026-01-01", "2026-01-31")
		if err != nil {
			t.Fatal(err)
		}
		want := store.Summary{Gross: 4999 + 2598 + 4999 + 300, Discount: 300, Net: 4999 + 2598 + 4999, Orders: 2, Units: 4}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("January summary (-want +got):\n%s", diff)
		}
		if aov := got.AverageOrderValue(); aov != (4999+2598+4999)/2 {
			t.Errorf("AOV = %d", aov)
		}
		months, err := s.MonthlyNet(ctx, a.pub.ID, "2025-01-01", "2026-12-31")
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff([]store.MonthValue{{"2026-01", 12596}, {"2026-02", 3897}}, months); diff != "" {
			t.Errorf("monthly (-want +got):\n%s", diff)
		}
		// Loading a sale again fails whole and writes nothing.
		again := []*phantomos.Sale{mk(a, "o9", "1", "2026-03-01", 0, 1, 1, "DE"), mk(a, "o1", "1", "2026-01-05", 0, 1, 4999, "DE")}
		if _, err := s.BulkLoadSales(ctx, a.pub.ID, slices.Values(again)); phantomos.ErrorCode(err) != phantomos.ECONFLICT {
			t.Errorf("duplicate load: got %v, want conflict", err)
		}
		if c, _ := s.SalesCount(ctx, a.pub.ID); c != 4 {
			t.Errorf("after failed load: %d sales, want 4", c)
		}
	})
}

// A bulk load into an empty sales table builds the secondary indexes (and
// on PostgreSQL the constraints) after the rows (see deferSalesIndexes):
// afterwards, and after a load that fails half-way, the table has exactly
// the indexes and constraints it had, and they work.
func TestBulkLoadIntoEmptyTableKeepsIndexes(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		indexes := func() []string {
			q := `SELECT name || ' ' || sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'sales' ORDER BY name`
			if s.Dialect() == store.Postgres {
				// With the constraints, which the load into an empty table
				// drops and adds back too.
				q = `SELECT indexname || ' ' || indexdef FROM pg_indexes WHERE schemaname = current_schema() AND tablename = 'sales'
					UNION ALL SELECT conname || ' ' || pg_get_constraintdef(oid) FROM pg_constraint WHERE conrelid = 'sales'::regclass ORDER BY 1`
			}
			rows, err := s.DB().QueryContext(ctx, q)
			if err != nil {
				t.Fatal(err)
			}
			defer rows.Close()
			var out []string
			for rows.Next() {
				var v sql.NullString
				if err := rows.Scan(&v); err != nil {
					t.Fatal(err)
				}
				out = append(out, v.String)
			}
			return out
		}
		before := indexes()
		if len(before) < 4 {
			t.Fatalf("sales has %d indexes: %q", len(before), before)
		}
		f := newFixture(t, s, "empty")
		mk := func(order string, day phantomos.Day) *phantomos.Sale {
			return &phantomos.Sale{ProductID: f.products[0].ID, ConnectorID: f.conn.ID, ExternalOrderID: order, ExternalLineID: "1",
				OrderDate: day.Time().Add(time.Hour), Day: day, Quantity: 1, Gross: 100, Net: 100, Currency: "EUR",
				NetReporting: 100, GrossReporting: 100, Country: "DE", Channel: "web"}
		}
		// The same line twice: the key still holds, the load fails whole.
		if _, err := s.BulkLoadSales(ctx, f.pub.ID, slices.Values([]*phantomos.Sale{mk("o1", "2026-01-05"), mk("o1", "2026-01-05")})); phantomos.ErrorCode(err) != phantomos.ECONFLICT {
			t.Fatalf("duplicate line in an empty table: %v, want a conflict", err)
		}
		if d := cmp.Diff(before, indexes()); d != "" {
			t.Fatalf("indexes after a failed load (-before +after):\n%s", d)
		}
		if _, err := s.BulkLoadSales(ctx, f.pub.ID, slices.Values([]*phantomos.Sale{mk("o1", "2026-01-05"), mk("o2", "2026-01-06")})); err != nil {
			t.Fatal(err)
		}
		if d := cmp.Diff(before, indexes()); d != "" {
			t.Fatalf("indexes after a load (-before +after):\n%s", d)
		}
		if err := s.CheckRollups(ctx, f.pub.ID); err != nil {
			t.Fatal(err)
		}
	})
}

// TestDeletePublisherLeavesNothing: after DeletePublisher, no table with a
// publisher_id column holds a row of that publisher — whether a table
// follows by cascade or, having no key to publishers, is emptied by
// DeletePublisher itself — and the other publisher keeps its rows.
func TestDeletePublisherLeavesNothing(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		gone, kept := newFixture(t, s, "gone"), newFixture(t, s, "kept")
		for _, f := range []fixture{gone, kept} {
			sale := &phantomos.Sale{ProductID: f.products[0].ID, ConnectorID: f.conn.ID, ExternalOrderID: "o1", ExternalLineID: "1",
				OrderDate: time.Date(2026, 1, 5, 10, 0, 0, 0, time.UTC), Day: "2026-01-05", Quantity: 1, Gross: 500, Net: 500, Currency: "EUR",
				NetReporting: 500, GrossReporting: 500, Country: "DE", Channel: "web"}
			if _, err := s.BulkLoadSales(ctx, f.pub.ID, slices.Values([]*phantomos.Sale{sale})); err != nil {
				t.Fatal(err)
			}
			if err := s.RefreshFilterRollups(ctx, f.pub.ID); err != nil {
				t.Fatal(err)
			}
		}
		tables := tablesWithPublisher(t, s)
		counts := func(pub phantomos.PublisherID) map[string]int {
			m := map[string]int{}
			for _, table := range tables {
				var n int
				if err := s.DB().QueryRowContext(ctx, `SELECT COUNT(*) FROM `+table+` WHERE publisher_id = $1`, pub).Scan(&n); err != nil {
					t.Fatalf("%s: %v", table, err)
				}
				if n > 0 {
					m[table] = n
				}
			}
			return m
		}
		before := counts(gone.pub.ID)
		for _, table := range []string{"sales", "orders_daily", "product_daily", "geo_monthly", "filter_daily", "product_geo_monthly", "products"} {
			if before[table] == 0 {
				t.Fatalf("the fixture has no row in %s: the test would prove nothing (%v)", table, before)
			}
		}
		keptBefore := counts(kept.pub.ID)
		if err := s.DeletePublisher(ctx, gone.pub.ID); err != nil {
			t.Fatal(err)
		}
		if left := counts(gone.pub.ID); len(left) > 0 {
			t.Errorf("rows of the deleted publisher left behind: %v", left)
		}
		if diff := cmp.Diff(keptBefore, counts(kept.pub.ID)); diff != "" {
			t.Errorf("the other publisher's rows (-before +after):\n%s", diff)
		}
	})
}

// tablesWithPublisher lists the tables of s that have a publisher_id column.
func tablesWithPublisher(t *testing.T, s *store.Store) []string {
	t.Helper()
	q := `SELECT table_name FROM information_schema.columns WHERE table_schema = current_schema() AND column_name = 'publisher_id' ORDER BY 1`
	if s.Dialect() == store.SQLite {
		q = `SELECT m.name FROM sqlite_master m, pragma_table_info(m.name) c WHERE m.type = 'table' AND c.name = 'publisher_id' ORDER BY 1`
	}
	rows, err := s.DB().QueryContext(context.Background(), q)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var tables []string
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			t.Fatal(err)
		}
		tables = append(tables, name)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if len(tables) < 20 {
		t.Fatalf("only %d tables with publisher_id: %v", len(tables), tables)
	}
	return tables
}

// TestBulkLoadIntoPublisherWithSales: a bulk load into a publisher that has
// sales adds the loaded lines' rollups to the stored ones
// (addLoadedRollups). Lines join orders that already have lines (in the same
// group, in another product's group, next to a total
// without orders), new orders share groups with stored ones, and refunds
// land on days with and without data; after each load every rollup equals
// a recomputation from the sales, under both refund bookings. A load that
// fails leaves them so too.
func TestBulkLoadIntoPublisherWithSales(t *testing.T) {
	for _, booking := range []string{"", phantomos.RefundOnRefundDate} {
		t.Run("booking="+booking, func(t *testing.T) {
			storetest.ForEachDialect(t, func(t *testing.T, s *store.Store) {
				ctx := context.Background()
				rng := rand.New(rand.NewPCG(7, 20))
				rp := newRandomPublisher(t, s, "loaded", rng, 300)
				pub := rp.pub.ID
				// Some stored lines become totals without orders; changing the
				// booking (twice if need be) rebuilds the rollups with them.
				if _, err := s.DB().ExecContext(ctx, `UPDATE sales SET has_order = FALSE WHERE publisher_id = $1 AND external_order_id IN ('o1', 'o2', 'o5') AND external_line_id = '0'`, pub); err != nil {
					t.Fatal(err)
				}
				setRefundBooking(t, s, pub, phantomos.RefundOnRefundDate)
				if booking == "" {
					setRefundBooking(t, s, pub, booking)
				}
				if err := s.CheckRollups(ctx, pub); err != nil {
					t.Fatalf("before the loads: %v", err)
				}
				type stored struct {
					order, connector, product, day, country, channel string
				}
				rows, err := s.DB().QueryContext(ctx, `SELECT external_order_id, CAST(connector_id AS TEXT), CAST(product_id AS TEXT), `+s.DayText("day")+`, country, channel
					FROM sales WHERE publisher_id = $1 AND external_line_id = '0' AND external_order_id IN ('o1', 'o2', 'o3', 'o4', 'o5', 'o6', 'o7', 'o8')
					ORDER BY external_order_id`, pub)
				if err != nil {
					t.Fatal(err)
				}
				var olds []stored
				for rows.Next() {
					var o stored
					if err := rows.Scan(&o.order, &o.connector, &o.product, &o.day, &o.country, &o.channel); err != nil {
						t.Fatal(err)
					}
					olds = append(olds, o)
				}
				if err := rows.Close(); err != nil || len(olds) != 8 {
					t.Fatalf("stored orders: %d, %v", len(olds), err)
				}
				otherProduct := func(id string) string {
					for _, p := range rp.products {
						if p.ID != id {
							return p.ID
						}
					}
					return ""
				}
				line := func(o stored, id, product string, day phantomos.Day, refund int64, refundDay phantomos.Day) *phantomos.Sale {
					gross := int64(1000 + 37*len(id))
					return &phantomos.Sale{ProductID: product, ConnectorID: o.connector, ExternalOrderID: o.order, ExternalLineID: id,
						OrderDate: day.Time().Add(time.Hour), Day: day, Quantity: 2, Gross: gross, Refunded: refund, Net: gross - refund,
						Currency: "USD", NetReporting: gross - refund, GrossReporting: gross, RefundedReporting: refund,
						Country: o.country, Channel: o.channel, RefundDay: refundDay}
				}
				for round := range 2 {
					id := func(s string) string { return fmt.Sprintf("%s-%d", s, round) }
					var load []*phantomos.Sale
					for i, o := range olds {
						day := phantomos.Day(o.day)
						switch i % 4 {
						case 0: // the same group as a stored line (or a total without orders)
							load = append(load, line(o, id("same"), o.product, day, 0, ""))
						case 1: // the same order and place, another product
							load = append(load, line(o, id("other"), otherProduct(o.product), day, 300, phantomos.DayOf(day.Time().AddDate(0, 0, 3), time.UTC)))
						case 2: // the same group, refunded on a day with other data
							load = append(load, line(o, id("refunded"), o.product, day, 500, phantomos.Day(olds[(i+3)%len(olds)].day)))
						default: // two lines of the same group at once
							load = append(load, line(o, id("twin1"), o.product, day, 0, ""), line(o, id("twin2"), o.product, day, 200, "2026-12-31"))
						}
						// A new order in the stored order's groups, its refund on
						// a day with data.
						n := o
						n.order = id("new-" + o.order)
						load = append(load, line(n, "1", o.product, day, 100, phantomos.Day(olds[(i+1)%len(olds)].day)), line(n, "2", otherProduct(o.product), day, 0, ""))
					}
					if _, err := s.BulkLoadSales(ctx, pub, slices.Values(load)); err != nil {
						t.Fatalf("round %d: %v", round, err)
					}
					if err := s.CheckRollups(ctx, pub); err != nil {
						t.Fatalf("round %d: %v", round, err)
					}
				}
				// A load with a line already stored writes nothing.
				before, _ := s.SalesCount(ctx, pub)
				again := []*phantomos.Sale{line(olds[1], "fresh", olds[1].product, phantomos.Day(olds[1].day), 0, ""), line(olds[0], "same-0", olds[0].product, phantomos.Day(olds[0].day), 0, "")}
				if _, err := s.BulkLoadSales(ctx, pub, slices.Values(again)); phantomos.ErrorCode(err) != phantomos.ECONFLICT {
					t.Errorf("load of a stored line: %v, want a conflict", err)
				}
				if after, _ := s.SalesCount(ctx, pub); after != before {
					t.Errorf("after a failed load: %d sales, want %d", after, before)
				}
				if err := s.CheckRollups(ctx, pub); err != nil {
					t.Errorf("after a failed load: %v", err)
				}
			})
		})
	}
}
