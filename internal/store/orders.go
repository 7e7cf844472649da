package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/phantomos/phantomos"
)

// This file gives every order one identity across files, syncs and
// webhooks: the source's order id within one connector. An import keeps a
// ledger of the orders and lines it writes in two temporary tables (on
// disk, so a file of millions of lines needs no memory for them):
//
//	ingest_keys    every (order, line) key the import holds, with its input
//	               line, to refuse a line given twice;
//	ingest_orders  every order it meets that existed before the import:
//	               whether it changed it, whether it was skipped as stale,
//	               and its display name. An order found in sales without
//	               an entry but with keys of an earlier batch is one this
//	               import created; so a fresh import adds no entries.
//
// When the import's rows are all written, the lines of its orders that it
// did not write are deleted (finishOrders): an order is replaced whole.

// orderLedger is an import's view of the orders it writes.
type orderLedger struct {
	batch    int64           // the current WriteSales call, from 1
	existed  map[string]bool // orders of the current batch that existed before the import
	replaced int64           // orders in the ledger to replace (existed, not stale)
}

// startOrders creates the import's ledger tables on first use.
func (w *ImportWriter) startOrders(ctx context.Context) error {
	if w.orders != nil {
		return nil
	}
	stmts := []string{
		`CREATE TEMP TABLE IF NOT EXISTS ingest_keys (order_id TEXT NOT NULL, line_id TEXT NOT NULL, line BIGINT NOT NULL,
			batch BIGINT NOT NULL, PRIMARY KEY (order_id, line_id))`,
		`CREATE TEMP TABLE IF NOT EXISTS ingest_orders (order_id TEXT PRIMARY KEY, name TEXT NOT NULL, line BIGINT NOT NULL,
			existed INTEGER NOT NULL, stale INTEGER NOT NULL, changed INTEGER NOT NULL, batch BIGINT NOT NULL)`,
		// A connection of the pool may hold the tables of an earlier import.
		`DELETE FROM ingest_keys`,
		`DELETE FROM ingest_orders`,
	}
	if w.s.dialect == Postgres {
		// Kept by the connection, emptied at each commit (pgTempTable).
		for i, name := range []string{"ingest_keys", "ingest_orders"} {
			_, def, _ := strings.Cut(stmts[i], name+" ")
			stmts[i] = pgTempTable(name, def)
		}
		stmts = stmts[:2]
	}
	for _, q := range stmts {
		if _, err := w.tx.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("order ledger: %w", err)
		}
	}
	w.orders = &orderLedger{existed: map[string]bool{}}
	w.fold = newRollupFold()
	return w.startDelta(ctx)
}

// keep compacts valid and w.records (parallel slices) to the entries ok
// accepts.
func (w *ImportWriter) keep(valid []*SaleRow, ok func(i int) bool) []*SaleRow {
	n := 0
	for i := range valid {
		if ok(i) {
			valid[n], w.records[n] = valid[i], w.records[i]
			n++
		}
	}
	w.records = w.records[:n]
	return valid[:n]
}

