package ingest

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/phantomos/phantomos"
)

// The fuzz targets feed arbitrary bytes to every parser: none may panic,
// loop or return a record that breaks the invariants the store relies on.
// Run one with: go test ./internal/ingest -run '^$' -fuzz FuzzParseSales.

var fuzzLoc = time.FixedZone("fuzz", -5*3600)

// addSeeds adds the fixtures, the shared evaluation files when present and
// a few small inputs.
func addSeeds(f *testing.F, small []string, files ...string) {
	for _, s := range small {
		for i := range 5 {
			f.Add([]byte(s), uint8(i))
		}
	}
	for _, name := range files {
		for _, path := range []string{filepath.Join("testdata", name), filepath.Join("..", "..", "..", "shared", "eval-data", name)} {
			if b, err := os.ReadFile(path); err == nil {
				for i := range 5 {
					f.Add(b, uint8(i))
				}
			}
		}
	}
}

func checkRowError(t *testing.T, e RowError) {
	if e.Line < 1 {
		t.Errorf("row error without a line: %+v", e)
	}
	if e.Reason == "" {
		t.Errorf("row error without a reason: %+v", e)
	}
	// A value is quoted clipped (80 characters and its size), as text.
	if utf8.RuneCountInString(e.Value) > 80+len("…(10000000000 bytes)") {
		t.Errorf("row error value of %d bytes", len(e.Value))
	}
	for _, s := range []string{e.Value, e.Column, e.Reason} {
		if !cleanText(s) {
			t.Errorf("row error with bytes that are not text: %+v", e)
		}
	}
}

// cleanText reports whether s is UTF-8 text without NUL bytes, as both
// databases need.
func cleanText(s string) bool { return utf8.ValidString(s) && !strings.ContainsRune(s, 0) }

func validCurrency(c string) bool {
	_, err := normCurrency(c)
	return err == nil && c == strings.ToUpper(c)
}

