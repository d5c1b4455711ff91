// Package sheet writes the CSV files a manager opens in a spreadsheet, with
// every cell that a spreadsheet would run as a formula made plain text.
//
// A visitor typed at the desk as =HYPERLINK(…) or =cmd|' /C calc'!A0 would
// otherwise land in Excel as a live formula. As OWASP's CSV injection page
// advises, a cell beginning with =, +, -, @, a tab or a carriage return is
// written with a leading apostrophe, which the spreadsheet shows as text and
// does not show; so is a cell beginning with an apostrophe, so that Plain
// gives back exactly what was written and the people file still imports
// what it exported.
package sheet

import (
	"encoding/csv"
	"io"
	"strings"
)

// risky are the first characters a spreadsheet reads as the start of a
// formula (or that hide one after them), and the apostrophe that marks a
// neutralised cell.
const risky = "=+-@\t\r'"

// Cell is s as it is safe to write in a spreadsheet's cell.
func Cell(s string) string {
	if s != "" && strings.IndexByte(risky, s[0]) >= 0 {
		return "'" + s
	}
	return s
}

// Plain undoes Cell: the value as it was before it was written.
func Plain(s string) string {
	if len(s) > 1 && s[0] == '\'' && strings.IndexByte(risky, s[1]) >= 0 {
		return s[1:]
	}
	return s
}

// Writer is a csv.Writer that neutralises every cell.
type Writer struct {
	w *csv.Writer
}

// NewWriter writes CSV to w.
func NewWriter(w io.Writer) *Writer { return &Writer{w: csv.NewWriter(w)} }

// Write writes one row, each cell made safe.
func (w *Writer) Write(row []string) error {
	safe := make([]string, len(row))
	for i, c := range row {
		safe[i] = Cell(c)
	}
	return w.w.Write(safe)
}

// Flush sends what is buffered and reports a write error.
func (w *Writer) Flush() error {
	w.w.Flush()
	return w.w.Error()
}
