// Package csvexport writes the CSV files PhantomOS hands out (exports,
// error reports, command output) so that a spreadsheet opening them never
// runs a formula planted in the data (CSV or formula injection,
// CWE-1236).
//
// Every CSV the product writes goes through Writer. A cell that a
// spreadsheet would read as a formula — one starting with '=', '+', '-',
// '@', a tab, a carriage return or a NUL (OWASP ASVS 5.0 requirement
// 1.2.10) — is written with a single quote in front, which spreadsheets
// take as "this is text". The value is otherwise unchanged, and the
// encoding/csv quoting (RFC 4180) still applies.
//
// Numbers are the one deliberate exception: a cell that is entirely a plain
// decimal number (an optional minus, digits, an optional fraction: what
// strconv and our money formatting write) is left alone, because a
// spreadsheet reads it as that number and as nothing else. A refund of
// -12.50 must stay a number a finance team can sum, not the text '-12.50.
// The decision is made on the cell's value rather than on the column, so
// that no caller can forget to mark a column: a product named "-5" also
// stays "-5", which is as harmless as the number.
package csvexport

import (
	"encoding/csv"
	"io"
)

// Writer is an encoding/csv Writer whose cells are neutralised by Cell.
type Writer struct {
	cw  *csv.Writer
	rec []string
}

// NewWriter returns a Writer writing to w.
func NewWriter(w io.Writer) *Writer {
	return &Writer{cw: csv.NewWriter(w)}
}

// Write writes one record, each cell through Cell. Like csv.Writer it
// buffers: call Flush, then Error.
func (w *Writer) Write(record []string) error {
	w.rec = w.rec[:0]
	for _, c := range record {
		w.rec = append(w.rec, Cell(c))
	}
	return w.cw.Write(w.rec)
}

// Flush writes any buffered data to the underlying io.Writer.
func (w *Writer) Flush() { w.cw.Flush() }

// Error reports any error from a previous Write or Flush.
func (w *Writer) Error() error { return w.cw.Error() }

// Cell returns s as it is safe to write in a CSV cell: unchanged when it
// is a plain decimal number or does not start with a formula character,
// otherwise with a single quote in front.
func Cell(s string) string {
	if s == "" {
		return s
	}
	switch s[0] {
	case '=', '+', '-', '@', '\t', '\r', 0:
		if isDecimal(s) {
			return s
		}
		return "'" + s
	}
	return s
}

// isDecimal reports whether s is -?digits(.digits)?, the only number
// shapes the product writes.
func isDecimal(s string) bool {
	if len(s) > 0 && s[0] == '-' {
		s = s[1:]
	}
	digits := func(s string) int {
		n := 0
		for n < len(s) && s[n] >= '0' && s[n] <= '9' {
			n++
		}
		return n
	}
	n := digits(s)
	if n == 0 {
		return false
	}
	s = s[n:]
	if s == "" {
		return true
	}
	if s[0] != '.' {
		return false
	}
	m := digits(s[1:])
	return m > 0 && m == len(s)-1
}
