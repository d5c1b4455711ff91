package access

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/sekisho/sekisho/controller/config"
	"github.com/sekisho/sekisho/controller/event"
	"github.com/sekisho/sekisho/controller/sekisho"
	"github.com/sekisho/sekisho/controller/store"
	"github.com/sekisho/sekisho/firmware-bridge/wiegand"
)

func TestDecide(t *testing.T) {
	cfg, err := config.Load("../../configs/demo-factory.yaml")
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	s, err := store.Open(ctx, filepath.Join(t.TempDir(), "s.db"), cfg.Site)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	people := []struct {
		name   string
		levels []string
		number uint64
		until  string
		kind   string
		off    string // "card" or "person": switched off by an admin
	}{
		{"Sato", []string{"press-operators"}, 1, "", "employee", ""},
		{"Suzuki", []string{"staff"}, 2, "", "employee", ""},
		{"Ito", []string{"day-press"}, 3, "", "employee", ""},
		{"Former", []string{"press-operators"}, 4, "2026-01-01T00:00:00Z", "employee", ""},
		{"Lost Card", []string{"press-operators"}, 5, "", "employee", "card"},
		{"On Leave", []string{"press-operators"}, 6, "", "contractor", "person"},
		{"Handed Back", []string{"press-operators"}, 7, "", "visitor", "card"},
	}
	for _, p := range people {
		sp := &sekisho.Person{Name: p.name, Kind: p.kind, Levels: p.levels}
		if err := s.CreatePerson(ctx, sp); err != nil {
			t.Fatal(err)
		}
		if err := s.AddCredential(ctx, &sekisho.Credential{PersonID: sp.ID, Format: "H10301", Facility: 12, Number: p.number, Enabled: p.off != "card", ValidUntil: p.until}); err != nil {
			t.Fatal(err)
		}
		if p.off == "person" {
			if err := s.SetPersonDisabled(ctx, sp.ID, true); err != nil {
				t.Fatal(err)
			}
		}
	}
	d := &Decider{Config: cfg, Cards: s}
	tokyo := cfg.Location
	wednesdayNoon := time.Date(2026, 11, 25, 12, 0, 0, 0, tokyo)
	wednesdayNight := time.Date(2026, 11, 25, 23, 0, 0, 0, tokyo)
	card := func(n uint64) wiegand.Card { return wiegand.Card{Format: "H10301", Facility: 12, Number: n} }

	tests := []struct {
		name        string
		reader      string
		card        wiegand.Card
		at          time.Time
		typ, reason string
		from, to    string
	}{
		{"operator enters press area", "r-press-out", card(1), wednesdayNoon, event.AccessGranted, "", "floor", "die-press"},
		{"operator leaves press area", "r-press-in", card(1), wednesdayNoon, event.AccessGranted, "", "die-press", "floor"},
		{"office staff kept out of press area", "r-press-out", card(2), wednesdayNoon, event.AccessDenied, event.ReasonNotAuthorized, "floor", "die-press"},
		{"office staff onto floor", "r-floor-out", card(2), wednesdayNoon, event.AccessGranted, "", "lobby", "floor"},
		{"unknown card", "r-floor-out", card(999), wednesdayNoon, event.AccessDenied, event.ReasonUnknownCredential, "lobby", "floor"},
		{"expired card", "r-floor-out", card(4), wednesdayNoon, event.AccessDenied, event.ReasonExpired, "lobby", "floor"},
		{"card switched off", "r-floor-out", card(5), wednesdayNoon, event.AccessDenied, event.ReasonDisabled, "lobby", "floor"},
		{"holder switched off", "r-floor-out", card(6), wednesdayNoon, event.AccessDenied, event.ReasonDisabled, "lobby", "floor"},
		{"visitor badge handed back", "r-floor-out", card(7), wednesdayNoon, event.AccessDenied, event.ReasonExpired, "lobby", "floor"},
		{"day shift at night", "r-press-out", card(3), wednesdayNight, event.AccessDenied, event.ReasonOutsideSchedule, "floor", "die-press"},
		{"day shift at noon", "r-press-out", card(3), wednesdayNoon, event.AccessGranted, "", "floor", "die-press"},
		{"inside-only door from outside asks the guard", "r-main-out", card(1), wednesdayNoon, event.AccessRequested, event.ReasonInsideOnly, "outside", "lobby"},
		{"inside-only door from inside lets anyone known out", "r-main-in", card(2), wednesdayNoon, event.AccessGranted, "", "lobby", "outside"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dec, err := d.Decide(ctx, Request{Reader: tt.reader, Card: tt.card, At: tt.at})
			if err != nil {
				t.Fatal(err)
			}
			if dec.Type != tt.typ || dec.Reason != tt.reason || dec.From != tt.from || dec.To != tt.to {
				t.Fatalf("got %s/%s %s→%s, want %s/%s %s→%s", dec.Type, dec.Reason, dec.From, dec.To, tt.typ, tt.reason, tt.from, tt.to)
			}
		})
	}
	if _, err := d.Decide(ctx, Request{Reader: "r-nowhere", Card: card(1), At: wednesdayNoon}); err == nil {
		t.Fatal("unknown reader decided")
	}
}
