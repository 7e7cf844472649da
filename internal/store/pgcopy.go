package store

import "github.com/google/uuid"

// COPY on PostgreSQL sends every value in the binary format of its column,
// and pgx encodes a Go string into a uuid or date column only by a detour:
// it first fails to encode it (building an error message that quotes the
// value), then parses the text and encodes the result. For a bulk load of a
// million lines that detour was a quarter of the loader's CPU (2.1 s of
// 8 s, three ids and a day a line). Values bound for COPY are therefore
// given in the column's own shape: ids as their 16 bytes, days as times
// (Dialect.dayValue).

// copyID returns id as the 16 bytes of a uuid column, for COPY; an id that
// is no UUID stays text, for PostgreSQL to refuse with its own error.
func copyID(id string) any {
	if u, err := uuid.Parse(id); err == nil {
		return [16]byte(u)
	}
	return id
}

// copyIDs replaces, in row, the text ids at positions at by copyID's.
func copyIDs(row []any, at ...int) {
	for _, i := range at {
		if s, ok := row[i].(string); ok {
			row[i] = copyID(s)
		}
	}
}
