package store

import (
	"errors"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"
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

// inIDs returns the condition that col is one of the ids the subquery sub
// selects (an import's orders, from its temporary tables). On PostgreSQL
// the ids are made an array once (= ANY(ARRAY(sub))), which is a condition
// of the index on col: with IN, a planner whose statistics put few lines
// under the import's connector (a new one, or one grown since the last
// ANALYZE) scanned all the connector's lines and hashed them against the
// ids, so that each page or push group of an import read more as the
// connector grew. SQLite probes the index for each id of an IN anyway.
func (d Dialect) inIDs(col, sub string) string {
	if d == Postgres {
		return col + " = ANY(ARRAY(" + sub + "))"
	}
	return col + " IN (" + sub + ")"
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
