package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// An order a custom source deleted (DELETE /api/v1/orders/…) leaves a
// tombstone: the time it was deleted as of. Every path that writes sales
// (a push, an uploaded file, a scheduled pull, a sync) goes through
// WriteSales, which applies one rule to it:
//
//   - a version of the order whose updated_at is after the tombstone is
//     newer than the deletion: it is written, and the tombstone is lifted;
//   - any other version (updated_at at or before the deletion, or no
//     updated_at at all) is older: it is not written and counts as Stale.
//
// A version without updated_at is taken as older because nothing says it
// is newer: an export made before the deletion and uploaded after it
// looks exactly like that, and the stored-version rule (see SaleRow)
// already lets a version without a time lose to one with a time.

// Tombstone records that order orderID of the import's connector was
// deleted as of at, keeping the latest time when it was deleted before.
func (w *ImportWriter) Tombstone(ctx context.Context, orderID string, at time.Time) error {
	if w.connectorID == "" {
		return fmt.Errorf("store: tombstone: not a sales import")
	}
	at = at.UTC().Truncate(time.Microsecond)
	var prev sql.NullTime
	err := w.tx.QueryRowContext(ctx, `SELECT deleted_at FROM order_tombstones WHERE publisher_id = $1 AND connector_id = $2 AND external_order_id = $3`,
		w.pub, w.connectorID, orderID).Scan(&prev)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		_, err = w.tx.ExecContext(ctx, `INSERT INTO order_tombstones (publisher_id, connector_id, external_order_id, deleted_at) VALUES ($1, $2, $3, $4)`,
			w.pub, w.connectorID, orderID, at)
	case err == nil && at.After(prev.Time):
		_, err = w.tx.ExecContext(ctx, `UPDATE order_tombstones SET deleted_at = $4 WHERE publisher_id = $1 AND connector_id = $2 AND external_order_id = $3`,
			w.pub, w.connectorID, orderID, at)
	}
	if err != nil {
		return fmt.Errorf("store: tombstone %s: %w", orderID, err)
	}
	w.tombs = tombsSome
	return nil
}

// Whether the import's connector has tombstones, looked up once per
// import: most connectors never have one, and then WriteSales costs no
// lookup per batch.
const (
	tombsUnknown = iota
	tombsNone
	tombsSome
)

// dropTombstoned drops from valid (and w.records, its parallel slice) the
// lines of orders deleted as of their version or later, counting each
// such order once as Stale, and lifts the tombstones of orders whose
// version is newer than their deletion (see the rule above).
func (w *ImportWriter) dropTombstoned(ctx context.Context, valid []*SaleRow) ([]*SaleRow, error) {
	if w.tombs == tombsUnknown {
		var some bool
		if err := w.tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM order_tombstones WHERE publisher_id = $1 AND connector_id = $2)`,
			w.pub, w.connectorID).Scan(&some); err != nil {
			return nil, fmt.Errorf("tombstones: %w", err)
		}
		w.tombs = tombsNone
		if some {
			w.tombs = tombsSome
		}
	}
	if w.tombs == tombsNone {
		return valid, nil
	}
	// The version of each order of the batch: its latest updated_at.
	version := map[string]time.Time{}
	var ids []string
	for i := range w.records {
		rec := &w.records[i]
		at, ok := version[rec.orderID]
		if !ok {
			ids = append(ids, rec.orderID)
		}
		if rec.orderUpdatedAt.After(at) {
			version[rec.orderID] = rec.orderUpdatedAt
		} else if !ok {
			version[rec.orderID] = time.Time{}
		}
	}
	deleted := map[string]time.Time{}
	for len(ids) > 0 {
		part := ids[:min(len(ids), lookupChunk)]
		ids = ids[len(part):]
		args := []any{w.pub, w.connectorID}
		for _, id := range part {
			args = append(args, id)
		}
		rows, err := w.tx.QueryContext(ctx, `SELECT external_order_id, deleted_at FROM order_tombstones
			WHERE publisher_id = $1 AND connector_id = $2 AND external_order_id IN (`+inList(3, len(part))+`)`, args...)
		if err != nil {
			return nil, fmt.Errorf("tombstones: %w", err)
		}
		for rows.Next() {
			var id string
			var at time.Time
			if err := rows.Scan(&id, &at); err != nil {
				rows.Close()
				return nil, fmt.Errorf("tombstones: %w", err)
			}
			deleted[id] = at
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, fmt.Errorf("tombstones: %w", err)
		}
	}
	if len(deleted) == 0 {
		return valid, nil
	}
	gone := map[string]bool{}
	for id, at := range deleted {
		if version[id].After(at) {
			// Newer than the deletion: the order comes back.
			if _, err := w.tx.ExecContext(ctx, `DELETE FROM order_tombstones WHERE publisher_id = $1 AND connector_id = $2 AND external_order_id = $3`,
				w.pub, w.connectorID, id); err != nil {
				return nil, fmt.Errorf("lift tombstone %s: %w", id, err)
			}
			continue
		}
		gone[id] = true
		// An order whose lines span batches is counted once.
		if w.tombStale == nil {
			w.tombStale = map[string]bool{}
		}
		if !w.tombStale[id] {
			w.tombStale[id] = true
			w.rep.Stale++
			if len(w.rep.StaleOrders) < maxStaleOrders {
				w.rep.StaleOrders = append(w.rep.StaleOrders, id)
			}
		}
	}
	if len(gone) == 0 {
		return valid, nil
	}
	return w.keep(valid, func(i int) bool { return !gone[w.records[i].orderID] }), nil
}
