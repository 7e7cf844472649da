package store

import (
	"errors"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/phantomos/phantomos"
)

// Dialect names a database engine.
type Dialect string

// The engines the store runs on.
const (
	SQLite   Dialect = "sqlite"
	Postgres Dialect = "postgres"
)

// isUniqueViolation reports whether err is a unique-constraint failure on
// either engine.
func isUniqueViolation(err error) bool {
	if pgErr, ok := errors.AsType[*pgconn.PgError](err); ok {
		return pgErr.Code == "23505"
	}
	return err != nil && strings.Contains(err.Error(), "UNIQUE constraint failed")
}

// orderLines returns a relation, named sales, of the lines of publisher
// $1 and connector $2 whose order is one of the ids the subquery sub
// selects (an import's orders, from its temporary tables; each id once).
//
// On PostgreSQL each id is looked up in the sales key (a nested loop over
// the ids, the OFFSET keeping the lookup from being planned as a join).
// Planned as a join, the lookup followed the statistics: a connector they
// put at next to no lines (a new source, or one grown since the last
// ANALYZE) had all its lines read and hashed against the ids, so that each
// push group or import page of a growing source read more than the one
// before; and an array of the ids (= ANY) was then checked line by line, a
// search of the whole array for each of the connector's lines. SQLite
// probes the key for each id of an IN.
func (d Dialect) orderLines(sub string) string {
	if d == Postgres {
		return `(SELECT l.* FROM (` + sub + `) AS k (order_id) CROSS JOIN LATERAL
			(SELECT * FROM sales WHERE publisher_id = $1 AND connector_id = $2 AND external_order_id = k.order_id OFFSET 0) AS l) AS sales`
	}
	return `(SELECT * FROM sales WHERE publisher_id = $1 AND connector_id = $2 AND external_order_id IN (` + sub + `)) AS sales`
}

// linesOfOrders returns orderLines for the orders ids, given as
// parameters from $3 on, and their arguments: on PostgreSQL one array, so
// each id is looked up in the key (an IN list of the same ids was planned
// as a scan of the connector's lines, checking each against the list, when
// the statistics put the connector at next to no lines); on SQLite one
// parameter per id.
func (d Dialect) linesOfOrders(ids []string) (from string, args []any) {
	sub, args := d.orderIDs(ids)
	return d.orderLines(sub), args
}

// orderIDs returns the subquery of orderLines that selects the orders ids,
// given as parameters from $3 on, and their arguments (see linesOfOrders).
func (d Dialect) orderIDs(ids []string) (sub string, args []any) {
	if d == Postgres {
		return `SELECT unnest(CAST($3 AS TEXT[]))`, []any{ids}
	}
	args = make([]any, len(ids))
	for i, id := range ids {
		args[i] = id
	}
	return inList(3, len(ids)), args
}

// pgTempTable returns the PostgreSQL statement creating the temporary
// table name, whose definition def is a column list or "AS query", for the
// life of the connection: the first transaction to need it creates it, and
// every commit empties it (a rollback takes back what its transaction put
// in), so a transaction always finds it empty. Each must therefore fill it
// once. Created and dropped by each transaction instead, a table cost its
// catalog rows twice, about 1 ms (pgbench: a transaction making six took
// 11.5 ms, 5 ms with them kept), and an import used a dozen.
func pgTempTable(name, def string) string {
	if rest, ok := strings.CutPrefix(def, "AS "); ok {
		return `CREATE TEMP TABLE IF NOT EXISTS ` + name + ` ON COMMIT DELETE ROWS AS ` + rest
	}
	return `CREATE TEMP TABLE IF NOT EXISTS ` + name + ` ` + def + ` ON COMMIT DELETE ROWS`
}

// dayValue returns day as a parameter or COPY value of a DATE column: a
// time on PostgreSQL (whose COPY would take a slow detour for text; see
// pgcopy.go), the "2006-01-02" text SQLite keeps.
func (d Dialect) dayValue(day phantomos.Day) any {
	if d == Postgres {
		return day.Time()
	}
	return string(day)
}

// monthOf returns an expression giving the "YYYY-MM" month of a DATE column.
func (d Dialect) monthOf(col string) string {
	if d == Postgres {
		return "to_char(" + col + ", 'YYYY-MM')"
	}
	return "substr(" + col + ", 1, 7)"
}

// weekOf returns an expression for the Monday starting the week of a DATE
// column, as a DATE.
func (d Dialect) weekOf(col string) string {
	if d == Postgres {
		return "CAST(date_trunc('week', " + col + ") AS DATE)"
	}
	return "date(" + col + ", '-6 days', 'weekday 1')"
}

// DayText returns an expression giving a DATE column as "YYYY-MM-DD" text
// on either engine, for tests that compare days as strings.
func (s *Store) DayText(col string) string {
	if s.dialect == Postgres {
		return "to_char(" + col + ", 'YYYY-MM-DD')"
	}
	return "('' || " + col + ")" // an expression, so the driver does not parse it as a time
}

// bucket returns an expression giving, as "YYYY-MM-DD" text, the first day
// of the day, week (starting Monday) or month of a DATE column.
func (d Dialect) bucket(col, grain string) string {
	if d == Postgres {
		switch grain {
		case "week":
			return "to_char(date_trunc('week', " + col + "), 'YYYY-MM-DD')"
		case "month":
			return "to_char(date_trunc('month', " + col + "), 'YYYY-MM-DD')"
		}
		return "to_char(" + col + ", 'YYYY-MM-DD')"
	}
	switch grain {
	case "week":
		return "date(" + col + ", '-6 days', 'weekday 1')"
	case "month":
		return "(substr(" + col + ", 1, 8) || '01')"
	}
	return "('' || " + col + ")"
}

// forUpdate returns the row-locking suffix of a SELECT on PostgreSQL, and
// nothing on SQLite, whose write transactions (BEGIN IMMEDIATE, see
// openSQLite) already run one at a time.
func (d Dialect) forUpdate() string {
	if d == Postgres {
		return " FOR UPDATE"
	}
	return ""
}

// isRetryable reports whether err aborted a transaction that may simply be
// run again: a serialization failure or a deadlock on PostgreSQL, a busy
// database on SQLite (after busy_timeout ran out).
func isRetryable(err error) bool {
	if pgErr, ok := errors.AsType[*pgconn.PgError](err); ok {
		return pgErr.Code == "40001" || pgErr.Code == "40P01"
	}
	return err != nil && (strings.Contains(err.Error(), "SQLITE_BUSY") || strings.Contains(err.Error(), "database is locked"))
}

// isInsufficientPrivilege reports whether PostgreSQL refused err's
// statement to the role.
func isInsufficientPrivilege(err error) bool {
	pgErr, ok := errors.AsType[*pgconn.PgError](err)
	return ok && pgErr.Code == "42501"
}
