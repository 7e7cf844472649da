package run

import (
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/phantomos/phantomos/internal/store"
)

// TestImportProgress: with --progress, a long import reports rows read,
// the rate and the share of the file on stderr, from the first batch to the
// end; without it (stderr not a terminal) it reports nothing. The summary
// on stdout is the same either way.
func TestImportProgress(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "p.db")
	if _, _, err := runCLI(t, nil, "", "publisher", "add", "--db", db, "--name", "Prog", "--slug", "prog"); err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	b.WriteString("order_id,date,sku,quantity,total,currency\n")
	for i := range 12000 { // two batches of the sales writer
		fmt.Fprintf(&b, "P%d,2026-01-%02d,SKU-%d,1,9.99,USD\n", i, 1+i%28, i%40)
	}
	file := filepath.Join(dir, "long.csv")
	if err := os.WriteFile(file, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	size := byteSize(int64(b.Len()))

	out, errOut, err := runCLI(t, nil, "", "import", "sales", "--db", db, "--publisher", "prog", "--progress", file)
	if err != nil {
		t.Fatalf("import: %v\n%s%s", err, out, errOut)
	}
	lines := strings.Split(strings.TrimSpace(errOut), "\n")
	if len(lines) < 2 || !strings.HasPrefix(lines[0], "import: 10,000 rows read · ") || !strings.Contains(lines[0], "% of "+size) {
		t.Fatalf("progress on stderr: want a line for the first batch of 10,000 rows, got:\n%s", errOut)
	}
	last := lines[len(lines)-1]
	if !strings.HasPrefix(last, "import: 12,000 rows read · ") || !strings.HasSuffix(last, " rows/s · 100% of "+size+" · done") {
		t.Errorf("last progress line %q: want 12,000 rows, 100%% of %s, done", last, size)
	}
	for _, l := range lines {
		if !strings.HasPrefix(l, "import: ") {
			t.Errorf("stderr line %q is not progress", l)
		}
	}
	if !strings.Contains(out, "rows read 12000 · inserted 12000 · updated 0 · unchanged 0 · failed 0") || strings.Contains(out, "import:") {
		t.Errorf("summary on stdout:\n%s", out)
	}

	// Without --progress and without a terminal: the summary alone.
	out, errOut, err = runCLI(t, nil, "", "import", "sales", "--db", db, "--publisher", "prog", file)
	if err != nil || errOut != "" || !strings.Contains(out, "rows read 12000 · inserted 0 · updated 0 · unchanged 12000") {
		t.Errorf("quiet re-import: %v\nstdout:\n%s\nstderr:\n%s", err, out, errOut)
	}
}

// TestImportProgressOnTerminal: a terminal gets one line redrawn in place,
// closed by a newline at the end, and nothing for an import shorter than
// progressEvery.
func TestImportProgressOnTerminal(t *testing.T) {
	var w bytes.Buffer
	in := &countingReader{r: strings.NewReader("")}
	in.n.Store(500)
	start := time.Date(2026, 1, 5, 10, 0, 0, 0, time.UTC)
	clock := start.Add(progressEvery / 2)
	p := &importProgress{w: &w, tty: true, in: in, size: 2000, start: start, now: func() time.Time { return clock }}
	p.report(1000, false) // just started: a short import shows nothing
	p.report(1000, true)
	if w.Len() != 0 {
		t.Fatalf("a short import printed %q", w.String())
	}
	clock = start.Add(2 * progressEvery)
	p.report(1000, false)
	p.report(2000, false) // too soon after the last report
	in.n.Store(2000)
	clock = clock.Add(progressEvery / 2)
	p.report(4000, true)
	got := w.String()
	want := "\r\033[Kimport: 1,000 rows read · 500 rows/s · 25% of 2.0 kB" +
		"\r\033[Kimport: 4,000 rows read · 1,600 rows/s · 100% of 2.0 kB · done\n"
	if got != want {
		t.Errorf("terminal output %q\nwant %q", got, want)
	}
}

func TestGroupDigitsAndByteSize(t *testing.T) {
	for n, want := range map[int64]string{0: "0", 999: "999", 1000: "1,000", 1234567: "1,234,567", -45000: "-45,000"} {
		if got := groupDigits(n); got != want {
			t.Errorf("groupDigits(%d) = %q, want %q", n, got, want)
		}
	}
	for n, want := range map[int64]string{912: "912 B", 48200: "48.2 kB", 32 << 20: "33.6 MB", 3_500_000_000: "3.5 GB"} {
		if got := byteSize(n); got != want {
			t.Errorf("byteSize(%d) = %q, want %q", n, got, want)
		}
	}
}

