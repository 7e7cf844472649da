package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
)

// InterruptedImport is the error report of an import whose process ended
// (killed, crashed, the machine restarted) before it committed. Its
// transaction was rolled back, so none of its rows were written.
const InterruptedImport = "The import was interrupted: the server stopped before it finished, and nothing of it was written. Import the file again."

// holdImportRun marks, inside an import's transaction, that run id is alive
// for as long as that transaction is. On PostgreSQL it takes a
// transaction-scoped advisory lock, which the server releases when the
// transaction ends or its connection dies, whatever the process did; on
// SQLite the import's write transaction already holds the database's
// write lock, which serves the same purpose.
func (s *Store) holdImportRun(ctx context.Context, tx *sql.Tx, id string) error {
	if s.dialect != Postgres || id == "" {
		return nil
	}
	if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock(hashtextextended('phantomos.import_run:' || $1, 0))`, id); err != nil {
		return fmt.Errorf("store: hold import run: %w", err)
	}
	return nil
}

// InterruptImportRuns marks as failed, with the report InterruptedImport,
// the import runs of every publisher that are still "running" but whose
// process is gone, and returns how many. serve calls it at start-up.
//
// It is safe with several replicas, and with a CLI import running beside
// the server: a run is only marked when nothing holds it (holdImportRun).
// On PostgreSQL each running run's advisory lock is tried: a run whose
// lock is free has no live transaction. On SQLite a write transaction is
// begun: it starts only when no import holds the write lock, and then
// every run still "running" is orphaned. If an import is in progress
// (the lock stays busy), nothing is marked this time. A run started in the
// instant between its row and its transaction could be marked too early;
// its own finish then overwrites the state, so it never stays wrong.
func (s *Store) InterruptImportRuns(ctx context.Context) (int, error) {
	report, err := json.Marshal([]RowError{{Reason: InterruptedImport}})
	if err != nil {
		return 0, err
	}
	mark := `UPDATE import_runs SET state = 'failed', finished_at = $1, updated_at = $1, error_report = $2 WHERE state = 'running'`
	if s.dialect == SQLite {
		// An import of this process holds the turn: it is alive.
		end, ok := s.takeTurn(ctx, sqliteRecordWait)
		defer end()
		if !ok {
			return 0, nil
		}
		var n int64
		err := s.inTx(ctx, func(tx *sql.Tx) error {
			res, err := tx.ExecContext(ctx, mark, s.nowUTC(), string(report))
			if err != nil {
				return err
			}
			n, err = res.RowsAffected()
			return err
		})
		if isRetryable(err) {
			return 0, nil // an import is running now
		}
		if err != nil {
			return 0, fmt.Errorf("store: interrupt import runs: %w", err)
		}
		return int(n), nil
	}

	rows, err := s.db.QueryContext(ctx, `SELECT CAST(id AS TEXT) FROM import_runs WHERE state = 'running' ORDER BY started_at LIMIT 10000`)
	if err != nil {
		return 0, fmt.Errorf("store: interrupt import runs: %w", err)
	}
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return 0, fmt.Errorf("store: interrupt import runs: %w", err)
		}
		ids = append(ids, id)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, fmt.Errorf("store: interrupt import runs: %w", err)
	}
	n := 0
	for _, id := range ids {
		err := s.tx(ctx, func(tx *sql.Tx) error {
			var free bool
			if err := tx.QueryRowContext(ctx, `SELECT pg_try_advisory_xact_lock(hashtextextended('phantomos.import_run:' || $1, 0))`, id).Scan(&free); err != nil {
				return err
			}
			if !free {
				return nil // its import is alive on some process
			}
			res, err := tx.ExecContext(ctx, mark+` AND id = $3`, s.nowUTC(), string(report), id)
			if err != nil {
				return err
			}
			k, _ := res.RowsAffected()
			n += int(k)
			return nil
		})
		if err != nil {
			return n, fmt.Errorf("store: interrupt import run %s: %w", id, err)
		}
	}
	return n, nil
}
