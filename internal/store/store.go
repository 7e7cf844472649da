// Package store is the one database/sql implementation of PhantomOS storage.
// It runs the same portable SQL on SQLite (modernc.org/sqlite, the embedded
// default) and PostgreSQL (pgx); the few places where the engines differ
// (DDL, bulk load, error codes) live in dialect.go and the per-dialect
// migrations.
//
// Every method that reads or writes tenant data takes a
// phantomos.PublisherID and filters on it. A row of another publisher is
// not found, never forbidden.
package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
	_ "modernc.org/sqlite" // registers the "sqlite" driver

	"github.com/phantomos/phantomos"
)

// Store is a handle on the database. It is safe for concurrent use.
type Store struct {
	db      *sql.DB
	dialect Dialect
	// where names the database for messages, without credentials.
	where string
	// dsn is the address the store was opened with, for components that
	// open their own connections to the same database (the job queue).
	dsn string
	now func() time.Time
	// writeTurn, on SQLite, passes the file's one write lock between this
	// store's transactions (see beginWrite); nil on PostgreSQL.
	writeTurn chan struct{}
	// foldLines, when set, replaces maxFoldLines (tests; negative: no
	// import sums its deltas in memory).
	foldLines int
	// bulkFoldOrders, when set, replaces maxBulkFoldOrders (tests;
	// negative: bulk loads never sum their rollups in memory).
	bulkFoldOrders int
	// filterDeltaLines, when set, replaces maxFilterDeltaLines (tests).
	filterDeltaLines int
	// bulkFolds counts the bulk loads whose daily rollups were summed in
	// memory (tests tell by it which way a load took).
	bulkFolds atomic.Int64
	// productLookups counts the statements imports ran to look products
	// up (ProductLookups).
	productLookups atomic.Int64
	// filterDeltas counts the imports that moved the filter rollups by
	// their orders' deltas (advanceFilterRollups; tests tell by it).
	filterDeltas atomic.Int64
}

// ProductLookups returns how many statements imports have run to look
// products up (a sale line's by external id, shared id, SKU or name; a
// product row's by SKU) since the store was opened. `bench push` prints
// them per group of pushed batches.
func (s *Store) ProductLookups() int64 { return s.productLookups.Load() }

// DSN returns the address the store was opened with (it may hold
// credentials: never show it). The job queue opens its own connections
// to the same database with it.
func (s *Store) DSN() string { return s.dsn }

// Open connects to the database named by dsn: a postgres:// or
// postgresql:// URL selects PostgreSQL, anything else is a SQLite file path
// (optionally prefixed with sqlite: or file:). It checks that the database
// answers and can be written, and reports failures in one clear line that
// names the database and the cause.
func Open(ctx context.Context, dsn string) (*Store, error) {
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		return openPostgres(ctx, dsn)
	}
	return openSQLite(ctx, dsn)
}

func openPostgres(ctx context.Context, dsn string) (*Store, error) {
	where := redactURL(dsn)
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("database %s: invalid URL: %v", where, err)
	}
	if cfg.RuntimeParams == nil {
		cfg.RuntimeParams = map[string]string{}
	}
	// Timestamps are stored as UTC wall time; make the session agree.
	cfg.RuntimeParams["timezone"] = "UTC"
	// pgx prepares statements, and after five runs PostgreSQL may switch to
	// a generic plan that ignores the values: for date ranges and id lists
	// that can be a full scan instead of an index range. Plan each run.
	cfg.RuntimeParams["plan_cache_mode"] = "force_custom_plan"
	db := stdlib.OpenDB(*cfg)
	db.SetMaxOpenConns(20)
	// As many idle as open: under load, connections returned beyond the
	// idle limit are closed and reopened at once (a new backend each time).
	// Idle ones still close after five minutes.
	db.SetMaxIdleConns(20)
	db.SetConnMaxIdleTime(5 * time.Minute)
	pctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := db.PingContext(pctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("database %s: cannot connect to %s: %s", where, net.JoinHostPort(cfg.Host, fmt.Sprint(cfg.Port)), rootCause(err))
	}
	return &Store{db: db, dialect: Postgres, where: where, dsn: dsn, now: time.Now}, nil
}

