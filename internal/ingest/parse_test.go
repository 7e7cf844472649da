package ingest

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/phantomos/phantomos"
)

// collect parses with a sink that keeps everything.
type collected[T any] struct {
	recs    []T
	rejects []RowError
	failed  int64
	rows    int64
}

func (c *collected[T]) sink() Sink[T] {
	return Sink[T]{
		Record: func(r T) error { c.recs = append(c.recs, r); return nil },
		Reject: func(e RowError, n int64) { c.rejects = append(c.rejects, e); c.failed += n },
		Row:    func() { c.rows++ },
	}
}

func parseSales(t *testing.T, format, in string) *collected[Sale] {
	t.Helper()
	var c collected[Sale]
	if _, err := ParseSales(strings.NewReader(in), format, Config{Currency: "USD"}, c.sink()); err != nil {
		t.Fatalf("ParseSales: %v", err)
	}
	return &c
}

func parseProducts(t *testing.T, format, in string) *collected[Product] {
	t.Helper()
	var c collected[Product]
	if _, err := ParseProducts(strings.NewReader(in), format, Config{Currency: "USD"}, c.sink()); err != nil {
		t.Fatalf("ParseProducts: %v", err)
	}
	return &c
}

// TestRowErrorsNameLineAndColumn checks that every kind of bad value is
// reported with its line (counting the lines of quoted multi-line fields),
// column header, value and reason.
func TestRowErrorsNameLineAndColumn(t *testing.T) {
	tests := []struct {
		name string
		kind Kind
		in   string
		want []RowError
	}{
		{
			name: "generic sales amount",
			kind: KindSales,
			in:   "order_id,date,sku,qty,revenue\no1,2024-01-05,A,1,12.50\no2,2024-01-05,A,1,12,50\no3,2024-01-05,A,1,\"12,50\"\n",
			want: []RowError{
				{Line: 3, Column: "revenue", Value: "50", Reason: "the row has 6 fields but the header has 5 columns"},
				{Line: 4, Column: "revenue", Value: "12,50", Reason: "amount uses a comma as decimal separator; use a dot (12.50)"},
			},
		},
		{
			name: "generic sales date, quantity, currency, country",
			kind: KindSales,
			in: "Order Number,Created At,Product Name,Quantity,Total,Currency,Country/Region\n" +
				"1,05/01/2024,Mug,1,9.99,USD,US\n" +
				"2,2024-01-05,Mug,two,9.99,USD,US\n" +
				"3,2024-01-05,Mug,1,9.99,dollars,US\n" +
				"4,2024-01-05,Mug,1,9.99,USD,Atlantis\n" +
				"5,2024-01-05,,1,9.99,USD,US\n",
			want: []RowError{
				{Line: 2, Column: "Created At", Value: "05/01/2024", Reason: "date is not a date (use 2006-01-02, 2006-01-02 15:04:05 or RFC 3339 such as 2006-01-02T15:04:05Z)"},
				{Line: 3, Column: "Quantity", Value: "two", Reason: "quantity is not a whole number"},
				{Line: 4, Column: "Currency", Value: "dollars", Reason: "currency is not an ISO 4217 currency code (three letters, such as USD)"},
				{Line: 5, Column: "Country/Region", Value: "Atlantis", Reason: "country is not a country (use an ISO 3166-1 code such as US, or an English country name)"},
				{Line: 6, Column: "Product Name", Value: "", Reason: "the line names no product (id, SKU or name)"},
			},
		},
		{
			name: "generic sales inconsistent net",
			kind: KindSales,
			in:   "order_id,date,sku,gross,discount,refunded,net\no1,2024-01-05,A,10.00,1.00,0,8.00\n",
			want: []RowError{{Line: 2, Column: "net", Value: "8.00", Reason: "net must equal gross - discount - refunded = 9.00 USD"}},
		},
		{
			name: "shopify products multi-line body then bad price",
			kind: KindProducts,
			in: "Handle,Title,Body (HTML),Variant Price\n" +
				"a,A,\"<p>line one\nline two\nline three</p>\",10.00\n" +
				"a,,,abc\n" +
				"b,,,5.00\n",
			want: []RowError{
				{Line: 5, Column: "Variant Price", Value: "abc", Reason: "amount is not a number"},
				{Line: 6, Column: "Title", Value: "", Reason: `the first row of product "b" has no Title (the rows of a product must follow each other)`},
			},
		},
		{
			name: "woocommerce orphan variation",
			kind: KindProducts,
			in:   "\ufeffID,Type,SKU,Name,Regular price,Parent\n1,variation,v1,V - Red,5,missing-parent\n",
			want: []RowError{{Line: 2, Column: "Parent", Value: "missing-parent", Reason: "the parent product of this variation is not in the file"}},
		},
		{
			name: "generic products",
			kind: KindProducts,
			in:   "sku,title,price\nA,Mug,9.99\nB,,1.00\n,Cup,1.00\nD,Plate,cheap\n",
			want: []RowError{
				{Line: 3, Column: "title", Value: "", Reason: "the product name is empty"},
				{Line: 4, Column: "sku", Value: "", Reason: "the product needs an id or a SKU"},
				{Line: 5, Column: "price", Value: "cheap", Reason: "amount is not a number"},
			},
		},
		{
			name: "assets",
			kind: KindAssets,
			in:   "game_ip,asset,asset_type,aliases\nStar Quest,Nova,character,Captain Nova|Nova\nStar Quest,Ship,vehicle,\n,Drake,character,\n",
			want: []RowError{
				{Line: 3, Column: "asset_type", Value: "vehicle", Reason: "the asset type must be one of character, logo, scene, item, theme, other"},
				{Line: 4, Column: "game_ip", Value: "", Reason: "the game IP is empty"},
			},
		},
		{
			name: "fx",
			kind: KindFX,
			in:   "date,currency,rate\n2024-01-05,EUR,1.09\n2024-01-05,EUR,-1\n01/05/2024,EUR,1\n2024-01-05,E,1\n",
			want: []RowError{
				{Line: 3, Column: "rate", Value: "-1", Reason: "rate must be greater than zero"},
				{Line: 4, Column: "date", Value: "01/05/2024", Reason: "date is not a date (use 2006-01-02)"},
				{Line: 5, Column: "currency", Value: "E", Reason: "currency is not an ISO 4217 currency code (three letters, such as USD)"},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []RowError
			reject := func(e RowError, _ int64) { got = append(got, e) }
			var err error
			r := strings.NewReader(tt.in)
			switch tt.kind {
			case KindSales:
				_, err = ParseSales(r, FormatAuto, Config{Currency: "USD"}, Sink[Sale]{Record: func(Sale) error { return nil }, Reject: reject})
			case KindProducts:
				_, err = ParseProducts(r, FormatAuto, Config{Currency: "USD"}, Sink[Product]{Record: func(Product) error { return nil }, Reject: reject})
			case KindAssets:
				err = ParseAssets(r, Sink[Asset]{Record: func(Asset) error { return nil }, Reject: reject})
			case KindFX:
				err = ParseRates(r, Sink[Rate]{Record: func(Rate) error { return nil }, Reject: reject})
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("row errors (-want +got):\n%s", diff)
			}
		})
	}
}

