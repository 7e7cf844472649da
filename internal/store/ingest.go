package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"
	"time"
	"unicode"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"

	"github.com/phantomos/phantomos"
)

// This file is the idempotent write path shared by file imports and
// connector syncs. One import is one transaction: it streams batches of
// normalised rows into the tables (upserts keyed so that a re-import changes
// nothing), converts money to the reporting currency, refreshes the rollups
// of the days it touched and records an import_runs row, or writes nothing
// at all when a row is invalid and the caller did not ask for valid rows only.

// Import kinds.
const (
	ImportProducts = "products"
	ImportSales    = "sales"
	ImportAssets   = "assets"
	ImportFX       = "fx"
)

// RowError is one invalid input row: where it is (file line and column
// header), what it holds and why it was refused.
type RowError struct {
	Line   int64  `json:"line"`
	Column string `json:"column"`
	Value  string `json:"value"`
	Reason string `json:"reason"`
}

func (e RowError) Error() string {
	if e.Column == "" {
		return fmt.Sprintf("line %d: %s", e.Line, e.Reason)
	}
	return fmt.Sprintf("line %d, column %q: %s (value %q)", e.Line, e.Column, e.Reason, e.Value)
}

// ImportSpec describes one import.
type ImportSpec struct {
	Kind     string // ImportProducts, ImportSales, ImportAssets or ImportFX
	Format   string // the source format, recorded in import_runs
	FileName string
	// Source names the connector that products and sales are keyed under
	// ("Shopify export", "CSV import"), by name or id: an existing connector
	// of the publisher (a synced store's, so that its history file and its
	// sync key orders alike), else a csv connector created on demand.
	Source string
	// ConnectorID writes under an existing connector of the publisher (a
	// synced store) instead of the csv connector named Source.
	ConnectorID string
	// ValidOnly writes the valid rows of a file that has invalid ones;
	// otherwise any invalid row rolls the whole import back.
	ValidOnly bool
	// DryRun runs the whole import, then rolls it back and records no run:
	// a preview with exact counts.
	DryRun bool
	// FXFallbackDays lets an order day without an FX rate use the most
	// recent rate of up to this many days before it (0: the exact day only).
	FXFallbackDays int
	// MaxErrors caps the row errors kept in memory and in the run's report
	// (the counts stay exact); 0 means 1000.
	MaxErrors int
	// Columns maps a field ("currency", "date", "rate") to the header it came
	// from, so that errors found while writing name the right column.
	Columns   map[string]string
	CreatedBy string // user id, optional
}

func (sp *ImportSpec) column(field string) string {
	if c, ok := sp.Columns[field]; ok {
		return c
	}
	return field
}

// ImportReport is the outcome of an import. Seen counts input rows;
// Inserted, Updated and Skipped (unchanged) count records (a product, a sale
// line, an asset, a rate), so they need not add up to Seen: a Shopify
// product spans several rows and a BigCommerce order row holds several lines.
// Failed counts rows refused. After a rejected import, Inserted and Updated
// are zero: nothing was written.
type ImportReport struct {
	RunID           string // empty for a dry run
	ConnectorID     string
	ConnectorName   string // the source's name, also when chosen by id
	Seen            int64
	Inserted        int64
	Updated         int64
	Skipped         int64
	Failed          int64
	ProductsCreated int64 // unmapped products created for sales of unknown products
	// Stale counts orders not written because the stored version is newer
	// (see SaleRow.UpdatedAt).
	Stale int64
	// StaleOrders names the stale orders (ids, at most maxStaleOrders), so
	// that a push can say which of its orders it ignored.
	StaleOrders []string
	// Deleted counts stored sale lines removed because the new version of
	// their order no longer has them.
	Deleted int64
	// OrdersChanged counts orders that existed before the import and that
	// it changed (a line added, changed or removed); ChangedExamples names a
	// few of them.
	OrdersChanged   int64
	ChangedExamples []string
	Errors          []RowError
	// ErrorCount counts every row error, including those beyond MaxErrors.
	ErrorCount int64
	// From and To bound the days whose rollups were refreshed ("" if none).
	From, To phantomos.Day
}

// ProductRow is a normalised product.
type ProductRow struct {
	Line        int64
	ExternalID  string // the source's id (Shopify handle, WooCommerce ID, …)
	SKU         string
	Name        string
	Description string
	Category    string // one of phantomos.Categories, or "" if unknown
	Price       int64  // minor units of Currency
	PriceSet    bool   // false keeps the stored price
	Currency    string
	ImageURL    string
	Tags        []string
}

// SaleRow is one normalised order line. Amounts are minor units of
// Currency. Gross - Discount - Refunded is the line's net merchandise
// revenue; Shipping, Tax and Tip are order-level charges allocated to the
// line and ChargesRefunded the part of a refund that exceeded the
// merchandise. The product is found by ProductID (the source's id), then
// SKU, then (when neither is known) Name; an unknown product is created
// unmapped.
//
// An order (OrderID within the import's connector) is the unit of
// replacement: writing an order replaces the lines stored for it, so a line
// the new version lacks is deleted, whichever path (file, sync, webhook)
// wrote either version. UpdatedAt is the source's last-update time of the
// order (the same on all its lines; zero when the source gives none, as
// files do). An order is not written, and counts as Stale, when the stored
// version has a time and the new one is older or has none: an older update
// never overwrites a newer one, and a file never overwrites what a sync
// wrote with a time. A timeless stored version (from a file) is always
// overwritten.
type SaleRow struct {
	Line      int64
	OrderID   string
	OrderName string // how people name the order ("#1001"), for messages; optional
	LineID    string
	ProductID string
	SKU       string
	Name      string
	// ProductName is the product apart from its variant when Name names a
	// variant ("White Hoodie" of "White Hoodie - S"), for files without
	// product ids: an unknown product is then created once for all its
	// variants, so a reviewer maps it once. Empty when Name is the product.
	ProductName     string
	Category        string
	UnitPrice       int64
	OrderDate       time.Time
	RefundedAt      time.Time // when the refund was made; zero when unknown (booked on the order's day)
	Quantity        int64
	Gross           int64
	Discount        int64
	Refunded        int64
	Shipping        int64
	Tax             int64
	Tip             int64
	ChargesRefunded int64
	Currency        string
	Country         string
	Region          string
	Channel         string
	UpdatedAt       time.Time // the source's updated_at of the order; zero when unknown
	// NoOrder marks a line that is a total without orders (a platform's
	// sales by day and product, such as Amazon Vendor Central's): it
	// counts in revenue and units, never as an order, and average order
	// value leaves it out. Its OrderID is a synthetic key of the total.
	NoOrder bool
	// SharedProductID says ProductID identifies the product across the
	// platform's accounts (an Amazon ASIN): when this source has no
	// product of that id, a product of another of the publisher's sources
	// with that external id is the line's product, before SKU and name
	// are tried. A vendor's sell-through (ASINs only) thus lands on the
	// products the seller's orders brought.
	SharedProductID bool
	// Removed says the row's order no longer counts (it was cancelled): its
	// stored lines are removed as of UpdatedAt, as RemoveOrders does (a
	// stored newer version stays), and the row itself is not written. Its
	// amounts are ignored.
	Removed bool
}

// AssetRow is one asset of a game IP.
type AssetRow struct {
	Line      int64
	GameIP    string
	Name      string
	AssetType string
	Aliases   []string
}

// FXRow is one exchange rate: Rate units of the publisher's reporting
// currency buy one unit of Currency on Day.
type FXRow struct {
	Line     int64
	Day      phantomos.Day
	Currency string
	Rate     float64
}

// ImportWriter receives the rows of one import inside its transaction.
// It is not safe for concurrent use.
type ImportWriter struct {
	s           *Store
	pub         phantomos.PublisherID
	spec        ImportSpec
	conn        *sql.Conn
	tx          *sql.Tx
	reporting   string
	loc         *time.Location
	connectorID string
	now         time.Time
	rep         ImportReport
	touched     map[phantomos.Day]struct{} // days whose rollups are recomputed at the end (see rollup_delta.go)
	spans       [][2]phantomos.Day         // and whole ranges of days, likewise
	refundDate  bool                       // the publisher's refund booking when the import began

	rates       map[string][]fxPoint
	lastRateCur string
	lastRateDay phantomos.Day
	lastRate    float64
	lastRateOK  bool

	products  map[string]string // product key → id
	gameIPs   map[string]string // slug → id
	salesStmt *sql.Stmt         // SQLite upsert of a full chunk
	freshStmt *sql.Stmt         // SQLite insert of a full chunk of new lines
	pgTemp    bool
	records   []saleRecord
	// New lines not yet copied into sales (PostgreSQL, see insertFreshSales),
	// and their orders.
	pending       []saleRecord
	pendingOrders map[string]struct{}
	orders        *orderLedger    // the orders this import writes; nil until the first sales
	fold          *rollupFold     // the new orders' rollup deltas (rollup_fold.go); nil when too many
	tombs         int             // tombsUnknown, tombsNone or tombsSome: whether the connector has tombstones
	tombStale     map[string]bool // orders kept deleted by their tombstone, counted in Stale
	catalog       int64           // rows of products, assets and rates written (inserted or updated)
	goneTable     bool            // ingest_filter_gone is ready for this import (recordGone)
}

type fxPoint struct {
	day  phantomos.Day
	rate float64
}

