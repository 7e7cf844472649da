package store

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"time"

	"github.com/phantomos/phantomos"
)

// Erased counts what EraseConnector removed.
type Erased struct {
	Sales    int64 // sale lines
	Products int64
	// Reassigned counts products the store brought that another of the
	// publisher's stores also sells (the same SKU): they now belong to
	// that store, or its sales moved to its own copy of the product.
	Reassigned int64
}

// EraseConnector deletes connector id of publisher pub with everything it
// brought, as a store's erasure request requires: its sale lines, its
// products, its credentials, cursor, account and sync history. A product
// of it that another connector's sales also refer to is not deleted with
// those sales: they move to that connector's own product of the same
// external id, or the product passes to that connector. The rollups of
// every day whose figures changed are recomputed in the same transaction,
// so analytics then equal what the publisher's other sources sold, exactly.
func (s *Store) EraseConnector(ctx context.Context, pub phantomos.PublisherID, id string) (Erased, error) {
	var out Erased
	if !phantomos.ValidID(id) {
		return out, phantomos.Errorf(phantomos.ENOTFOUND, "Connector not found.")
	}
	err := s.tx(ctx, func(tx *sql.Tx) error {
		var exists int
		if err := tx.QueryRowContext(ctx, `SELECT 1 FROM connectors WHERE publisher_id = $1 AND id = $2`, pub, id).Scan(&exists); err != nil {
			return notFound(err, "Connector")
		}
		own := `SELECT id FROM products WHERE publisher_id = $1 AND connector_id = $2`
		days, err := s.eraseDays(ctx, tx, `FROM sales WHERE publisher_id = $1 AND (connector_id = $2 OR product_id IN (`+own+`))`, pub, id)
		if err != nil {
			return err
		}
		steps := []struct {
			q     string
			count *int64
		}{
			{`DELETE FROM sales WHERE publisher_id = $1 AND connector_id = $2`, &out.Sales},
			// Other stores' sales of this store's products: to their own
			// product of the same external id where they have one...
			{`UPDATE sales SET product_id = (SELECT p2.id FROM products p1 JOIN products p2
					ON p2.publisher_id = p1.publisher_id AND p2.connector_id = sales.connector_id AND p2.external_id = p1.external_id
					WHERE p1.id = sales.product_id)
				WHERE publisher_id = $1 AND product_id IN (` + own + `) AND EXISTS (SELECT 1 FROM products p1 JOIN products p2
					ON p2.publisher_id = p1.publisher_id AND p2.connector_id = sales.connector_id AND p2.external_id = p1.external_id
					WHERE p1.id = sales.product_id)`, nil},
			// ...else the product passes to (one of) them.
			{`UPDATE products SET connector_id = (SELECT s.connector_id FROM sales s
					WHERE s.publisher_id = products.publisher_id AND s.product_id = products.id ORDER BY s.connector_id LIMIT 1)
				WHERE publisher_id = $1 AND connector_id = $2
				AND EXISTS (SELECT 1 FROM sales s WHERE s.publisher_id = products.publisher_id AND s.product_id = products.id)`, &out.Reassigned},
			{`DELETE FROM products WHERE publisher_id = $1 AND connector_id = $2`, &out.Products},
			{`DELETE FROM connectors WHERE publisher_id = $1 AND id = $2`, nil},
		}
		for _, st := range steps {
			res, err := tx.ExecContext(ctx, st.q, pub, id)
			if err != nil {
				return fmt.Errorf("store: erase connector %s: %w", id, err)
			}
			if st.count != nil {
				*st.count, _ = res.RowsAffected()
			}
		}
		if len(days) > 0 {
			refundDate, err := refundDateBooking(ctx, tx, s.dialect, pub)
			if err != nil {
				return err
			}
			from, to := days[0], days[0]
			for _, d := range days[1:] {
				if d.Time().Sub(to.Time()) <= 31*24*time.Hour {
					to = d
					continue
				}
				if err := refreshRollups(ctx, tx, s.dialect, pub, from, to, refundDate); err != nil {
					return err
				}
				from, to = d, d
			}
			if err := refreshRollups(ctx, tx, s.dialect, pub, from, to, refundDate); err != nil {
				return err
			}
		}
		return bumpDataVersion(ctx, tx, pub)
	})
	return out, err
}

// eraseDays lists, in order, the days the sales selected by from (a FROM
// and WHERE clause over $1 and $2) are booked on: order and refund days.
func (s *Store) eraseDays(ctx context.Context, tx *sql.Tx, from string, pub phantomos.PublisherID, id string) ([]phantomos.Day, error) {
	rows, err := tx.QueryContext(ctx, `SELECT DISTINCT `+s.DayText("day")+` `+from+`
		UNION SELECT DISTINCT `+s.DayText("refund_day")+` `+from+` AND refund_day IS NOT NULL`, pub, id)
	if err != nil {
		return nil, fmt.Errorf("store: erase connector %s: days: %w", id, err)
	}
	defer rows.Close()
	var days []phantomos.Day
	for rows.Next() {
		var d phantomos.Day
		if err := rows.Scan(&d); err != nil {
			return nil, fmt.Errorf("store: erase connector %s: days: %w", id, err)
		}
		days = append(days, d)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	slices.Sort(days)
	return slices.Compact(days), nil
}

// ConnectorsOfAccount lists, across publishers, every connector of type
// typ that reaches or reached account external, with credentials or not
// (a store that uninstalled the app has none). It serves the platform's
// erasure requests, which name only the account and arrive after the
// uninstall; the caller has authenticated the request. It is not a tenant
// operation.
func (s *Store) ConnectorsOfAccount(ctx context.Context, typ, external string) ([]ConnectorRef, error) {
	if external == "" {
		return nil, nil
	}
	rows, err := s.db.QueryContext(ctx, `SELECT publisher_id, id FROM connectors
		WHERE type = $1 AND external_account = $2 ORDER BY publisher_id, id`, typ, external)
	if err != nil {
		return nil, fmt.Errorf("store: connectors of %s: %w", external, err)
	}
	defer rows.Close()
	var out []ConnectorRef
	for rows.Next() {
		var c ConnectorRef
		if err := rows.Scan(&c.PublisherID, &c.ConnectorID); err != nil {
			return nil, fmt.Errorf("store: connectors of %s: %w", external, err)
		}
		out = append(out, c)
	}
	return out, rows.Err()
}
