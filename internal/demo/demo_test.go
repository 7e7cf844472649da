package demo

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/phantomos/phantomos"
	"github.com/phantomos/phantomos/internal/store"
	"github.com/phantomos/phantomos/internal/store/storetest"
)

// testNow is the "as of" time of the tests: a fixed date, so that the data
// and the windows the tests look at are the same on every run.
var testNow = time.Date(2026, 3, 15, 18, 30, 0, 0, time.UTC)

const testSales = 20_000

func testOptions(seed int64) Options {
	return Options{Sales: testSales, Seed: seed, Now: testNow}
}

func TestLoad(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		var calls [][2]int64
		pub, err := Load(ctx, s, testOptions(42), func(done, total int64) { calls = append(calls, [2]int64{done, total}) })
		if err != nil {
			t.Fatal(err)
		}
		plan := testPlan(t, testOptions(42))
		db := s.DB()

		t.Run("publisher", func(t *testing.T) {
			got, err := s.PublisherBySlug(ctx, Slug)
			if err != nil {
				t.Fatal(err)
			}
			if got.ID != pub.ID || got.Name != PublisherName || got.SubscriptionTier != "growth" || got.ReportingCurrency != "USD" || got.Timezone != "America/Los_Angeles" {
				t.Errorf("publisher = %+v", got)
			}
			if ok, err := Exists(ctx, s); err != nil || !ok {
				t.Errorf("Exists = %v, %v; want true", ok, err)
			}
			users, err := s.Users(ctx, pub.ID)
			if err != nil {
				t.Fatal(err)
			}
			if len(users) != 1 || users[0].Email != AnalystEmail || users[0].Role != phantomos.RoleAnalyst {
				t.Fatalf("users = %+v, want the one demo analyst", users)
			}
			if _, hash, err := s.UserForLogin(ctx, AnalystEmail); err != nil || hash != "" {
				t.Errorf("analyst password hash = %q, %v; want none", hash, err)
			}
		})

		t.Run("progress", func(t *testing.T) {
			if len(calls) < 2 || calls[0] != [2]int64{0, testSales} || calls[len(calls)-1] != [2]int64{testSales, testSales} {
				t.Errorf("progress calls = %v, want from 0 to %d of %d", calls, testSales, testSales)
			}
		})

		t.Run("catalog", func(t *testing.T) {
			ips, err := s.GameIPs(ctx, pub.ID)
			if err != nil {
				t.Fatal(err)
			}
			if len(ips) < 3 {
				t.Errorf("%d game IPs, want at least 3", len(ips))
			}
			assets, err := s.Assets(ctx, pub.ID)
			if err != nil {
				t.Fatal(err)
			}
			if len(assets) < 25 {
				t.Errorf("%d assets, want at least 25", len(assets))
			}
			types := map[string]int{}
			names := map[string]*phantomos.Asset{}
			for _, a := range assets {
				types[a.AssetType]++
				names[a.Name] = a
				if len(a.Aliases) == 0 {
					t.Errorf("asset %s has no aliases", a.Name)
				}
				if a.Popularity <= 0 || a.Popularity > 100 {
					t.Errorf("asset %s popularity %v, want in (0, 100]", a.Name, a.Popularity)
				}
			}
			for _, typ := range phantomos.AssetTypes {
				if types[typ] == 0 {
					t.Errorf("no asset of type %s", typ)
				}
			}
			for name, tag := range map[string]string{Hero: "hero", Villain: "villain", RisingCharacter: "", DecliningCharacter: ""} {
				a := names[name]
				switch {
				case a == nil:
					t.Errorf("no asset %q", name)
				case a.AssetType != phantomos.AssetCharacter:
					t.Errorf("%s is a %s, want a character", name, a.AssetType)
				case tag != "" && !slices.Contains(a.Tags, tag):
					t.Errorf("%s tags %v, want %q", name, a.Tags, tag)
				}
			}

			connectors, err := s.Connectors(ctx, pub.ID)
			if err != nil {
				t.Fatal(err)
			}
			if len(connectors) < 3 {
				t.Errorf("%d connectors, want at least 3", len(connectors))
			}
			// A live connector's last sync is a run in its history; the
			// other sources are file imports and claim no sync at all.
			live := 0
			for _, c := range connectors {
				runs, err := s.SyncRuns(ctx, pub.ID, c.ID, 10)
				if err != nil {
					t.Fatal(err)
				}
				switch c.Type {
				case phantomos.ConnectorCSV:
					if c.LastSyncAt != nil || len(runs) != 0 {
						t.Errorf("file source %s claims a sync: last sync %v, %d runs", c.Name, c.LastSyncAt, len(runs))
					}
				case phantomos.ConnectorShopify, phantomos.ConnectorAmazon:
					live++
					if c.Status != "active" || c.LastSyncAt == nil || len(runs) != 1 || runs[0].State != store.SyncSucceeded ||
						runs[0].FinishedAt == nil || !runs[0].FinishedAt.Equal(*c.LastSyncAt) || runs[0].Counts.Inserted == 0 {
						t.Errorf("connector %s: status %s, last sync %v, runs %+v", c.Name, c.Status, c.LastSyncAt, runs)
					}
				default:
					t.Errorf("connector %s is a %s connector, which the product cannot sync", c.Name, c.Type)
				}
			}
			if live != 2 {
				t.Errorf("%d live connectors, want the Shopify store and the Amazon Seller Central account", live)
			}

			categories := map[string]int{}
			total := 0
			queryRows(t, db, `SELECT category, COUNT(*) FROM products WHERE publisher_id = $1 GROUP BY category`, []any{pub.ID}, func(r *sql.Rows) error {
				var c string
				var n int
				err := r.Scan(&c, &n)
				categories[c], total = n, total+n
				return err
			})
			if total < 300 {
				t.Errorf("%d products, want at least 300", total)
			}
			for _, c := range phantomos.Categories {
				if categories[c] == 0 {
					t.Errorf("no product in category %s", c)
				}
			}
			counts, err := s.ProductCounts(ctx, pub.ID)
			if err != nil {
				t.Fatal(err)
			}
			// The tagger has looked at the products left for review: most get
			// suggestions, the rest stay unmapped.
			waiting := counts[phantomos.MappingUnmapped] + counts[phantomos.MappingSuggested]
			if share := float64(waiting) / float64(total); share < 0.08 || share > 0.25 {
				t.Errorf("share waiting for review %.2f (%v), want about 10-20%%", share, counts)
			}
			if counts[phantomos.MappingUnmapped] == 0 || counts[phantomos.MappingSuggested] < counts[phantomos.MappingUnmapped] {
				t.Errorf("product counts %v: want some unmapped and more suggested", counts)
			}
			if counts[phantomos.MappingSuggested] == 0 || counts[phantomos.MappingConfirmed] < total*7/10 {
				t.Errorf("product counts %v: want some suggested and most confirmed", counts)
			}
		})

		t.Run("mapping", func(t *testing.T) {
			// Confirmed products have one primary asset and weights summing
			// to one; the others have no links.
			twoAssets := 0
			queryRows(t, db, `SELECT p.name, p.mapping_status, p.game_ip_id IS NOT NULL, COUNT(pa.asset_id),
					COALESCE(SUM(CASE WHEN pa.is_primary THEN 1 ELSE 0 END), 0), COALESCE(SUM(pa.weight), 0), p.suggested_confidence
				FROM products p LEFT JOIN product_assets pa ON pa.publisher_id = p.publisher_id AND pa.product_id = p.id
				WHERE p.publisher_id = $1 GROUP BY p.id, p.name, p.mapping_status, p.game_ip_id, p.suggested_confidence`, []any{pub.ID}, func(r *sql.Rows) error {
				var name, status string
				var hasIP bool
				var links, primaries int
				var weight, top float64
				if err := r.Scan(&name, &status, &hasIP, &links, &primaries, &weight, &top); err != nil {
					return err
				}
				switch {
				case status == phantomos.MappingConfirmed && (links == 0 || primaries != 1 || weight < 0.999 || weight > 1.001 || !hasIP):
					t.Errorf("confirmed %q: %d links, %d primary, weights %v, game IP %v", name, links, primaries, weight, hasIP)
				case status != phantomos.MappingConfirmed && links != 0:
					t.Errorf("%s %q has %d links", status, name, links)
				case status == phantomos.MappingSuggested && top < 0.6:
					t.Errorf("suggested %q has no suggestion the tagger stands by (best %.2f)", name, top)
				}
				if links == 2 {
					twoAssets++
				}
				return nil
			})
			if twoAssets < 10 {
				t.Errorf("%d products with two assets, want at least 10", twoAssets)
			}
		})

		t.Run("sales", func(t *testing.T) {
			if n, err := s.SalesCount(ctx, pub.ID); err != nil || n != testSales {
				t.Errorf("SalesCount = %d, %v; want %d", n, err, testSales)
			}
			countries := queryStrings(t, db, `SELECT DISTINCT country FROM sales WHERE publisher_id = $1`, pub.ID)
			if len(countries) < 15 {
				t.Errorf("%d countries %v, want at least 15", len(countries), countries)
			}
			for _, c := range countries {
				if len(c) != 2 || strings.ToUpper(c) != c {
					t.Errorf("country %q is not ISO 3166-1 alpha-2", c)
				}
			}
			currencies := queryStrings(t, db, `SELECT DISTINCT currency FROM sales WHERE publisher_id = $1`, pub.ID)
			for _, c := range []string{"USD", "EUR", "GBP", "JPY"} {
				if !slices.Contains(currencies, c) {
					t.Errorf("currencies %v lack %s", currencies, c)
				}
			}

			// Every connector sells through one channel of its own, and
			// only its own products.
			channels := map[string][]string{}
			queryRows(t, db, `SELECT DISTINCT c.name, s.channel FROM sales s
				JOIN connectors c ON c.publisher_id = s.publisher_id AND c.id = s.connector_id
				WHERE s.publisher_id = $1`, []any{pub.ID}, func(r *sql.Rows) error {
				var name, ch string
				err := r.Scan(&name, &ch)
				channels[name] = append(channels[name], ch)
				return err
			})
			seen := map[string]bool{}
			for name, chs := range channels {
				if len(chs) != 1 || seen[chs[0]] {
					t.Errorf("connector %s sells through %v; want one channel per connector", name, chs)
				}
				seen[chs[0]] = true
			}
			if len(seen) < 3 {
				t.Errorf("channels %v, want at least 3", channels)
			}
			if n := queryInt(t, db, `SELECT COUNT(*) FROM sales s JOIN products p ON p.publisher_id = s.publisher_id AND p.id = s.product_id
				WHERE s.publisher_id = $1 AND p.connector_id <> s.connector_id`, pub.ID); n != 0 {
				t.Errorf("%d sales of a product of another connector", n)
			}
		})

		t.Run("orders", func(t *testing.T) {
			// All lines of an order share its date, place, channel and
			// currency, and have distinct line ids.
			lines := map[int]int{}
			queryRows(t, db, `SELECT connector_id, external_order_id, COUNT(*), COUNT(DISTINCT external_line_id), COUNT(DISTINCT order_date),
					COUNT(DISTINCT day), COUNT(DISTINCT country), COUNT(DISTINCT region), COUNT(DISTINCT channel), COUNT(DISTINCT currency)
				FROM sales WHERE publisher_id = $1 GROUP BY connector_id, external_order_id`, []any{pub.ID}, func(r *sql.Rows) error {
				var conn, order string
				var n, lineIDs, dates, days, countries, regions, channels, currencies int
				if err := r.Scan(&conn, &order, &n, &lineIDs, &dates, &days, &countries, &regions, &channels, &currencies); err != nil {
					return err
				}
				lines[n]++
				if n > 4 || lineIDs != n || dates != 1 || days != 1 || countries != 1 || regions != 1 || channels != 1 || currencies != 1 {
					t.Errorf("order %s: %d lines, %d line ids, %d dates, %d days, %d countries, %d regions, %d channels, %d currencies",
						order, n, lineIDs, dates, days, countries, regions, channels, currencies)
				}
				return nil
			})
			orders := lines[1] + lines[2] + lines[3] + lines[4]
			if lines[1] == 0 || lines[4] == 0 || float64(orders-lines[1]) < 0.2*float64(orders) {
				t.Errorf("orders by number of lines: %v; want 1 to 4 lines, a good share with several", lines)
			}
		})

		t.Run("amounts", func(t *testing.T) {
			if n := queryInt(t, db, `SELECT COUNT(*) FROM sales WHERE publisher_id = $1 AND (
					quantity < 1 OR gross <= 0 OR discount < 0 OR refunded < 0 OR refunded > gross - discount
					OR net <> gross - discount - refunded
					OR discount_reporting < 0 OR refunded_reporting < 0 OR net_reporting < 0
					OR net_reporting <> gross_reporting - discount_reporting - refunded_reporting
					OR (currency = 'USD' AND (gross_reporting <> gross OR discount_reporting <> discount OR refunded_reporting <> refunded OR net_reporting <> net)))`, pub.ID); n != 0 {
				t.Errorf("%d sales with inconsistent amounts", n)
			}
			discounted := queryInt(t, db, `SELECT COUNT(*) FROM sales WHERE publisher_id = $1 AND discount > 0`, pub.ID)
			refunded := queryInt(t, db, `SELECT COUNT(*) FROM sales WHERE publisher_id = $1 AND refunded > 0`, pub.ID)
			partly := queryInt(t, db, `SELECT COUNT(*) FROM sales WHERE publisher_id = $1 AND refunded > 0 AND net > 0`, pub.ID)
			if discounted < testSales/50 || discounted > testSales/3 || refunded < testSales/200 || refunded > testSales/10 || partly == 0 {
				t.Errorf("%d discounted, %d refunded (%d in part) of %d sales: want occasional discounts and refunds", discounted, refunded, partly, testSales)
			}

			// Conversions use a fixed rate per currency, in the currency's
			// minor units (JPY has none), and lines cost about the same
			// whatever the currency.
			rates := map[string]float64{"USD": 1, "EUR": 1.08, "GBP": 1.27, "JPY": 0.0067 * 100, "CAD": 0.73, "AUD": 0.66}
			var usdLine float64
			type avg struct {
				cur            string
				net, reporting int64
				lines          int64
				gross          int64
			}
			var avgs []avg
			queryRows(t, db, `SELECT currency, SUM(net), SUM(net_reporting), SUM(gross_reporting), COUNT(*) FROM sales
				WHERE publisher_id = $1 AND channel <> 'retail_partner' GROUP BY currency`, []any{pub.ID}, func(r *sql.Rows) error {
				var a avg
				err := r.Scan(&a.cur, &a.net, &a.reporting, &a.gross, &a.lines)
				if a.cur == "USD" {
					usdLine = float64(a.gross) / float64(a.lines)
				}
				avgs = append(avgs, a)
				return err
			})
			for _, a := range avgs {
				rate, ok := rates[a.cur]
				if !ok {
					t.Errorf("unexpected currency %s", a.cur)
					continue
				}
				if got := float64(a.reporting) / float64(a.net); got < rate*0.999 || got > rate*1.001 {
					t.Errorf("%s converts at %.5f reporting minor units per minor unit, want %.5f", a.cur, got, rate)
				}
				if line := float64(a.gross) / float64(a.lines); line < usdLine/2 || line > usdLine*2 {
					t.Errorf("%s lines average %.0f reporting cents, USD lines %.0f", a.cur, line, usdLine)
				}
			}
		})

		t.Run("dates", func(t *testing.T) {
			loc := pub.Location()
			first, last := plan.days[0].day, plan.days[len(plan.days)-1].day
			rows := 0
			queryRows(t, db, `SELECT order_date, CAST(day AS TEXT) FROM sales WHERE publisher_id = $1`, []any{pub.ID}, func(r *sql.Rows) error {
				var at time.Time
				var day phantomos.Day
				if err := r.Scan(&at, &day); err != nil {
					return err
				}
				rows++
				if got := phantomos.DayOf(at, loc); got != day || day < first || day > last || !at.Before(testNow) {
					t.Errorf("sale at %v on day %s (DayOf gives %s), want a day in %s..%s before %v", at, day, got, first, last, testNow)
				}
				return nil
			})
			if rows != testSales || first != "2024-03-15" || last != "2026-03-14" {
				t.Errorf("checked %d rows in %s..%s", rows, first, last)
			}
		})

		t.Run("launches", func(t *testing.T) {
			// No product sells before its launch; products launched during
			// the window do sell.
			launch := map[string]int{}
			for _, l := range plan.listings {
				launch[plan.connectors[l.conn].typ+"/"+l.externalID] = l.launch
			}
			launchedSelling := 0
			queryRows(t, db, `SELECT c.type, p.external_id, CAST(MIN(s.day) AS TEXT) FROM sales s
				JOIN products p ON p.publisher_id = s.publisher_id AND p.id = s.product_id
				JOIN connectors c ON c.publisher_id = s.publisher_id AND c.id = s.connector_id
				WHERE s.publisher_id = $1 GROUP BY c.type, p.external_id`, []any{pub.ID}, func(r *sql.Rows) error {
				var typ, ext string
				var firstSale phantomos.Day
				if err := r.Scan(&typ, &ext, &firstSale); err != nil {
					return err
				}
				l, ok := launch[typ+"/"+ext]
				switch {
				case !ok:
					t.Errorf("sales of unknown product %s/%s", typ, ext)
				case l >= 0 && firstSale < plan.days[l].day:
					t.Errorf("product %s/%s first sold on %s, launched on %s", typ, ext, firstSale, plan.days[l].day)
				case l >= 0:
					launchedSelling++
				}
				return nil
			})
			if launchedSelling < 30 {
				t.Errorf("%d products launched in the window have sales, want at least 30", launchedSelling)
			}

			// The new game's merchandise sells far more in its first two
			// weeks than once the launch is over. Only the online store: the
			// other channels list new products a little later.
			release := len(plan.days)
			for _, l := range plan.listings {
				if len(l.assets) > 0 && plan.assets[l.assets[0]].ip == ipIronroot {
					release = min(release, l.launch)
				}
			}
			ips, err := s.GameIPs(ctx, pub.ID)
			if err != nil {
				t.Fatal(err)
			}
			var ironroot string
			for _, g := range ips {
				if g.Slug == "ironroot-chronicles" {
					ironroot = g.ID
				}
			}
			units := func(from, to int) float64 {
				n := queryInt(t, db, `SELECT COALESCE(SUM(s.quantity), 0) FROM sales s
					JOIN products p ON p.publisher_id = s.publisher_id AND p.id = s.product_id
					WHERE s.publisher_id = $1 AND p.game_ip_id = $2 AND s.channel = 'online_store' AND s.day BETWEEN $3 AND $4`,
					pub.ID, ironroot, string(plan.days[from].day), string(plan.days[to-1].day))
				return float64(n) / float64(to-from)
			}
			if first, later := units(release, release+14), units(release+30, release+90); first < 2*later {
				t.Errorf("%.1f units a day in the launch fortnight, %.1f a day later: want a launch spike", first, later)
			}
		})

		t.Run("seasonality", func(t *testing.T) {
			// Whole months only: the window starts and ends mid-month.
			months, err := s.MonthlyNet(ctx, pub.ID, "2024-04-01", "2026-02-28")
			if err != nil {
				t.Fatal(err)
			}
			var q4, rest []int64
			for _, m := range months {
				switch m.Month[5:] {
				case "10", "11", "12":
					q4 = append(q4, m.Value)
				default:
					rest = append(rest, m.Value)
				}
			}
			if len(q4) != 6 || len(rest) != 17 {
				t.Fatalf("months %v", months)
			}
			if mean(q4) < 1.2*mean(rest) {
				t.Errorf("Q4 months average %.0f, other months %.0f: want a holiday peak", mean(q4), mean(rest))
			}
		})

		t.Run("trends", func(t *testing.T) {
			assets, err := s.Assets(ctx, pub.ID)
			if err != nil {
				t.Fatal(err)
			}
			ids := map[string]string{}
			for _, a := range assets {
				ids[a.Name] = a.ID
			}
			revenue := func(asset string, from, to string) int64 {
				return queryInt(t, db, `SELECT COALESCE(SUM(s.net_reporting), 0) FROM product_assets pa
					JOIN sales s ON s.publisher_id = pa.publisher_id AND s.product_id = pa.product_id
					WHERE pa.publisher_id = $1 AND pa.asset_id = $2 AND s.day BETWEEN $3 AND $4`, pub.ID, ids[asset], from, to)
			}
			firstHalf := func(a string) int64 { return revenue(a, "2024-03-15", "2024-09-14") }
			lastHalf := func(a string) int64 { return revenue(a, "2025-09-15", "2026-03-14") }
			if first, last := firstHalf(RisingCharacter), lastHalf(RisingCharacter); last < first*3/2 {
				t.Errorf("%s: %d in the first six months, %d in the last: want growth", RisingCharacter, first, last)
			}
			if first, last := firstHalf(DecliningCharacter), lastHalf(DecliningCharacter); first < last*3/2 {
				t.Errorf("%s: %d in the first six months, %d in the last: want decline", DecliningCharacter, first, last)
			}
			if hero, villain := revenue(Hero, "2024-03-15", "2026-03-14"), revenue(Villain, "2024-03-15", "2026-03-14"); hero == 0 || villain == 0 {
				t.Errorf("hero %d, villain %d: want both selling", hero, villain)
			}
		})

		t.Run("again", func(t *testing.T) {
			_, err := Load(ctx, s, testOptions(7), nil)
			if phantomos.ErrorCode(err) != phantomos.ECONFLICT {
				t.Fatalf("second Load: %v, want conflict", err)
			}
			if n, err := s.SalesCount(ctx, pub.ID); err != nil || n != testSales {
				t.Errorf("after the second Load: %d sales, %v; want %d", n, err, testSales)
			}
		})
	})
}