func openSQLite(ctx context.Context, dsn string) (*Store, error) {
	path := strings.TrimPrefix(strings.TrimPrefix(dsn, "sqlite:"), "file:")
	if path == "" {
		path = "phantomos.db"
	}
	if i := strings.IndexByte(path, '?'); i >= 0 {
		path = path[:i]
	}
	where := path
	if err := checkWritable(path); err != nil {
		return nil, fmt.Errorf("database %s: %v", where, err)
	}
	q := url.Values{}
	q.Add("_pragma", fmt.Sprintf("busy_timeout(%d)", sqliteBusy.Milliseconds()))
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "foreign_keys(1)")
	q.Add("_pragma", "synchronous(NORMAL)")
	q.Add("_pragma", fmt.Sprintf("wal_autocheckpoint(%d)", SQLiteCheckpointPages))
	q.Add("_pragma", fmt.Sprintf("cache_size(-%d)", sqliteCacheKiB))
	q.Set("_time_format", "sqlite")
	// Write transactions take the write lock up front, so two writers wait
	// for each other (busy_timeout) instead of failing on lock upgrade.
	q.Set("_txlock", "immediate")
	db, err := sql.Open("sqlite", "file:"+path+"?"+q.Encode())
	if err != nil {
		return nil, fmt.Errorf("database %s: %v", where, err)
	}
	db.SetMaxOpenConns(8)
	// Keep them all: a page runs its queries side by side, and a closed
	// connection takes its page cache with it (database/sql keeps only two
	// idle by default, so every page reopened six, with cold caches).
	db.SetMaxIdleConns(8)
	pctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	// A schema read proves the file is a database and not exclusively locked.
	var n int
	if err := db.QueryRowContext(pctx, "SELECT count(*) FROM sqlite_master").Scan(&n); err != nil {
		db.Close()
		return nil, fmt.Errorf("database %s: %s", where, sqliteCause(err))
	}
	return &Store{db: db, dialect: SQLite, where: where, dsn: path, now: time.Now, writeTurn: make(chan struct{}, 1)}, nil
}

// checkWritable reports a read-only SQLite file or directory before the
// driver turns it into an obscure error on the first write.
func checkWritable(path string) error {
	if fi, err := os.Stat(path); err == nil {
		if fi.IsDir() {
			return errors.New("is a directory, not a database file")
		}
		f, err := os.OpenFile(path, os.O_RDWR, 0)
		if err != nil {
			if errors.Is(err, os.ErrPermission) {
				return errors.New("file is read-only (check its permissions)")
			}
			return err
		}
		return f.Close()
	}
	dir := filepath.Dir(path)
	if _, err := os.Stat(dir); err != nil {
		return fmt.Errorf("directory %s does not exist", dir)
	}
	probe, err := os.CreateTemp(dir, ".phantomos-probe-*")
	if err != nil {
		return fmt.Errorf("directory %s is not writable", dir)
	}
	probe.Close()
	return os.Remove(probe.Name())
}

func sqliteCause(err error) string {
	msg := err.Error()
	switch {
	case strings.Contains(msg, "database is locked") || strings.Contains(msg, "SQLITE_BUSY"):
		return "database is locked by another process (is another phantomos running on it?)"
	case strings.Contains(msg, "readonly") || strings.Contains(msg, "read-only"):
		return "file is read-only (check its permissions)"
	case strings.Contains(msg, "not a database") || strings.Contains(msg, "SQLITE_NOTADB"):
		return "file is not a SQLite database"
	}
	return msg
}

// rootCause strips the driver's wrapping down to the innermost message,
// which is the one that says what went wrong ("connection refused").
func rootCause(err error) string {
	for {
		next := errors.Unwrap(err)
		if next == nil {
			break
		}
		err = next
	}
	// pgx joins the errors of each address it tried, one per line; the
	// first says enough.
	msg, _, _ := strings.Cut(err.Error(), "\n")
	return msg
}

// redactURL returns the URL without its password, for messages and logs.
func redactURL(dsn string) string {
	u, err := url.Parse(dsn)
	if err != nil {
		return "(unparsable URL)"
	}
	return u.Redacted()
}

// Close closes the database.
func (s *Store) Close() error {
	return s.db.Close()
}

// Dialect returns the engine behind the store.
func (s *Store) Dialect() Dialect { return s.dialect }

// DB exposes the pool for metrics and tests that compare against raw SQL.
func (s *Store) DB() *sql.DB { return s.db }

