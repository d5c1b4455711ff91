// Package demo gives a new site its first accounts and, on simulated
// hardware, a handful of cardholders and a scripted morning of traffic, so
// that `make run` leads straight to a board with something on it.
package demo

import (
	"context"
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/sekisho/sekisho/controller/config"
	"github.com/sekisho/sekisho/controller/event"
	"github.com/sekisho/sekisho/controller/sekisho"
	"github.com/sekisho/sekisho/controller/store"
)

// Cardholder is a demo person with a card.
type Cardholder struct {
	ID, Name, Kind, Company, Role string
	Levels                        []string
	Facility, Number              uint64
	PIN                           string
}

// Cardholders are the demo factory's people. Their levels are the demo
// config's; on another config they are created only if those levels exist.
var Cardholders = []Cardholder{
	{"p-sato", "佐藤 健二 (Sato Kenji)", "employee", "", "press operator", []string{"press-operators"}, 12, 345, ""},
	{"p-suzuki", "鈴木 由美 (Suzuki Yumi)", "employee", "", "office", []string{"staff"}, 12, 346, ""},
	{"p-tanaka", "田中 浩 (Tanaka Hiroshi)", "employee", "", "development", []string{"developers"}, 12, 347, "2468"},
	{"p-kato", "加藤 翼 (Kato Tsubasa)", "contractor", "遠州設備 (Enshu Setsubi)", "maintenance", []string{"staff"}, 12, 348, ""},
}

// UnknownCard is a card no one holds, for showing a denial.
var UnknownCard = struct{ Facility, Number uint64 }{99, 9999}

// Account is a dashboard account made at first start, with the password
// shown only then.
type Account struct{ Name, Role, Password string }

// Accounts makes an admin on a database with no users (and demo guard and
// manager accounts on simulated hardware). The site calls it once it is up:
// a start that fails keeps no account and prints no password.
func Accounts(ctx context.Context, st *store.Store, sim bool) ([]Account, error) {
	n, err := st.CountUsers(ctx)
	if err != nil || n > 0 {
		return nil, err
	}
	made := []Account{{Name: "admin", Role: sekisho.RoleAdmin}}
	if sim {
		made = append(made, Account{Name: "guard", Role: sekisho.RoleGuard}, Account{Name: "manager", Role: sekisho.RoleManager})
	}
	for i := range made {
		made[i].Password = store.NewSecret(12)
		if err := st.CreateUser(ctx, made[i].Name, made[i].Role, nil, made[i].Password); err != nil {
			return nil, fmt.Errorf("demo: %w", err)
		}
	}
	return made, nil
}

// PrintAccounts shows the first start's accounts, the only time their
// passwords are shown.
func PrintAccounts(out io.Writer, made []Account) error {
	tw := tabwriter.NewWriter(out, 2, 8, 2, ' ', 0)
	fmt.Fprintln(tw, "\nFirst start: these dashboard accounts were made. Their passwords are shown only now.")
	for _, a := range made {
		fmt.Fprintf(tw, "  %s\t%s\t(%s)\n", a.Name, a.Password, a.Role)
	}
	return tw.Flush()
}

// Seed creates demo cardholders on simulated hardware when there are no
// people yet, and prints their cards.
func Seed(ctx context.Context, st *store.Store, cfg *config.Config, sim bool, out io.Writer) error {
	if !sim {
		return nil
	}
	people, err := st.People(ctx)
	if err != nil || len(people) > 0 {
		return err
	}
	tw := tabwriter.NewWriter(out, 2, 8, 2, ' ', 0)
	fmt.Fprintln(tw, "\nDemo cardholders (H10301 cards; swipe one with `go run ./controller sim swipe --reader r-floor-out --facility 12 --number 345`):")
	for _, c := range Cardholders {
		levels := make([]string, 0, len(c.Levels))
		for _, l := range c.Levels {
			if _, ok := cfg.Level(l); ok {
				levels = append(levels, l)
			}
		}
		p := &sekisho.Person{ID: c.ID, Name: c.Name, Kind: c.Kind, Company: c.Company, Levels: levels}
		if err := st.CreatePerson(ctx, p); err != nil {
			return fmt.Errorf("demo: %w", err)
		}
		cred := &sekisho.Credential{PersonID: p.ID, Format: "H10301", Facility: c.Facility, Number: c.Number, Enabled: true}
		if c.PIN != "" {
			cred.PINHash = sekisho.HashPIN(c.PIN)
		}
		if err := st.AddCredential(ctx, cred); err != nil {
			return fmt.Errorf("demo: %w", err)
		}
		if err := st.Append(ctx, &event.Event{Type: event.PersonAdded, Actor: "demo",
			Person:     &event.Person{ID: p.ID, Name: p.Name, Kind: p.Kind, Company: p.Company},
			Credential: &event.Credential{Format: cred.Format, Facility: cred.Facility, Number: cred.Number}}); err != nil {
			return fmt.Errorf("demo: %w", err)
		}
		role := c.Role
		if c.PIN != "" {
			role += " (PIN " + c.PIN + " at the development room)"
		}
		fmt.Fprintf(tw, "  %d:%d\t%s\t%s\n", c.Facility, c.Number, c.Name, role)
	}
	fmt.Fprintf(tw, "  %d:%d\t(nobody: an unknown card)\n", UnknownCard.Facility, UnknownCard.Number)
	fmt.Fprintln(tw)
	return tw.Flush()
}