func TestLoadDeterministic(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, s *store.Store) {
		load := func(s *store.Store, seed int64) (store.Summary, []string) {
			t.Helper()
			ctx := context.Background()
			pub, err := Load(ctx, s, testOptions(seed), nil)
			if err != nil {
				t.Fatal(err)
			}
			sum, err := s.Summary(ctx, pub.ID, "2024-01-01", "2026-12-31")
			if err != nil {
				t.Fatal(err)
			}
			// Ids are fresh on every load; what the rows say must not be.
			return sum, queryStrings(t, s.DB(), `SELECT c.name || '|' || s.external_order_id || '|' || s.external_line_id || '|' || p.sku || '|' ||
					CAST(s.day AS TEXT) || '|' || s.country || '|' || s.currency || '|' || CAST(s.net AS TEXT)
				FROM sales s
				JOIN connectors c ON c.publisher_id = s.publisher_id AND c.id = s.connector_id
				JOIN products p ON p.publisher_id = s.publisher_id AND p.id = s.product_id
				WHERE s.publisher_id = $1 ORDER BY 1`, pub.ID)
		}
		sum1, rows1 := load(s, 42)
		sum2, rows2 := load(storetest.New(t, s.Dialect()), 42)
		sum3, rows3 := load(storetest.New(t, s.Dialect()), 43)
		if len(rows1) != testSales || sum1.Orders == 0 || sum1.Net == 0 {
			t.Fatalf("%d rows, summary %+v", len(rows1), sum1)
		}
		if diff := cmp.Diff(sum1, sum2); diff != "" {
			t.Errorf("same seed, different summary (-first +second):\n%s", diff)
		}
		if diff := cmp.Diff(rows1, rows2); diff != "" {
			t.Errorf("same seed, different sales (-first +second):\n%.2000s", diff)
		}
		if sum1 == sum3 || slices.Equal(rows1, rows3) {
			t.Errorf("seeds 42 and 43 gave the same sales")
		}
	})
}

