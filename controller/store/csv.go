package store

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"

	"github.com/sekisho/sekisho/controller/sekisho"
	"github.com/sekisho/sekisho/controller/sheet"
)

// CSVHeader is the people file's columns: one row per card; a person with
// no card has one row with the card columns empty, and a person with two
// cards has two rows (the person's columns repeated).
var CSVHeader = []string{"id", "name", "kind", "company", "employee_number", "levels", "format", "facility", "number", "raw_hex", "pin", "valid_from", "valid_until", "enabled"}

// RowError is one bad row of an import.
type RowError struct {
	Line int    `json:"line"`
	Msg  string `json:"error"`
}

// MaxImportErrors is how many bad rows an import names; past them it only
// counts, so a file of a million bad rows costs no more than a hundred.
const MaxImportErrors = 100

// ImportErrors names the first bad rows and counts them all; nothing was
// written.
type ImportErrors struct {
	Rows  []RowError `json:"rows"`
	Total int        `json:"total"`
}

func (e *ImportErrors) add(r RowError) {
	e.Total++
	if len(e.Rows) < MaxImportErrors {
		e.Rows = append(e.Rows, r)
	}
}

func oneImportError(line int, msg string) ImportErrors {
	return ImportErrors{Rows: []RowError{{Line: line, Msg: msg}}, Total: 1}
}

func (e ImportErrors) Error() string {
	parts := make([]string, len(e.Rows))
	for i, r := range e.Rows {
		parts[i] = fmt.Sprintf("line %d: %s", r.Line, r.Msg)
	}
	more := ""
	if e.Total > len(e.Rows) {
		more = fmt.Sprintf("\n… and %d more", e.Total-len(e.Rows))
	}
	return "store: import refused, nothing written:\n" + strings.Join(parts, "\n") + more
}

// ImportResult counts what an import wrote.
type ImportResult struct {
	People int `json:"people"`
	Cards  int `json:"cards"`
}