// Import runs one import of publisher pub: fn receives a writer and feeds
// it batches; when fn returns, the import commits, or rolls back when fn
// failed, when a row was refused and spec.ValidOnly is false, or when
// spec.DryRun is set. A refused import returns its report together with an
// EINVALID error. Unless it is a dry run, an import_runs row records the
// outcome, the counts and the error report, also when nothing was written.
func (s *Store) Import(ctx context.Context, pub phantomos.PublisherID, spec ImportSpec, fn func(*ImportWriter) error) (*ImportReport, error) {
	p, err := s.Publisher(ctx, pub)
	if err != nil {
		return nil, err
	}
	if spec.MaxErrors <= 0 {
		spec.MaxErrors = 1000
	}
	w := &ImportWriter{
		s: s, pub: pub, spec: spec, reporting: p.ReportingCurrency, loc: p.Location(), now: s.nowUTC(), refundDate: p.Settings.RefundsOnRefundDate(),
		touched: map[phantomos.Day]struct{}{}, products: map[string]string{}, gameIPs: map[string]string{},
	}
	if !spec.DryRun {
		if w.rep.RunID, err = s.startImportRun(ctx, pub, &spec, w.now); err != nil {
			return nil, err
		}
	}
	err = w.run(ctx, fn)
	if err == nil && w.rep.Failed > 0 && !spec.ValidOnly && !spec.DryRun {
		err = phantomos.Errorf(phantomos.EINVALID, "%d of %d rows are invalid; nothing was imported. Fix them, or import the valid rows only.", w.rep.Failed, w.rep.Seen)
	}
	if err != nil {
		w.rep.Inserted, w.rep.Updated, w.rep.Skipped, w.rep.ProductsCreated = 0, 0, 0, 0
		w.rep.From, w.rep.To = "", ""
		if !spec.DryRun {
			msg := phantomos.ErrorMessage(err)
			if ctx.Err() != nil {
				msg = "The import was cancelled."
			}
			if ferr := s.finishImportRun(context.WithoutCancel(ctx), inTurn{s}, pub, w, "failed", msg); ferr != nil {
				err = errors.Join(err, ferr)
			}
		}
		if phantomos.ErrorCode(err) == phantomos.EINVALID {
			return &w.rep, err
		}
		return &w.rep, fmt.Errorf("store: import %s: %w", spec.Kind, err)
	}
	return &w.rep, nil
}

// run executes fn inside the transaction and, unless it was a dry run or it
// must be refused, finishes the import within the same transaction.
func (w *ImportWriter) run(ctx context.Context, fn func(*ImportWriter) error) error {
	conn, err := w.s.db.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	if w.s.dialect == SQLite && !w.spec.DryRun {
		// The import is one transaction: once its changed pages outgrow
		// the connection's cache, SQLite spills them to the WAL and reads
		// them back, row after row. A larger cache while it runs (pages
		// are allocated as used) keeps them in memory; it is set back
		// before the connection returns to the pool.
		if _, err := conn.ExecContext(ctx, fmt.Sprintf(`PRAGMA cache_size = -%d`, sqliteImportCacheKiB)); err != nil {
			return err
		}
		defer conn.ExecContext(context.WithoutCancel(ctx), fmt.Sprintf(`PRAGMA cache_size = -%d`, sqliteCacheKiB))
		// Foreign keys are off while it runs: a statement that inserts rows
		// checked against a parent may abort halfway, so SQLite journals
		// every page it touches first (see insertFreshSales). The import
		// writes ids it just read or made, under a publisher that no other
		// writer can delete meanwhile (SQLite has one writer).
		if _, err := conn.ExecContext(ctx, `PRAGMA foreign_keys = OFF`); err != nil {
			return err
		}
		defer conn.ExecContext(context.WithoutCancel(ctx), `PRAGMA foreign_keys = ON`)
	}
	end := w.s.beginWrite(ctx)
	defer end()
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	w.conn, w.tx = conn, tx
	if err := w.s.holdImportRun(ctx, tx, w.rep.RunID); err != nil {
		tx.Rollback()
		return err
	}
	defer func() {
		if w.salesStmt != nil {
			w.salesStmt.Close()
		}
		if w.freshStmt != nil {
			w.freshStmt.Close()
		}
		tx.Rollback() // no-op after Commit
	}()
	if w.spec.Kind == ImportProducts || w.spec.Kind == ImportSales {
		if w.connectorID, err = w.ensureConnector(ctx); err != nil {
			return err
		}
		w.rep.ConnectorID = w.connectorID
		if err := tx.QueryRowContext(ctx, `SELECT name FROM connectors WHERE publisher_id = $1 AND id = $2`, w.pub, w.connectorID).Scan(&w.rep.ConnectorName); err != nil {
			return fmt.Errorf("connector %s: %w", w.connectorID, err)
		}
	}
	if err := fn(w); err != nil {
		return err
	}
	if w.rep.Failed > 0 && !w.spec.ValidOnly && !w.spec.DryRun {
		return nil // refused by Import; the deferred rollback discards everything
	}
	if err := w.flushFresh(ctx); err != nil {
		return err
	}
	if err := w.finishOrders(ctx); err != nil {
		return err
	}
	if w.spec.DryRun {
		return nil
	}
	if err := w.updateRollups(ctx); err != nil {
		return err
	}
	// An import that wrote nothing (a re-import, a sync page of unchanged
	// records) leaves cached answers valid.
	if w.rep.Inserted+w.rep.Updated+w.rep.Deleted+w.rep.ProductsCreated > 0 || len(w.touched)+len(w.spans) > 0 {
		if err := bumpDataVersion(ctx, tx, w.pub); err != nil {
			return err
		}
	}
	if err := w.s.finishImportRun(ctx, tx, w.pub, w, "succeeded", ""); err != nil {
		return err
	}
	return tx.Commit()
}

// AddSeen counts n input rows read.
func (w *ImportWriter) AddSeen(n int64) { w.rep.Seen += n }

// Reject records an invalid input: rows rows fail (an order spanning three
// rows fails as three) and e is kept in the report while there is room.
func (w *ImportWriter) Reject(e RowError, rows int64) {
	// Whatever a parser or a source passed on, a report quotes no huge
	// value, and no bytes that PostgreSQL or a browser cannot take.
	e.Value, e.Column, e.Reason = ClipValue(e.Value), ClipValue(e.Column), cleanText(e.Reason)
	w.rep.Failed += rows
	w.rep.ErrorCount++
	if len(w.rep.Errors) < w.spec.MaxErrors {
		w.rep.Errors = append(w.rep.Errors, e)
	}
}

// Stopped reports whether the import can no longer succeed (a row was
// refused and only a complete file may be written). Rows passed on are then
// still validated, so the error report is complete, but not written.
func (w *ImportWriter) Stopped() bool {
	return w.rep.Failed > 0 && !w.spec.ValidOnly && !w.spec.DryRun
}

// Report returns the counts so far.
func (w *ImportWriter) Report() ImportReport { return w.rep }

// ReportingCurrency is the publisher's reporting currency.
func (w *ImportWriter) ReportingCurrency() string { return w.reporting }

// Location is the publisher's time zone, which decides the day of a sale.
func (w *ImportWriter) Location() *time.Location { return w.loc }

func (s *Store) startImportRun(ctx context.Context, pub phantomos.PublisherID, spec *ImportSpec, now time.Time) (string, error) {
	id := phantomos.NewID()
	var createdBy any
	if phantomos.ValidID(spec.CreatedBy) {
		createdBy = spec.CreatedBy
	}
	_, err := s.exec(ctx, `INSERT INTO import_runs (id, publisher_id, kind, format, file_name, state, started_at, created_by, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, 'running', $6, $7, $6, $6)`, id, pub, spec.Kind, spec.Format, spec.FileName, now, createdBy)
	if err != nil {
		return "", fmt.Errorf("store: start import run: %w", err)
	}
	return id, nil
}

// ingestExecer is what finishing a run needs: the store in its write turn
// (inTurn) or the import's transaction.
type ingestExecer interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

func (s *Store) finishImportRun(ctx context.Context, db ingestExecer, pub phantomos.PublisherID, w *ImportWriter, state, message string) error {
	report := w.rep.Errors
	if len(report) == 0 && message != "" {
		// A failure that is not about rows (a cancelled import, a database
		// error) still explains itself in the report.
		report = []RowError{{Reason: message}}
	}
	if report == nil {
		report = []RowError{}
	}
	js, err := json.Marshal(report)
	if err != nil {
		return err
	}
	now := s.nowUTC()
	_, err = db.ExecContext(ctx, `UPDATE import_runs SET state = $3, finished_at = $4, seen = $5, inserted = $6, updated = $7,
			skipped = $8, failed = $9, error_report = $10, updated_at = $4
		WHERE publisher_id = $1 AND id = $2`,
		pub, w.rep.RunID, state, now, w.rep.Seen, w.rep.Inserted, w.rep.Updated, w.rep.Skipped, w.rep.Failed, string(js))
	if err != nil {
		return fmt.Errorf("store: finish import run: %w", err)
	}
	return nil
}

// ImportRun is the record of one import.
type ImportRun struct {
	ID         string
	Kind       string
	Format     string
	FileName   string
	State      string // running, succeeded, failed
	StartedAt  time.Time
	FinishedAt *time.Time
	Seen       int64
	Inserted   int64
	Updated    int64
	Skipped    int64
	Failed     int64
	Errors     []RowError
}

const importRunColumns = `id, kind, format, file_name, state, started_at, finished_at, seen, inserted, updated, skipped, failed, error_report`

func scanImportRun(row interface{ Scan(...any) error }) (*ImportRun, error) {
	var r ImportRun
	var finished sql.NullTime
	var report string
	if err := row.Scan(&r.ID, &r.Kind, &r.Format, &r.FileName, &r.State, &r.StartedAt, &finished, &r.Seen, &r.Inserted,
		&r.Updated, &r.Skipped, &r.Failed, &report); err != nil {
		return nil, err
	}
	if finished.Valid {
		t := finished.Time
		r.FinishedAt = &t
	}
	if err := json.Unmarshal([]byte(report), &r.Errors); err != nil {
		return nil, fmt.Errorf("import run %s report: %w", r.ID, err)
	}
	return &r, nil
}

// ImportRun returns the import run id of publisher pub.
func (s *Store) ImportRun(ctx context.Context, pub phantomos.PublisherID, id string) (*ImportRun, error) {
	if !phantomos.ValidID(id) {
		return nil, phantomos.Errorf(phantomos.ENOTFOUND, "Import not found.")
	}
	r, err := scanImportRun(s.db.QueryRowContext(ctx, `SELECT `+importRunColumns+` FROM import_runs WHERE publisher_id = $1 AND id = $2`, pub, id))
	if err != nil {
		return nil, notFound(err, "Import")
	}
	return r, nil
}

