package store_test

import (
	"context"
	"database/sql"
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/phantomos/phantomos"
	"github.com/phantomos/phantomos/internal/store"
	"github.com/phantomos/phantomos/internal/store/storetest"
)

// TestImportProbesOrdersWithStaleStatistics checks, on PostgreSQL, that an
// import's fold looks each of its orders up in the sales key, for a page of
// a few hundred orders and for a file of thousands, even when the
// statistics say the connector has next to no lines (a new connector that
// grew since the last ANALYZE). Planned from such statistics as a join,
// `external_order_id IN (subquery)` read every line of the connector and
// hashed them against the orders (each push group of a growing source read
// more than the one before), and `= ANY(ARRAY(subquery))` searched the
// whole array for each of the connector's lines (26 s for an import of
// 100,000 lines).
func TestImportProbesOrdersWithStaleStatistics(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, s *store.Store) {
		if s.Dialect() != store.Postgres {
			t.Skip("SQLite probes the index for each value of an IN")
		}
		ctx := context.Background()
		pub := ingestPublisher(t, s, "plans", "USD")
		db := s.DB()
		lines := func(conn string, n int) {
			t.Helper()
			if _, err := db.ExecContext(ctx, `INSERT INTO sales (publisher_id, product_id, connector_id, external_order_id, external_line_id,
					order_date, day, quantity, gross, net, currency, net_reporting, updated_at)
				SELECT $1, $2, $3, 'O' || (i / 2), CAST(i % 2 AS TEXT), TIMESTAMP '2026-01-01 10:00:00', DATE '2026-01-01' + (i % 300),
					1, 1000, 1000, 'USD', 1000, TIMESTAMP '2026-01-02 10:00:00'
				FROM generate_series(1, $4) AS i`, pub, phantomos.NewID(), conn, n); err != nil {
				t.Fatal(err)
			}
		}
		old, grown := phantomos.NewID(), phantomos.NewID()
		lines(old, 20000)
		// The statistics are taken while the grown connector has no line.
		if _, err := db.ExecContext(ctx, `ANALYZE sales`); err != nil {
			t.Fatal(err)
		}
		lines(grown, 20000)

		for _, orders := range []int{500, 20000} {
			plan := foldPlan(t, s, pub, grown, orders)
			if !strings.Contains(plan, "Nested Loop") || !strings.Contains(plan, "(external_order_id = k.order_id)") || strings.Contains(plan, "Filter: (external_order_id") {
				t.Errorf("%d orders: the fold does not look each order up in the sales key:\n%s", orders, plan)
			}
		}
		// Each batch's lookup of its orders' stored versions: with an IN
		// list, PostgreSQL read every line of the grown connector for each
		// batch (checking it against the list), so a first backfill of
		// a million lines read them all again for each of its 2,000 batches.
		ids := make([]string, 500)
		for i := range ids {
			ids[i] = fmt.Sprintf("N%d", i)
		}
		plan := explainInImport(t, s, 0, func(tx *sql.Tx) (*sql.Rows, error) {
			q, args := store.StoredOrdersQuery(store.Postgres, ids)
			return tx.QueryContext(ctx, `EXPLAIN `+q, append(append([]any{pub, grown}, args...), 2)...)
		})
		if !regexp.MustCompile(`Index Cond: \(.*\(external_order_id = `).MatchString(plan) || strings.Contains(plan, "Filter: (external_order_id") {
			t.Errorf("a batch's order lookup does not look each order up in the sales key:\n%s", plan)
		}
	})
}

// foldPlan returns PostgreSQL's plan of the fold's contribution statement
// for an import of n orders (half of them replacing stored ones) into
// connector conn of publisher pub.
func foldPlan(t *testing.T, s *store.Store, pub phantomos.PublisherID, conn string, n int) string {
	t.Helper()
	return explainInImport(t, s, n, func(tx *sql.Tx) (*sql.Rows, error) {
		return tx.QueryContext(context.Background(), `EXPLAIN `+store.FoldContribution(store.Postgres), pub, conn)
	})
}

// explainInImport returns the plan that explain reads, inside a
// transaction holding an import's temporary tables, analysed, for an
// import of n orders (half of them replacing stored ones).
func explainInImport(t *testing.T, s *store.Store, n int, explain func(*sql.Tx) (*sql.Rows, error)) string {
	t.Helper()
	ctx := context.Background()
	tx, err := s.DB().BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	for _, q := range []string{
		`CREATE TEMP TABLE ingest_keys (order_id TEXT NOT NULL, line_id TEXT NOT NULL, line BIGINT NOT NULL,
			batch BIGINT NOT NULL, PRIMARY KEY (order_id, line_id)) ON COMMIT DROP`,
		`CREATE TEMP TABLE ingest_orders (order_id TEXT PRIMARY KEY, name TEXT NOT NULL, line BIGINT NOT NULL,
			existed INTEGER NOT NULL, stale INTEGER NOT NULL, changed INTEGER NOT NULL, batch BIGINT NOT NULL) ON COMMIT DROP`,
		`CREATE TEMP TABLE ingest_delta (order_id TEXT NOT NULL, sign INTEGER NOT NULL, day DATE NOT NULL,
			product_id UUID NOT NULL, country TEXT NOT NULL, channel TEXT NOT NULL, connector_id UUID NOT NULL,
			ho BIGINT NOT NULL, q BIGINT NOT NULL, g BIGINT NOT NULL, d BIGINT NOT NULL, r BIGINT NOT NULL, n BIGINT NOT NULL) ON COMMIT DROP`,
		fmt.Sprintf(`INSERT INTO ingest_keys SELECT 'O' || i, '0', i, 1 FROM generate_series(1, %d) AS i`, n),
		fmt.Sprintf(`INSERT INTO ingest_orders SELECT 'O' || i, '', i, 1, 0, 1, 1 FROM generate_series(1, %d) AS i`, n/2),
		`ANALYZE ingest_keys, ingest_orders`,
	} {
		if _, err := tx.ExecContext(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	rows, err := explain(tx)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var plan []string
	for rows.Next() {
		var line string
		if err := rows.Scan(&line); err != nil {
			t.Fatal(err)
		}
		plan = append(plan, line)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return strings.Join(plan, "\n")
}
