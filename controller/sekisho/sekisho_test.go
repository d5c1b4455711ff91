package sekisho_test

import (
	"errors"
	"fmt"
	"slices"
	"testing"

	"github.com/sekisho/sekisho/controller/sekisho"
)

// Every kind is in the table once, with a severity the board knows.
func TestKindsTable(t *testing.T) {
	seen := map[sekisho.AlarmKind]bool{}
	for _, k := range sekisho.Kinds {
		if seen[k.Kind] {
			t.Errorf("%s twice", k.Kind)
		}
		seen[k.Kind] = true
		if !slices.Contains([]sekisho.Severity{sekisho.Warning, sekisho.High, sekisho.Critical}, k.Severity) {
			t.Errorf("%s: severity %q", k.Kind, k.Severity)
		}
		if !sekisho.KnownKind(k.Kind) || sekisho.SeverityOf(k.Kind) != k.Severity {
			t.Errorf("%s: not found by its own table", k.Kind)
		}
	}
	if sekisho.KnownKind("made_up") {
		t.Error("a made-up kind is known")
	}
}

// A refusal is matched by type and keeps its stable word through wrapping.
func TestRefusal(t *testing.T) {
	err := fmt.Errorf("desk: %w", sekisho.Refuse("not_today", "the visit is for 2026-12-04"))
	var r *sekisho.Refusal
	if !errors.Is(err, sekisho.ErrRefused) || !errors.As(err, &r) || r.Code != "not_today" {
		t.Fatalf("%v", err)
	}
	if errors.Is(err, sekisho.ErrNotFound) {
		t.Fatal("a refusal matched not found")
	}
}

// The checks shared by the import, the form and an edit.
func TestChecks(t *testing.T) {
	rules := sekisho.Rules{
		Level: func(id string) bool { return id == "staff" },
		CheckCard: func(format string, facility, number uint64) error {
			if facility > 255 {
				return errors.New("facility over 255")
			}
			return nil
		},
	}
	tests := []struct {
		name string
		card sekisho.Credential
		pin  string
		bad  int
	}{
		{"a plain card", sekisho.Credential{Facility: 12, Number: 345}, "", 0},
		{"facility too big", sekisho.Credential{Facility: 999, Number: 1}, "", 1},
		{"raw without hex", sekisho.Credential{Format: "raw"}, "", 1},
		{"short PIN", sekisho.Credential{Facility: 1, Number: 1}, "12", 1},
		{"dates backwards", sekisho.Credential{Facility: 1, Number: 1, ValidFrom: "2026-12-02T00:00:00+09:00", ValidUntil: "2026-12-01T00:00:00+09:00"}, "", 1},
		{"a date not a date", sekisho.Credential{Facility: 1, Number: 1, ValidUntil: "friday"}, "", 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := tt.card
			if got := sekisho.CheckCard(&c, tt.pin, rules); len(got) != tt.bad {
				t.Fatalf("problems %q, want %d", got, tt.bad)
			}
		})
	}
	c := sekisho.Credential{Number: 1, ValidUntil: "2026-12-31T23:59:59+09:00"}
	sekisho.CheckCard(&c, "", rules)
	if c.Format != "H10301" || c.ValidUntil != "2026-12-31T14:59:59Z" {
		t.Fatalf("stored form: %+v", c)
	}
	p := sekisho.Person{Name: "", Kind: "", Levels: []string{"staff", "vault"}}
	if got := sekisho.CheckPerson(&p, rules); len(got) != 2 || p.Kind != sekisho.KindEmployee {
		t.Fatalf("person problems %q, kind %q", got, p.Kind)
	}
}
