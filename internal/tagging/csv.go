package tagging

import (
	"bufio"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/phantomos/phantomos/internal/csvexport"
)

// RunCSV is the back-end of `phantomos tag --assets ASSETS.csv --products
// PRODUCTS.csv` (DESIGN.md §5). assets has the header
// game_ip,asset,asset_type,aliases (aliases separated by "|"; asset_type and
// aliases may be empty or absent); products has id,title,description
// (description optional). Columns are found by header name, in any order.
// It writes CSV id,game_ip,asset,confidence: one row per suggested asset,
// strongest (primary) first, none for a product the tagger abstains on.
//
// Both inputs are read and checked before anything is written, so bad
// input produces an error naming the file, line and column, and no output.
func RunCSV(assets, products io.Reader, w io.Writer) error {
	cat, err := readAssetsCSV(assets)
	if err != nil {
		return err
	}
	prods, err := readProductsCSV(products)
	if err != nil {
		return err
	}
	t, err := NewTagger(cat, Options{})
	if err != nil {
		return err
	}
	bw := bufio.NewWriter(w)
	cw := csvexport.NewWriter(bw)
	if err := cw.Write([]string{"id", "game_ip", "asset", "confidence"}); err != nil {
		return fmt.Errorf("tagging: write: %w", err)
	}
	for _, p := range prods {
		for _, s := range t.Suggest(p) {
			rec := []string{p.ID, s.GameIP, s.Asset, strconv.FormatFloat(s.Confidence, 'f', 2, 64)}
			if err := cw.Write(rec); err != nil {
				return fmt.Errorf("tagging: write: %w", err)
			}
		}
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return fmt.Errorf("tagging: write: %w", err)
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("tagging: write: %w", err)
	}
	return nil
}

// csvTable reads a CSV file with a header and locates named columns.
type csvTable struct {
	file string // "assets file" or "products file", for errors
	r    *csv.Reader
	cols map[string]int
}

func newCSVTable(file string, in io.Reader, required, optional []string) (*csvTable, error) {
	r := csv.NewReader(in)
	r.FieldsPerRecord = -1
	r.ReuseRecord = false
	head, err := r.Read()
	if errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("tagging: %s: empty, want a header row %s", file, strings.Join(append(required, optional...), ","))
	}
	if err != nil {
		return nil, csvError(file, err)
	}
	t := &csvTable{file: file, r: r, cols: map[string]int{}}
	for i, h := range head {
		h = strings.ToLower(strings.TrimSpace(strings.TrimPrefix(h, "\ufeff")))
		if _, dup := t.cols[h]; dup && h != "" {
			return nil, fmt.Errorf("tagging: %s: line 1, column %d: duplicate column %q", file, i+1, h)
		}
		t.cols[h] = i
	}
	for _, c := range required {
		if _, ok := t.cols[c]; !ok {
			return nil, fmt.Errorf("tagging: %s: line 1: missing column %q (header must name %s)", file, c, strings.Join(append(required, optional...), ","))
		}
	}
	return t, nil
}

// next returns the next record, or io.EOF.
func (t *csvTable) next() ([]string, error) {
	rec, err := t.r.Read()
	if err != nil {
		if errors.Is(err, io.EOF) {
			return nil, io.EOF
		}
		return nil, csvError(t.file, err)
	}
	return rec, nil
}

// field returns column name of rec ("" when the column is absent or the
// record short).
func (t *csvTable) field(rec []string, name string) string {
	i, ok := t.cols[name]
	if !ok || i >= len(rec) {
		return ""
	}
	return strings.TrimSpace(rec[i])
}

// errorf reports a problem with column name of the last record read.
func (t *csvTable) errorf(name, format string, args ...any) error {
	col := t.cols[name]
	line, _ := t.r.FieldPos(0)
	return fmt.Errorf("tagging: %s: line %d, column %d (%s): %s", t.file, line, col+1, name, fmt.Sprintf(format, args...))
}

func csvError(file string, err error) error {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		// A malformed record has no field yet: name the character.
		return fmt.Errorf("tagging: %s: line %d, character %d: %v", file, pe.Line, pe.Column, pe.Err)
	}
	return fmt.Errorf("tagging: %s: %w", file, err)
}

func readAssetsCSV(in io.Reader) ([]Asset, error) {
	t, err := newCSVTable("assets file", in, []string{"game_ip", "asset"}, []string{"asset_type", "aliases"})
	if err != nil {
		return nil, err
	}
	var out []Asset
	seen := map[string]int{}
	for {
		rec, err := t.next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, err
		}
		if blank(rec) {
			continue
		}
		a := Asset{GameIP: t.field(rec, "game_ip"), Name: t.field(rec, "asset")}
		if a.GameIP == "" {
			return nil, t.errorf("game_ip", "empty game IP")
		}
		if a.Name == "" {
			return nil, t.errorf("asset", "empty asset name")
		}
		typ, err := ParseAssetType(t.field(rec, "asset_type"))
		if err != nil {
			return nil, t.errorf("asset_type", "unknown asset type %q (want character, logo, scene, item, theme or other)", t.field(rec, "asset_type"))
		}
		a.Type = typ
		for _, al := range strings.Split(t.field(rec, "aliases"), "|") {
			if al = strings.TrimSpace(al); al != "" {
				a.Aliases = append(a.Aliases, al)
			}
		}
		a.ID = a.GameIP + "/" + a.Name
		// The same game IP however spelt; the same asset only when the
		// names are the same but for case and spaces: names that differ by
		// a symbol or an accent ("Nidoran♀", "Nidoran♂") are distinct
		// assets (twins, see twins.go).
		key := strings.Join(tokenTexts(nameTokens(a.GameIP)), " ") + "\x00" + exactName(a.Name)
		line, _ := t.r.FieldPos(0)
		if prev, dup := seen[key]; dup {
			return nil, t.errorf("asset", "asset %q of %q already defined on line %d", a.Name, a.GameIP, prev)
		}
		seen[key] = line
		out = append(out, a)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("tagging: assets file: no assets")
	}
	return out, nil
}

func readProductsCSV(in io.Reader) ([]Product, error) {
	t, err := newCSVTable("products file", in, []string{"id", "title"}, []string{"description"})
	if err != nil {
		return nil, err
	}
	var out []Product
	seen := map[string]int{}
	for {
		rec, err := t.next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, err
		}
		if blank(rec) {
			continue
		}
		p := Product{ID: t.field(rec, "id"), Title: t.field(rec, "title"), Description: t.field(rec, "description")}
		if p.ID == "" {
			return nil, t.errorf("id", "empty product id")
		}
		line, _ := t.r.FieldPos(0)
		if prev, dup := seen[p.ID]; dup {
			return nil, t.errorf("id", "product id %q already used on line %d", p.ID, prev)
		}
		seen[p.ID] = line
		if p.Title == "" && p.Description == "" {
			return nil, t.errorf("title", "empty title (and no description)")
		}
		out = append(out, p)
	}
	return out, nil
}

func blank(rec []string) bool {
	for _, f := range rec {
		if strings.TrimSpace(f) != "" {
			return false
		}
	}
	return true
}