func TestLoadCancelled(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, s *store.Store) {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		// Cancelled once the catalog is in and the sales begin.
		_, err := Load(ctx, s, testOptions(1), func(done, total int64) { cancel() })
		if err == nil {
			t.Fatal("cancelled Load succeeded")
		}
		if ok, err := Exists(context.Background(), s); err != nil || ok {
			t.Fatalf("after a cancelled Load, Exists = %v, %v; want nothing left behind", ok, err)
		}
		if _, err := Load(context.Background(), s, Options{Sales: 500, Seed: 1, Now: testNow}, nil); err != nil {
			t.Fatalf("Load after a cancelled one: %v", err)
		}
		if _, err := Load(context.Background(), s, Options{Sales: -1}, nil); phantomos.ErrorCode(err) != phantomos.EINVALID {
			t.Errorf("negative sales: %v, want invalid", err)
		}
	})
}

// TestLoadAfterKill: a process killed mid-load leaves a demo publisher
// without its analyst; it does not count as loaded, and the next Load
// replaces it with exactly one complete demo.
func TestLoadAfterKill(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		partial := &phantomos.Publisher{Name: PublisherName, Slug: Slug}
		if err := s.CreatePublisher(ctx, partial); err != nil {
			t.Fatal(err)
		}
		if ok, err := Exists(ctx, s); err != nil || ok {
			t.Fatalf("Exists on a partial demo = %v, %v; want false", ok, err)
		}
		pub, err := Load(ctx, s, Options{Sales: 500, Seed: 1, Now: testNow}, nil)
		if err != nil {
			t.Fatal(err)
		}
		if pub.ID == partial.ID {
			t.Error("the partial publisher was kept")
		}
		if n, _ := s.SalesCount(ctx, pub.ID); n != 500 {
			t.Errorf("%d sales, want 500", n)
		}
		if ok, _ := Exists(ctx, s); !ok {
			t.Error("Exists after Load = false")
		}
	})
}

