package ingest

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"github.com/phantomos/phantomos"
	"github.com/phantomos/phantomos/internal/store"
)

// table reads a delimited file row by row: it strips a UTF-8 byte order
// mark, guesses the delimiter from the header line (tab, comma or
// semicolon), and remembers the header so that every error can name its
// line and column.
type table struct {
	r      *csv.Reader
	bound  *rowBound
	header []string       // as written in the file, trimmed
	index  map[string]int // normalised header name → first column with it
	rec    []string       // current record
	rows   int64          // data rows read
}

// MaxRowBytes bounds one row of a file (all its fields, quoted line breaks
// included): the CSV reader holds a whole row in memory, so this is what
// one row can cost, whatever the file.
const MaxRowBytes = 1 << 20

func openTable(r io.Reader) (*table, error) {
	br := bufio.NewReaderSize(r, 64<<10)
	if b, err := br.Peek(3); err == nil && bytes.Equal(b, []byte{0xEF, 0xBB, 0xBF}) {
		br.Discard(3)
	}
	// Peek blocks until it has the bytes or the input ends, so a short
	// file yields what there is.
	first, _ := br.Peek(16 << 10)
	bound := &rowBound{r: br, line: 1, start: 1}
	cr := csv.NewReader(bound)
	cr.Comma = sniffDelimiter(first)
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = true
	head, err := cr.Read()
	if bound.err != nil {
		return nil, bound.err
	}
	if errors.Is(err, io.EOF) {
		return nil, phantomos.Errorf(phantomos.EINVALID, "The file is empty: it needs a header row naming its columns.")
	}
	if err != nil {
		return nil, csvError(err)
	}
	t := &table{r: cr, bound: bound, index: map[string]int{}}
	t.header = make([]string, len(head))
	for i, h := range head {
		h = strings.TrimSpace(h)
		if !utf8.ValidString(h) || strings.IndexByte(h, 0) >= 0 {
			return nil, phantomos.Errorf(phantomos.EINVALID, "Line 1: the header is not UTF-8 text; save the file as UTF-8 CSV.")
		}
		t.header[i] = h
		if n := normName(h); n != "" {
			if _, dup := t.index[n]; !dup {
				t.index[n] = i
			}
		}
	}
	return t, nil
}

// sniffDelimiter picks the delimiter that occurs most in the first line,
// outside quotes. Comma wins ties.
func sniffDelimiter(b []byte) rune {
	counts := map[byte]int{}
	quoted := false
	for _, c := range b {
		if c == '"' {
			quoted = !quoted
			continue
		}
		if quoted {
			continue
		}
		if c == '\n' {
			break
		}
		if c == ',' || c == '\t' || c == ';' {
			counts[c]++
		}
	}
	best, n := byte(','), counts[',']
	for _, c := range []byte{'\t', ';'} {
		if counts[c] > n {
			best, n = c, counts[c]
		}
	}
	return rune(best)
}

// normName folds a header for matching: lower case, with _ - / and runs
// of spaces turned into single spaces ("Order_ID", "order-id" and
// "Order ID" all become "order id").
func normName(s string) string {
	var b strings.Builder
	space := false
	for _, r := range strings.ToLower(strings.TrimSpace(s)) {
		switch r {
		case '_', '-', '/', ' ', '\t':
			space = true
			continue
		}
		if space && b.Len() > 0 {
			b.WriteByte(' ')
		}
		space = false
		b.WriteRune(r)
	}
	return b.String()
}

// has reports whether every name is a column.
func (t *table) has(names ...string) bool {
	for _, n := range names {
		if _, ok := t.index[n]; !ok {
			return false
		}
	}
	return true
}

// col returns the first of the names that is a column, or -1.
func (t *table) col(names ...string) int {
	for _, n := range names {
		if i, ok := t.index[n]; ok {
			return i
		}
	}
	return -1
}

// next reads the next data row. It returns io.EOF at the end, and an
// EINVALID error naming the line for a file that is not valid CSV.
func (t *table) next() error {
	rec, err := t.r.Read()
	if t.bound.err != nil {
		return t.bound.err
	}
	if err != nil {
		if errors.Is(err, io.EOF) {
			return io.EOF
		}
		return csvError(err)
	}
	t.rec = rec
	t.rows++
	return nil
}

// syntaxError is a file that is not valid CSV: fatal, since rows can no
// longer be told apart. It unwraps to an EINVALID *phantomos.Error.
type syntaxError struct {
	row RowError
	err *phantomos.Error
}

func (e *syntaxError) Error() string { return e.err.Error() }
func (e *syntaxError) Unwrap() error { return e.err }

