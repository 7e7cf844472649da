package ingest

import (
	"io"
	"strings"
	"time"

	"github.com/phantomos/phantomos"
	"github.com/phantomos/phantomos/internal/store"
)

// Kind is what a file holds.
type Kind string

// The kinds of import.
const (
	KindProducts Kind = store.ImportProducts
	KindSales    Kind = store.ImportSales
	KindAssets   Kind = store.ImportAssets
	KindFX       Kind = store.ImportFX
)

// Kinds lists every kind.
var Kinds = []Kind{KindProducts, KindSales, KindAssets, KindFX}

// Formats. FormatAuto detects the format from the header.
const (
	FormatAuto        = "auto"
	FormatGeneric     = "generic"
	FormatShopify     = "shopify"
	FormatWooCommerce = "woocommerce"
	FormatAmazon      = "amazon"
	FormatBigCommerce = "bigcommerce"
)

// Formats lists the formats of each kind.
var Formats = map[Kind][]string{
	KindProducts: {FormatGeneric, FormatShopify, FormatWooCommerce},
	KindSales:    {FormatGeneric, FormatShopify, FormatWooCommerce, FormatAmazon, FormatBigCommerce},
	KindAssets:   {FormatGeneric},
	KindFX:       {FormatGeneric},
}

// RowError is one refused row: line, column header, value and reason.
type RowError = store.RowError

// Product is a normalised product record.
type Product = store.ProductRow

// Sale is a normalised sale line record.
type Sale = store.SaleRow

// Asset is a normalised asset record.
type Asset = store.AssetRow

// Rate is a normalised exchange rate record.
type Rate = store.FXRow

// Config is what parsing needs to know about the publisher.
type Config struct {
	// Currency is assumed for amounts of a file without a currency column
	// (product files usually); Import sets it to the reporting currency.
	Currency string
	// Location reads timestamps that carry no UTC offset; nil means UTC.
	Location *time.Location
}

func (c Config) loc() *time.Location {
	if c.Location == nil {
		return time.UTC
	}
	return c.Location
}

func (c Config) currency() string {
	if c.Currency == "" {
		return "USD"
	}
	return c.Currency
}

// Sink receives what a parser reads: every valid record, every refused
// input (rows is how many input rows the refusal covers) and, for
// progress, every input row. Record may return an error to stop parsing.
type Sink[T any] struct {
	Record func(T) error
	Reject func(e RowError, rows int64)
	Row    func()
}

// parser reads one kind of record from a table.
type parser[T any] interface {
	// row handles the current row of t.
	row(t *table, s *Sink[T]) error
	// end flushes what the parser holds back (a pending order, variations
	// waiting for their parent).
	end(s *Sink[T]) error
}

// run drives p over every row of t.
func run[T any](t *table, p parser[T], s *Sink[T]) error {
	for {
		err := t.next()
		if err == io.EOF {
			return p.end(s)
		}
		if err != nil {
			return err
		}
		if s.Row != nil {
			s.Row()
		}
		if e, ok := t.checkWidth(); !ok {
			s.Reject(e, 1)
			continue
		}
		if e, ok := t.checkText(); !ok {
			s.Reject(e, 1)
			continue
		}
		if err := p.row(t, s); err != nil {
			return err
		}
	}
}

// ParseProducts reads a product file of the given format (FormatAuto
// detects it) and reports to s. It returns the format read and an error
// only when the file as a whole cannot be read.
func ParseProducts(r io.Reader, format string, cfg Config, s Sink[Product]) (string, error) {
	t, format, err := openKind(r, KindProducts, format)
	if err != nil {
		return format, err
	}
	var p parser[Product]
	switch format {
	case FormatShopify:
		p, err = newShopifyProducts(t, cfg)
	case FormatWooCommerce:
		p, err = newWooProducts(t, cfg)
	default:
		p, err = newGenericProducts(t, cfg)
	}
	if err != nil {
		return format, err
	}
	return format, run(t, p, &s)
}