// TestCountries checks the static tables: every country a connector sells
// to is known, with a currency and regions that add up.
func TestCountries(t *testing.T) {
	known := map[string]countrySpec{}
	for _, c := range demoCountries() {
		known[c.code] = c
		if len(c.regions) != len(c.regionW) {
			t.Errorf("%s: %d regions, %d weights", c.code, len(c.regions), len(c.regionW))
		}
	}
	for _, spec := range demoConnectors() {
		for _, s := range spec.countries {
			if _, ok := known[s.code]; !ok {
				t.Errorf("%s sells to unknown country %s", spec.name, s.code)
			}
		}
	}
}

// TestSalesCount checks that the generator yields exactly the rows asked
// for, however few.
func TestSalesCount(t *testing.T) {
	for _, n := range []int{0, 1, 2, 3, 17, 1000, 54_321} {
		p := testPlan(t, Options{Sales: n, Seed: int64(n), Now: testNow})
		want := int64(n)
		if n == 0 {
			want = DefaultSales
		}
		var got int64
		for range p.sales(fakeIDs(p), fakeConnectorIDs(), nil) {
			got++
		}
		if got != want {
			t.Errorf("Sales %d: %d rows, want %d", n, got, want)
		}
	}
}

// TestSalesRows checks rows and orders at a size too large for the
// database tests: unique order ids, orders of one to four adjacent lines,
// order dates on their day, and repeatable output.
func TestSalesRows(t *testing.T) {
	const n = 300_000
	opts := Options{Sales: n, Seed: 9, Now: testNow}
	p := testPlan(t, opts)
	var reports []int64
	seenOrder := map[string]bool{}
	var order, conn string
	var lines int
	var digest, rows uint64
	for x := range p.sales(fakeIDs(p), fakeConnectorIDs(), func(done, total int64) {
		if total != n {
			t.Errorf("progress total %d, want %d", total, n)
		}
		reports = append(reports, done)
	}) {
		rows++
		key := x.ConnectorID + "/" + x.ExternalOrderID
		if key != conn+"/"+order {
			if seenOrder[key] {
				t.Fatalf("order %s repeats after other orders", key)
			}
			seenOrder[key] = true
			order, conn, lines = x.ExternalOrderID, x.ConnectorID, 0
		}
		lines++
		if lines > 4 || x.ExternalLineID != fmt.Sprint(lines) {
			t.Fatalf("order %s line %d has line id %s", key, lines, x.ExternalLineID)
		}
		if day := phantomos.DayOf(x.OrderDate, p.loc); day != x.Day || !x.OrderDate.Before(testNow) {
			t.Fatalf("order at %v on day %s, DayOf gives %s", x.OrderDate, x.Day, day)
		}
		digest = digest*31 + uint64(x.Net) + uint64(len(x.ExternalOrderID)) + uint64(x.OrderDate.Unix())
	}
	if rows != n {
		t.Errorf("%d rows, want %d", rows, n)
	}
	if want := []int64{100_000, 200_000}; !slices.Equal(reports, want) {
		t.Errorf("progress reports %v, want %v", reports, want)
	}

	// The same plan, iterated again, and a fresh plan of the same options
	// give the same rows.
	for _, q := range []*plan{p, testPlan(t, opts)} {
		var again uint64
		for x := range q.sales(fakeIDs(q), fakeConnectorIDs(), nil) {
			again = again*31 + uint64(x.Net) + uint64(len(x.ExternalOrderID)) + uint64(x.OrderDate.Unix())
		}
		if again != digest {
			t.Errorf("second pass gave different rows")
		}
	}
}

