package store

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"sync/atomic"
	"testing"
)

// BenchmarkSQLiteConcurrentWrites: eight goroutines write transactions
// of one and of 500 rows to one SQLite file, taking turns through the
// store (beginWrite) and, for comparison in the same run, through SQLite's
// busy_timeout polling alone. ns/op is per transaction.
func BenchmarkSQLiteConcurrentWrites(b *testing.B) {
	ctx := context.Background()
	for _, c := range []struct {
		mode string
		rows int
	}{{"turns", 1}, {"busy-polling", 1}, {"turns", 500}, {"busy-polling", 500}} {
		b.Run(fmt.Sprintf("%s/rows=%d", c.mode, c.rows), func(b *testing.B) {
			mode := c.mode
			s, err := Open(ctx, filepath.Join(b.TempDir(), "writes.db"))
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			if _, err := s.db.ExecContext(ctx, `CREATE TABLE w (k INTEGER PRIMARY KEY, v TEXT NOT NULL)`); err != nil {
				b.Fatal(err)
			}
			if mode == "busy-polling" {
				s.writeTurn = nil
			}
			var k atomic.Int64
			b.SetParallelism(8)
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					err := s.tx(ctx, func(tx *sql.Tx) error {
						for range c.rows {
							if _, err := tx.ExecContext(ctx, `INSERT INTO w (k, v) VALUES ($1, 'x')`, k.Add(1)); err != nil {
								return err
							}
						}
						return nil
					})
					if err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
	}
}
