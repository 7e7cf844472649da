package demo

import (
	"context"
	"fmt"
	"runtime"
	"testing"

	"github.com/phantomos/phantomos/internal/store"
	"github.com/phantomos/phantomos/internal/store/storetest"
)

func TestScratchMem(t *testing.T) {
	for _, d := range []store.Dialect{store.SQLite, store.Postgres} {
		s := storetest.New(t, d)
		var peaks []uint64
		if _, err := Load(context.Background(), s, Options{Sales: 600_000, Seed: 1, Now: testNow}, func(done, total int64) {
			runtime.GC()
			var m runtime.MemStats
			runtime.ReadMemStats(&m)
			peaks = append(peaks, m.HeapAlloc>>20)
		}); err != nil {
			t.Fatal(err)
		}
		fmt.Println(d, "heap MiB after GC at each progress call:", peaks)
	}
}
