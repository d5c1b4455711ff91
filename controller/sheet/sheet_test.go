package sheet

import (
	"bytes"
	"encoding/csv"
	"testing"
)

// Every formula a spreadsheet would run is written as text, and what was
// written reads back as it was.
func TestCells(t *testing.T) {
	tests := []struct{ in, out string }{
		{"=HYPERLINK(\"http://evil\",\"x\")", "'=HYPERLINK(\"http://evil\",\"x\")"},
		{"=cmd|' /C calc'!A0", "'=cmd|' /C calc'!A0"},
		{"+81 53 000", "'+81 53 000"},
		{"-2+3", "'-2+3"},
		{"@SUM(A1)", "'@SUM(A1)"},
		{"\tTAB", "'\tTAB"},
		{"\rCR", "'\rCR"},
		{"'quoted", "''quoted"},
		{"伊藤 誠", "伊藤 誠"},
		{"2026-12-03T09:00:00+09:00", "2026-12-03T09:00:00+09:00"},
		{"", ""},
		{"'", "''"},
	}
	for _, tt := range tests {
		if got := Cell(tt.in); got != tt.out {
			t.Errorf("Cell(%q) = %q, want %q", tt.in, got, tt.out)
		}
		if back := Plain(Cell(tt.in)); back != tt.in {
			t.Errorf("Plain(Cell(%q)) = %q", tt.in, back)
		}
	}
	// A cell typed by hand with an apostrophe before a letter is kept.
	if Plain("'Brien") != "'Brien" {
		t.Error("a leading apostrophe before a letter was taken off")
	}
}

func TestWriter(t *testing.T) {
	var b bytes.Buffer
	w := NewWriter(&b)
	if err := w.Write([]string{"=1+1", "ok"}); err != nil {
		t.Fatal(err)
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	rec, err := csv.NewReader(&b).Read()
	if err != nil || rec[0] != "'=1+1" || rec[1] != "ok" {
		t.Fatalf("%q %v", rec, err)
	}
}

func FuzzCellRoundTrip(f *testing.F) {
	for _, s := range []string{"=A1", "''x", "'=", "-", "@", "plain"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		c := Cell(s)
		if c != "" && (c[0] == '=' || c[0] == '+' || c[0] == '-' || c[0] == '@' || c[0] == '\t' || c[0] == '\r') {
			t.Fatalf("Cell(%q) = %q starts a formula", s, c)
		}
		if Plain(c) != s {
			t.Fatalf("Plain(Cell(%q)) = %q", s, Plain(c))
		}
	})
}
