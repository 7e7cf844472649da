package store

import (
	"fmt"

	"github.com/google/uuid"
)

// COPY on PostgreSQL sends every value in the binary format of its column,
// and pgx encodes a Go string into a uuid or date column only by a detour:
// it first fails to encode it (building an error message that quotes the
// value), then parses the text and encodes the result. For a bulk load of a
// million lines that detour was a quarter of the loader's CPU (2.1 s of
// 8 s, three ids and a day a line). Values bound for COPY are therefore
// given in the column's own shape: ids as their 16 bytes, days as times.

// copyID returns id as the 16 bytes of a uuid column, for COPY.
func copyID(id string) ([16]byte, error) {
	u, err := uuid.Parse(id)
	if err != nil {
		return [16]byte{}, fmt.Errorf("id %q is not a UUID: %w", id, err)
	}
	return u, nil
}

// copyIDs replaces, in row, the ids at positions at by their 16 bytes.
func copyIDs(row []any, at ...int) error {
	for _, i := range at {
		s, ok := row[i].(string)
		if !ok {
			continue
		}
		u, err := copyID(s)
		if err != nil {
			return err
		}
		row[i] = u
	}
	return nil
}

// copyIDOrText returns id as its 16 bytes, or as the text it is when it is
// no UUID, for COPY to refuse with PostgreSQL's own error.
func copyIDOrText(id string) any {
	if u, err := copyID(id); err == nil {
		return u
	}
	return id
}
