package site_test

import (
	"bytes"
	"encoding/csv"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/sekisho/sekisho/controller/event"
)

// raw fetches path with the admin's token.
func (ts *testSite) raw(method, path string, body io.Reader, contentType string) (int, []byte) {
	ts.t.Helper()
	req, _ := http.NewRequest(method, ts.base+path, body)
	req.Header.Set("Authorization", "Bearer "+ts.token)
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		ts.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, b
}

// A name typed as a formula reaches no spreadsheet as one: every export
// (the entry log, the visitor log, the people file) writes such a cell as
// text, and the people file still imports as it exported.
func TestExportsKeepFormulasAsText(t *testing.T) {
	t.Parallel()
	ts := startSite(t, "")
	live := ts.stream()
	const name, company = `=HYPERLINK("http://evil.example/","click")`, `=cmd|' /C calc'!A0`
	var p struct{ ID string }
	if code := ts.call("POST", "/api/people", map[string]any{"name": name, "company": company, "kind": "employee", "levels": []string{"staff"}}, &p); code != http.StatusCreated {
		t.Fatalf("person: %d", code)
	}
	if code := ts.call("POST", "/api/people/"+p.ID+"/credentials", map[string]any{"format": "H10301", "facility": 12, "number": 777}, nil); code != http.StatusCreated {
		t.Fatalf("card: %d", code)
	}
	if code := ts.call("POST", "/api/visits", map[string]any{"name": "@SUM(1+1)*cmd|' /C calc'!A0", "company": "+81-53-000", "host": "p-sato",
		"zones": []string{"lobby"}, "purpose": "-2+3"}, nil); code != http.StatusCreated {
		t.Fatalf("visit: %d", code)
	}
	ts.swipe("r-floor-out", 12, 777)
	await(t, live, "the swipe", func(ev event.Event) bool {
		return ev.Type == event.AccessGranted && ev.Person != nil && ev.Person.ID == p.ID
	})

	formulas := func(what string, b []byte) [][]string {
		t.Helper()
		rows, err := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(b, []byte("\ufeff")))).ReadAll()
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		for _, row := range rows {
			for _, cell := range row {
				if cell != "" && strings.ContainsRune("=+-@\t\r", rune(cell[0])) {
					t.Errorf("%s: a cell a spreadsheet would run: %q", what, cell)
				}
			}
		}
		return rows
	}
	has := func(rows [][]string, cell string) bool {
		for _, row := range rows {
			for _, c := range row {
				if c == cell {
					return true
				}
			}
		}
		return false
	}
	_, evs := ts.raw("GET", "/api/events.csv", nil, "")
	if rows := formulas("events.csv", evs); !has(rows, "'"+name) || !has(rows, "'"+company) {
		t.Errorf("events.csv does not keep the name as text")
	}
	_, visitors := ts.raw("GET", "/api/reports/visitors.csv", nil, "")
	if rows := formulas("visitors.csv", visitors); !has(rows, "'@SUM(1+1)*cmd|' /C calc'!A0") || !has(rows, "'-2+3") {
		t.Errorf("visitors.csv does not keep the visitor as text")
	}
	_, people := ts.raw("GET", "/api/people/export.csv", nil, "")
	formulas("people export", people)

	// The people file comes back in as it went out.
	if code, body := ts.raw("POST", "/api/people/import", bytes.NewReader(people), "text/csv"); code != http.StatusOK {
		t.Fatalf("import of the export: %d %s", code, body)
	}
	var got []struct{ ID, Name, Company string }
	ts.call("GET", "/api/people", nil, &got)
	found := false
	for _, g := range got {
		if g.ID == p.ID {
			found = true
			if g.Name != name || g.Company != company {
				t.Fatalf("after the round trip: %q %q", g.Name, g.Company)
			}
		}
	}
	if !found {
		t.Fatal("the person is gone after the round trip")
	}
}
