package upgradecheck_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/phantomos/phantomos"
	"github.com/phantomos/phantomos/internal/demo"
	"github.com/phantomos/phantomos/internal/store"
	"github.com/phantomos/phantomos/internal/store/storetest"
	"github.com/phantomos/phantomos/internal/store/upgradecheck"
)

// The fixture is a database made by the code of one schema version,
// stored in testdata together with the checksums of its reports as that
// code computes them. TestUpgradeKeepsReports restores it, migrates it with
// today's code and compares.
//
// Regenerate it ONLY from the schema version BEFORE a layout change, that
// is on a commit without the new migration (check out the parent commit,
// run the generator there, bring the files over): a fixture generated after
// the change would prove nothing about it. Regenerating is needed when a
// report's rendering or the data set changes deliberately, never to make a
// failing upgrade pass.
//
//	go test ./internal/store/upgradecheck -run TestGenerateFixture -update-migration-fixture
//
// It needs pg_dump of the server's major version for the PostgreSQL half.
var updateFixture = flag.Bool("update-migration-fixture", false, "regenerate testdata/ from this commit's schema (only before a layout migration)")

// fixtureNow is the clock of the fixture's writes and the demo's "as of".
var fixtureNow = time.Date(2026, 3, 1, 9, 30, 0, 0, time.UTC)

func TestGenerateFixture(t *testing.T) {
	if !*updateFixture {
		t.Skip("run with -update-migration-fixture to regenerate testdata")
	}
	for _, d := range []store.Dialect{store.SQLite, store.Postgres} {
		t.Run(string(d), func(t *testing.T) {
			ctx := context.Background()
			url := storetest.URL(t, d)
			s, err := store.Open(ctx, url)
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			if _, err := s.Migrate(ctx); err != nil {
				t.Fatal(err)
			}
			_, version, err := s.MigrationStatus(ctx)
			if err != nil {
				t.Fatal(err)
			}
			s.SetClock(func() time.Time { return fixtureNow })
			probe := fill(t, s)
			for _, p := range mustPublishers(t, s) {
				if err := s.CheckRollups(ctx, p.ID); err != nil {
					t.Fatalf("%s: %v", p.Slug, err)
				}
			}
			reps, err := upgradecheck.Compute(ctx, s)
			if err != nil {
				t.Fatal(err)
			}
			dir := filepath.Join("testdata", string(d))
			if err := os.MkdirAll(dir, 0o755); err != nil {
				t.Fatal(err)
			}
			var raw []byte
			if d == store.SQLite {
				// VACUUM INTO writes one compact file, WAL included.
				out := filepath.Join(t.TempDir(), "fixture.db")
				if _, err := s.DB().ExecContext(ctx, `VACUUM INTO '`+out+`'`); err != nil {
					t.Fatal(err)
				}
				if raw, err = os.ReadFile(out); err != nil {
					t.Fatal(err)
				}
			} else {
				cmd := exec.Command("pg_dump", "--inserts", "--rows-per-insert=200", "--no-owner", "--no-privileges", "--no-comments", "--dbname", url)
				var stderr bytes.Buffer
				cmd.Stderr = &stderr
				if raw, err = cmd.Output(); err != nil {
					t.Fatalf("pg_dump: %v: %s", err, stderr.Bytes())
				}
				raw = plainSQL(raw)
			}
			writeGzip(t, filepath.Join(dir, fixtureFile(d)), raw)
			meta := golden{Version: version, Generated: fixtureNow.Format(time.RFC3339), Probe: probe, Sums: reps.Sums()}
			js, err := json.MarshalIndent(meta, "", "\t")
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(dir, "golden.json"), append(js, '\n'), 0o644); err != nil {
				t.Fatal(err)
			}
			t.Logf("%s: schema version %d, %d reports, %d bytes uncompressed", d, version, len(reps), len(raw))
		})
	}
}

// golden is testdata/<dialect>/golden.json.
type golden struct {
	// Version is the schema version the fixture was made at.
	Version   int64  `json:"schema_version"`
	Generated string `json:"generated_as_of"`
	// Probe is an order of the fixture as last written, for the test to
	// write again after the upgrade.
	Probe probeOrder `json:"probe_order"`
	// Sums are the report checksums by report name.
	Sums map[string]string `json:"sums"`
}

// probeOrder is one order of the fixture: a publisher's order in its
// reporting currency, without refunds, written by a file import from
// Source.
type probeOrder struct {
	Publisher string          `json:"publisher"`
	Source    string          `json:"source"`
	Rows      []store.SaleRow `json:"rows"`
}