// Where names the database for messages, without credentials.
func (s *Store) Where() string { return s.where }

// SetClock replaces the store's clock; tests use it to move time.
func (s *Store) SetClock(now func() time.Time) { s.now = now }

// nowUTC returns the current time in UTC, truncated to microseconds so that
// both engines store and return the same value.
func (s *Store) nowUTC() time.Time { return s.now().UTC().Truncate(time.Microsecond) }

// sqliteCacheKiB is the page cache of each SQLite connection, allocated as
// used. Pages read the rollups and a few days of lines, and the operating
// system caches the file anyway, so a larger cache mostly saves a copy: at
// 10M sales, 4 MiB and 16 MiB answered `bench http` and `bench analytics`
// equally fast, and the process peaked at 201 MB instead of 443 MB serving
// 64 connections (the cache costs about twice its size in memory).
const sqliteCacheKiB = 4096

// sqliteImportCacheKiB is the page cache of the connection an import (a
// file, a sync page, a push) writes through while it runs.
const sqliteImportCacheKiB = 131072

// SQLiteCheckpointPages is how large the WAL grows, in pages of 4 KiB,
// before a commit copies it into the database file (SQLite's default is
// 1,000). Each group of pushed batches dirties more than 1,000 pages, many
// of them the same index and rollup pages as the group before, so with
// the default every group's commit also rewrote them all in the file.
// Checkpointed every 40 MB, they are written there once for several
// groups: in `bench push`, builds alternating four times, a group's write
// took 324 ms on average instead of 361 ms, and the push 4.66 s instead of
// 5.13 s. A reader finds a page in a longer WAL through the same hash
// index; a crash replays at most this much more on the next open.
const SQLiteCheckpointPages = 10_000

// Ping checks that the database answers.
func (s *Store) Ping(ctx context.Context) error { return s.db.PingContext(ctx) }

// sqliteBusy is how long a SQLite write waits for the file's write lock
// (busy_timeout above) before it fails as busy.
const sqliteBusy = 5 * time.Second

// sqliteTurnWait is how long a SQLite write waits for this store's write
// turn (see beginWrite). An import holds the turn until it commits: about
// ten seconds for an upload of 32 MB, longer from the command line, and
// every other publisher's writes wait for it rather than fail.
const sqliteTurnWait = 2 * time.Minute

// sqliteRecordWait is how long a write that only records a use (a
// session's, an API key's) waits for the turn before it is skipped: the
// next use records it.
const sqliteRecordWait = 50 * time.Millisecond

// beginWrite waits for this store's turn to write, before a transaction
// begins, and returns what ends the turn, to call once the transaction has
// committed or rolled back. Every SQLite transaction here takes the file's
// write lock at BEGIN; writers that meet it taken poll for it with growing
// sleeps (busy_timeout), so eight concurrent pushes spent much of their
// time asleep while the lock was free. Waiting on a channel instead hands
// the lock over as soon as it is released. A turn not had within
// sqliteTurnWait goes ahead anyway and meets SQLite's own wait (a
// transaction that, by mistake, begins another inside it then fails as
// busy instead of waiting for ever). On PostgreSQL it does nothing.
func (s *Store) beginWrite(ctx context.Context) (end func()) {
	end, _ = s.takeTurn(ctx, sqliteTurnWait)
	return end
}

// takeTurn waits up to wait for the write turn; ok is false when it was
// not had (end then does nothing).
func (s *Store) takeTurn(ctx context.Context, wait time.Duration) (end func(), ok bool) {
	if s.writeTurn == nil {
		return func() {}, true
	}
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case s.writeTurn <- struct{}{}:
		return func() { <-s.writeTurn }, true
	case <-ctx.Done():
	case <-t.C:
	}
	return func() {}, false
}

// exec runs one write outside a transaction, in the write turn: on SQLite
// a write that met the lock of a long transaction (an import) failed after
// busy_timeout instead of waiting for it.
func (s *Store) exec(ctx context.Context, query string, args ...any) (sql.Result, error) {
	end := s.beginWrite(ctx)
	defer end()
	return s.db.ExecContext(ctx, query, args...)
}