func TestFileErrors(t *testing.T) {
	tests := []struct {
		name, in, format string
		kind             Kind
		want             string
	}{
		{"empty", "", FormatAuto, KindSales, "The file is empty: it needs a header row naming its columns."},
		{"bad quote", "order_id,date,sku,net\no1,2024-01-05,\"A,1\n", FormatAuto, KindSales,
			"Line 2, character 20: the file is not valid CSV here (extraneous or missing \" in quoted-field): fields with commas, quotes or line breaks must be quoted, and quotes inside them doubled."},
		{"missing column", "order_id,sku,net\n", FormatAuto, KindSales,
			"Line 1: the header has no order date column (accepted names: date, order date, created at, created, purchase date, order created at, timestamp, datetime, sold at, day)."},
		{"wrong kind", "Handle,Title,Body (HTML),Variant Price\n", FormatAuto, KindSales,
			"This looks like a Shopify products export, not sales: import it as products."},
		{"unknown format", "a,b\n", "etsy", KindProducts,
			`Format "etsy" is not a products format (choose auto, generic, shopify, woocommerce).`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var c collected[Sale]
			var err error
			if tt.kind == KindSales {
				_, err = ParseSales(strings.NewReader(tt.in), tt.format, Config{}, c.sink())
			} else {
				var p collected[Product]
				_, err = ParseProducts(strings.NewReader(tt.in), tt.format, Config{}, p.sink())
			}
			if phantomos.ErrorCode(err) != phantomos.EINVALID || phantomos.ErrorMessage(err) != tt.want {
				t.Errorf("error = %v\nwant %s", err, tt.want)
			}
		})
	}
}