func fixtureFile(d store.Dialect) string {
	if d == store.SQLite {
		return "fixture.db.gz"
	}
	return "fixture.sql.gz"
}

func writeGzip(t *testing.T, path string, data []byte) {
	t.Helper()
	var buf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	zw.Write(data)
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

func mustPublishers(t *testing.T, s *store.Store) []*phantomos.Publisher {
	t.Helper()
	pubs, err := s.Publishers(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return pubs
}

// fill writes the fixture's data set through the store's write API: the
// demo publisher (generated catalog, confirmed, primary and weighted
// mappings, several currencies, bulk-loaded sales) and two publishers
// written by imports with every kind of order history, which share order
// ids, SKUs and connector names so that a migration mixing tenants shows.
func fill(t *testing.T, s *store.Store) probeOrder {
	t.Helper()
	ctx := context.Background()
	if _, err := demo.Load(ctx, s, demo.Options{Sales: 1500, Seed: 34, Now: fixtureNow}, nil); err != nil {
		t.Fatal(err)
	}
	probe := seedPublisher(t, s, publisherSpec{slug: "acme", currency: "USD", tz: "Europe/Berlin", booking: phantomos.RefundOnRefundDate,
		model: phantomos.AttributionWeighted, seed: 1, shopOrders: 450, syncOrders: 260, vendorLines: 160})
	seedPublisher(t, s, publisherSpec{slug: "globex", currency: "EUR", tz: "America/New_York", booking: phantomos.RefundOnOrderDate,
		model: phantomos.AttributionPrimary, seed: 2, shopOrders: 260, syncOrders: 150, vendorLines: 90})
	return probeOrder{Publisher: "acme", Source: "Shop", Rows: probe}
}

type publisherSpec struct {
	slug, currency, tz, booking, model string
	seed                               uint64
	shopOrders, syncOrders             int
	vendorLines                        int
}

// The span of the imported publishers' sales: across two New Years.
var (
	spanStart = time.Date(2024, 11, 1, 0, 0, 0, 0, time.UTC)
	spanDays  = 480
)

// seedPublisher writes one publisher and returns the lines of one of its
// orders from the file source, as stored: in the reporting currency, with
// several lines and no refund.
func seedPublisher(t *testing.T, s *store.Store, sp publisherSpec) []store.SaleRow {
	t.Helper()
	ctx := context.Background()
	r := rand.New(rand.NewPCG(sp.seed, 34))
	pub := &phantomos.Publisher{Name: "Pub " + sp.slug, Slug: sp.slug, Timezone: sp.tz, ReportingCurrency: sp.currency,
		Settings: phantomos.PublisherSettings{AttributionModel: sp.model, IncludeRefunds: true, IncludeDiscounts: true, RefundBooking: sp.booking}}
	if err := s.CreatePublisher(ctx, pub); err != nil {
		t.Fatal(err)
	}
	// Game IPs and their assets.
	type assetSpec struct{ ip, name, typ string }
	var assets []*phantomos.Asset
	ips := map[string]*phantomos.GameIP{}
	for _, a := range []assetSpec{
		{"Star Rangers", "Nova", phantomos.AssetCharacter}, {"Star Rangers", "Vex", phantomos.AssetCharacter},
		{"Star Rangers", "Starship Aurora", phantomos.AssetItem}, {"Dungeon Fall", "Sir Brand", phantomos.AssetCharacter},
		{"Dungeon Fall", "Ember Dragon", phantomos.AssetCharacter}, {"Dungeon Fall", "Dungeon Fall Logo", phantomos.AssetLogo},
	} {
		ip := ips[a.ip]
		if ip == nil {
			ip = &phantomos.GameIP{Name: a.ip, Slug: strings.ToLower(strings.ReplaceAll(a.ip, " ", "-"))}
			if err := s.CreateGameIP(ctx, pub.ID, ip); err != nil {
				t.Fatal(err)
			}
			ips[a.ip] = ip
		}
		as := &phantomos.Asset{GameIPID: ip.ID, Name: a.name, AssetType: a.typ}
		if err := s.CreateAsset(ctx, pub.ID, as); err != nil {
			t.Fatal(err)
		}
		assets = append(assets, as)
	}
	// Exchange rates for every day of the span and a little after (refunds).
	currencies := []string{"USD", "EUR", "GBP", "JPY"}
	var fx []store.FXRow
	for i := range spanDays + 60 {
		day := phantomos.DayOf(spanStart.AddDate(0, 0, i), time.UTC)
		for k, cur := range currencies {
			if cur == sp.currency {
				continue
			}
			base := map[string]float64{"USD": 0.92, "EUR": 1.08, "GBP": 1.26, "JPY": 0.0067}[cur]
			if sp.currency == "EUR" {
				base = map[string]float64{"USD": 0.92, "GBP": 1.17, "JPY": 0.0062}[cur]
			}
			rate := base * (1 + 0.03*math.Sin(float64(i)/17+float64(k)))
			fx = append(fx, store.FXRow{Line: int64(len(fx) + 2), Day: day, Currency: cur, Rate: math.Round(rate*1e6) / 1e6})
		}
	}
	importAll(t, s, pub.ID, store.ImportSpec{Kind: store.ImportFX, Format: "csv", FileName: "rates.csv"}, func(w *store.ImportWriter) error {
		return w.WriteFXRates(ctx, fx)
	})
	// Products of the shop, by SKU.
	kinds := []struct{ name, cat string }{{"Tee", phantomos.CategoryApparel}, {"Hoodie", phantomos.CategoryApparel}, {"Figure", phantomos.CategoryCollectibles},
		{"Mug", phantomos.CategoryHome}, {"Pin", phantomos.CategoryAccessories}, {"Poster", phantomos.CategoryHome}, {"Soundtrack", phantomos.CategoryDigital}}
	var products []store.ProductRow
	for i := range 35 {
		k := kinds[i%len(kinds)]
		ip := []string{"SR", "DF", "NX"}[i%3]
		sku := fmt.Sprintf("%s-%s-%02d", ip, strings.ToUpper(k.name[:3]), i)
		products = append(products, store.ProductRow{Line: int64(i + 2), ExternalID: "p" + sku, SKU: sku, Name: fmt.Sprintf("%s %s %d", ip, k.name, i),
			Category: k.cat, Price: int64(900 + r.IntN(6000)), PriceSet: true, Currency: sp.currency})
	}
	importAll(t, s, pub.ID, store.ImportSpec{Kind: store.ImportProducts, Format: "csv", FileName: "products.csv", Source: "Shop"}, func(w *store.ImportWriter) error {
		return w.WriteProducts(ctx, products)
	})
	// Mapping: unmapped, one asset, two with a primary, weighted, suggested only.
	stored, err := s.Products(ctx, pub.ID, 1000)
	if err != nil {
		t.Fatal(err)
	}
	bySKU := map[string]*phantomos.Product{}
	for _, p := range stored {
		bySKU[p.SKU] = p
	}
	sugg := map[string][]store.Suggestion{}
	for i, row := range products {
		p := bySKU[row.SKU]
		a, b := assets[i%len(assets)], assets[(i+1)%len(assets)]
		var rv store.Review
		switch i % 5 {
		case 1:
			rv = store.Review{Action: store.ReviewConfirm, Assets: []store.ReviewAsset{{AssetID: a.ID, Primary: true}}}
		case 2:
			rv = store.Review{Action: store.ReviewConfirm, Assets: []store.ReviewAsset{{AssetID: a.ID}, {AssetID: b.ID, Primary: true}}}
		case 3:
			rv = store.Review{Action: store.ReviewConfirm, Assets: []store.ReviewAsset{{AssetID: a.ID, Primary: true, Weight: 3}, {AssetID: b.ID, Weight: 1}}}
		case 4:
			sugg[p.ID] = []store.Suggestion{{AssetID: a.ID, Confidence: 0.7, Primary: true, Source: "local"}}
			continue
		default:
			continue
		}
		if _, err := s.ReviewProduct(ctx, pub.ID, p.ID, rv); err != nil {
			t.Fatalf("review %s: %v", row.SKU, err)
		}
	}
	if _, err := s.SaveSuggestions(ctx, pub.ID, sugg); err != nil {
		t.Fatal(err)
	}

	countries := []string{"US", "DE", "GB", "FR", "JP", "CA"}
	channels := []string{"web", "pos", "marketplace"}
	// order draws one version of an order: 1 to 4 lines, some discounted,
	// some refunded (a refund date up to 40 days later, across months, or
	// unknown).
	order := func(id string, day time.Time, updated time.Time) []store.SaleRow {
		cur := currencies[r.IntN(len(currencies))]
		country, channel := countries[r.IntN(len(countries))], channels[r.IntN(len(channels))]
		n := 1 + r.IntN(4)
		at := day.Add(time.Duration(8+r.IntN(12))*time.Hour + time.Duration(r.IntN(60))*time.Minute)
		var rows []store.SaleRow
		for j := range n {
			p := products[r.IntN(len(products))]
			qty := int64(1 + r.IntN(3))
			unit := p.Price
			if cur == "JPY" {
				unit = unit * 150 / 100 // no minor unit: yen
			}
			row := store.SaleRow{Line: int64(j + 2), OrderID: id, OrderName: "#" + id, LineID: fmt.Sprint(j + 1), SKU: p.SKU, Name: p.Name,
				UnitPrice: unit, OrderDate: at, Quantity: qty, Gross: unit * qty, Currency: cur, Country: country, Channel: channel, UpdatedAt: updated,
				Shipping: int64(r.IntN(3)) * 250, Tax: unit * qty / 10}
			if r.IntN(5) == 0 {
				row.Discount = row.Gross / 10
			}
			switch r.IntN(8) {
			case 0:
				row.Refunded = row.Gross - row.Discount
				row.RefundedAt = at.AddDate(0, 0, 1+r.IntN(40))
			case 1:
				row.Refunded = (row.Gross - row.Discount) / 3
				row.RefundedAt = at.AddDate(0, 0, r.IntN(10))
			case 2:
				if r.IntN(3) == 0 {
					row.Refunded = row.Gross / 4 // refund date unknown: booked on the order's day
				}
			}
			rows = append(rows, row)
		}
		return rows
	}
	anyDay := func() time.Time { return spanStart.AddDate(0, 0, r.IntN(spanDays)) }

	// A file-like source: orders without update times, written in batches
	// that split orders, then a second file correcting some of them.
	var shop []store.SaleRow
	shopOrders := map[string][]store.SaleRow{}
	for i := range sp.shopOrders {
		id := fmt.Sprintf("A-%d", 1001+i)
		rows := order(id, anyDay(), time.Time{})
		shopOrders[id] = rows
		shop = append(shop, rows...)
	}
	writeSales(t, s, pub.ID, store.ImportSpec{Kind: store.ImportSales, Format: "csv", FileName: "orders.csv", Source: "Shop"}, shop, r, nil)
	var fix []store.SaleRow
	for i := 0; i < sp.shopOrders; i += 9 {
		id := fmt.Sprintf("A-%d", 1001+i)
		rows := append([]store.SaleRow(nil), shopOrders[id]...)
		rows[0].Quantity++
		rows[0].Gross += rows[0].UnitPrice
		if len(rows) > 1 && i%2 == 0 {
			rows = rows[:len(rows)-1] // a line gone from the new version
		}
		fix = append(fix, rows...)
	}
	writeSales(t, s, pub.ID, store.ImportSpec{Kind: store.ImportSales, Format: "csv", FileName: "orders-fixed.csv", Source: "Shop"}, fix, r, nil)
	var probe []store.SaleRow
	for i := 1; i < sp.shopOrders && probe == nil; i++ {
		rows := shopOrders[fmt.Sprintf("A-%d", 1001+i)]
		ok := i%9 != 0 && len(rows) >= 2
		for _, l := range rows {
			ok = ok && l.Currency == sp.currency && l.Refunded == 0
		}
		if ok {
			probe = rows
		}
	}
	if probe == nil {
		t.Fatal("no probe order")
	}

	// A synced store: orders with update times; later syncs bring newer
	// versions, stale ones, cancellations, deletions and tombstones.
	base := time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC)
	var sync []store.SaleRow
	versions := map[string][]store.SaleRow{}
	for i := range sp.syncOrders {
		id := fmt.Sprintf("S-%d", 5001+i)
		rows := order(id, anyDay(), base)
		versions[id] = rows
		sync = append(sync, rows...)
	}
	syncSpec := store.ImportSpec{Kind: store.ImportSales, Format: "sync", FileName: "sync", Source: "Store"}
	writeSales(t, s, pub.ID, syncSpec, sync, r, nil)
	var next []store.SaleRow
	var deleted, tombstoned []string
	var removed []store.RemovedOrder
	for i := range sp.syncOrders {
		id := fmt.Sprintf("S-%d", 5001+i)
		switch i % 13 {
		case 1: // a newer version, on another day and place
			rows := order(id, anyDay(), base.Add(time.Hour))
			versions[id] = rows
			next = append(next, rows...)
		case 2: // an older version: stale, ignored
			next = append(next, order(id, anyDay(), base.Add(-time.Hour))...)
		case 3: // cancelled in the source
			rows := append([]store.SaleRow(nil), versions[id]...)
			for j := range rows {
				rows[j].Removed, rows[j].UpdatedAt = true, base.Add(2*time.Hour)
			}
			next = append(next, rows[:1]...)
		case 4:
			deleted = append(deleted, id)
		case 5:
			removed = append(removed, store.RemovedOrder{ID: id, UpdatedAt: base.Add(3 * time.Hour)})
		case 6:
			tombstoned = append(tombstoned, id)
		}
	}
	writeSales(t, s, pub.ID, syncSpec, next, r, func(w *store.ImportWriter) error {
		if _, err := w.DeleteOrders(ctx, deleted); err != nil {
			return err
		}
		if _, err := w.RemoveOrders(ctx, removed); err != nil {
			return err
		}
		for _, id := range tombstoned {
			if _, err := w.DeleteOrder(ctx, id); err != nil {
				return err
			}
			if err := w.Tombstone(ctx, id, base.Add(4*time.Hour)); err != nil {
				return err
			}
		}
		return nil
	})
	// The tombstoned orders come again in an older version: kept deleted.
	var late []store.SaleRow
	for _, id := range tombstoned {
		late = append(late, versions[id]...)
	}
	writeSales(t, s, pub.ID, syncSpec, late, r, nil)

	// A vendor's sell-through: totals by day and product without orders.
	vendor := &phantomos.Connector{Type: "amazon", Name: "Vendor Central", Status: "active"}
	if err := s.CreateConnector(ctx, pub.ID, vendor); err != nil {
		t.Fatal(err)
	}
	var totals []store.SaleRow
	seen := map[string]bool{}
	for len(totals) < sp.vendorLines {
		day := anyDay()
		p := products[r.IntN(len(products))]
		id := fmt.Sprintf("VC-%s-%s", day.Format("20060102"), p.SKU)
		if seen[id] {
			continue
		}
		seen[id] = true
		qty := int64(1 + r.IntN(20))
		row := store.SaleRow{Line: int64(len(totals) + 2), OrderID: id, LineID: "1", SKU: p.SKU, Name: p.Name, UnitPrice: p.Price, OrderDate: day,
			Quantity: qty, Gross: p.Price * qty, Currency: "USD", Country: "US", Channel: "marketplace", NoOrder: true}
		if r.IntN(6) == 0 {
			row.Refunded = p.Price
		}
		totals = append(totals, row)
	}
	writeSales(t, s, pub.ID, store.ImportSpec{Kind: store.ImportSales, Format: "sync", FileName: "vendor", ConnectorID: vendor.ID}, totals, r, nil)
	return probe
}

// plainSQL drops psql's meta-commands (\restrict …) from a dump, leaving
// statements any client can run.
func plainSQL(dump []byte) []byte {
	var out []byte
	for line := range bytes.Lines(dump) {
		if !bytes.HasPrefix(line, []byte(`\`)) {
			out = append(out, line...)
		}
	}
	return out
}

// writeSales imports rows in batches of a few lines (so orders split
// across WriteSales calls), then runs extra in the same import.
func writeSales(t *testing.T, s *store.Store, pub phantomos.PublisherID, spec store.ImportSpec, rows []store.SaleRow, r *rand.Rand, extra func(*store.ImportWriter) error) {
	t.Helper()
	ctx := context.Background()
	importAll(t, s, pub, spec, func(w *store.ImportWriter) error {
		w.AddSeen(int64(len(rows)))
		for len(rows) > 0 {
			n := min(len(rows), 1+r.IntN(300))
			if err := w.WriteSales(ctx, rows[:n]); err != nil {
				return err
			}
			rows = rows[n:]
		}
		if extra != nil {
			return extra(w)
		}
		return nil
	})
}

func importAll(t *testing.T, s *store.Store, pub phantomos.PublisherID, spec store.ImportSpec, fn func(*store.ImportWriter) error) *store.ImportReport {
	t.Helper()
	rep, err := s.Import(context.Background(), pub, spec, fn)
	if err != nil {
		t.Fatalf("import %s %s: %v", spec.Kind, spec.FileName, err)
	}
	if rep.Failed > 0 {
		t.Fatalf("import %s %s: %d rows failed: %v", spec.Kind, spec.FileName, rep.Failed, rep.Errors)
	}
	return rep
}