// dropDuplicateLines refuses every line whose (order, line) key the import
// already holds, in this batch or an earlier one, and records the others.
func (w *ImportWriter) dropDuplicateLines(ctx context.Context, valid []*SaleRow) ([]*SaleRow, error) {
	w.orders.batch++
	type key struct{ order, line string }
	first := make(map[key]int64, len(valid))
	dup := make([]bool, len(valid))
	var fresh []int
	for i := range valid {
		rec := &w.records[i]
		k := key{rec.orderID, rec.lineID}
		if l, ok := first[k]; ok {
			w.rejectDuplicate(rec, l)
			dup[i] = true
			continue
		}
		first[k] = rec.line
		fresh = append(fresh, i)
	}
	// Against the earlier batches: the keys the insert skips were there.
	chunk := lookupChunk
	if w.s.dialect == Postgres {
		chunk = len(fresh) // one statement of arrays (insertKeys)
	}
	for len(fresh) > 0 {
		part := fresh[:min(len(fresh), chunk)]
		fresh = fresh[len(part):]
		n, err := w.insertKeys(ctx, part)
		if err != nil {
			return nil, fmt.Errorf("line keys: %w", err)
		}
		if n == int64(len(part)) {
			continue // no key was there: the usual case
		}
		// Which keys were there already: not those carrying this batch's number.
		ids := orderIDs(w.records, part)
		var rows *sql.Rows
		if w.s.dialect == Postgres {
			rows, err = w.tx.QueryContext(ctx, `SELECT order_id, line_id FROM ingest_keys WHERE batch = $1
				AND order_id = ANY(CAST($2 AS TEXT[]))`, w.orders.batch, ids)
		} else {
			args := []any{w.orders.batch}
			for _, id := range ids {
				args = append(args, id)
			}
			rows, err = w.tx.QueryContext(ctx, `SELECT order_id, line_id FROM ingest_keys WHERE batch = $1
				AND order_id IN (`+inList(2, len(ids))+`)`, args...)
		}
		if err != nil {
			return nil, fmt.Errorf("line keys: %w", err)
		}
		added := make(map[key]bool, len(part))
		for rows.Next() {
			var k key
			if err := rows.Scan(&k.order, &k.line); err != nil {
				rows.Close()
				return nil, fmt.Errorf("line keys: %w", err)
			}
			added[k] = true
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, fmt.Errorf("line keys: %w", err)
		}
		for _, i := range part {
			rec := &w.records[i]
			if added[key{rec.orderID, rec.lineID}] {
				continue
			}
			var l int64
			if err := w.tx.QueryRowContext(ctx, `SELECT line FROM ingest_keys WHERE order_id = $1 AND line_id = $2`,
				rec.orderID, rec.lineID).Scan(&l); err != nil {
				return nil, fmt.Errorf("line keys: %w", err)
			}
			w.rejectDuplicate(rec, l)
			dup[i] = true
		}
	}
	return w.keep(valid, func(i int) bool { return !dup[i] }), nil
}

