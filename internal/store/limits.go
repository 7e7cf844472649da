package store

import (
	"fmt"
	"strings"
	"time"
	"unicode/utf8"
)

// Bounds of what one imported or synced record may hold, whatever its
// path. They are far above what real catalogues and orders need (Shopify
// allows 255 characters for a title or SKU and 250 tags), and they keep the
// cost of everything downstream — the tagger above all — bounded per
// record.
const (
	MaxIDLen          = 255   // order, line and product ids, SKUs
	MaxNameLen        = 500   // product names
	MaxDescriptionLen = 20000 // product descriptions (plain text)
	MaxLabelLen       = 255   // channel, region, category, order names, tags
	MaxTags           = 250   // tags of one product
	MaxURLLen         = 2048  // image URLs
	// MaxFutureSkew is how far past now an order may be dated: time zones
	// and clocks differ by hours, not days.
	MaxFutureSkew = 36 * time.Hour
)

// maxShownValue is how many characters of a value an error quotes.
const maxShownValue = 80

// ClipValue makes a value fit to quote in an error: invalid UTF-8 and NUL
// bytes replaced, and a long value cut to its first 80 characters followed
// by its size ("…(60000 bytes)"), so that a huge field is never echoed.
// A value it clipped already is returned as is.
func ClipValue(s string) string {
	n := len(s)
	clean := cleanText(s)
	if utf8.RuneCountInString(clean) <= maxShownValue || clipped(clean) {
		return clean
	}
	i, k := 0, 0
	for i < len(clean) && k < maxShownValue {
		_, size := utf8.DecodeRuneInString(clean[i:])
		i += size
		k++
	}
	return fmt.Sprintf("%s…(%d bytes)", clean[:i], n)
}

// clipped reports whether s is what ClipValue makes of a long value.
func clipped(s string) bool {
	head, tail, ok := strings.Cut(s, "…(")
	if !ok || utf8.RuneCountInString(head) != maxShownValue || !strings.HasSuffix(tail, " bytes)") {
		return false
	}
	digits := strings.TrimSuffix(tail, " bytes)")
	return digits != "" && strings.Trim(digits, "0123456789") == ""
}

// cleanText replaces invalid UTF-8 and NUL bytes, which neither a report
// nor PostgreSQL can hold.
func cleanText(s string) string {
	if utf8.ValidString(s) && strings.IndexByte(s, 0) < 0 {
		return s
	}
	return strings.ReplaceAll(strings.ToValidUTF8(s, "\uFFFD"), "\x00", "\uFFFD")
}

// textProblem says what is wrong with a text field of at most limit
// characters, or "" when nothing is.
func textProblem(v string, limit int) string {
	if !utf8.ValidString(v) {
		return "is not valid UTF-8 text; save the file as UTF-8"
	}
	if strings.IndexByte(v, 0) >= 0 {
		return "contains a NUL byte"
	}
	if len(v) > limit { // bytes ≥ characters: count only when it may matter
		if n := utf8.RuneCountInString(v); n > limit {
			return fmt.Sprintf("is longer than %d characters (it has %d)", limit, n)
		}
	}
	return ""
}

// textField is one text field of a record with its bound.
type textField struct {
	field string // the ImportSpec.Columns key naming its column
	value string
	limit int
}

// checkText returns the first field that breaks its bound, as a row error
// of line (column named through spec), and false; or true when all pass.
func (sp *ImportSpec) checkText(line int64, fields []textField) (RowError, bool) {
	for _, f := range fields {
		if p := textProblem(f.value, f.limit); p != "" {
			return RowError{Line: line, Column: sp.column(f.field), Value: ClipValue(f.value), Reason: "the " + f.field + " " + p}, false
		}
	}
	return RowError{}, true
}

func (r *SaleRow) textFields() []textField {
	return []textField{
		{"order", r.OrderID, MaxIDLen}, {"order name", r.OrderName, MaxLabelLen}, {"line", r.LineID, MaxIDLen},
		{"product id", r.ProductID, MaxIDLen}, {"sku", r.SKU, MaxIDLen}, {"name", r.Name, MaxNameLen},
		{"category", r.Category, MaxLabelLen}, {"currency", r.Currency, 3}, {"country", r.Country, MaxLabelLen},
		{"region", r.Region, MaxLabelLen}, {"channel", r.Channel, MaxLabelLen},
	}
}

func (r *ProductRow) checkText(sp *ImportSpec) (RowError, bool) {
	// A product that sales created before the catalogue is keyed by
	// "name:" and its name, hence the room beyond a name.
	if e, ok := sp.checkText(r.Line, []textField{
		{"product id", r.ExternalID, MaxNameLen + 10}, {"sku", r.SKU, MaxIDLen}, {"name", r.Name, MaxNameLen},
		{"description", r.Description, MaxDescriptionLen}, {"category", r.Category, MaxLabelLen},
		{"currency", r.Currency, 3}, {"image", r.ImageURL, MaxURLLen},
	}); !ok {
		return e, false
	}
	if len(r.Tags) > MaxTags {
		return RowError{Line: r.Line, Column: sp.column("tags"), Value: ClipValue(strings.Join(r.Tags, ", ")),
			Reason: fmt.Sprintf("a product may have at most %d tags (it has %d)", MaxTags, len(r.Tags))}, false
	}
	for _, t := range r.Tags {
		if p := textProblem(t, MaxLabelLen); p != "" {
			return RowError{Line: r.Line, Column: sp.column("tags"), Value: ClipValue(t), Reason: "a tag " + p}, false
		}
	}
	return RowError{}, true
}