func FuzzParseSales(f *testing.F) {
	addSeeds(f, []string{
		"order_id,date,sku,qty,price,discount,refunded,net,currency,country\no1,2024-01-05,A,2,1.50,0.10,no,,EUR,de\n",
		"Name,Financial Status,Currency,Subtotal,Shipping,Taxes,Total,Created at,Lineitem quantity,Lineitem name,Lineitem price\n#1,paid,USD,1.00,0,0,1.00,2024-01-01 10:00:00 -0700,1,Cap,1.00\n#1,,,,,,,2024-01-01 10:00:00 -0700,1,Tip,0.50\n",
		"Order ID,Order Date,Subtotal (ex tax),Order Total (inc tax),Product Details\n1,01/02/2024,2.00,2.00,\"Product ID: 1, Product Qty: 2, Product Name: A, B, Product Total Price: 2.00\"\n",
		"amazon-order-id\tpurchase-date\tsku\tquantity\tcurrency\titem-price\n1\t2024-01-01T00:00:00Z\tS\t1\tJPY\t100\n",
		"order_id,date,sku,price,refunded,refund_date\no1,2024-01-05 23:30,A,2.00,yes,2024-01-06T04:10:00Z\no2,2024-01-05,A,2.00,0.50,2024-01-04\n",
		"Order ID,Order Date,Subtotal (ex tax),Order Total (inc tax),Refund Amount,Refund Date,Product Details\n1,01/02/2024,2.00,2.00,1.00,01/09/2024,\"Product ID: 1, Product Qty: 2, Product Name: A, Product Total Price: 2.00\"\n",
	}, "synthetic_amazon_all_orders.txt", "synthetic_bigcommerce_orders.csv",
		"shopify-orders-exports-redacted/explorer_clothing_orders_export_redacted.csv",
		"shopify-orders-exports-redacted/yancy_handmade_orders_export_redacted.csv")
	formats := []string{FormatAuto, FormatGeneric, FormatShopify, FormatAmazon, FormatBigCommerce}
	f.Fuzz(func(t *testing.T, data []byte, which uint8) {
		format := formats[int(which)%len(formats)]
		var rows, records int64
		sink := Sink[Sale]{
			Record: func(s Sale) error {
				records++
				if s.OrderID == "" || s.LineID == "" {
					t.Errorf("sale without order or line id: %+v", s)
				}
				if !validCurrency(s.Currency) {
					t.Errorf("sale in currency %q", s.Currency)
				}
				if s.Country != "" && !countryCodes[s.Country] {
					t.Errorf("sale in country %q", s.Country)
				}
				if s.OrderDate.IsZero() || s.Line < 1 {
					t.Errorf("sale without date or line: %+v", s)
				}
				for _, v := range []string{s.OrderID, s.OrderName, s.LineID, s.ProductID, s.SKU, s.Name, s.Category, s.Region, s.Channel} {
					if !cleanText(v) {
						t.Errorf("sale with bytes that are not text: %+v", s)
					}
				}
				// No export sells negative units or at a negative price;
				// zero units only where the format has them (Shopify order
				// edits, Amazon cancellations).
				if s.Quantity < 0 || s.UnitPrice < 0 || s.Gross < 0 || (s.Quantity == 0 && format != FormatShopify && format != FormatAmazon && format != FormatAuto) {
					t.Errorf("sale of %d units at %d (gross %d) from %s", s.Quantity, s.UnitPrice, s.Gross, format)
				}
				// A refund date dates a refund, never earlier than its order.
				if !s.RefundedAt.IsZero() && (s.Refunded == 0 || phantomos.DayOf(s.RefundedAt, fuzzLoc) < phantomos.DayOf(s.OrderDate, fuzzLoc)) {
					t.Errorf("refund date %v of a line refunded %d, ordered %v", s.RefundedAt, s.Refunded, s.OrderDate)
				}
				for _, v := range []int64{s.Gross, s.Discount, s.Refunded, s.Shipping, s.Tax, s.Tip, s.ChargesRefunded} {
					if v > 4*maxMinor || v < -4*maxMinor {
						t.Errorf("amount %d out of bounds: %+v", v, s)
					}
				}
				return nil
			},
			Reject: func(e RowError, n int64) {
				checkRowError(t, e)
				if n < 1 {
					t.Errorf("rejection of %d rows", n)
				}
			},
			Row: func() { rows++ },
		}
		ParseSales(bytes.NewReader(data), format, Config{Currency: "USD", Location: fuzzLoc}, sink)
		if format != FormatBigCommerce && format != FormatAuto && records > rows {
			t.Errorf("%d sales from %d rows", records, rows)
		}
	})
}

func FuzzParseProducts(f *testing.F) {
	addSeeds(f, []string{
		"sku,title,price,category,tags\nA,Nova Hoodie,12.50,Clothing > Hoodies,a|b\n",
		"Handle,Title,Body (HTML),Variant Price,Variant SKU,Image Src\na,A,\"<p>x\ny</p>\",1.00,S,img\na,,,2.00,T,\n",
		"\ufeffID,Type,SKU,Name,Regular price,Parent\n1,variable,p,P,,\n2,variation,v,V,3,p\n3,variation,w,W,2,id:1\n",
	}, "shopify-product-csvs/apparel.csv", "shopify-product-csvs/jewelery.csv", "woocommerce-sample-products/sample_products.csv")
	formats := []string{FormatAuto, FormatGeneric, FormatShopify, FormatWooCommerce}
	f.Fuzz(func(t *testing.T, data []byte, which uint8) {
		format := formats[int(which)%len(formats)]
		var rows, records int64
		sink := Sink[Product]{
			Record: func(p Product) error {
				records++
				if p.Name == "" || p.ExternalID == "" || !validCurrency(p.Currency) || p.Line < 1 {
					t.Errorf("bad product %+v", p)
				}
				for _, v := range append([]string{p.ExternalID, p.SKU, p.Name, p.Description, p.ImageURL}, p.Tags...) {
					if !cleanText(v) {
						t.Errorf("product with bytes that are not text: %+v", p)
					}
				}
				if p.Category != "" && classify(p.Category) != p.Category {
					t.Errorf("category %q", p.Category)
				}
				return nil
			},
			Reject: func(e RowError, n int64) { checkRowError(t, e) },
			Row:    func() { rows++ },
		}
		ParseProducts(bytes.NewReader(data), format, Config{Currency: "EUR"}, sink)
		if records > rows {
			t.Errorf("%d products from %d rows", records, rows)
		}
	})
}