// insertKeys adds the keys of w.records[i] for i in part to the ledger
// with the current batch's number, but not those it holds already, and
// returns how many it added. On PostgreSQL the keys of a batch go as three
// arrays in one statement: an import of 200,000 rows made 41 round trips
// for them instead of 801 (multi-row VALUES of 500 keys). Over a local
// socket both took the same time, about 3.2 µs a key, half of it the
// speculative insertion of ON CONFLICT; to a database across a network
// the 760 round trips saved are 0.2–0.8 s.
func (w *ImportWriter) insertKeys(ctx context.Context, part []int) (int64, error) {
	var res sql.Result
	var err error
	if w.s.dialect == Postgres {
		orders, lines, inputs := make([]string, len(part)), make([]string, len(part)), make([]int64, len(part))
		for j, i := range part {
			orders[j], lines[j], inputs[j] = w.records[i].orderID, w.records[i].lineID, w.records[i].line
		}
		res, err = w.tx.ExecContext(ctx, `INSERT INTO ingest_keys (order_id, line_id, line, batch)
			SELECT k.o, k.l, k.n, $4 FROM unnest(CAST($1 AS TEXT[]), CAST($2 AS TEXT[]), CAST($3 AS BIGINT[])) AS k (o, l, n)
			ON CONFLICT (order_id, line_id) DO NOTHING`, orders, lines, inputs, w.orders.batch)
	} else {
		args := make([]any, 0, 4*len(part))
		var b strings.Builder
		b.WriteString(`INSERT INTO ingest_keys (order_id, line_id, line, batch) VALUES `)
		for j, i := range part {
			if j > 0 {
				b.WriteString(", ")
			}
			// Anonymous parameters on SQLite: the driver looks each
			// numbered one up by a scan of them all, quadratic here.
			b.WriteString("(?, ?, ?, ?)")
			args = append(args, w.records[i].orderID, w.records[i].lineID, w.records[i].line, w.orders.batch)
		}
		b.WriteString(` ON CONFLICT (order_id, line_id) DO NOTHING`)
		res, err = w.tx.ExecContext(ctx, b.String(), args...)
	}
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

// orderIDs returns the distinct order ids of records[i] for i in idx.
func orderIDs(records []saleRecord, idx []int) []string {
	seen := map[string]bool{}
	var out []string
	for _, i := range idx {
		if id := records[i].orderID; !seen[id] {
			seen[id] = true
			out = append(out, id)
		}
	}
	return out
}

func (w *ImportWriter) rejectDuplicate(rec *saleRecord, firstLine int64) {
	w.Reject(RowError{Line: rec.line, Column: w.spec.column("line"), Value: ClipValue(rec.lineID),
		Reason: fmt.Sprintf("order %s has this line already (line %d): each line of an order may appear once in an import",
			ClipValue(orderLabel(rec.orderName, rec.orderID)), firstLine)}, 1)
}

// orderLabel names an order for people: its display name and id when they
// differ ("#1001 (id 450789469)").
func orderLabel(name, id string) string {
	if name == "" || name == id {
		return id
	}
	return name + " (id " + id + ")"
}

// dropStaleOrders looks the batch's orders up, records in the ledger those
// that existed before the import, and drops the lines of those whose
// stored version is newer (see SaleRow). An order found in sales without a
// ledger entry was written by this import, from an earlier batch: the
// ledger holds every order that existed before, so a fresh import costs
// one lookup per chunk of orders and no ledger rows.
func (w *ImportWriter) dropStaleOrders(ctx context.Context, valid []*SaleRow) ([]*SaleRow, error) {
	type incoming struct {
		updated time.Time
		name    string
		line    int64
	}
	batch := map[string]*incoming{}
	var ids []string
	for i := range w.records {
		rec := &w.records[i]
		o := batch[rec.orderID]
		if o == nil {
			o = &incoming{name: rec.orderName, line: rec.line}
			batch[rec.orderID] = o
			ids = append(ids, rec.orderID)
		}
		if rec.orderUpdatedAt.After(o.updated) {
			o.updated = rec.orderUpdatedAt
		}
	}
	// Their lines written by earlier batches are looked up in sales.
	if err := w.flushFor(ctx, w.records); err != nil {
		return nil, err
	}
	clear(w.orders.existed)
	stale := map[string]bool{}
	dated := map[string]orderDay{} // orders with lines written in earlier batches
	met := 0                       // orders that existed, met for the first time in this batch
	for len(ids) > 0 {
		part := ids[:min(len(ids), lookupChunk)]
		ids = ids[len(part):]
		// The stored lines, with the ledger's verdict on their order.
		type stored struct {
			updated time.Time
			ledger  bool // the ledger knows the order: it existed before
			stale   bool
			ours    bool // created by this import, in an earlier batch
		}
		have := map[string]*stored{}
		query, lookup := storedOrdersQuery(w.s.dialect, part)
		rows, err := w.tx.QueryContext(ctx, query, append(append([]any{w.pub, w.connectorID}, lookup...), w.orders.batch)...)
		if err != nil {
			return nil, fmt.Errorf("orders: %w", err)
		}
		for rows.Next() {
			var id string
			var at sql.NullTime
			var st, line sql.NullInt64
			var day any
			if err := rows.Scan(&id, &at, &st, &day, &line); err != nil {
				rows.Close()
				return nil, fmt.Errorf("orders: %w", err)
			}
			x := have[id]
			if x == nil {
				x = &stored{ledger: st.Valid, stale: st.Int64 == 1}
				have[id] = x
			}
			if line.Valid && !x.stale {
				// A line this import wrote in an earlier batch: its day is the order's.
				x.ours = !st.Valid
				// Those lines share one day; the message names the first.
				if o, ok := dated[id]; !ok || line.Int64 < o.line {
					d, err := dayValue(day)
					if err != nil {
						rows.Close()
						return nil, fmt.Errorf("orders: %w", err)
					}
					dated[id] = orderDay{day: d, line: line.Int64}
				}
			}
			if at.Valid && at.Time.After(x.updated) {
				x.updated = at.Time
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, fmt.Errorf("orders: %w", err)
		}
		var ins strings.Builder
		var insArgs []any
		for id, x := range have {
			if x.ledger {
				if x.stale {
					stale[id] = true
				} else {
					w.orders.existed[id] = true
				}
				continue
			}
			if x.ours {
				continue
			}
			o := batch[id]
			isStale := 0
			if !x.updated.IsZero() && (o.updated.IsZero() || x.updated.After(o.updated)) {
				isStale = 1
				stale[id] = true
				w.rep.Stale++
				if len(w.rep.StaleOrders) < maxStaleOrders {
					w.rep.StaleOrders = append(w.rep.StaleOrders, id)
				}
			} else {
				w.orders.existed[id] = true
				w.orders.replaced++
				met++
			}
			if ins.Len() == 0 {
				ins.WriteString(`INSERT INTO ingest_orders (order_id, name, line, existed, stale, changed, batch) VALUES `)
			} else {
				ins.WriteString(", ")
			}
			n := len(insArgs)
			fmt.Fprintf(&ins, "($%d, $%d, $%d, 1, $%d, 0, $%d)", n+1, n+2, n+3, n+4, n+5)
			insArgs = append(insArgs, id, o.name, o.line, isStale, w.orders.batch)
		}
		if len(insArgs) > 0 {
			if _, err := w.tx.ExecContext(ctx, ins.String(), insArgs...); err != nil {
				return nil, fmt.Errorf("orders: %w", err)
			}
		}
	}
	// Before any line of them changes: what those orders count for now.
	if met > 0 {
		if err := w.subtractExisting(ctx); err != nil {
			return nil, err
		}
	}
	if len(stale) > 0 {
		valid = w.keep(valid, func(i int) bool { return !stale[w.records[i].orderID] })
	}
	return w.dropMixedDays(valid, dated), nil
}

// orderDay is the day of an order in an import, and the input line that
// set it: the order's first line.
type orderDay struct {
	day  phantomos.Day
	line int64
}

// dropMixedDays refuses each line whose day is not its order's: the day of
// the order's first line, in this batch or (dated) an earlier one. An order
// is counted once on its day in every rollup; lines of one order on
// several days would count it once on each, and a week or month summing
// those days would count it more than once. A file whose order lines
// carry dates of their own (shipping dates, say) is refused with the lines
// named, rather than its orders moved to a day the source never gave.
// Lines without an order (platform totals) have no order to agree with.
func (w *ImportWriter) dropMixedDays(valid []*SaleRow, dated map[string]orderDay) []*SaleRow {
	bad := false
	mixed := make([]bool, len(valid))
	for i := range valid {
		rec := &w.records[i]
		if !rec.hasOrder {
			continue
		}
		o, ok := dated[rec.orderID]
		if !ok {
			dated[rec.orderID] = orderDay{day: rec.day, line: rec.line}
			continue
		}
		if o.day != rec.day {
			w.Reject(RowError{Line: rec.line, Column: w.spec.column("date"), Value: string(rec.day),
				Reason: fmt.Sprintf("order %s is dated %s by its first line (line %d): every line of an order must carry the order's date",
					ClipValue(orderLabel(rec.orderName, rec.orderID)), o.day, o.line)}, 1)
			mixed[i], bad = true, true
		}
	}
	if !bad {
		return valid
	}
	return w.keep(valid, func(i int) bool { return !mixed[i] })
}

// storedOrdersQuery returns dropStaleOrders' lookup of the stored lines
// of the orders ids (publisher $1, connector $2), and the arguments that
// follow $2; the import's batch number is the argument after them. Each
// line comes with its order's ledger verdict (stale, or NULL when the
// ledger does not know the order), its day, and the input line that wrote
// it when this import did, in an earlier batch (else NULL).
func storedOrdersQuery(d Dialect, ids []string) (string, []any) {
	from, args := d.linesOfOrders(ids)
	return `SELECT sales.external_order_id, sales.order_updated_at, o.stale, sales.day, k.line
		FROM ` + from + ` LEFT JOIN ingest_orders o ON o.order_id = sales.external_order_id
		LEFT JOIN ingest_keys k ON k.order_id = sales.external_order_id AND k.line_id = sales.external_line_id
			AND k.batch < $` + fmt.Sprint(3+len(args)), args
}

// markChanged marks the orders of changed lines as changed, when they
// existed before the import.
func (l *orderLedger) markChanged(ctx context.Context, tx *sql.Tx, orders []string) error {
	seen := map[string]bool{}
	var ids []any
	for _, o := range orders {
		if !seen[o] && l.existed[o] {
			seen[o] = true
			ids = append(ids, o)
		}
	}
	for len(ids) > 0 {
		part := ids[:min(len(ids), lookupChunk)]
		ids = ids[len(part):]
		if _, err := tx.ExecContext(ctx, `UPDATE ingest_orders SET changed = 1 WHERE existed = 1 AND changed = 0
			AND order_id IN (`+inList(1, len(part))+`)`, part...); err != nil {
			return fmt.Errorf("orders: %w", err)
		}
	}
	return nil
}

// maxChangedExamples is how many changed orders a report names.
const maxChangedExamples = 5

// finishOrders replaces the orders the import wrote: the stored lines of
// each that the import did not write are deleted (and their days touched),
// then the report learns how many existing orders changed.
func (w *ImportWriter) finishOrders(ctx context.Context) error {
	if w.orders == nil {
		return nil
	}
	if w.orders.replaced > 0 {
		if err := w.replaceOrders(ctx); err != nil {
			return err
		}
	}
	if err := w.tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM ingest_orders WHERE changed = 1`).Scan(&w.rep.OrdersChanged); err != nil {
		return fmt.Errorf("orders: %w", err)
	}
	if w.rep.OrdersChanged == 0 {
		return nil
	}
	ex, err := w.tx.QueryContext(ctx, `SELECT order_id, name FROM ingest_orders WHERE changed = 1 ORDER BY line, order_id LIMIT $1`, maxChangedExamples)
	if err != nil {
		return fmt.Errorf("orders: %w", err)
	}
	defer ex.Close()
	for ex.Next() {
		var id, name string
		if err := ex.Scan(&id, &name); err != nil {
			return fmt.Errorf("orders: %w", err)
		}
		w.rep.ChangedExamples = append(w.rep.ChangedExamples, ClipValue(orderLabel(name, id)))
	}
	return ex.Err()
}

// ReplaceOrders deletes now, rather than when the import ends, the stored
// lines that the orders written so far no longer have, so that Report's
// Deleted counts them for the rows written so far: a push writes several
// batches of distinct orders in one import and answers each with its own
// counts. Calling it changes nothing else: the import ends as it would.
func (w *ImportWriter) ReplaceOrders(ctx context.Context) error {
	if w.orders == nil || w.orders.replaced == 0 {
		return nil
	}
	if err := w.replaceOrders(ctx); err != nil {
		return err
	}
	w.orders.replaced = 0 // the ledger's orders are replaced; later batches add theirs
	return nil
}

// replaceOrders deletes the stored lines of the ledger's orders that the
// import did not write, marking those orders changed. It runs only when the
// import met existing orders: a page of new orders costs nothing here.
func (w *ImportWriter) replaceOrders(ctx context.Context) error {
	if w.s.dialect == Postgres {
		// A temporary table has no statistics until analysed: without them
		// the planner may scan the connector's sales instead of probing
		// them per order of the (small) ledger.
		if _, err := w.tx.ExecContext(ctx, `ANALYZE ingest_orders, ingest_keys`); err != nil {
			return fmt.Errorf("orders: replace: %w", err)
		}
	}
	const gone = `publisher_id = $1 AND connector_id = $2
		AND external_order_id IN (SELECT order_id FROM ingest_orders WHERE existed = 1 AND stale = 0)
		AND NOT EXISTS (SELECT 1 FROM ingest_keys k WHERE k.order_id = sales.external_order_id AND k.line_id = sales.external_line_id)`
	if _, err := w.tx.ExecContext(ctx, `UPDATE ingest_orders SET changed = 1 WHERE changed = 0 AND order_id IN
		(SELECT external_order_id FROM sales WHERE `+gone+`)`, w.pub, w.connectorID); err != nil {
		return fmt.Errorf("orders: replace: %w", err)
	}
	rows, err := w.tx.QueryContext(ctx, `DELETE FROM sales WHERE `+gone+` RETURNING day, refund_day`, w.pub, w.connectorID)
	if err != nil {
		return fmt.Errorf("orders: replace: %w", err)
	}
	for rows.Next() {
		var day, refundDay any
		if err := rows.Scan(&day, &refundDay); err != nil {
			rows.Close()
			return fmt.Errorf("orders: replace: %w", err)
		}
		w.rep.Deleted++
		if err := w.spanAny(day, refundDay); err != nil {
			rows.Close()
			return err
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("orders: replace: %w", err)
	}
	return nil
}
