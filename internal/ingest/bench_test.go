package ingest_test

import (
	"bytes"
	"context"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/phantomos/phantomos/internal/ingest"
	"github.com/phantomos/phantomos/internal/store"
	"github.com/phantomos/phantomos/internal/store/storetest"
)

// TestBenchImport runs the import benchmark on both engines: a small run
// always (it must work and clean up), the size of PHANTOMOS_BENCH_ROWS
// when set (go test -run TestBenchImport -v with PHANTOMOS_BENCH_ROWS=1000000).
func TestBenchImport(t *testing.T) {
	rows := 3000
	if v := os.Getenv("PHANTOMOS_BENCH_ROWS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			t.Fatal(err)
		}
		rows = n
	}
	storetest.ForEachDialect(t, func(t *testing.T, s *store.Store) {
		var out bytes.Buffer
		if err := ingest.BenchImport(context.Background(), s, ingest.BenchOptions{Rows: rows, Existing: rows / 2}, &out); err != nil {
			t.Fatal(err)
		}
		t.Log("\n" + out.String())
		if !strings.Contains(out.String(), "of bare") || !strings.Contains(out.String(), "holding "+strconv.Itoa(rows/2)) || !strings.Contains(out.String(), "; median of ") {
			t.Errorf("output lacks the ratio:\n%s", out.String())
		}
		var n int
		if err := s.DB().QueryRow(`SELECT COUNT(*) FROM sales`).Scan(&n); err != nil || n != 0 {
			t.Errorf("%d sales left behind, %v", n, err)
		}
	})
}
