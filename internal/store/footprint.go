package store

import (
	"context"
	"fmt"
	"strings"
)

// Footprint is what a database holds on disk, in bytes: the whole
// database, and the part taken by sale lines and the rollups (each table
// with its indexes). Benchmarks and the demo loader print it, so that a
// change of layout shows its cost per sale line.
type Footprint struct {
	Database int64
	Sales    int64 // the sales table and its indexes
	Rollups  int64 // the daily, weekly and monthly rollups and their indexes
}

// footprintRollups are the rollup tables: those every write keeps and
// the filter rollups.
var footprintRollups = append(append([]string{}, rollupTables...), filterRollupTables...)

// Footprint measures the database's size on disk. On SQLite it counts
// pages in use (dbstat), so free pages of a file that shrank are not
// counted in Sales and Rollups but are in Database.
func (s *Store) Footprint(ctx context.Context) (Footprint, error) {
	var f Footprint
	if s.dialect == Postgres {
		q := `SELECT pg_database_size(current_database()),
			pg_total_relation_size('sales'),
			0`
		for _, t := range footprintRollups {
			q += ` + pg_total_relation_size('` + t + `')`
		}
		if err := s.db.QueryRowContext(ctx, q).Scan(&f.Database, &f.Sales, &f.Rollups); err != nil {
			return f, fmt.Errorf("store: footprint: %w", err)
		}
		return f, nil
	}
	if err := s.db.QueryRowContext(ctx, `SELECT page_count * page_size FROM pragma_page_count(), pragma_page_size()`).Scan(&f.Database); err != nil {
		return f, fmt.Errorf("store: footprint: %w", err)
	}
	// dbstat names each index; an index belongs to its table.
	q := `SELECT COALESCE(SUM(CASE WHEN m.tbl_name = 'sales' THEN d.pgsize ELSE 0 END), 0),
			COALESCE(SUM(CASE WHEN m.tbl_name IN ('` + strings.Join(footprintRollups, "', '") + `') THEN d.pgsize ELSE 0 END), 0)
		FROM dbstat d JOIN sqlite_schema m ON m.name = d.name`
	if err := s.db.QueryRowContext(ctx, q).Scan(&f.Sales, &f.Rollups); err != nil {
		return f, fmt.Errorf("store: footprint: %w", err)
	}
	return f, nil
}