// TestImportSharedShopifyExports is the check of issue 13: the two real
// Shopify order exports of ../shared/eval-data, from two stores that both
// number orders from #1001, imported one after the other into one
// publisher without --source, keep all 81 + 228 = 309 orders (keyed by
// Shopify's order id, not the Name), with every order's Total; importing
// both again changes nothing. It skips when the shared data is absent.
func TestImportSharedShopifyExports(t *testing.T) {
	dir := filepath.Join("..", "..", "..", "shared", "eval-data", "shopify-orders-exports-redacted")
	files := []string{filepath.Join(dir, "explorer_clothing_orders_export_redacted.csv"), filepath.Join(dir, "yancy_handmade_orders_export_redacted.csv")}
	var wantTotal int64
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Skipf("shared evaluation data absent: %v", err)
		}
		recs, err := csv.NewReader(bytes.NewReader(b)).ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		col := map[string]int{}
		for i, h := range recs[0] {
			col[h] = i
		}
		for _, r := range recs[1:] {
			if r[col["Financial Status"]] != "" {
				whole, frac, _ := strings.Cut(r[col["Total"]], ".")
				v, _ := strconv.ParseInt(whole+(frac + "00")[:2], 10, 64)
				wantTotal += v
			}
		}
	}
	db := filepath.Join(t.TempDir(), "shop.db")
	if _, _, err := runCLI(t, nil, "", "publisher", "add", "--db", db, "--name", "Two shops", "--slug", "two"); err != nil {
		t.Fatal(err)
	}
	check := func(round string) {
		t.Helper()
		s, err := store.Open(context.Background(), db)
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		var orders, total int64
		if err := s.DB().QueryRow(`SELECT COUNT(DISTINCT s.connector_id || '/' || s.external_order_id), SUM(s.gross - s.discount + s.shipping + s.tax + s.tip)
			FROM sales s JOIN publishers p ON p.id = s.publisher_id WHERE p.slug = 'two'`).Scan(&orders, &total); err != nil {
			t.Fatal(err)
		}
		if orders != 309 || total != wantTotal {
			t.Errorf("%s: %d orders totalling %d, want 309 totalling %d", round, orders, total, wantTotal)
		}
	}
	for _, f := range files {
		out, errOut, err := runCLI(t, nil, "", "import", "sales", "--db", db, "--publisher", "two", f)
		if err != nil || strings.Contains(out, "existing orders") {
			t.Fatalf("import %s: %v\n%s%s", f, err, out, errOut)
		}
	}
	check("first import")
	for _, f := range files {
		out, errOut, err := runCLI(t, nil, "", "import", "sales", "--db", db, "--publisher", "two", f)
		if err != nil || !strings.Contains(out, "inserted 0 · updated 0") || strings.Contains(out, "removed") || strings.Contains(out, "existing orders") {
			t.Fatalf("re-import %s changed something: %v\n%s%s", f, err, out, errOut)
		}
	}
	check("re-import")
}

// TestImportDryRunShowsChangedOrders: --dry-run says how many stored orders
// a file would change, with examples and the way out (--source); a real
// import prints what it changed.
func TestImportDryRunShowsChangedOrders(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "c.db")
	if _, _, err := runCLI(t, nil, "", "publisher", "add", "--db", db, "--name", "Chg", "--slug", "chg"); err != nil {
		t.Fatal(err)
	}
	first := filepath.Join(dir, "a.csv")
	os.WriteFile(first, []byte("order_id,date,sku,quantity,total,currency\nA1,2026-01-05,X,2,10.00,USD\nA2,2026-01-06,Y,1,5.50,USD\n"), 0o644)
	second := filepath.Join(dir, "b.csv")
	os.WriteFile(second, []byte("order_id,date,sku,quantity,total,currency\nA1,2026-01-05,X,2,12.00,USD\nA2,2026-01-06,Y,1,5.50,USD\n"), 0o644)
	if out, _, err := runCLI(t, nil, "", "import", "sales", "--db", db, "--publisher", "chg", first); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	out, _, err := runCLI(t, nil, "", "import", "sales", "--db", db, "--publisher", "chg", "--dry-run", second)
	if err != nil || !strings.Contains(out, `would change 1 existing orders of source "CSV import", e.g. A1`) || !strings.Contains(out, "--source NAME") {
		t.Fatalf("dry run: %v\n%s", err, out)
	}
	out, _, err = runCLI(t, nil, "", "import", "sales", "--db", db, "--publisher", "chg", "--source", "Other store", second)
	if err != nil || strings.Contains(out, "existing orders") || !strings.Contains(out, "inserted 2") {
		t.Fatalf("another source: %v\n%s", err, out)
	}
	out, _, err = runCLI(t, nil, "", "import", "sales", "--db", db, "--publisher", "chg", second)
	if err != nil || !strings.Contains(out, `changed 1 existing orders of source "CSV import", e.g. A1`) {
		t.Fatalf("import: %v\n%s", err, out)
	}
}