func TestGenericSales(t *testing.T) {
	in := "ORDER_ID,Created_At,Product ID,SKU,Title,Qty,Price,Discount,Refunded,Revenue,Currency,Country,Region,Channel\n" +
		"A-1,2024-02-01T10:00:00Z,p1,NOVA-1,Nova Figure,2,15.00,3.00,,27.00,EUR,de,BY,web\n" +
		"A-1,2024-02-01T10:00:00Z,,NOVA-1,Nova Figure,1,15.00,,yes,,EUR,DE,BY,web\n" +
		"A-2,2024-02-02,,,Mystery Mug,1,,,,1000,JPY,JP,,pos\n"
	c := parseSales(t, FormatAuto, in)
	if len(c.rejects) > 0 {
		t.Fatalf("rejects: %v", c.rejects)
	}
	at := time.Date(2024, 2, 1, 10, 0, 0, 0, time.UTC)
	want := []Sale{
		{Line: 2, OrderID: "A-1", LineID: "p1", ProductID: "p1", SKU: "NOVA-1", Name: "Nova Figure", Category: "collectibles", UnitPrice: 1500,
			OrderDate: at, Quantity: 2, Gross: 3000, Discount: 300, Currency: "EUR", Country: "DE", Region: "BY", Channel: "web"},
		{Line: 3, OrderID: "A-1", LineID: "NOVA-1", SKU: "NOVA-1", Name: "Nova Figure", Category: "collectibles", UnitPrice: 1500,
			OrderDate: at, Quantity: 1, Gross: 1500, Refunded: 1500, Currency: "EUR", Country: "DE", Region: "BY", Channel: "web"},
		{Line: 4, OrderID: "A-2", LineID: "Mystery Mug", Name: "Mystery Mug", Category: "home", OrderDate: time.Date(2024, 2, 2, 0, 0, 0, 0, time.UTC),
			Quantity: 1, Gross: 1000, Currency: "JPY", Country: "JP", Channel: "pos"},
	}
	if diff := cmp.Diff(want, c.recs); diff != "" {
		t.Errorf("sales (-want +got):\n%s", diff)
	}
}

func TestGenericSalesDerivedLineIDs(t *testing.T) {
	in := "order,date,sku,net\no1,2024-01-01,A,1\no1,2024-01-01,B,1\no1,2024-01-01,A,1\no2,2024-01-01,A,1\n"
	c := parseSales(t, FormatGeneric, in)
	var got []string
	for _, s := range c.recs {
		got = append(got, s.OrderID+"/"+s.LineID)
	}
	if diff := cmp.Diff([]string{"o1/A", "o1/B", "o1/A#2", "o2/A"}, got); diff != "" {
		t.Errorf("line ids (-want +got):\n%s", diff)
	}
}

// orderTotal is what an order's lines add up to against its source total.
func orderTotal(lines []Sale) map[string]int64 {
	out := map[string]int64{}
	for _, l := range lines {
		out[l.OrderID] += l.Gross - l.Discount + l.Shipping + l.Tax + l.Tip
	}
	return out
}

// The export's Id column is Shopify's numeric order id, the key the sync
// uses: every line of the order takes it (only the first row has it), and
// the Name stays the order's display name. Negative units or prices are
// refused; zero units pass (an order edit can leave them).
func TestShopifyOrdersKeyedByID(t *testing.T) {
	head := "Name,Financial Status,Currency,Subtotal,Shipping,Taxes,Total,Created at,Lineitem quantity,Lineitem name,Lineitem price,Id\n"
	in := head +
		"#1001,paid,USD,15.00,0.00,0.00,15.00,2023-11-04 12:19:55 -0700,1,Bag,10.00,5483309760699\n" +
		"#1001,,,,,,,2023-11-04 12:19:55 -0700,1,Pin,5.00,\n" +
		"#1001,,,,,,,2023-11-04 12:19:55 -0700,0,Removed,5.00,\n" +
		"#1002,paid,USD,5.00,0.00,0.00,5.00,2023-11-05 12:19:55 -0700,-1,Bag,5.00,5483309760700\n" +
		"#1003,paid,USD,5.00,0.00,0.00,5.00,2023-11-05 12:19:55 -0700,1,Bag,-5.00,5483309760701\n"
	c := parseSales(t, FormatShopify, in)
	var got []string
	for _, r := range c.recs {
		got = append(got, r.OrderID+" "+r.OrderName+" "+r.LineID+" "+strconv.FormatInt(r.Quantity, 10))
	}
	want := []string{"5483309760699 #1001 1 1", "5483309760699 #1001 2 1", "5483309760699 #1001 3 0"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("sales (-want +got):\n%s", diff)
	}
	wantRejects := []RowError{
		{Line: 5, Column: "Lineitem quantity", Value: "-1", Reason: "the quantity is negative; refunds belong in Refunded Amount"},
		{Line: 6, Column: "Lineitem price", Value: "-5.00", Reason: "the price is negative"},
	}
	if diff := cmp.Diff(wantRejects, c.rejects); diff != "" {
		t.Errorf("rejects (-want +got):\n%s", diff)
	}
}