// ParseSales reads a sales file of the given format (FormatAuto detects
// it) and reports to s.
func ParseSales(r io.Reader, format string, cfg Config, s Sink[Sale]) (string, error) {
	t, format, err := openKind(r, KindSales, format)
	if err != nil {
		return format, err
	}
	var p parser[Sale]
	switch format {
	case FormatShopify:
		p, err = newShopifyOrders(t, cfg)
	case FormatAmazon:
		p, err = newAmazonOrders(t, cfg)
	case FormatBigCommerce:
		p, err = newBigCommerceOrders(t, cfg)
	case FormatWooCommerce:
		p, err = newWooOrders(t, cfg)
	default:
		p, err = newGenericSales(t, cfg)
	}
	if err != nil {
		return format, err
	}
	return format, run(t, p, &s)
}

// ParseAssets reads an assets file (game_ip,asset,asset_type,aliases).
func ParseAssets(r io.Reader, s Sink[Asset]) error {
	t, _, err := openKind(r, KindAssets, FormatGeneric)
	if err != nil {
		return err
	}
	p, err := newAssets(t)
	if err != nil {
		return err
	}
	return run(t, p, &s)
}

// ParseRates reads an FX rates file (date,currency,rate).
func ParseRates(r io.Reader, s Sink[Rate]) error {
	t, _, err := openKind(r, KindFX, FormatGeneric)
	if err != nil {
		return err
	}
	p, err := newRates(t)
	if err != nil {
		return err
	}
	return run(t, p, &s)
}

// openKind reads the header and settles the format.
func openKind(r io.Reader, kind Kind, format string) (*table, string, error) {
	t, err := openTable(r)
	if err != nil {
		return nil, format, err
	}
	format, err = resolveFormat(t, kind, format)
	return t, format, err
}

// detect names the format a header belongs to, with its kind, or "" when it
// matches no specific export.
func detect(t *table) (Kind, string) {
	switch {
	case t.has("name", "financial status", "lineitem name"):
		return KindSales, FormatShopify
	case t.has("amazon order id", "purchase date"):
		return KindSales, FormatAmazon
	case t.has("order id", "product details"):
		return KindSales, FormatBigCommerce
	case t.has("order id", "item id", "item quantity", "item total"):
		return KindSales, FormatWooCommerce
	case t.has("handle", "title") && (t.has("variant price") || t.has("body (html)")):
		return KindProducts, FormatShopify
	case t.has("type", "sku", "regular price") && (t.has("parent") || t.has("visibility in catalog")):
		return KindProducts, FormatWooCommerce
	}
	return "", ""
}

var formatNames = map[string]string{
	FormatShopify: "Shopify", FormatWooCommerce: "WooCommerce", FormatAmazon: "Amazon", FormatBigCommerce: "BigCommerce", FormatGeneric: "generic",
}

// resolveFormat checks an explicit format against the kind, or detects one.
func resolveFormat(t *table, kind Kind, format string) (string, error) {
	format = strings.ToLower(strings.TrimSpace(format))
	if format == "" {
		format = FormatAuto
	}
	dk, df := detect(t)
	if format == FormatAuto {
		if dk != "" && dk != kind {
			return df, phantomos.Errorf(phantomos.EINVALID, "This looks like a %s %s export, not %s: import it as %s.", formatNames[df], dk, kind, dk)
		}
		if df != "" {
			return df, nil
		}
		return FormatGeneric, nil
	}
	for _, f := range Formats[kind] {
		if f == format {
			return format, nil
		}
	}
	return format, phantomos.Errorf(phantomos.EINVALID, "Format %q is not a %s format (choose %s).", format, kind, strings.Join(append([]string{FormatAuto}, Formats[kind]...), ", "))
}

// money reads a required amount of column i in currency cur.
func money(t *table, i int, cur string) (int64, *RowError) {
	v, err := parseMinor(t.get(i), phantomos.MinorDigits(cur))
	if err != nil {
		e := t.errAt(i, "amount %v", err)
		return 0, &e
	}
	return v, nil
}

// optMoney reads an amount that may be empty (zero) or absent.
func optMoney(t *table, i int, cur string) (int64, *RowError) {
	if t.get(i) == "" {
		return 0, nil
	}
	return money(t, i, cur)
}