// ImportCSV reads people and cards and writes them all in one transaction,
// or writes nothing and reports every bad row by line.
func (s *Store) ImportCSV(ctx context.Context, r io.Reader, rules sekisho.Rules) (ImportResult, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	var errs ImportErrors
	header, err := cr.Read()
	if err != nil {
		return ImportResult{}, oneImportError(1, "no header row: want "+strings.Join(CSVHeader, ","))
	}
	col := map[string]int{}
	for i, h := range header {
		col[strings.TrimSpace(strings.TrimPrefix(h, "\ufeff"))] = i
	}
	for _, need := range []string{"name"} {
		if _, ok := col[need]; !ok {
			return ImportResult{}, oneImportError(1, "the header has no "+need+" column")
		}
	}
	for h := range col {
		if !slices.Contains(CSVHeader, h) {
			errs.add(RowError{Line: 1, Msg: fmt.Sprintf("unknown column %q", h)})
		}
	}
	type row struct {
		line   int
		person sekisho.Person
		card   *sekisho.Credential
		pin    string
	}
	var rows []row
	people := map[string]sekisho.Person{}
	cards := map[string]int{} // format:facility:number:raw → line
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		line, _ := cr.FieldPos(0)
		if err != nil {
			errs.add(RowError{Line: line, Msg: err.Error()})
			continue
		}
		get := func(name string) string {
			if i, ok := col[name]; ok && i < len(rec) {
				return strings.TrimSpace(sheet.Plain(rec[i]))
			}
			return ""
		}
		bad := func(format string, args ...any) {
			errs.add(RowError{Line: line, Msg: fmt.Sprintf(format, args...)})
		}
		p := sekisho.Person{ID: get("id"), Name: get("name"), Kind: get("kind"), Company: get("company"), EmployeeNumber: get("employee_number")}
		if l := get("levels"); l != "" {
			for _, lv := range strings.Split(l, ";") {
				p.Levels = append(p.Levels, strings.TrimSpace(lv))
			}
		}
		for _, problem := range sekisho.CheckPerson(&p, rules) {
			bad("%s", problem)
		}
		if p.ID == "" {
			bad("id is empty: each person needs a stable id so a re-import updates nobody twice")
		} else if prev, ok := people[p.ID]; ok && (prev.Name != p.Name || prev.Kind != p.Kind) {
			bad("person %s appears again with a different name or kind", p.ID)
		}
		people[p.ID] = p
		rw := row{line: line, person: p, pin: get("pin")}
		if get("number") != "" || get("raw_hex") != "" {
			c := &sekisho.Credential{PersonID: p.ID, Format: get("format"), RawHex: get("raw_hex"), Enabled: get("enabled") != "false",
				ValidFrom: get("valid_from"), ValidUntil: get("valid_until")}
			var e1, e2 error
			if c.Format != "raw" {
				c.Facility, e1 = strconv.ParseUint(orZero(get("facility")), 10, 64)
				c.Number, e2 = strconv.ParseUint(get("number"), 10, 64)
			}
			if e1 != nil || e2 != nil {
				bad("facility and number must be whole numbers")
			} else {
				for _, problem := range sekisho.CheckCard(c, rw.pin, rules) {
					bad("%s", problem)
				}
			}
			key := fmt.Sprintf("%s:%d:%d:%s", c.Format, c.Facility, c.Number, c.RawHex)
			if first, dup := cards[key]; dup {
				bad("the same card as line %d", first)
			}
			cards[key] = line
			rw.card = c
		}
		if errs.Total == 0 {
			// Once a row is bad nothing is written: the rest are only checked.
			rows = append(rows, rw)
		}
	}
	if errs.Total > 0 {
		return ImportResult{}, errs
	}

	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return ImportResult{}, fmt.Errorf("store: import: %w", err)
	}
	defer tx.Rollback()
	var res ImportResult
	written := map[string]bool{}
	for _, rw := range rows {
		p := rw.person
		if !written[p.ID] {
			var deleted string
			if err := tx.QueryRowContext(ctx, `SELECT deleted_at FROM people WHERE id = ?`, p.ID).Scan(&deleted); err == nil && deleted != "" {
				// A file kept from before would otherwise bring back someone
				// deleted for a reason, with no one deciding it.
				errs.add(RowError{Line: rw.line, Msg: fmt.Sprintf("person %s was deleted at %s; give them a new id to add them again", p.ID, deleted)})
				continue
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO people (id, name, kind, company, employee_number, levels, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)
				ON CONFLICT (id) DO UPDATE SET name = excluded.name, kind = excluded.kind, company = excluded.company,
					employee_number = excluded.employee_number, levels = excluded.levels`,
				p.ID, p.Name, p.Kind, p.Company, p.EmployeeNumber, strings.Join(p.Levels, ","), now()); err != nil {
				errs.add(RowError{Line: rw.line, Msg: err.Error()})
				continue
			}
			written[p.ID] = true
			res.People++
		}
		if c := rw.card; c != nil {
			if rw.pin != "" {
				c.PINHash = sekisho.HashPIN(rw.pin)
			}
			var owner string
			err := tx.QueryRowContext(ctx, `SELECT person_id FROM credentials WHERE format = ? AND facility = ? AND number = ? AND raw_hex = ?`,
				c.Format, c.Facility, c.Number, c.RawHex).Scan(&owner)
			switch {
			case err == nil && owner != p.ID:
				errs.add(RowError{Line: rw.line, Msg: fmt.Sprintf("card %d:%d already belongs to %s", c.Facility, c.Number, owner)})
				continue
			case err == nil:
				_, err = tx.ExecContext(ctx, `UPDATE credentials SET enabled = ?, valid_from = ?, valid_until = ?, pin_hash = CASE WHEN ? = '' THEN pin_hash ELSE ? END
					WHERE format = ? AND facility = ? AND number = ? AND raw_hex = ?`,
					c.Enabled, c.ValidFrom, c.ValidUntil, c.PINHash, c.PINHash, c.Format, c.Facility, c.Number, c.RawHex)
			default:
				_, err = tx.ExecContext(ctx, `INSERT INTO credentials (person_id, format, facility, number, raw_hex, enabled, valid_from, valid_until, pin_hash, created_at)
					VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, p.ID, c.Format, c.Facility, c.Number, c.RawHex, c.Enabled, c.ValidFrom, c.ValidUntil, c.PINHash, now())
			}
			if err != nil {
				errs.add(RowError{Line: rw.line, Msg: err.Error()})
				continue
			}
			res.Cards++
		}
	}
	if errs.Total > 0 {
		return ImportResult{}, errs
	}
	if err := tx.Commit(); err != nil {
		return ImportResult{}, fmt.Errorf("store: import: %w", err)
	}
	s.cardsDidChange()
	return res, nil
}

func orZero(s string) string {
	if s == "" {
		return "0"
	}
	return s
}

// ExportCSV writes every person and card in the import's format (PINs are
// never exported; the column stays empty).
func (s *Store) ExportCSV(ctx context.Context, w io.Writer) error {
	holders, err := s.Cardholders(ctx)
	if err != nil {
		return err
	}
	people, err := s.People(ctx)
	if err != nil {
		return err
	}
	// Cells a spreadsheet would run as formulas are written as text, and
	// ImportCSV reads them back as they were.
	cw := sheet.NewWriter(w)
	cw.Write(CSVHeader)
	hasCard := map[string]bool{}
	for _, h := range holders {
		hasCard[h.Person.ID] = true
		p := h.Person
		cw.Write([]string{p.ID, p.Name, p.Kind, p.Company, p.EmployeeNumber, strings.Join(p.Levels, ";"), h.Format,
			strconv.FormatUint(h.Facility, 10), strconv.FormatUint(h.Number, 10), h.RawHex, "", h.ValidFrom, h.ValidUntil, strconv.FormatBool(h.Enabled)})
	}
	for _, p := range people {
		if !hasCard[p.ID] {
			cw.Write([]string{p.ID, p.Name, p.Kind, p.Company, p.EmployeeNumber, strings.Join(p.Levels, ";"), "", "", "", "", "", "", "", ""})
		}
	}
	return cw.Flush()
}