// writeRow is QueryRowContext for a write that returns a row (… RETURNING),
// in the write turn, which it holds until Scan.
func (s *Store) writeRow(ctx context.Context, query string, args ...any) rowInTurn {
	end := s.beginWrite(ctx)
	return rowInTurn{s.db.QueryRowContext(ctx, query, args...), end}
}

// inTurn is the store as an execer whose every write takes the write turn
// (see exec). Helpers that write either in an import's transaction or on
// their own (finishPush, logPush, saveCursor, finishImportRun) are given
// it for the latter, never the pool itself.
type inTurn struct{ s *Store }

func (t inTurn) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	return t.s.exec(ctx, query, args...)
}

type rowInTurn struct {
	row *sql.Row
	end func()
}

func (r rowInTurn) Scan(dest ...any) error {
	defer r.end()
	return r.row.Scan(dest...)
}

// record runs a write that only records a use, unless the write turn
// stays taken (SQLite) for longer than sqliteRecordWait: then it is
// skipped, and what uses it does not wait for another publisher's import.
func (s *Store) record(ctx context.Context, query string, args ...any) error {
	end, ok := s.takeTurn(ctx, sqliteRecordWait)
	defer end()
	if !ok {
		return nil
	}
	_, err := s.db.ExecContext(ctx, query, args...)
	return err
}

// tx runs fn in a transaction, committing when it returns nil.
func (s *Store) tx(ctx context.Context, fn func(*sql.Tx) error) error {
	end := s.beginWrite(ctx)
	defer end()
	return s.inTx(ctx, fn)
}

// inTx is tx for a caller that holds the write turn already.
func (s *Store) inTx(ctx context.Context, fn func(*sql.Tx) error) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	if err := fn(tx); err != nil {
		tx.Rollback()
		return err
	}
	return tx.Commit()
}

// txAttempts bounds how often txRetry runs a transaction.
const txAttempts = 5

// txRetry is tx for writes that may lose a race with another writer (a
// deadlock or serialization failure on PostgreSQL, a busy SQLite file):
// fn is run again from the start, up to txAttempts times in all, so fn must
// read everything it decides on inside the transaction.
func (s *Store) txRetry(ctx context.Context, fn func(*sql.Tx) error) error {
	var err error
	for attempt := 1; ; attempt++ {
		err = s.tx(ctx, fn)
		if err == nil || !isRetryable(err) || attempt == txAttempts {
			return err
		}
		// A short, growing, jittered pause lets the winner commit.
		pause := time.Duration(attempt*attempt)*5*time.Millisecond + time.Duration(rand.Int64N(int64(5*time.Millisecond)))
		select {
		case <-ctx.Done():
			return err
		case <-time.After(pause):
		}
	}
}

// notFound turns sql.ErrNoRows into an ENOTFOUND error naming what.
func notFound(err error, what string) error {
	if errors.Is(err, sql.ErrNoRows) {
		return phantomos.Errorf(phantomos.ENOTFOUND, "%s not found.", what)
	}
	return err
}

// settleTables are the tables an import or a push writes, with the
// rollups: those whose dead rows an earlier round of a benchmark leaves.
const settleTables = `sales, products, orders_daily, product_daily, product_weekly, product_monthly, geo_daily, geo_monthly,
	import_runs, push_requests, push_log`

// Settle brings the database to rest before a timed part of a benchmark,
// so that what one part leaves behind is not paid by the next. On
// PostgreSQL it vacuums the tables imports write (an earlier round's
// deleted publishers leave their rows dead, and autovacuum came to them
// in the middle of the next round) and takes a checkpoint (a role that
// may not is let be), so that one started by the earlier writes does not
// run through the next part; on SQLite it moves the WAL into the file.
// Measured before it, the push benchmark's rounds of one build differed
// by a factor of 1.8.
func (s *Store) Settle(ctx context.Context) error {
	if s.dialect == SQLite {
		if _, err := s.exec(ctx, `PRAGMA wal_checkpoint(TRUNCATE)`); err != nil {
			return fmt.Errorf("store: settle: %w", err)
		}
		return nil
	}
	if _, err := s.db.ExecContext(ctx, `VACUUM `+settleTables); err != nil {
		return fmt.Errorf("store: settle: %w", err)
	}
	if _, err := s.db.ExecContext(ctx, `CHECKPOINT`); err != nil && !isInsufficientPrivilege(err) {
		return fmt.Errorf("store: settle: %w", err)
	}
	return nil
}