func FuzzParseAssets(f *testing.F) {
	addSeeds(f, []string{
		"game_ip,asset,asset_type,aliases\nStar Quest,Nova,character,Captain Nova|Nova\n",
		"Franchise;Character;Type\nX;Y;logo\n",
	})
	f.Fuzz(func(t *testing.T, data []byte, _ uint8) {
		ParseAssets(bytes.NewReader(data), Sink[Asset]{
			Record: func(a Asset) error {
				if a.GameIP == "" || a.Name == "" || a.Line < 1 {
					t.Errorf("bad asset %+v", a)
				}
				valid := false
				for _, ty := range phantomos.AssetTypes {
					valid = valid || ty == a.AssetType
				}
				if !valid {
					t.Errorf("asset type %q", a.AssetType)
				}
				for _, al := range a.Aliases {
					if al == "" || strings.TrimSpace(al) != al {
						t.Errorf("alias %q", al)
					}
				}
				return nil
			},
			Reject: func(e RowError, n int64) { checkRowError(t, e) },
		})
	})
}

func FuzzParseRates(f *testing.F) {
	addSeeds(f, []string{"date,currency,rate\n2024-01-05,EUR,1.0850\n2024-01-06,jpy,0.0069\n", "day\tcode\trate\n2024/01/05\tGBP\t1e0\n"})
	f.Fuzz(func(t *testing.T, data []byte, _ uint8) {
		ParseRates(bytes.NewReader(data), Sink[Rate]{
			Record: func(r Rate) error {
				if !(r.Rate > 0) || !validCurrency(r.Currency) || r.Day.Time().IsZero() || r.Line < 1 {
					t.Errorf("bad rate %+v", r)
				}
				return nil
			},
			Reject: func(e RowError, n int64) { checkRowError(t, e) },
		})
	})
}

// FuzzParseMinor checks that amounts parse exactly: what is accepted
// formats back to a string that parses to the same amount.
func FuzzParseMinor(f *testing.F) {
	for _, s := range []string{"12.50", "-0.01", "$1,234.5600", "1e3", "０.5", "12,50", ".", "-$.5"} {
		f.Add(s, uint8(2))
	}
	f.Fuzz(func(t *testing.T, s string, digits uint8) {
		d := int(digits % 4)
		v, err := parseMinor(s, d)
		if err != nil {
			return
		}
		if v > maxMinor || v < -maxMinor {
			t.Fatalf("parseMinor(%q) = %d, out of bounds", s, v)
		}
		cur := map[int]string{0: "JPY", 2: "USD", 3: "KWD"}[d]
		if cur == "" {
			return
		}
		text := phantomos.Money{Amount: v, Currency: cur}.String()
		back, err := parseMinor(strings.TrimSuffix(text, " "+cur), d)
		if err != nil || back != v {
			t.Fatalf("parseMinor(%q) = %d, formatted %q parses to %d, %v", s, v, text, back, err)
		}
	})
}

// FuzzAllocate checks that allocation is exact: the parts add up.
func FuzzAllocate(f *testing.F) {
	f.Add(int64(100), int64(1), int64(2), int64(0))
	f.Add(int64(-7), int64(0), int64(0), int64(0))
	f.Fuzz(func(t *testing.T, total, a, b, c int64) {
		if total > maxMinor || total < -maxMinor {
			return
		}
		parts := allocate(total, []int64{a, b, c})
		var sum int64
		for _, p := range parts {
			sum += p
		}
		if sum != total {
			t.Fatalf("allocate(%d, %d %d %d) = %v, sums to %d", total, a, b, c, parts, sum)
		}
	})
}