func TestShopifyOrders(t *testing.T) {
	head := "Name,Email,Financial Status,Currency,Subtotal,Shipping,Taxes,Total,Discount Amount,Created at,Lineitem quantity,Lineitem name,Lineitem price,Lineitem sku,Lineitem discount,Shipping Zip,Shipping Country,Billing Country,Shipping Province,Refunded Amount,Source\n"
	in := head +
		// Two items, a tip row first, a 10.00 discount spread 3:1, refunded 5.00.
		"#1,a@x,partially_refunded,USD,30.00,5.00,2.00,40.00,10.00,2023-11-04 12:19:55 -0700,1,Tip,3.00,,0.00,'97213,US,US,OR,5.00,web\n" +
		"#1,a@x,,,,,,,,2023-11-04 12:19:55 -0700,1,Bag,30.00,BAG-1,0.00,,,,,,\n" +
		"#1,a@x,,,,,,,,2023-11-04 12:19:55 -0700,2,Pin,5.00,,0.00,,,,,,\n" +
		// A draft order at 0.00.
		"#2,,paid,USD,0.00,0.00,0.00,0.00,0.00,2023-11-05 09:00:00 -0700,1,Sample Box,0.00,,0.00,,,CA,,0.00,shopify_draft_order\n" +
		// Total does not reconcile: refused with all its rows.
		"#3,,paid,USD,10.00,0.00,0.00,11.00,0.00,2023-11-06 09:00:00 -0700,1,Cap,10.00,,0.00,,US,US,,0.00,web\n" +
		"#3,,,,,,,,,2023-11-06 09:00:00 -0700,1,Cap,0.00,,0.00,,,,,,\n" +
		// A continuation row whose first row is elsewhere.
		"#4,,,,,,,,,2023-11-07 09:00:00 -0700,1,Cap,10.00,,0.00,,,,,,\n"
	c := parseSales(t, FormatAuto, in)
	wantRejects := []RowError{
		{Line: 6, Column: "Total", Value: "11.00", Reason: "Total must equal Subtotal + Shipping + Taxes + Duties + tips = 10.00 USD"},
		{Line: 8, Column: "Financial Status", Value: "", Reason: "the first row of order #4 has no Financial Status, so it lacks the order's totals (rows of an order must follow each other, the one with the totals first)"},
	}
	if diff := cmp.Diff(wantRejects, c.rejects); diff != "" {
		t.Errorf("rejects (-want +got):\n%s", diff)
	}
	if c.failed != 3 || c.rows != 7 {
		t.Errorf("failed %d of %d rows, want 3 of 7", c.failed, c.rows)
	}
	at := time.Date(2023, 11, 4, 19, 19, 55, 0, time.UTC)
	want := []Sale{
		{Line: 3, OrderID: "#1", OrderName: "#1", LineID: "2", SKU: "BAG-1", Name: "Bag", Category: "accessories", UnitPrice: 3000, OrderDate: at, Quantity: 1,
			Gross: 3000, Discount: 750, Refunded: 375, Shipping: 375, Tax: 150, Tip: 225, Currency: "USD", Country: "US", Region: "OR", Channel: "web"},
		{Line: 4, OrderID: "#1", OrderName: "#1", LineID: "3", Name: "Pin", Category: "accessories", UnitPrice: 500, OrderDate: at, Quantity: 2,
			Gross: 1000, Discount: 250, Refunded: 125, Shipping: 125, Tax: 50, Tip: 75, Currency: "USD", Country: "US", Region: "OR", Channel: "web"},
		{Line: 5, OrderID: "#2", OrderName: "#2", LineID: "1", Name: "Sample Box", OrderDate: time.Date(2023, 11, 5, 16, 0, 0, 0, time.UTC), Quantity: 1,
			Currency: "USD", Country: "CA", Channel: "shopify_draft_order"},
	}
	if diff := cmp.Diff(want, c.recs); diff != "" {
		t.Errorf("sales (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(map[string]int64{"#1": 4000, "#2": 0}, orderTotal(c.recs)); diff != "" {
		t.Errorf("order totals (-want +got):\n%s", diff)
	}
}

func TestAmazonFixture(t *testing.T) {
	c := parseSales(t, FormatAuto, readFile(t, "testdata/synthetic_amazon_all_orders.txt"))
	if len(c.rejects) > 0 {
		t.Fatalf("rejects: %v", c.rejects)
	}
	type line struct {
		Order, Line, Product, SKU, Cur, Country, Channel string
		Qty, Gross, Discount, Shipping, Tax              int64
		Removed                                          bool
	}
	var got []line
	for _, s := range c.recs {
		got = append(got, line{s.OrderID, s.LineID, s.ProductID, s.SKU, s.Currency, s.Country, s.Channel, s.Quantity, s.Gross, s.Discount, s.Shipping, s.Tax, s.Removed})
	}
	want := []line{
		{"111-0000001-0000001", "NOVA-FIG-01", "B0SYNTH001", "NOVA-FIG-01", "USD", "US", "Amazon.com FBA", 2, 5998, 500, 0, 480, false},
		{"111-0000001-0000001", "NOVA-MUG-01", "B0SYNTH002", "NOVA-MUG-01", "USD", "US", "Amazon.com FBA", 1, 1499, 0, 0, 120, false},
		{"302-0000002-0000002", "NOVA-HOOD-M", "B0SYNTH003", "NOVA-HOOD-M", "EUR", "DE", "Amazon.de Merchant", 1, 4999, 0, 450, 870, false},
		{"111-0000003-0000003", "NOVA-FIG-01", "B0SYNTH001", "NOVA-FIG-01", "USD", "US", "Amazon.com FBA", 0, 0, 0, 0, 0, true},
		{"111-0000004-0000004", "DRAKE-PLUSH", "B0SYNTH004", "DRAKE-PLUSH", "USD", "US", "Amazon.com FBA", 1, 0, 0, 0, 0, false},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("amazon lines (-want +got):\n%s", diff)
	}
	if d := c.recs[2].OrderDate; !d.Equal(time.Date(2024, 3, 3, 17, 0, 0, 0, time.UTC)) {
		t.Errorf("purchase-date = %v", d)
	}
	if u := c.recs[2].UpdatedAt; !u.Equal(time.Date(2024, 3, 4, 8, 0, 0, 0, time.UTC)) {
		t.Errorf("last-updated-date = %v", u)
	}
}

func TestBigCommerceFixture(t *testing.T) {
	c := parseSales(t, FormatAuto, readFile(t, "testdata/synthetic_bigcommerce_orders.csv"))
	if len(c.rejects) > 0 {
		t.Fatalf("rejects: %v", c.rejects)
	}
	if len(c.recs) != 4 || c.rows != 3 {
		t.Fatalf("%d lines from %d rows, want 4 from 3", len(c.recs), c.rows)
	}
	if got, want := c.recs[0].Name, "Captain Nova Figure, Deluxe Edition"; got != want {
		t.Errorf("name with a comma = %q, want %q", got, want)
	}
	// Order totals (inc tax) of the file.
	if diff := cmp.Diff(map[string]int64{"100": 7518, "101": 3640, "102": 3700}, orderTotal(c.recs)); diff != "" {
		t.Errorf("order totals (-want +got):\n%s", diff)
	}
	r := c.recs[2] // order 101: partly refunded, shipped to the UK
	if r.Refunded != 1200 || r.Country != "GB" || r.Region != "Greater London" || r.Gross-r.Discount-r.Refunded != 1800 {
		t.Errorf("order 101 = %+v", r)
	}
	r = c.recs[3] // order 102: a 5.00 coupon known from the total only
	if r.Discount != 500 || r.Shipping != 200 || r.Country != "CA" || r.Quantity != 2 || r.LineID != "1" || r.ProductID != "81" {
		t.Errorf("order 102 = %+v", r)
	}
	if d := c.recs[0].OrderDate; !d.Equal(time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("order date = %v", d)
	}
}

func TestWooCommerceVariationsFold(t *testing.T) {
	in := "\ufeffID,Type,SKU,Name,Regular price,Sale price,Categories,Parent,Images\n" +
		"10,variation,t-red,T - Red,20,,,id:1,\n" + // before its parent
		"1,variable,t,T,,,Clothing > Tshirts,,\"https://shop.example/a.jpg, https://shop.example/b.jpg\"\n" +
		"11,variation,t-blue,T - Blue,15,,,t,\n" +
		"2,\"simple, downloadable, virtual\",alb,Album,,3,Music,,\n"
	c := parseProducts(t, FormatAuto, in)
	if len(c.rejects) > 0 {
		t.Fatalf("rejects: %v", c.rejects)
	}
	want := []Product{
		{Line: 5, ExternalID: "2", SKU: "alb", Name: "Album", Category: "digital", Price: 300, PriceSet: true, Currency: "USD"},
		{Line: 3, ExternalID: "1", SKU: "t", Name: "T", Category: "apparel", Price: 1500, PriceSet: true, Currency: "USD", ImageURL: "https://shop.example/a.jpg"},
	}
	if diff := cmp.Diff(want, c.recs); diff != "" {
		t.Errorf("products (-want +got):\n%s", diff)
	}
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// evalDir locates the shared evaluation data, skipping when it is absent.
func evalDir(t testing.TB) string {
	t.Helper()
	dir := filepath.Join("..", "..", "..", "shared", "eval-data")
	if _, err := os.Stat(dir); err != nil {
		t.Skip("no ../shared/eval-data")
	}
	return dir
}

func TestEvalDataParses(t *testing.T) {
	dir := evalDir(t)
	for _, tt := range []struct {
		file     string
		kind     Kind
		format   string
		records  int
		orders   int
		total    int64 // Σ Total over rows with a Financial Status, in cents
		rows     int64
		noErrors bool
	}{
		{file: "shopify-product-csvs/apparel.csv", kind: KindProducts, format: FormatShopify, records: 20, rows: 22},
		{file: "shopify-product-csvs/home-and-garden.csv", kind: KindProducts, format: FormatShopify, records: 20, rows: 21},
		{file: "shopify-product-csvs/jewelery.csv", kind: KindProducts, format: FormatShopify, records: 20, rows: 41},
		{file: "woocommerce-sample-products/sample_products.csv", kind: KindProducts, format: FormatWooCommerce, records: 18, rows: 25},
		{file: "shopify-orders-exports-redacted/explorer_clothing_orders_export_redacted.csv", kind: KindSales, format: FormatShopify,
			records: 97, orders: 81, total: 330578, rows: 98},
		{file: "shopify-orders-exports-redacted/yancy_handmade_orders_export_redacted.csv", kind: KindSales, format: FormatShopify,
			records: 303, orders: 228, total: 1999042, rows: 322},
	} {
		t.Run(filepath.Base(tt.file), func(t *testing.T) {
			f, err := os.Open(filepath.Join(dir, tt.file))
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			var format string
			var n int
			var rows int64
			var rejects []RowError
			reject := func(e RowError, _ int64) { rejects = append(rejects, e) }
			orders := map[string]int64{}
			if tt.kind == KindProducts {
				format, err = ParseProducts(f, FormatAuto, Config{Currency: "USD"}, Sink[Product]{
					Record: func(Product) error { n++; return nil }, Reject: reject, Row: func() { rows++ }})
			} else {
				var lines []Sale
				format, err = ParseSales(f, FormatAuto, Config{Currency: "USD"}, Sink[Sale]{
					Record: func(s Sale) error { lines = append(lines, s); return nil }, Reject: reject, Row: func() { rows++ }})
				n, orders = len(lines), orderTotal(lines)
			}
			if err != nil || len(rejects) > 0 {
				t.Fatalf("err %v, rejects %v", err, rejects)
			}
			if format != tt.format || n != tt.records || rows != tt.rows {
				t.Errorf("format %s, %d records from %d rows; want %s, %d from %d", format, n, rows, tt.format, tt.records, tt.rows)
			}
			if tt.kind == KindSales {
				var sum int64
				for _, v := range orders {
					sum += v
				}
				if len(orders) != tt.orders || sum != tt.total {
					t.Errorf("%d orders totalling %d, want %d totalling %d", len(orders), sum, tt.orders, tt.total)
				}
			}
		})
	}
}

// TestWooCommerceOrdersExport reads the Customer / Order / Coupon Export
// extension's "Default - One Row per Item" file (a synthetic one written
// from its documented columns): WooCommerce's order and item ids are the
// keys, discounts are subtotal minus total, a refunded order is refunded
// whole, shipping goes on an order's first item, orders that are not sales
// bring nothing, and a bad amount is refused naming its line and column.
func TestWooCommerceOrdersExport(t *testing.T) {
	head := "order_id,order_number,date,status,shipping_total,tax_total,discount_total,order_total,refunded_total,order_currency," +
		"billing_country,shipping_state,shipping_country,item_id,item_product_id,item_name,item_sku,item_quantity,item_subtotal," +
		"item_subtotal_tax,item_total,item_total_tax,item_refunded,item_refunded_qty\n"
	in := head +
		"501,501,2026-03-02 10:15:00,completed,5.00,2.00,4.00,41.00,10.00,EUR,DE,BE,DE,9001,11,Nova Hoodie - M,NOVA-M,2,30.00,1.00,26.00,1.00,10.00,-1\n" +
		"501,501,2026-03-02 10:15:00,completed,5.00,2.00,4.00,41.00,10.00,EUR,DE,BE,DE,9002,0,Gift wrap,,1,8.00,1.00,8.00,1.00,0.00,0\n" +
		"502,502,2026-03-03 09:00:00,cancelled,0.00,0.00,0.00,12.00,0.00,EUR,FR,,,9003,12,Mug,MUG,1,12.00,0.00,12.00,0.00,0.00,0\n" +
		"503,503,2026-03-04 09:00:00,refunded,0.00,0.00,0.00,12.00,12.00,EUR,,,GB,9004,12,Mug,MUG,1,12.00,0.00,12.00,0.00,0.00,0\n" +
		"504,504,2026-03-05 09:00:00,processing,0.00,0.00,0.00,12.00,0.00,EUR,,,US,9005,12,Mug,MUG,1,12.x0,0.00,12.00,0.00,0.00,0\n"
	c := parseSales(t, FormatAuto, in)
	wantRejects := []RowError{{Line: 6, Column: "item_subtotal", Value: "12.x0", Reason: c.rejects[0].Reason}}
	if diff := cmp.Diff(wantRejects, c.rejects); diff != "" || !strings.Contains(c.rejects[0].Reason, "amount") {
		t.Errorf("rejects (-want +got):\n%s%v", diff, c.rejects)
	}
	at := time.Date(2026, 3, 2, 10, 15, 0, 0, time.UTC)
	want := []Sale{
		{Line: 2, OrderID: "501", OrderName: "#501", LineID: "9001", ProductID: "11", SKU: "NOVA-M", Name: "Nova Hoodie - M", Category: classify("Nova Hoodie - M"),
			UnitPrice: 1500, OrderDate: at, Quantity: 2, Gross: 3000, Discount: 400, Refunded: 1000, Shipping: 500, Tax: 100, Currency: "EUR",
			Country: "DE", Region: "BE", Channel: "woocommerce"},
		{Line: 3, OrderID: "501", OrderName: "#501", LineID: "9002", Name: "Gift wrap", Category: classify("Gift wrap"), UnitPrice: 800, OrderDate: at,
			Quantity: 1, Gross: 800, Tax: 100, Currency: "EUR", Country: "DE", Region: "BE", Channel: "woocommerce"},
		{Line: 5, OrderID: "503", OrderName: "#503", LineID: "9004", ProductID: "12", SKU: "MUG", Name: "Mug", Category: classify("Mug"), UnitPrice: 1200,
			OrderDate: time.Date(2026, 3, 4, 9, 0, 0, 0, time.UTC), Quantity: 1, Gross: 1200, Refunded: 1200, Currency: "EUR", Country: "GB", Channel: "woocommerce"},
	}
	if diff := cmp.Diff(want, c.recs); diff != "" {
		t.Errorf("sales (-want +got):\n%s", diff)
	}
	// Named explicitly, the format is a sales format.
	if c := parseSales(t, FormatWooCommerce, in); len(c.recs) != 3 {
		t.Errorf("--format woocommerce: %d lines", len(c.recs))
	}
}