// ImportRuns lists the latest limit import runs of publisher pub, newest first.
func (s *Store) ImportRuns(ctx context.Context, pub phantomos.PublisherID, limit int) ([]*ImportRun, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+importRunColumns+` FROM import_runs WHERE publisher_id = $1
		ORDER BY started_at DESC, id DESC LIMIT $2`, pub, limit)
	if err != nil {
		return nil, fmt.Errorf("store: import runs: %w", err)
	}
	defer rows.Close()
	var out []*ImportRun
	for rows.Next() {
		r, err := scanImportRun(rows)
		if err != nil {
			return nil, fmt.Errorf("store: import runs: %w", err)
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// ensureConnector returns the connector of spec.ConnectorID (which must be
// the publisher's), or the csv connector named spec.Source, creating it.
func (w *ImportWriter) ensureConnector(ctx context.Context) (string, error) {
	if id := w.spec.ConnectorID; id != "" {
		var n int
		if !phantomos.ValidID(id) {
			return "", phantomos.Errorf(phantomos.ENOTFOUND, "Connector not found.")
		}
		if err := w.tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM connectors WHERE publisher_id = $1 AND id = $2`, w.pub, id).Scan(&n); err != nil {
			return "", fmt.Errorf("connector %s: %w", id, err)
		}
		if n == 0 {
			return "", phantomos.Errorf(phantomos.ENOTFOUND, "Connector not found.")
		}
		return id, nil
	}
	name := w.spec.Source
	if name == "" {
		name = "CSV import"
	}
	// A source may be named by its connector's id (any of the publisher's
	// connectors: a synced store takes the history file of its orders).
	if phantomos.ValidID(name) {
		var id string
		err := w.tx.QueryRowContext(ctx, `SELECT id FROM connectors WHERE publisher_id = $1 AND id = $2`, w.pub, name).Scan(&id)
		if err == nil {
			return id, nil
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return "", fmt.Errorf("connector %s: %w", name, err)
		}
	}
	// Otherwise by name: an existing connector of any type (a synced store
	// by its name), or a new csv source.
	_, err := w.tx.ExecContext(ctx, `INSERT INTO connectors (id, publisher_id, type, name, status, created_at, updated_at)
		VALUES ($1, $2, 'csv', $3, 'active', $4, $4) ON CONFLICT (publisher_id, name) DO NOTHING`, phantomos.NewID(), w.pub, name, w.now)
	if err != nil {
		return "", fmt.Errorf("connector %q: %w", name, err)
	}
	var id string
	if err := w.tx.QueryRowContext(ctx, `SELECT id FROM connectors WHERE publisher_id = $1 AND name = $2`, w.pub, name).Scan(&id); err != nil {
		return "", fmt.Errorf("connector %q: %w", name, err)
	}
	return id, nil
}

// updateRollups brings every rollup up to date with what the import wrote:
// the deltas of its orders, then the days to recompute. On PostgreSQL it
// first locks the publisher's row (see refundBookingQuery), so rollup
// writes of one publisher happen one transaction at a time; if the refund
// booking changed since the import began, the deltas (taken under the old
// booking) are recomputed instead, every day they cover.
func (w *ImportWriter) updateRollups(ctx context.Context) error {
	refundDate, err := refundDateBooking(ctx, w.tx, w.s.dialect, w.pub)
	if err != nil {
		return err
	}
	if w.orders != nil {
		if refundDate == w.refundDate {
			if err := w.foldDeltas(ctx); err != nil {
				return err
			}
		} else if err := w.recomputeWritten(ctx); err != nil {
			return err
		}
	}
	if err := w.refreshTouched(ctx, refundDate); err != nil {
		return err
	}
	return w.advanceFilterRollups(ctx, refundDate)
}

// recomputeWritten marks for recomputation every day the import's orders
// were on before it (their deltas) or are on now, order days and refund
// days: what replaces the deltas when the refund booking changed while the
// import ran.
func (w *ImportWriter) recomputeWritten(ctx context.Context) error {
	var from, to any
	if err := w.tx.QueryRowContext(ctx, `SELECT MIN(day), MAX(day) FROM ingest_delta`).Scan(&from, &to); err != nil {
		return fmt.Errorf("rollup deltas: %w", err)
	}
	if err := w.recomputeRange(from, to); err != nil {
		return err
	}
	var dayFrom, dayTo, refundFrom, refundTo any
	if err := w.tx.QueryRowContext(ctx, `SELECT MIN(day), MAX(day), MIN(refund_day), MAX(refund_day) FROM sales
		WHERE publisher_id = $1 AND connector_id = $2
		AND external_order_id IN (SELECT order_id FROM ingest_keys UNION SELECT order_id FROM ingest_orders)`,
		w.pub, w.connectorID).Scan(&dayFrom, &dayTo, &refundFrom, &refundTo); err != nil {
		return fmt.Errorf("rollup deltas: %w", err)
	}
	if err := w.recomputeRange(dayFrom, dayTo); err != nil {
		return err
	}
	return w.recomputeRange(refundFrom, refundTo)
}

// recomputeRange marks the days from..to (DATE values as scanned; NULL:
// none) for recomputation, as one range however long it is.
func (w *ImportWriter) recomputeRange(from, to any) error {
	first, err := dayValue(from)
	if err != nil || first == "" {
		return err
	}
	last, err := dayValue(to)
	if err != nil {
		return err
	}
	w.spans = append(w.spans, [2]phantomos.Day{first, last})
	w.span(first)
	w.span(last)
	return nil
}

// recompute marks days (DATE values as scanned, or Days) for recomputation
// at the end of the import, and widens the import's reported range.
func (w *ImportWriter) recompute(days ...any) error {
	for _, v := range days {
		d, err := dayValue(v)
		if err != nil {
			return err
		}
		if d != "" {
			w.touched[d] = struct{}{}
			w.span(d)
		}
	}
	return nil
}

// refreshTouched recomputes the rollups of every range marked by
// recomputeRange, then of every day marked by recompute, one statement set
// per run of nearby days.
func (w *ImportWriter) refreshTouched(ctx context.Context, refundDate bool) error {
	for _, r := range w.spans {
		if err := refreshRollups(ctx, w.tx, w.s.dialect, w.pub, r[0], r[1], refundDate); err != nil {
			return err
		}
	}
	if len(w.touched) == 0 {
		return nil
	}
	days := make([]phantomos.Day, 0, len(w.touched))
	for d := range w.touched {
		days = append(days, d)
	}
	slices.Sort(days)
	from, to := days[0], days[0]
	for _, d := range days[1:] {
		// Days a month apart or closer share one recomputation: fewer
		// statements, and the days between cost only their own rows.
		if d.Time().Sub(to.Time()) <= 31*24*time.Hour {
			to = d
			continue
		}
		if err := refreshRollups(ctx, w.tx, w.s.dialect, w.pub, from, to, refundDate); err != nil {
			return err
		}
		from, to = d, d
	}
	return refreshRollups(ctx, w.tx, w.s.dialect, w.pub, from, to, refundDate)
}

// inList returns "$first, $first+1, …" for n parameters.
func inList(first, n int) string {
	var b strings.Builder
	for i := range n {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "$%d", first+i)
	}
	return b.String()
}

// lookupChunk bounds the parameters of one lookup statement, well below
// SQLite's 32766 and PostgreSQL's 65535.
const lookupChunk = 500

func decodeList(js string) []string {
	var l []string
	if err := json.Unmarshal([]byte(js), &l); err != nil {
		return nil
	}
	return l
}

// countCatalog returns the function that, deferred by a writer of
// products, assets or rates, adds the rows it inserted or updated to
// w.catalog: rows that change what the filter rollups were built with.
func (w *ImportWriter) countCatalog() func() {
	before := w.rep.Inserted + w.rep.Updated
	return func() { w.catalog += w.rep.Inserted + w.rep.Updated - before }
}

// --- products ---------------------------------------------------------------

type storedProduct struct {
	id, externalID, sku, name, description, category, currency, imageURL string
	price                                                                int64
	tags                                                                 []string
}

const storedProductColumns = `id, external_id, sku, name, description, category, currency, image_url, price, tags`

func scanStoredProduct(rows *sql.Rows) (*storedProduct, error) {
	var p storedProduct
	var tags string
	if err := rows.Scan(&p.id, &p.externalID, &p.sku, &p.name, &p.description, &p.category, &p.currency, &p.imageURL, &p.price, &tags); err != nil {
		return nil, err
	}
	p.tags = decodeList(tags)
	return &p, nil
}

// WriteProducts upserts a batch of products: a product is matched by its
// external id within the import's connector, then by SKU among all the
// publisher's products (preferring this connector's), then by name among
// the placeholders this connector's sales created before the catalogue
// came. Fields the row leaves empty keep their stored value; mapping
// decisions are never touched.
func (w *ImportWriter) WriteProducts(ctx context.Context, rows []ProductRow) error {
	defer w.countCatalog()()
	bad := false
	for i := range rows {
		if e, ok := rows[i].checkText(&w.spec); !ok {
			w.Reject(e, 1)
			bad = true
		}
	}
	if bad {
		ok := rows[:0:0]
		for i := range rows {
			if _, fine := rows[i].checkText(&w.spec); fine {
				ok = append(ok, rows[i])
			}
		}
		rows = ok
	}
	if w.Stopped() {
		return nil
	}
	// Within one call each external id appears once; a repeated one starts
	// a new call so the later row wins.
	seen := map[string]bool{}
	start := 0
	for i := range rows {
		if seen[rows[i].ExternalID] {
			if err := w.writeProducts(ctx, rows[start:i]); err != nil {
				return err
			}
			clear(seen)
			start = i
		}
		seen[rows[i].ExternalID] = true
	}
	return w.writeProducts(ctx, rows[start:])
}

func (w *ImportWriter) writeProducts(ctx context.Context, rows []ProductRow) error {
	for len(rows) > 0 {
		n := min(len(rows), lookupChunk)
		if err := w.writeProductChunk(ctx, rows[:n]); err != nil {
			return fmt.Errorf("products: %w", err)
		}
		rows = rows[n:]
	}
	return nil
}

func (w *ImportWriter) writeProductChunk(ctx context.Context, rows []ProductRow) error {
	found := make([]*storedProduct, len(rows))
	byExt := map[string]*storedProduct{}
	args := []any{w.pub, w.connectorID}
	for _, r := range rows {
		args = append(args, r.ExternalID)
	}
	q, err := w.tx.QueryContext(ctx, `SELECT `+storedProductColumns+` FROM products
		WHERE publisher_id = $1 AND connector_id = $2 AND external_id IN (`+inList(3, len(rows))+`)`, args...)
	if err != nil {
		return err
	}
	for q.Next() {
		p, err := scanStoredProduct(q)
		if err != nil {
			q.Close()
			return err
		}
		byExt[p.externalID] = p
	}
	q.Close()
	if err := q.Err(); err != nil {
		return err
	}
	var skus []string
	for i, r := range rows {
		if p := byExt[r.ExternalID]; p != nil {
			found[i] = p
		} else if r.SKU != "" {
			skus = append(skus, r.SKU)
		}
	}
	if len(skus) > 0 {
		bySKU, err := w.productsBySKU(ctx, skus)
		if err != nil {
			return err
		}
		for i, r := range rows {
			if found[i] == nil && r.SKU != "" {
				found[i] = bySKU[r.SKU]
			}
		}
	}
	// 3. A product that sales named before the catalogue arrived: the
	// placeholder created for it in this connector ("name:<name>").
	var names []string
	for i, r := range rows {
		if found[i] == nil {
			names = append(names, "name:"+r.Name)
		}
	}
	if len(names) > 0 {
		args := []any{w.pub, w.connectorID}
		for _, n := range names {
			args = append(args, n)
		}
		q, err := w.tx.QueryContext(ctx, `SELECT `+storedProductColumns+` FROM products
			WHERE publisher_id = $1 AND connector_id = $2 AND external_id IN (`+inList(3, len(names))+`)`, args...)
		if err != nil {
			return err
		}
		byName := map[string]*storedProduct{}
		for q.Next() {
			p, err := scanStoredProduct(q)
			if err != nil {
				q.Close()
				return err
			}
			byName[p.externalID] = p
		}
		q.Close()
		if err := q.Err(); err != nil {
			return err
		}
		for i, r := range rows {
			if found[i] == nil {
				found[i] = byName["name:"+r.Name]
			}
		}
	}
	for i := range rows {
		r := &rows[i]
		if p := found[i]; p != nil {
			changed, err := w.updateProduct(ctx, p, r)
			if err != nil {
				return err
			}
			if changed {
				w.rep.Updated++
			} else {
				w.rep.Skipped++
			}
			continue
		}
		if _, err := w.insertProduct(ctx, r.ExternalID, r, phantomos.MappingUnmapped); err != nil {
			return err
		}
		w.rep.Inserted++
	}
	return nil
}

// productsBySKU returns the publisher's products with these SKUs, one per
// SKU: this connector's first, then the oldest.
func (w *ImportWriter) productsBySKU(ctx context.Context, skus []string) (map[string]*storedProduct, error) {
	out := map[string]*storedProduct{}
	for len(skus) > 0 {
		n := min(len(skus), lookupChunk)
		args := []any{w.pub, w.connectorID}
		for _, s := range skus[:n] {
			args = append(args, s)
		}
		w.s.productLookups.Add(1)
		q, err := w.tx.QueryContext(ctx, `SELECT `+storedProductColumns+` FROM products
			WHERE publisher_id = $1 AND sku IN (`+inList(3, n)+`)
			ORDER BY CASE WHEN connector_id = $2 THEN 0 ELSE 1 END, created_at, id`, args...)
		if err != nil {
			return nil, err
		}
		for q.Next() {
			p, err := scanStoredProduct(q)
			if err != nil {
				q.Close()
				return nil, err
			}
			if out[p.sku] == nil {
				out[p.sku] = p
			}
		}
		q.Close()
		if err := q.Err(); err != nil {
			return nil, err
		}
		skus = skus[n:]
	}
	return out, nil
}

func (w *ImportWriter) updateProduct(ctx context.Context, p *storedProduct, r *ProductRow) (bool, error) {
	next := *p
	set := func(dst *string, v string) {
		if v != "" {
			*dst = v
		}
	}
	set(&next.name, r.Name)
	set(&next.description, r.Description)
	set(&next.sku, r.SKU)
	set(&next.category, r.Category)
	set(&next.imageURL, r.ImageURL)
	if r.PriceSet {
		next.price = r.Price
		set(&next.currency, r.Currency)
	}
	if r.Tags != nil {
		next.tags = r.Tags
	}
	if next.name == p.name && next.description == p.description && next.sku == p.sku && next.category == p.category &&
		next.imageURL == p.imageURL && next.price == p.price && next.currency == p.currency && slices.Equal(next.tags, p.tags) {
		return false, nil
	}
	_, err := w.tx.ExecContext(ctx, `UPDATE products SET name = $3, description = $4, sku = $5, category = $6, price = $7,
			currency = $8, image_url = $9, tags = $10, updated_at = $11
		WHERE publisher_id = $1 AND id = $2`,
		w.pub, p.id, next.name, next.description, next.sku, next.category, next.price, next.currency, next.imageURL,
		phantomos.JSONList(next.tags), w.now)
	if err != nil {
		return false, fmt.Errorf("update product %q: %w", r.ExternalID, err)
	}
	*p = next
	return true, nil
}

func (w *ImportWriter) insertProduct(ctx context.Context, externalID string, r *ProductRow, status string) (string, error) {
	id := phantomos.NewID()
	category := r.Category
	if category == "" {
		category = phantomos.CategoryOther
	}
	currency := r.Currency
	if currency == "" {
		currency = w.reporting
	}
	_, err := w.tx.ExecContext(ctx, `INSERT INTO products (id, publisher_id, connector_id, external_id, name, description, sku,
			category, price, currency, image_url, tags, mapping_status, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $14)`,
		id, w.pub, w.connectorID, externalID, r.Name, r.Description, r.SKU, category, r.Price, currency, r.ImageURL,
		phantomos.JSONList(r.Tags), status, w.now)
	if err != nil {
		return "", fmt.Errorf("insert product %q: %w", externalID, err)
	}
	return id, nil
}

// --- sales ------------------------------------------------------------------

// saleRecord is a sale ready to write, in column order of importSaleColumns.
type saleRecord struct {
	productID, orderID, lineID     string
	orderDate                      time.Time
	day                            phantomos.Day
	quantity                       int64
	gross, discount, refunded, net int64
	currency                       string
	netR, grossR, discountR, refR  int64
	country, region, channel       string
	shipping, tax, tip, chargesRef int64
	fxRate                         float64
	refundedAt                     time.Time     // zero: none or unknown
	refundDay                      phantomos.Day // "": none or unknown
	orderUpdatedAt                 time.Time     // zero: unknown
	hasOrder                       bool
	orderName                      string
	line                           int64
}

var importSaleColumns = []string{
	"publisher_id", "product_id", "connector_id", "external_order_id", "external_line_id",
	"order_date", "day", "quantity", "gross", "discount", "refunded", "net", "currency",
	"net_reporting", "gross_reporting", "discount_reporting", "refunded_reporting",
	"country", "region", "channel", "shipping", "tax", "tip", "charges_refunded", "fx_rate",
	"refunded_at", "refund_day", "order_updated_at", "has_order", "updated_at",
}

func (w *ImportWriter) saleValues(x *saleRecord) []any {
	d := w.s.dialect
	day := d.dayValue(x.day)
	var refundedAt, refundDay any
	if x.refundDay != "" {
		refundedAt, refundDay = x.refundedAt, d.dayValue(x.refundDay)
	}
	var orderUpdatedAt any
	if !x.orderUpdatedAt.IsZero() {
		orderUpdatedAt = x.orderUpdatedAt
	}
	var pub, product, connector any = string(w.pub), x.productID, w.connectorID
	if d == Postgres {
		// COPY takes ids as their 16 bytes (see pgcopy.go).
		pub, product, connector = copyID(string(w.pub)), copyID(x.productID), copyID(w.connectorID)
	}
	return []any{
		pub, product, connector, x.orderID, x.lineID,
		x.orderDate, day, x.quantity, x.gross, x.discount, x.refunded, x.net, x.currency,
		x.netR, x.grossR, x.discountR, x.refR,
		x.country, x.region, x.channel, x.shipping, x.tax, x.tip, x.chargesRef, x.fxRate,
		refundedAt, refundDay, orderUpdatedAt, x.hasOrder, w.now,
	}
}

// saleUpsertTail makes an insert of sales idempotent: an existing line is
// updated only when something differs, and remembers the day (and refund
// day) it had.
var saleUpsertTail = func() string {
	mutable := []string{
		"product_id", "order_date", "day", "quantity", "gross", "discount", "refunded", "net", "currency",
		"net_reporting", "gross_reporting", "discount_reporting", "refunded_reporting",
		"country", "region", "channel", "shipping", "tax", "tip", "charges_refunded", "fx_rate", "has_order",
	}
	var set, diff []string
	for _, c := range mutable {
		set = append(set, c+" = excluded."+c)
		diff = append(diff, "sales."+c+" <> excluded."+c)
	}
	for _, c := range []string{"refunded_at", "refund_day", "order_updated_at"} { // nullable
		set = append(set, c+" = excluded."+c)
		diff = append(diff, "sales."+c+" IS DISTINCT FROM excluded."+c)
	}
	return ` ON CONFLICT (publisher_id, connector_id, external_order_id, external_line_id) DO UPDATE SET ` +
		strings.Join(set, ", ") + `, updated_at = excluded.updated_at, prev_day = sales.day, prev_refund_day = sales.refund_day WHERE ` +
		strings.Join(diff, " OR ")
}()

// sqliteSaleChunk is the rows of one SQLite upsert statement: enough to
// amortise the statement, few enough that preparing it stays cheap.
const sqliteSaleChunk = 100

// WriteSales converts a batch of sale lines to the reporting currency,
// resolves (or creates, unmapped) their products and upserts them. A line
// without an FX rate for its day is refused, and so is an (order, line) key
// that the import already had: one import holds each line once. Orders are
// written whole, newest version wins (see SaleRow): the lines of an order
// that the import does not have are deleted when it finishes.
func (w *ImportWriter) WriteSales(ctx context.Context, rows []SaleRow) error {
	if err := w.loadRates(ctx); err != nil {
		return err
	}
	if err := w.startOrders(ctx); err != nil {
		return fmt.Errorf("sales: %w", err)
	}
	w.records = w.records[:0]
	valid := make([]*SaleRow, 0, len(rows))
	var removed []RemovedOrder
	for i := range rows {
		r := &rows[i]
		if r.Removed {
			if r.OrderID == "" {
				w.Reject(RowError{Line: r.Line, Reason: "the sale has no order id"}, 1)
				continue
			}
			removed = append(removed, RemovedOrder{ID: r.OrderID, UpdatedAt: r.UpdatedAt})
			w.rep.Skipped++
			continue
		}
		rec, ok := w.convert(r)
		if !ok {
			continue
		}
		w.records = append(w.records, rec)
		valid = append(valid, r)
	}
	if len(removed) > 0 && !w.Stopped() {
		n, err := w.RemoveOrders(ctx, removed)
		w.rep.Deleted += n
		if err != nil {
			return fmt.Errorf("sales: %w", err)
		}
	}
	var err error
	if valid, err = w.dropDuplicateLines(ctx, valid); err != nil {
		return fmt.Errorf("sales: %w", err)
	}
	if w.Stopped() || len(valid) == 0 {
		return nil
	}
	// An order deleted as of this version or later stays deleted.
	if valid, err = w.dropTombstoned(ctx, valid); err != nil {
		return fmt.Errorf("sales: %w", err)
	}
	if len(valid) == 0 {
		return nil
	}
	if valid, err = w.dropStaleOrders(ctx, valid); err != nil {
		return fmt.Errorf("sales: %w", err)
	}
	if len(valid) == 0 {
		return nil
	}
	if err := w.resolveProducts(ctx, valid); err != nil {
		return fmt.Errorf("sales: products: %w", err)
	}
	for i, r := range valid {
		w.records[i].productID = w.products[saleProductKey(r)]
	}
	return w.upsertSales(ctx, w.records)
}

// convert validates r and computes its record, or refuses it.
func (w *ImportWriter) convert(r *SaleRow) (saleRecord, bool) {
	// Parsers guarantee these; a connector feeding the writer may not.
	var bad string
	switch {
	case r.OrderID == "" || r.LineID == "":
		bad = "the sale has no order or line id"
	case r.OrderDate.IsZero():
		bad = "the sale has no date"
	case len(r.Currency) != 3:
		bad = "the sale has no currency"
	case r.ProductID == "" && r.SKU == "" && r.Name == "":
		bad = "the sale names no product"
	}
	if bad != "" {
		w.Reject(RowError{Line: r.Line, Value: r.OrderID, Reason: bad}, 1)
		return saleRecord{}, false
	}
	if e, ok := w.spec.checkText(r.Line, r.textFields()); !ok {
		w.Reject(e, 1)
		return saleRecord{}, false
	}
	if limit := w.now.Add(MaxFutureSkew); r.OrderDate.After(limit) {
		w.Reject(RowError{Line: r.Line, Column: w.spec.column("date"), Value: r.OrderDate.UTC().Format(time.RFC3339),
			Reason: fmt.Sprintf("the order date is in the future (after %s)", limit.Format(time.RFC3339))}, 1)
		return saleRecord{}, false
	}
	if limit := w.now.Add(MaxFutureSkew); r.UpdatedAt.After(limit) {
		// A version from the future would win over every later update.
		w.Reject(RowError{Line: r.Line, Column: w.spec.column("updated"), Value: r.UpdatedAt.UTC().Format(time.RFC3339),
			Reason: fmt.Sprintf("the order's update time is in the future (after %s)", limit.Format(time.RFC3339))}, 1)
		return saleRecord{}, false
	}
	day := phantomos.DayOf(r.OrderDate, w.loc)
	rate, ok := w.rate(r.Currency, day)
	if !ok {
		reason := fmt.Sprintf("no exchange rate from %s to %s on %s", r.Currency, w.reporting, day)
		if w.spec.FXFallbackDays > 0 {
			reason += fmt.Sprintf(" or the %d days before", w.spec.FXFallbackDays)
		}
		w.Reject(RowError{Line: r.Line, Column: w.spec.column("currency"), Value: r.Currency,
			Reason: reason + "; import FX rates (date,currency,rate) first"}, 1)
		return saleRecord{}, false
	}
	conv := func(v int64) int64 { return convertMinor(v, r.Currency, w.reporting, rate) }
	rec := saleRecord{
		orderID: r.OrderID, lineID: r.LineID, orderName: r.OrderName, line: r.Line,
		orderDate: r.OrderDate.UTC().Truncate(time.Microsecond), day: day, quantity: r.Quantity,
		gross: r.Gross, discount: r.Discount, refunded: r.Refunded, net: r.Gross - r.Discount - r.Refunded,
		currency: r.Currency, country: r.Country, region: r.Region, channel: r.Channel,
		shipping: r.Shipping, tax: r.Tax, tip: r.Tip, chargesRef: r.ChargesRefunded, fxRate: rate, hasOrder: !r.NoOrder,
	}
	// Each amount is converted once and net derived, so that reporting
	// amounts reconcile exactly: net = gross - discount - refunded.
	rec.grossR, rec.discountR, rec.refR = conv(r.Gross), conv(r.Discount), conv(r.Refunded)
	rec.netR = rec.grossR - rec.discountR - rec.refR
	// A refund date means something only for a refunded line; the refund is
	// converted at the order day's rate like the rest of the line, so that
	// the line's amounts reconcile whichever day its refund is booked on.
	// File parsers refuse a refund dated before its order; one that comes
	// from a sync anyway (a back-dated order) is booked with its order
	// rather than stopping the sync.
	if !r.UpdatedAt.IsZero() {
		rec.orderUpdatedAt = r.UpdatedAt.UTC().Truncate(time.Microsecond)
	}
	if !r.RefundedAt.IsZero() && r.Refunded != 0 {
		rec.refundedAt = r.RefundedAt.UTC().Truncate(time.Microsecond)
		rec.refundDay = max(phantomos.DayOf(r.RefundedAt, w.loc), day)
	}
	return rec, true
}

// convertMinor converts minor units of from into minor units of to at
// rate, rounding half away from zero. The same currency converts exactly.
func convertMinor(v int64, from, to string, rate float64) int64 {
	if from == to {
		return v
	}
	scale := math.Pow10(phantomos.MinorDigits(to) - phantomos.MinorDigits(from))
	return int64(math.Round(float64(v) * rate * scale))
}

func (w *ImportWriter) loadRates(ctx context.Context) error {
	if w.rates != nil {
		return nil
	}
	w.rates = map[string][]fxPoint{}
	rows, err := w.tx.QueryContext(ctx, `SELECT currency, day, rate FROM fx_rates WHERE publisher_id = $1 ORDER BY currency, day`, w.pub)
	if err != nil {
		return fmt.Errorf("fx rates: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var cur string
		var day any
		var rate float64
		if err := rows.Scan(&cur, &day, &rate); err != nil {
			return fmt.Errorf("fx rates: %w", err)
		}
		d, err := dayValue(day)
		if err != nil {
			return fmt.Errorf("fx rates: %w", err)
		}
		w.rates[cur] = append(w.rates[cur], fxPoint{d, rate})
	}
	return rows.Err()
}

// rate returns the rate of currency cur on day: the day's own, or the most
// recent of the FXFallbackDays before it.
func (w *ImportWriter) rate(cur string, day phantomos.Day) (float64, bool) {
	if cur == w.reporting {
		return 1, true
	}
	if w.lastRateCur == cur && w.lastRateDay == day {
		return w.lastRate, w.lastRateOK
	}
	pts := w.rates[cur]
	i := sort.Search(len(pts), func(i int) bool { return pts[i].day > day }) - 1
	var rate float64
	ok := false
	if i >= 0 {
		age := day.Time().Sub(pts[i].day.Time())
		if age <= time.Duration(w.spec.FXFallbackDays)*24*time.Hour {
			rate, ok = pts[i].rate, true
		}
	}
	w.lastRateCur, w.lastRateDay, w.lastRate, w.lastRateOK = cur, day, rate, ok
	return rate, ok
}

// dayValue reads a DATE column: a time on PostgreSQL, text or a time on SQLite.
func dayValue(v any) (phantomos.Day, error) {
	switch x := v.(type) {
	case phantomos.Day:
		return x, nil
	case time.Time:
		return phantomos.Day(x.UTC().Format(time.DateOnly)), nil
	case string:
		if len(x) >= 10 {
			return phantomos.Day(x[:10]), nil
		}
	case []byte:
		if len(x) >= 10 {
			return phantomos.Day(x[:10]), nil
		}
	case nil:
		return "", nil
	}
	return "", fmt.Errorf("unexpected day value %v (%T)", v, v)
}

// saleProductKey identifies the product of a sale line for the cache.
func saleProductKey(r *SaleRow) string {
	switch {
	case r.ProductID != "":
		return "e\x00" + r.ProductID
	case r.SKU != "":
		return "s\x00" + r.SKU
	}
	return "n\x00" + r.Name
}

// saleExternalID is the external id a product created for r gets, and the
// one it is looked up by in the import's connector.
func saleExternalID(r *SaleRow) string {
	switch {
	case r.ProductID != "":
		return r.ProductID
	case r.SKU != "":
		return r.SKU
	}
	return "name:" + r.Name
}

// resolveProducts fills the product cache for every line of rows.
func (w *ImportWriter) resolveProducts(ctx context.Context, rows []*SaleRow) error {
	missing := w.unresolved(rows)
	if len(missing) == 0 {
		return nil
	}
	// 1. By external id in this connector.
	byExt, err := w.productsByExternalID(ctx, missing)
	if err != nil {
		return err
	}
	// 1b. By a shared external id among all the publisher's products.
	var shared []string
	for _, r := range missing {
		if _, ok := byExt[saleExternalID(r)]; !ok && r.SharedProductID && r.ProductID != "" {
			shared = append(shared, r.ProductID)
		}
	}
	byShared := map[string]string{}
	for i := 0; i < len(shared); i += lookupChunk {
		part := shared[i:min(i+lookupChunk, len(shared))]
		args := []any{w.pub}
		for _, id := range part {
			args = append(args, id)
		}
		w.s.productLookups.Add(1)
		q, err := w.tx.QueryContext(ctx, `SELECT external_id, id FROM products WHERE publisher_id = $1 AND external_id IN (`+inList(2, len(part))+`)
			ORDER BY created_at, id`, args...)
		if err != nil {
			return err
		}
		for q.Next() {
			var ext, id string
			if err := q.Scan(&ext, &id); err != nil {
				q.Close()
				return err
			}
			if _, ok := byShared[ext]; !ok {
				byShared[ext] = id
			}
		}
		q.Close()
		if err := q.Err(); err != nil {
			return err
		}
	}
	var skus, names []string
	rest := missing[:0:0]
	for _, r := range missing {
		if id, ok := byExt[saleExternalID(r)]; ok {
			w.products[saleProductKey(r)] = id
			continue
		}
		if id, ok := byShared[r.ProductID]; ok && r.SharedProductID {
			w.products[saleProductKey(r)] = id
			continue
		}
		rest = append(rest, r)
		switch {
		case r.SKU != "":
			skus = append(skus, r.SKU)
		case r.ProductID == "":
			names = append(names, r.Name)
		}
	}
	// 2. By SKU, then (for lines that name their product only) by name,
	// among all the publisher's products.
	bySKU := map[string]*storedProduct{}
	if len(skus) > 0 {
		if bySKU, err = w.productsBySKU(ctx, skus); err != nil {
			return err
		}
	}
	byName := map[string]string{}
	for i := 0; i < len(names); i += lookupChunk {
		part := names[i:min(i+lookupChunk, len(names))]
		args := []any{w.pub, w.connectorID}
		for _, n := range part {
			args = append(args, n)
		}
		w.s.productLookups.Add(1)
		q, err := w.tx.QueryContext(ctx, `SELECT name, id FROM products WHERE publisher_id = $1 AND name IN (`+inList(3, len(part))+`)
			ORDER BY CASE WHEN connector_id = $2 THEN 0 ELSE 1 END, created_at, id`, args...)
		if err != nil {
			return err
		}
		for q.Next() {
			var name, id string
			if err := q.Scan(&name, &id); err != nil {
				q.Close()
				return err
			}
			if _, ok := byName[name]; !ok {
				byName[name] = id
			}
		}
		q.Close()
		if err := q.Err(); err != nil {
			return err
		}
	}
	// 3. Unknown: create, unmapped, so the sale is kept and shows up for
	// tagging; the variants of one product share the product made for the
	// first of them.
	variants := map[string]string{}
	for _, r := range rest {
		k := saleProductKey(r)
		if p := bySKU[r.SKU]; r.SKU != "" && p != nil {
			w.products[k] = p.id
			continue
		}
		if id, ok := byName[r.Name]; r.SKU == "" && r.ProductID == "" && ok {
			w.products[k] = id
			continue
		}
		if r.ProductName != "" && r.ProductID == "" {
			id, err := w.variantProduct(ctx, r, variants)
			if err != nil {
				return err
			}
			w.products[k] = id
			continue
		}
		name := cmpOr(r.Name, r.SKU, r.ProductID)
		price := r.UnitPrice
		if price == 0 && r.Quantity > 0 {
			price = r.Gross / r.Quantity
		}
		id, err := w.insertProduct(ctx, saleExternalID(r), &ProductRow{Name: name, SKU: r.SKU, Category: r.Category,
			Price: price, Currency: r.Currency}, phantomos.MappingUnmapped)
		if err != nil {
			return err
		}
		w.products[k] = id
		w.rep.ProductsCreated++
	}
	return nil
}

// unresolved returns, one per product key, the rows whose product the
// import's cache does not hold yet (removed orders name none).
func (w *ImportWriter) unresolved(rows []*SaleRow) []*SaleRow {
	var missing []*SaleRow
	pending := map[string]bool{}
	for _, r := range rows {
		k := saleProductKey(r)
		if _, ok := w.products[k]; ok || pending[k] || r.Removed {
			continue
		}
		pending[k] = true
		missing = append(missing, r)
	}
	return missing
}

// productsByExternalID returns the ids of this connector's products whose
// external ids are those of rows, by external id.
func (w *ImportWriter) productsByExternalID(ctx context.Context, rows []*SaleRow) (map[string]string, error) {
	byExt := map[string]string{}
	for i := 0; i < len(rows); i += lookupChunk {
		part := rows[i:min(i+lookupChunk, len(rows))]
		args := []any{w.pub, w.connectorID}
		for _, r := range part {
			args = append(args, saleExternalID(r))
		}
		w.s.productLookups.Add(1)
		q, err := w.tx.QueryContext(ctx, `SELECT external_id, id FROM products
			WHERE publisher_id = $1 AND connector_id = $2 AND external_id IN (`+inList(3, len(part))+`)`, args...)
		if err != nil {
			return nil, err
		}
		for q.Next() {
			var ext, id string
			if err := q.Scan(&ext, &id); err != nil {
				q.Close()
				return nil, err
			}
			byExt[ext] = id
		}
		q.Close()
		if err := q.Err(); err != nil {
			return nil, err
		}
	}
	return byExt, nil
}

// PrefetchProducts looks up, in one go, the products of rows that this
// connector already holds by external id, for the WriteSales calls of
// those rows that follow in this import: a push group writes eight
// batches of about a thousand lines, each of which would otherwise look
// up the products new to it. Only that first step of a line's resolution
// is taken ahead: its answer cannot change within the import (nothing
// here deletes a product or gives one another external id, and a product
// made later in the import has an external id none of these found). The
// other steps (a shared id, the SKU, the name) prefer products by
// connector and age, which a product made by an earlier batch of the
// import can change, so they stay with the batch; rows refused later made
// no product either way.
func (w *ImportWriter) PrefetchProducts(ctx context.Context, batches ...[]SaleRow) error {
	var rows []*SaleRow
	for _, b := range batches {
		for i := range b {
			rows = append(rows, &b[i])
		}
	}
	missing := w.unresolved(rows)
	if len(missing) == 0 {
		return nil
	}
	byExt, err := w.productsByExternalID(ctx, missing)
	if err != nil {
		return fmt.Errorf("sales: products: %w", err)
	}
	for _, r := range missing {
		if id, ok := byExt[saleExternalID(r)]; ok {
			w.products[saleProductKey(r)] = id
		}
	}
	return nil
}

// variantProduct returns the product that the variant r belongs to, by its
// ProductName within the import's connector, creating it (unmapped) the
// first time; made remembers those found or made during this import.
func (w *ImportWriter) variantProduct(ctx context.Context, r *SaleRow, made map[string]string) (string, error) {
	ext := "product:" + r.ProductName
	if id, ok := made[ext]; ok {
		return id, nil
	}
	var id string
	err := w.tx.QueryRowContext(ctx, `SELECT id FROM products WHERE publisher_id = $1 AND connector_id = $2 AND external_id = $3`,
		w.pub, w.connectorID, ext).Scan(&id)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		price := r.UnitPrice
		if price == 0 && r.Quantity > 0 {
			price = r.Gross / r.Quantity
		}
		id, err = w.insertProduct(ctx, ext, &ProductRow{Name: r.ProductName, Category: r.Category, Price: price, Currency: r.Currency}, phantomos.MappingUnmapped)
		if err != nil {
			return "", err
		}
		w.rep.ProductsCreated++
	case err != nil:
		return "", err
	}
	made[ext] = id
	return id, nil
}

func cmpOr(vals ...string) string {
	for _, v := range vals {
		if v != "" {
			return v
		}
	}
	return ""
}

func (w *ImportWriter) upsertSales(ctx context.Context, recs []saleRecord) error {
	// The lines of an order that did not exist before the import are new:
	// the import holds each line key once (dropDuplicateLines), so none of
	// them can be in sales. They go in by a plain insert (COPY on
	// PostgreSQL), without the upsert's lookups and returned rows; were one
	// there after all, the insert fails and the import with it. A first
	// backfill is all new lines.
	fresh := 0
	for i := range recs {
		if !w.orders.existed[recs[i].orderID] {
			recs[fresh], recs[i] = recs[i], recs[fresh]
			fresh++
		}
	}
	if fresh > 0 {
		if err := w.insertFreshSales(ctx, recs[:fresh]); err != nil {
			return fmt.Errorf("sales: %w", err)
		}
		recs = recs[fresh:]
	}
	if len(recs) == 0 {
		return nil
	}
	var err error
	if w.s.dialect == Postgres {
		err = w.upsertSalesPostgres(ctx, recs)
	} else {
		for len(recs) > 0 && err == nil {
			n := min(len(recs), sqliteSaleChunk)
			err = w.upsertSalesSQLite(ctx, recs[:n])
			recs = recs[n:]
		}
	}
	if err != nil {
		return fmt.Errorf("sales: %w", err)
	}
	return nil
}

func (w *ImportWriter) upsertSalesSQLite(ctx context.Context, recs []saleRecord) error {
	// A line the statement inserted has no previous day: an update always
	// sets one (see saleUpsertTail).
	stmt, done, err := w.salesChunkStmt(ctx, &w.salesStmt, `INSERT INTO`, len(recs),
		saleUpsertTail+` RETURNING prev_day IS NULL, day, prev_day, refund_day, prev_refund_day, external_order_id`)
	if err != nil {
		return err
	}
	defer done()
	ncol := len(importSaleColumns)
	args := make([]any, 0, len(recs)*ncol)
	for i := range recs {
		args = append(args, w.saleValues(&recs[i])...)
	}
	rows, err := stmt.QueryContext(ctx, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	var changed int64
	var changedOrders []string
	for rows.Next() {
		var inserted bool
		var order string
		var day, prev, refundDay, prevRefundDay any
		if err := rows.Scan(&inserted, &day, &prev, &refundDay, &prevRefundDay, &order); err != nil {
			return err
		}
		changed++
		changedOrders = append(changedOrders, order)
		if inserted {
			w.rep.Inserted++
		} else {
			w.rep.Updated++
		}
		if err := w.spanAny(day, prev, refundDay, prevRefundDay); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return err
	}
	rows.Close()
	w.rep.Skipped += int64(len(recs)) - changed
	return w.orders.markChanged(ctx, w.tx, changedOrders)
}

// insertFreshSales inserts lines that cannot be in sales yet (see
// upsertSales) and counts them as inserted.
func (w *ImportWriter) insertFreshSales(ctx context.Context, recs []saleRecord) error {
	for i := range recs {
		w.span(recs[i].day)
		w.span(recs[i].refundDay)
	}
	if w.fold != nil && w.fold.lines+len(recs) > w.s.foldLimit() {
		w.fold = nil // the fold takes all the new orders from sales instead
	}
	if w.fold != nil {
		for i := range recs {
			w.fold.addLine(&recs[i], w.connectorID, w.refundDate)
		}
	}
	if w.s.dialect == Postgres {
		// Gathered into COPYs of freshCopyRows lines or more (flushFresh).
		if w.pendingOrders == nil {
			w.pendingOrders = map[string]struct{}{}
		}
		w.pending = append(w.pending, recs...)
		for i := range recs {
			w.pendingOrders[recs[i].orderID] = struct{}{}
		}
		w.rep.Inserted += int64(len(recs))
		if len(w.pending) >= freshCopyRows {
			return w.flushFresh(ctx)
		}
		return nil
	}
	ncol := len(importSaleColumns)
	for len(recs) > 0 {
		n := min(len(recs), sqliteSaleChunk)
		// FAIL rather than the default ABORT: a statement that may abort
		// halfway through a transaction makes SQLite copy every page it
		// touches to a statement journal first. FAIL keeps the rows a
		// failed statement wrote, which is safe here: a failed import is
		// rolled back whole.
		stmt, done, err := w.salesChunkStmt(ctx, &w.freshStmt, `INSERT OR FAIL INTO`, n, "")
		if err != nil {
			return err
		}
		defer done()
		args := make([]any, 0, n*ncol)
		for i := range recs[:n] {
			args = append(args, w.saleValues(&recs[i])...)
		}
		if _, err := stmt.ExecContext(ctx, args...); err != nil {
			return err
		}
		w.rep.Inserted += int64(n)
		recs = recs[n:]
	}
	return nil
}

// freshCopyRows is how many new lines an import on PostgreSQL gathers
// before it copies them into sales. A push group writes its batches of
// 1,000 lines one by one, and a COPY of 1,000 lines cost half as much
// again per line as one of 10,000 (the client encodes rows while the
// server inserts them, and a short COPY has little to overlap); a file's
// batches are 10,000 lines already.
const freshCopyRows = 10_000

// flushFresh copies the gathered new lines into sales. Whatever reads or
// deletes the import's lines in sales calls it first: the end of the
// import (run), the stored-order lookup of a batch that holds one of their
// orders again (flushFor), and the writer methods that delete orders
// (RemoveOrders, DeleteOrders, DeleteOrder). The other writer methods
// touch other tables, or only the lines of orders that existed before the
// import (ReplaceOrders), never gathered ones.
func (w *ImportWriter) flushFresh(ctx context.Context) error {
	if len(w.pending) == 0 {
		return nil
	}
	if err := w.copySales(ctx, "sales", w.pending); err != nil {
		return fmt.Errorf("sales: %w", err)
	}
	clear(w.pending) // their strings may go
	w.pending = w.pending[:0]
	clear(w.pendingOrders)
	return nil
}

// flushFor calls flushFresh when a record of recs belongs to an order
// whose lines are gathered.
func (w *ImportWriter) flushFor(ctx context.Context, recs []saleRecord) error {
	if len(w.pending) == 0 {
		return nil
	}
	for i := range recs {
		if _, ok := w.pendingOrders[recs[i].orderID]; ok {
			return w.flushFresh(ctx)
		}
	}
	return nil
}

// salesChunkStmt returns the SQLite statement "<verb> sales (columns)
// VALUES" with n rows of parameters, then tail. A statement of a full chunk
// (sqliteSaleChunk rows) is prepared once per import and kept in *cache;
// done closes any other.
func (w *ImportWriter) salesChunkStmt(ctx context.Context, cache **sql.Stmt, verb string, n int, tail string) (stmt *sql.Stmt, done func(), err error) {
	return chunkStatement(ctx, w.tx, cache, sqliteSaleChunk, n, func(rows int) string {
		return verb + ` sales (` + strings.Join(importSaleColumns, ", ") + `) VALUES ` + valuesRows(len(importSaleColumns), rows) + tail
	})
}

// chunkStatement returns query(rows) prepared in tx for a chunk of rows
// rows: a full chunk's (size rows) is prepared once and kept in *full, for
// its caller to close; a shorter one is prepared alone and closed by done.
func chunkStatement(ctx context.Context, tx *sql.Tx, full **sql.Stmt, size, rows int, query func(rows int) string) (stmt *sql.Stmt, done func(), err error) {
	if *full != nil && rows == size {
		return *full, func() {}, nil
	}
	if stmt, err = tx.PrepareContext(ctx, query(rows)); err != nil {
		return nil, nil, err
	}
	if rows == size {
		*full = stmt
		return stmt, func() {}, nil
	}
	return stmt, func() { stmt.Close() }, nil
}

// valuesRows returns the VALUES list of rows rows of cols anonymous
// parameters: "(?, ?), (?, ?)". The SQLite driver looks a numbered or
// named parameter up by a linear scan, which is quadratic over a statement
// of thousands.
func valuesRows(cols, rows int) string {
	row := "(" + strings.TrimSuffix(strings.Repeat("?, ", cols), ", ") + ")"
	return strings.TrimSuffix(strings.Repeat(row+", ", rows), ", ")
}

// spanAny widens the import's reported range of days by the days a line
// has and had (DATE values as scanned; NULLs are skipped). The rollups of
// those days follow from the order deltas (see rollup_delta.go).
func (w *ImportWriter) spanAny(days ...any) error {
	for _, v := range days {
		d, err := dayValue(v)
		if err != nil {
			return err
		}
		w.span(d)
	}
	return nil
}

// upsertSalesPostgres copies the batch into a temporary table and upserts
// it from there in one statement, which returns only a count per day.
func (w *ImportWriter) upsertSalesPostgres(ctx context.Context, recs []saleRecord) error {
	if !w.pgTemp {
		if _, err := w.tx.ExecContext(ctx, pgTempTable("ingest_sales", `AS SELECT `+strings.Join(importSaleColumns, ", ")+` FROM sales WITH NO DATA`)); err != nil {
			return err
		}
		w.pgTemp = true
	}
	if err := w.copySales(ctx, "ingest_sales", recs); err != nil {
		return err
	}
	cols := strings.Join(importSaleColumns, ", ")
	// The orders that existed before the import and had a line changed
	// are marked in the import's order ledger by the same statement.
	rows, err := w.tx.QueryContext(ctx, `WITH w AS (
			INSERT INTO sales (`+cols+`) SELECT `+cols+` FROM ingest_sales`+saleUpsertTail+`
			RETURNING (xmax = 0) AS inserted, day, prev_day, refund_day, prev_refund_day, external_order_id),
		c AS (UPDATE ingest_orders SET changed = 1 WHERE existed = 1 AND changed = 0
			AND order_id IN (SELECT external_order_id FROM w))
		SELECT inserted, day, prev_day, refund_day, prev_refund_day, COUNT(*) FROM w
		GROUP BY inserted, day, prev_day, refund_day, prev_refund_day`)
	if err != nil {
		return err
	}
	var changed int64
	for rows.Next() {
		var inserted bool
		var day, prev, refundDay, prevRefundDay any
		var n int64
		if err := rows.Scan(&inserted, &day, &prev, &refundDay, &prevRefundDay, &n); err != nil {
			rows.Close()
			return err
		}
		changed += n
		if inserted {
			w.rep.Inserted += n
		} else {
			w.rep.Updated += n
		}
		if err := w.spanAny(day, prev, refundDay, prevRefundDay); err != nil {
			rows.Close()
			return err
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	w.rep.Skipped += int64(len(recs)) - changed
	_, err = w.tx.ExecContext(ctx, `TRUNCATE ingest_sales`)
	return err
}

// copySales copies recs into table (sales, or the import's staging table)
// by COPY, inside the import's transaction (PostgreSQL).
func (w *ImportWriter) copySales(ctx context.Context, table string, recs []saleRecord) error {
	return w.conn.Raw(func(dc any) error {
		pc := dc.(*stdlib.Conn).Conn()
		i := -1
		src := pgx.CopyFromFunc(func() ([]any, error) {
			i++
			if i >= len(recs) {
				return nil, nil
			}
			return w.saleValues(&recs[i]), nil
		})
		_, err := pc.CopyFrom(ctx, pgx.Identifier{table}, importSaleColumns, src)
		return err
	})
}

// --- assets -----------------------------------------------------------------

// WriteAssets upserts a batch of assets, creating their game IPs (matched by
// slug) on demand. An asset is matched by game IP and name; its type and
// aliases are updated.
func (w *ImportWriter) WriteAssets(ctx context.Context, rows []AssetRow) error {
	defer w.countCatalog()()
	if w.Stopped() {
		return nil
	}
	for i := range rows {
		r := &rows[i]
		gid, err := w.gameIP(ctx, r.GameIP)
		if err != nil {
			return fmt.Errorf("assets: %w", err)
		}
		var id, typ, aliases string
		err = w.tx.QueryRowContext(ctx, `SELECT id, asset_type, aliases FROM ip_assets WHERE publisher_id = $1 AND game_ip_id = $2 AND name = $3`,
			w.pub, gid, r.Name).Scan(&id, &typ, &aliases)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			_, err = w.tx.ExecContext(ctx, `INSERT INTO ip_assets (id, publisher_id, game_ip_id, name, asset_type, aliases, created_at, updated_at)
				VALUES ($1, $2, $3, $4, $5, $6, $7, $7)`, phantomos.NewID(), w.pub, gid, r.Name, r.AssetType, phantomos.JSONList(r.Aliases), w.now)
			if err != nil {
				return fmt.Errorf("assets: insert %q: %w", r.Name, err)
			}
			w.rep.Inserted++
		case err != nil:
			return fmt.Errorf("assets: %w", err)
		case typ == r.AssetType && slices.Equal(decodeList(aliases), nonNil(r.Aliases)):
			w.rep.Skipped++
		default:
			_, err = w.tx.ExecContext(ctx, `UPDATE ip_assets SET asset_type = $3, aliases = $4, updated_at = $5 WHERE publisher_id = $1 AND id = $2`,
				w.pub, id, r.AssetType, phantomos.JSONList(r.Aliases), w.now)
			if err != nil {
				return fmt.Errorf("assets: update %q: %w", r.Name, err)
			}
			w.rep.Updated++
		}
	}
	return nil
}

func nonNil(l []string) []string {
	if l == nil {
		return []string{}
	}
	return l
}

func (w *ImportWriter) gameIP(ctx context.Context, name string) (string, error) {
	slug := GameIPSlug(name)
	if id, ok := w.gameIPs[slug]; ok {
		return id, nil
	}
	_, err := w.tx.ExecContext(ctx, `INSERT INTO game_ips (id, publisher_id, name, slug, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, $5) ON CONFLICT (publisher_id, slug) DO NOTHING`, phantomos.NewID(), w.pub, name, slug, w.now)
	if err != nil {
		return "", fmt.Errorf("game IP %q: %w", name, err)
	}
	var id string
	if err := w.tx.QueryRowContext(ctx, `SELECT id FROM game_ips WHERE publisher_id = $1 AND slug = $2`, w.pub, slug).Scan(&id); err != nil {
		return "", fmt.Errorf("game IP %q: %w", name, err)
	}
	w.gameIPs[slug] = id
	return id, nil
}

// GameIPSlug derives the slug a game IP named name is stored under: lower
// case letters and digits, words joined by dashes ("Star Quest II" →
// "star-quest-ii"). It is empty when name has no letter or digit.
func GameIPSlug(name string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(name) {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			if dash && b.Len() > 0 {
				b.WriteByte('-')
			}
			dash = false
			b.WriteRune(r)
			continue
		}
		dash = true
	}
	return b.String()
}

// --- FX rates ---------------------------------------------------------------

// WriteFXRates upserts a batch of exchange rates. A rate for the reporting
// currency itself must be 1. Sales already stored keep the rate they were
// converted at; re-importing them converts them again.
func (w *ImportWriter) WriteFXRates(ctx context.Context, rows []FXRow) error {
	defer w.countCatalog()()
	for i := range rows {
		r := &rows[i]
		if r.Currency == w.reporting && r.Rate != 1 {
			w.Reject(RowError{Line: r.Line, Column: w.spec.column("rate"), Value: fmt.Sprint(r.Rate),
				Reason: fmt.Sprintf("%s is the reporting currency, so its rate must be 1", r.Currency)}, 1)
		}
	}
	if w.Stopped() {
		return nil
	}
	for i := range rows {
		r := &rows[i]
		if r.Currency == w.reporting {
			w.rep.Skipped++
			continue
		}
		var rate float64
		err := w.tx.QueryRowContext(ctx, `SELECT rate FROM fx_rates WHERE publisher_id = $1 AND currency = $2 AND day = $3`,
			w.pub, r.Currency, string(r.Day)).Scan(&rate)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			_, err = w.tx.ExecContext(ctx, `INSERT INTO fx_rates (publisher_id, day, currency, rate, created_at, updated_at)
				VALUES ($1, $2, $3, $4, $5, $5)`, w.pub, string(r.Day), r.Currency, r.Rate, w.now)
			if err != nil {
				return fmt.Errorf("fx rates: %w", err)
			}
			w.rep.Inserted++
		case err != nil:
			return fmt.Errorf("fx rates: %w", err)
		case rate == r.Rate:
			w.rep.Skipped++
		default:
			_, err = w.tx.ExecContext(ctx, `UPDATE fx_rates SET rate = $4, updated_at = $5 WHERE publisher_id = $1 AND currency = $2 AND day = $3`,
				w.pub, r.Currency, string(r.Day), r.Rate, w.now)
			if err != nil {
				return fmt.Errorf("fx rates: %w", err)
			}
			w.rep.Updated++
		}
	}
	return nil
}

// CheckRollups compares every rollup of publisher pub (orders_daily,
// product_daily, geo_daily, product_weekly and the monthly ones) with a
// fresh
// aggregation of its sales, refunds booked as the publisher chooses, and
// reports any difference: they must always
// agree, whatever was imported or corrected.
func (s *Store) CheckRollups(ctx context.Context, pub phantomos.PublisherID) error {
	const sums = `SUM(quantity), SUM(gross_reporting), SUM(discount_reporting), SUM(refunded_reporting), SUM(net_reporting)`
	const amounts = `units, gross, discount, refunded, net`
	month := s.dialect.monthOf("day")
	p, err := s.Publisher(ctx, pub)
	if err != nil {
		return err
	}
	// Refunds are where the publisher's booking puts them (bookedSales).
	booked := bookedSales(p.Settings.RefundsOnRefundDate())
	checks := []struct{ name, stored, fresh string }{
		{"orders_daily",
			`SELECT day, country, channel, connector_id, orders FROM orders_daily WHERE publisher_id = $1`,
			`SELECT day, country, channel, connector_id, COUNT(DISTINCT external_order_id) FROM sales WHERE publisher_id = $1 AND has_order
				GROUP BY day, country, channel, connector_id`},
		{"product_daily",
			`SELECT day, product_id, orders, ` + amounts + ` FROM product_daily WHERE publisher_id = $1`,
			`SELECT day, product_id, COUNT(DISTINCT external_order_id), ` + sums + ` FROM ` + booked + ` AS b WHERE publisher_id = $1
				GROUP BY day, product_id`},
		{"geo_daily",
			`SELECT day, country, channel, connector_id, orders, ` + amounts + ` FROM geo_daily WHERE publisher_id = $1`,
			`SELECT day, country, channel, connector_id, COUNT(DISTINCT external_order_id), ` + sums + ` FROM ` + booked + ` AS b WHERE publisher_id = $1
				GROUP BY day, country, channel, connector_id`},
		{"product_monthly",
			`SELECT month, product_id, orders, ` + amounts + ` FROM product_monthly WHERE publisher_id = $1`,
			// Orders are counted per day and summed over the month, as
			// product_daily does: an order has one day.
			`SELECT m, product_id, SUM(o), SUM(q), SUM(g), SUM(d), SUM(r), SUM(n) FROM (
				SELECT ` + month + ` AS m, day, product_id, COUNT(DISTINCT external_order_id) AS o, SUM(quantity) AS q,
					SUM(gross_reporting) AS g, SUM(discount_reporting) AS d, SUM(refunded_reporting) AS r, SUM(net_reporting) AS n
				FROM ` + booked + ` AS b WHERE publisher_id = $1 GROUP BY day, product_id) x GROUP BY m, product_id`},
		{"product_weekly",
			`SELECT week, product_id, orders, ` + amounts + ` FROM product_weekly WHERE publisher_id = $1`,
			`SELECT w, product_id, SUM(o), SUM(q), SUM(g), SUM(d), SUM(r), SUM(n) FROM (
				SELECT ` + s.dialect.weekOf("day") + ` AS w, day, product_id, COUNT(DISTINCT external_order_id) AS o, SUM(quantity) AS q,
					SUM(gross_reporting) AS g, SUM(discount_reporting) AS d, SUM(refunded_reporting) AS r, SUM(net_reporting) AS n
				FROM ` + booked + ` AS b WHERE publisher_id = $1 GROUP BY day, product_id) x GROUP BY w, product_id`},
		{"geo_monthly",
			`SELECT month, country, channel, connector_id, orders, ` + amounts + ` FROM geo_monthly WHERE publisher_id = $1`,
			`SELECT ` + month + `, country, channel, connector_id, COUNT(DISTINCT external_order_id), ` + sums + `
				FROM ` + booked + ` AS b WHERE publisher_id = $1 GROUP BY ` + month + `, country, channel, connector_id`},
	}
	for _, c := range checks {
		var stale, missing int64
		err := s.db.QueryRowContext(ctx, `SELECT
				(SELECT COUNT(*) FROM (`+c.stored+` EXCEPT `+c.fresh+`) AS a),
				(SELECT COUNT(*) FROM (`+c.fresh+` EXCEPT `+c.stored+`) AS b)`, pub).Scan(&stale, &missing)
		if err != nil {
			return fmt.Errorf("store: check rollups: %s: %w", c.name, err)
		}
		if stale > 0 || missing > 0 {
			return fmt.Errorf("store: %s of publisher %s disagrees with sales: %d stale rows, %d missing", c.name, pub, stale, missing)
		}
	}
	return nil
}
