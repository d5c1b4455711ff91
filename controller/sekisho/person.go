package sekisho

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/sekisho/sekisho/controller/config"
	"github.com/sekisho/sekisho/controller/event"
	"github.com/sekisho/sekisho/firmware-bridge/rules"
)

// Kinds of person.
const (
	KindEmployee   = "employee"
	KindContractor = "contractor"
	KindVisitor    = "visitor"
)

// Person is someone who carries a card: an employee, contractor or visitor.
type Person struct {
	ID      string `json:"id"`
	Name    string `json:"name"`
	Kind    string `json:"kind"`
	Company string `json:"company"`
	// EmployeeNumber is the company's number for them, the same at every
	// plant: how head office names them in a revocation for all.
	EmployeeNumber string   `json:"employee_number,omitempty"`
	Levels         []string `json:"levels"`
	Photo          string   `json:"photo,omitempty"`
	CreatedAt      string   `json:"created_at"`
	// Disabled: every card of theirs is refused until they are enabled again.
	Disabled bool `json:"disabled"`
	// DeletedAt is set once the person is deleted: the row stays so the
	// log and the visitor book still name them.
	DeletedAt string `json:"deleted_at,omitempty"`
}

// Clone is p with a levels slice of its own.
func (p Person) Clone() Person {
	p.Levels = slices.Clone(p.Levels)
	return p
}

// Credential is a card bound to a person.
type Credential struct {
	ID         int64  `json:"id"`
	PersonID   string `json:"person_id"`
	Format     string `json:"format"`
	Facility   uint64 `json:"facility"`
	Number     uint64 `json:"number"`
	RawHex     string `json:"raw_hex,omitempty"`
	Enabled    bool   `json:"enabled"`
	ValidFrom  string `json:"valid_from,omitempty"`
	ValidUntil string `json:"valid_until,omitempty"`
	PINHash    string `json:"-"`
	HasPIN     bool   `json:"has_pin"`
}

// HashPIN salts and hashes a PIN for storage.
func HashPIN(pin string) string { return rules.HashPIN(pin) }

// CheckPIN reports whether pin is the card's PIN.
func (c Credential) CheckPIN(pin string) bool { return rules.CheckPIN(c.PINHash, pin) }

// ValidAt reports whether the credential is enabled and within its dates.
func (c Credential) ValidAt(t time.Time) bool {
	if !c.Enabled {
		return false
	}
	stamp := t.UTC().Format(time.RFC3339)
	return (c.ValidFrom == "" || stamp >= c.ValidFrom) && (c.ValidUntil == "" || stamp < c.ValidUntil)
}

// Cardholder is a card with the person who holds it.
type Cardholder struct {
	Credential
	Person Person
}

// Rules are the site's checks on a person and a card, the same for a row of
// an import, the dashboard's form and an edit: which access levels exist,
// and whether a card's format and numbers fit.
type Rules struct {
	Level     func(id string) bool
	CheckCard func(format string, facility, number uint64) error
}

// RulesOf are a site's checks, from its config.
func RulesOf(cfg *config.Config) Rules {
	return Rules{
		Level: func(id string) bool { _, ok := cfg.Level(id); return ok },
		CheckCard: func(format string, facility, number uint64) error {
			for _, f := range cfg.Decoder.Formats {
				if f.Name == format {
					_, err := f.Encode(facility, number)
					return err
				}
			}
			return fmt.Errorf("format %q is not one the site's readers send", format)
		},
	}
}

// CheckPerson names what is wrong with p by the site's rules; an empty kind
// becomes employee.
func CheckPerson(p *Person, rules Rules) []string {
	var problems []string
	if p.Kind == "" {
		p.Kind = KindEmployee
	}
	if p.Name == "" {
		problems = append(problems, "name is empty")
	}
	if p.Kind != KindEmployee && p.Kind != KindContractor && p.Kind != KindVisitor {
		problems = append(problems, fmt.Sprintf("kind %q: want employee, contractor or visitor", p.Kind))
	}
	if len(p.EmployeeNumber) > 64 || strings.ContainsFunc(p.EmployeeNumber, func(r rune) bool { return r < ' ' || r == 0x7f }) {
		problems = append(problems, "employee_number: at most 64 characters, no control characters")
	}
	for _, lv := range p.Levels {
		if !rules.Level(lv) {
			problems = append(problems, fmt.Sprintf("no access level %q in the site config", lv))
		}
	}
	return problems
}

// CheckCard names what is wrong with c and its new PIN by the site's rules,
// and puts c in the stored form: format H10301 unless given, raw hex in
// capitals, dates in UTC.
func CheckCard(c *Credential, pin string, rules Rules) []string {
	var problems []string
	if c.Format == "" {
		c.Format = "H10301"
	}
	c.RawHex = strings.ToUpper(c.RawHex)
	switch {
	case c.Format == "raw" && c.RawHex == "":
		problems = append(problems, "a raw card needs raw_hex")
	case c.Format == "raw":
		c.Facility, c.Number = 0, 0
	default:
		c.RawHex = ""
		if err := rules.CheckCard(c.Format, c.Facility, c.Number); err != nil {
			problems = append(problems, err.Error())
		}
	}
	for _, t := range []struct {
		name string
		at   *string
	}{{"valid_from", &c.ValidFrom}, {"valid_until", &c.ValidUntil}} {
		if *t.at == "" {
			continue
		}
		at, err := time.Parse(time.RFC3339, *t.at)
		if err != nil {
			problems = append(problems, fmt.Sprintf("%s %q: want a time like 2026-12-31T23:59:59+09:00", t.name, *t.at))
			continue
		}
		*t.at = at.UTC().Format(time.RFC3339)
	}
	if c.ValidFrom != "" && c.ValidUntil != "" && c.ValidUntil <= c.ValidFrom {
		problems = append(problems, "valid_until is not after valid_from")
	}
	if pin != "" && (len(pin) < 4 || len(pin) > 12 || strings.Trim(pin, "0123456789") != "") {
		problems = append(problems, "a PIN is 4 to 12 digits")
	}
	return problems
}

// Logged is the person as the log names them: who they were when it
// happened, kept in the event whatever later becomes of the person.
func (p Person) Logged() *event.Person {
	return &event.Person{ID: p.ID, Name: p.Name, Kind: p.Kind, Company: p.Company}
}