func BenchmarkGenerate(b *testing.B) {
	const n = 1_000_000
	p := testPlan(b, Options{Sales: n, Seed: 1, Now: testNow})
	products, connectors := fakeIDs(p), fakeConnectorIDs()
	b.ReportAllocs()
	var rows int64
	for b.Loop() {
		for range p.sales(products, connectors, nil) {
			rows++
		}
	}
	b.ReportMetric(float64(rows)/b.Elapsed().Seconds(), "rows/s")
}

// BenchmarkLoad measures Load on each engine, fresh database per run, with
// PHANTOMOS_DEMO_BENCH_SALES rows (100,000 when unset).
func BenchmarkLoad(b *testing.B) {
	n := 100_000
	if v := os.Getenv("PHANTOMOS_DEMO_BENCH_SALES"); v != "" {
		var err error
		if n, err = strconv.Atoi(v); err != nil {
			b.Fatalf("PHANTOMOS_DEMO_BENCH_SALES: %v", err)
		}
	}
	for _, d := range []store.Dialect{store.SQLite, store.Postgres} {
		b.Run(string(d), func(b *testing.B) {
			var rows int64
			for b.Loop() {
				b.StopTimer()
				s := storetest.New(b, d)
				b.StartTimer()
				if _, err := Load(context.Background(), s, Options{Sales: n, Seed: 1, Now: testNow}, nil); err != nil {
					b.Fatal(err)
				}
				rows += int64(n)
			}
			b.ReportMetric(float64(rows)/b.Elapsed().Seconds(), "rows/s")
		})
	}
}

