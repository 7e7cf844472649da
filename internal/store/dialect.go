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

// monthOf returns an expression giving the "YYYY-MM" month of a DATE column.
func (d Dialect) monthOf(col string) string {
	if d == Postgres {
		return "to_char(" + col + ", 'YYYY-MM')"
	}
	return "substr(" + col + ", 1, 7)"
}

// DayText returns an expression giving a DATE column as "YYYY-MM-DD" text
// on either engine, for tests that compare days as strings.
func (s *Store) DayText(col string) string {
	if s.dialect == Postgres {
		return "to_char(" + col + ", 'YYYY-MM-DD')"
	}
	return "('' || " + col + ")" // an expression, so the driver does not parse it as a time
}