// csvError turns a CSV syntax error into a user error naming the line.
func csvError(err error) error {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		reason := fmt.Sprintf("the file is not valid CSV here (%v): fields with commas, quotes or line breaks must be quoted, and quotes inside them doubled", pe.Err)
		return &syntaxError{
			row: RowError{Line: int64(pe.Line), Reason: reason},
			err: phantomos.Errorf(phantomos.EINVALID, "Line %d, character %d: %s.", pe.Line, pe.Column, reason),
		}
	}
	return fmt.Errorf("ingest: read: %w", err)
}

// get returns field i of the current row, "" when i is -1 or the row is short.
func (t *table) get(i int) string {
	if i < 0 || i >= len(t.rec) {
		return ""
	}
	return strings.TrimSpace(t.rec[i])
}

// line returns the line the current row starts on.
func (t *table) line() int64 {
	l, _ := t.r.FieldPos(0)
	return int64(l)
}

// lineOf returns the line field i of the current row starts on.
func (t *table) lineOf(i int) int64 {
	if i < 0 || i >= len(t.rec) {
		return t.line()
	}
	l, _ := t.r.FieldPos(i)
	return int64(l)
}

// name returns the header of column i.
func (t *table) name(i int) string {
	if i < 0 || i >= len(t.header) {
		return ""
	}
	return t.header[i]
}

// errAt describes what is wrong with field i of the current row.
func (t *table) errAt(i int, format string, args ...any) RowError {
	return RowError{Line: t.lineOf(i), Column: t.name(i), Value: clip(t.get(i)), Reason: fmt.Sprintf(format, args...)}
}

// errMissing describes a required column the file lacks.
func (t *table) errMissing(what string, aliases ...string) error {
	return phantomos.Errorf(phantomos.EINVALID, "Line 1: the header has no %s column (accepted names: %s).", what, strings.Join(aliases, ", "))
}

// checkWidth refuses a row with more fields than the header; a shorter row
// reads its missing trailing fields as empty.
func (t *table) checkWidth() (RowError, bool) {
	if len(t.rec) > len(t.header) {
		return RowError{Line: t.line(), Column: t.name(len(t.header) - 1), Value: clip(strings.Join(t.rec[len(t.header):], ",")),
			Reason: fmt.Sprintf("the row has %d fields but the header has %d columns", len(t.rec), len(t.header))}, false
	}
	return RowError{}, true
}

// checkText refuses a row with a field that is not UTF-8 text or holds a
// NUL byte, naming the first such field: neither database can store them
// as text (PostgreSQL refuses them, SQLite would keep bytes no page can
// show), so they are caught here, in the preview as in the import.
func (t *table) checkText() (RowError, bool) {
	for i, f := range t.rec {
		if utf8.ValidString(f) && strings.IndexByte(f, 0) < 0 {
			continue
		}
		reason := "the field is not UTF-8 text; save the file as UTF-8 CSV"
		if strings.IndexByte(f, 0) >= 0 {
			reason = "the field contains a NUL byte, which text cannot hold"
		}
		name := t.name(i)
		if name == "" {
			name = fmt.Sprintf("column %d", i+1)
		}
		return RowError{Line: t.lineOf(i), Column: name, Value: clip(f), Reason: reason}, false
	}
	return RowError{}, true
}

// clip makes a value fit to quote in an error (see store.ClipValue).
func clip(s string) string { return store.ClipValue(s) }

// rowBound passes a file through to the CSV reader and stops it when one
// row exceeds MaxRowBytes, so a 10 MB field costs an error, not memory.
// It follows quotes to know where rows end: a line break inside a quoted
// field does not end the row (a doubled quote toggles twice).
type rowBound struct {
	r      io.Reader
	n      int64 // bytes of the current row so far
	quoted bool
	line   int64 // current line
	start  int64 // line the current row starts on
	err    error // set once the bound is hit
}

func (b *rowBound) Read(p []byte) (int, error) {
	if b.err != nil {
		return 0, b.err
	}
	n, err := b.r.Read(p)
	for _, c := range p[:n] {
		b.n++
		switch c {
		case '"':
			b.quoted = !b.quoted
		case '\n':
			b.line++
			if !b.quoted {
				b.n, b.start = 0, b.line
			}
		}
		if b.n > MaxRowBytes {
			reason := fmt.Sprintf("the row is longer than %d MiB, more than any real export holds (is a quote left open?)", MaxRowBytes>>20)
			b.err = &syntaxError{
				row: RowError{Line: b.start, Reason: reason},
				err: phantomos.Errorf(phantomos.EINVALID, "Line %d: %s.", b.start, reason),
			}
			return 0, b.err
		}
	}
	return n, err
}