func fakeIDs(p *plan) []string {
	ids := make([]string, len(p.listings))
	for i := range ids {
		ids[i] = fmt.Sprintf("product-%d", i)
	}
	return ids
}

func fakeConnectorIDs() []string { return []string{"shopify", "amazon", "woocommerce"} }

func mean(xs []int64) float64 {
	var sum float64
	for _, x := range xs {
		sum += float64(x)
	}
	return sum / float64(len(xs))
}

// queryInt runs a query returning one integer.
func queryInt(t *testing.T, db *sql.DB, q string, args ...any) int64 {
	t.Helper()
	var n int64
	if err := db.QueryRowContext(context.Background(), q, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return n
}

// queryStrings runs a query returning one string column.
func queryStrings(t *testing.T, db *sql.DB, q string, args ...any) []string {
	t.Helper()
	var out []string
	queryRows(t, db, q, args, func(r *sql.Rows) error {
		var v string
		err := r.Scan(&v)
		out = append(out, v)
		return err
	})
	return out
}

// queryRows runs q and calls fn on every row, failing the test on error.
func queryRows(t *testing.T, db *sql.DB, q string, args []any, fn func(*sql.Rows) error) {
	t.Helper()
	rows, err := db.QueryContext(context.Background(), q, args...)
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	defer rows.Close()
	for rows.Next() {
		if err := fn(rows); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
}

// testPlan returns the plan Load makes of opts.
func testPlan(t testing.TB, opts Options) *plan {
	t.Helper()
	loc, _ := location()
	p, err := newPlan(opts, loc)
	if err != nil {
		t.Fatal(err)
	}
	return p
}
