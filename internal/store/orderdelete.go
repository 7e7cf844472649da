package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/phantomos/phantomos"
)

// maxDeleteOrders bounds the order ids of one DeleteOrders statement.
const maxDeleteOrders = 500

// DeleteOrders removes every line of the import's connector's orders
// orderIDs (the platform's ids), as when the store deleted them, and
// returns how many lines went. The rollups of the days they were booked
// on are recomputed when the import commits, so totals stay exact, and
// what they contributed to the filter rollups is read first (recordGone).
// An order that is not stored is no error: a deletion may arrive twice.
func (w *ImportWriter) DeleteOrders(ctx context.Context, orderIDs []string) (int64, error) {
	if w.connectorID == "" {
		return 0, fmt.Errorf("store: delete orders: not a sales import")
	}
	if err := w.flushFresh(ctx); err != nil {
		return 0, err
	}
	var n int64
	for len(orderIDs) > 0 {
		chunk := orderIDs[:min(len(orderIDs), maxDeleteOrders)]
		orderIDs = orderIDs[len(chunk):]
		if err := w.recordGone(ctx, chunk); err != nil {
			return n, fmt.Errorf("store: delete orders: %w", err)
		}
		args := []any{w.pub, w.connectorID}
		marks := make([]string, len(chunk))
		for i, id := range chunk {
			args = append(args, id)
			marks[i] = fmt.Sprintf("$%d", i+3)
		}
		rows, err := w.tx.QueryContext(ctx, `DELETE FROM sales WHERE publisher_id = $1 AND connector_id = $2
			AND external_order_id IN (`+strings.Join(marks, ", ")+`) RETURNING day, refund_day`, args...)
		if err != nil {
			return n, fmt.Errorf("store: delete orders: %w", err)
		}
		for rows.Next() {
			var day, refundDay any
			if err := rows.Scan(&day, &refundDay); err != nil {
				rows.Close()
				return n, fmt.Errorf("store: delete orders: %w", err)
			}
			if err := w.recompute(day, refundDay); err != nil {
				rows.Close()
				return n, fmt.Errorf("store: delete orders: %w", err)
			}
			n++
		}
		if err := rows.Close(); err != nil {
			return n, fmt.Errorf("store: delete orders: %w", err)
		}
		if err := rows.Err(); err != nil {
			return n, fmt.Errorf("store: delete orders: %w", err)
		}
	}
	w.rep.Updated += n
	return n, nil
}

// ConnectorOrderIDs returns the distinct order ids (the platform's) of
// connector id's sales whose order time is in [from, to), sorted: what a
// reconciliation compares with the platform's own list.
func (s *Store) ConnectorOrderIDs(ctx context.Context, pub phantomos.PublisherID, id string, from, to time.Time) ([]string, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT DISTINCT external_order_id FROM sales
		WHERE publisher_id = $1 AND connector_id = $2 AND order_date >= $3 AND order_date < $4 ORDER BY external_order_id`,
		pub, id, from.UTC(), to.UTC())
	if err != nil {
		return nil, fmt.Errorf("store: connector %s order ids: %w", id, err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var o string
		if err := rows.Scan(&o); err != nil {
			return nil, fmt.Errorf("store: connector %s order ids: %w", id, err)
		}
		out = append(out, o)
	}
	return out, rows.Err()
}

// RemovedOrder is an order the platform deleted or voided, as of
// UpdatedAt (its last update there; zero when the platform does not say).
type RemovedOrder struct {
	ID        string
	UpdatedAt time.Time
}

// RemoveOrders removes the stored lines of the import's connector's
// orders, as DeleteOrders does, except those whose stored version is newer
// than the removal: an older update never overwrites a newer one, so a
// removal that arrives late after the order was restored changes nothing
// (and counts as Stale). A removal without a time always applies. It
// returns how many lines went.
func (w *ImportWriter) RemoveOrders(ctx context.Context, orders []RemovedOrder) (int64, error) {
	if w.connectorID == "" {
		return 0, fmt.Errorf("store: remove orders: not a sales import")
	}
	if err := w.flushFresh(ctx); err != nil {
		return 0, err
	}
	var n int64
	for len(orders) > 0 {
		chunk := orders[:min(len(orders), lookupChunk)]
		orders = orders[len(chunk):]
		asOf := make(map[string]time.Time, len(chunk))
		var distinct []string
		for _, o := range chunk {
			at, ok := asOf[o.ID]
			if !ok {
				distinct = append(distinct, o.ID)
			}
			// The latest removal of an order given twice wins; one without
			// a time wins over all.
			if !ok || (!at.IsZero() && (o.UpdatedAt.IsZero() || o.UpdatedAt.After(at))) {
				asOf[o.ID] = o.UpdatedAt
			}
		}
		// The stored versions are compared here rather than in SQL, where
		// the engines store times differently.
		from, args := w.s.dialect.linesOfOrders(distinct)
		rows, err := w.tx.QueryContext(ctx, `SELECT external_order_id, order_updated_at FROM `+from, append([]any{w.pub, w.connectorID}, args...)...)
		if err != nil {
			return n, fmt.Errorf("store: remove orders: %w", err)
		}
		stored := map[string]time.Time{}
		var ids []string
		for rows.Next() {
			var id string
			var at sql.NullTime
			if err := rows.Scan(&id, &at); err != nil {
				rows.Close()
				return n, fmt.Errorf("store: remove orders: %w", err)
			}
			if _, ok := stored[id]; !ok {
				ids = append(ids, id)
			}
			if at.Valid && at.Time.After(stored[id]) {
				stored[id] = at.Time
			} else if _, ok := stored[id]; !ok {
				stored[id] = time.Time{}
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return n, fmt.Errorf("store: remove orders: %w", err)
		}
		var gone []string
		for _, id := range ids {
			if at := asOf[id]; !at.IsZero() && stored[id].After(at) {
				w.rep.Stale++
				if len(w.rep.StaleOrders) < maxStaleOrders {
					w.rep.StaleOrders = append(w.rep.StaleOrders, id)
				}
				continue
			}
			gone = append(gone, id)
		}
		d, err := w.DeleteOrders(ctx, gone)
		n += d
		if err != nil {
			return n, err
		}
	}
	return n, nil
}
