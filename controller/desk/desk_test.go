package desk_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/sekisho/sekisho/controller/config"
	"github.com/sekisho/sekisho/controller/desk"
	"github.com/sekisho/sekisho/controller/event"
	"github.com/sekisho/sekisho/controller/journal"
	"github.com/sekisho/sekisho/controller/sekisho"
	"github.com/sekisho/sekisho/controller/sitetime"
	"github.com/sekisho/sekisho/controller/store"
)

type quiet struct{}

func (quiet) Logged(*event.Event)           {}
func (quiet) NotLogged(*event.Event, error) {}
func (quiet) Failing(string, error)         {}
func (quiet) Resumed(time.Duration)         {}

// loop runs a desk command at once, as the door loop would in its turn.
type loop struct{}

func (loop) OnLoop(ctx context.Context, f func(context.Context) ([]<-chan error, error)) error {
	done, err := f(ctx)
	if err != nil {
		return err
	}
	return journal.Wait(ctx, done...)
}

// presence records who the doors were told left.
type presence struct {
	mu   sync.Mutex
	left []string
}

func (p *presence) Left(id string) { p.mu.Lock(); p.left = append(p.left, id); p.mu.Unlock() }

type fixture struct {
	desk     *desk.Desk
	store    *store.Store
	journal  *journal.Journal
	presence *presence
	cfg      *config.Config
	clock    sitetime.Clock
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	cfg, err := config.Load("../../configs/demo-factory.yaml")
	if err != nil {
		t.Fatal(err)
	}
	st, err := store.Open(t.Context(), filepath.Join(t.TempDir(), "d.db"), cfg.Site)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.CreatePerson(t.Context(), &sekisho.Person{ID: "p-host", Name: "Host", Kind: sekisho.KindEmployee}); err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	j := journal.New(st, journal.Faults{Transient: store.Transient, Reason: store.Reason}, quiet{}, log)
	j.Start()
	t.Cleanup(func() { j.Close(time.Second); st.Close() })
	f := &fixture{store: st, journal: j, presence: &presence{}, cfg: cfg, clock: sitetime.Clock{Location: cfg.Location}}
	f.desk = desk.New(cfg, st, j, f.clock, loop{}, f.presence, log)
	if err := f.desk.Load(t.Context()); err != nil {
		t.Fatal(err)
	}
	return f
}

func (f *fixture) visit(t *testing.T, day string, briefed bool) sekisho.Visit {
	t.Helper()
	v := sekisho.Visit{Name: "Visitor", Company: "Hamana Gear", HostID: "p-host", Day: day, Zones: []string{"lobby", "die-press"}, NDARef: "NDA-1"}
	if briefed {
		v.BriefedBy = "desk"
	}
	if _, err := f.desk.Register(t.Context(), &v, "desk"); err != nil {
		t.Fatal(err)
	}
	return v
}

// The desk's rules say no in their own words, and write nothing.
func TestCheckInRefusals(t *testing.T) {
	f := newFixture(t)
	today := f.clock.Day(f.clock.Now())
	tomorrow := f.clock.Now().AddDate(0, 0, 1).Format("2006-01-02")
	briefed := f.visit(t, today, true)
	unbriefed := f.visit(t, today, false)
	later := f.visit(t, tomorrow, true)
	tests := []struct {
		name  string
		visit string
		card  uint64
		code  string
	}{
		{"badge not from the pool", briefed.ID, 999, "not_a_day_badge"},
		{"not briefed", unbriefed.ID, 3, "briefing_missing"},
		{"not today", later.ID, 4, "not_today"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := f.desk.CheckIn(t.Context(), tt.visit, tt.card, "desk")
			var r *sekisho.Refusal
			if !errors.As(err, &r) || r.Code != tt.code {
				t.Fatalf("got %v, want refusal %s", err, tt.code)
			}
			if _, err := f.desk.VisitOf(t.Context(), "", today); !errors.Is(err, sekisho.ErrNotFound) {
				t.Fatalf("a refused check-in is in memory: %v", err)
			}
		})
	}
	if err := f.desk.CheckIn(t.Context(), "v-none", 3, "desk"); !errors.Is(err, sekisho.ErrNotFound) {
		t.Fatalf("no such visit: %v", err)
	}
}

// A day badge's visit is known to the doors from memory as soon as it is
// checked in, with its covers; and again after a restart.
func TestCheckedInVisitInMemoryAndAfterRestart(t *testing.T) {
	f := newFixture(t)
	today := f.clock.Day(f.clock.Now())
	v := f.visit(t, today, true)
	if err := f.desk.CheckIn(t.Context(), v.ID, 5, "desk"); err != nil {
		t.Fatal(err)
	}
	got, err := f.desk.VisitOf(t.Context(), v.PersonID, today)
	if err != nil || got.ID != v.ID || got.Status != sekisho.VisitCheckedIn {
		t.Fatalf("in memory after check-in: %+v %v", got, err)
	}
	if _, err := f.desk.VisitOf(t.Context(), v.PersonID, "2001-01-01"); !errors.Is(err, sekisho.ErrNotFound) {
		t.Fatalf("another day's question: %v", err)
	}
	if ok, _ := f.desk.CoversConfirmed(t.Context(), v.ID, "die-press"); ok {
		t.Fatal("covers confirmed before anyone did")
	}
	assets, err := f.desk.ConfirmCovers(t.Context(), v.ID, "die-press", "guard")
	if err != nil || len(assets) == 0 {
		t.Fatalf("covers: %v %v", assets, err)
	}
	if ok, _ := f.desk.CoversConfirmed(t.Context(), v.ID, "die-press"); !ok {
		t.Fatal("covers confirmed, not in memory")
	}
	again := desk.New(f.cfg, f.store, f.journal, f.clock, loop{}, f.presence, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err := again.Load(t.Context()); err != nil {
		t.Fatal(err)
	}
	if got, err := again.VisitOf(t.Context(), v.PersonID, today); err != nil || got.ID != v.ID {
		t.Fatalf("after a restart: %+v %v", got, err)
	}
	if ok, _ := again.CoversConfirmed(t.Context(), v.ID, "die-press"); !ok {
		t.Fatal("covers forgotten by a restart")
	}
}

// A badge handed back at a door lets the visitor go in memory at once,
// tells the doors they left, and the database follows its event; a
// checkout at the desk a moment later is refused, not doubled.
func TestLeftAtTheDoor(t *testing.T) {
	f := newFixture(t)
	today := f.clock.Day(f.clock.Now())
	v := f.visit(t, today, true)
	if err := f.desk.CheckIn(t.Context(), v.ID, 6, "desk"); err != nil {
		t.Fatal(err)
	}
	in, _ := f.desk.VisitOf(t.Context(), v.PersonID, today)
	done := f.desk.Left(in, "badge at main-entrance")
	if _, err := f.desk.VisitOf(t.Context(), v.PersonID, today); !errors.Is(err, sekisho.ErrNotFound) {
		t.Fatalf("still in memory after leaving: %v", err)
	}
	if err := journal.Wait(t.Context(), done); err != nil {
		t.Fatal(err)
	}
	got, _ := f.store.GetVisit(t.Context(), v.ID)
	if got.Status != sekisho.VisitCheckedOut {
		t.Fatalf("in the database: %s", got.Status)
	}
	if len(f.presence.left) != 1 || f.presence.left[0] != v.PersonID {
		t.Fatalf("doors told: %v", f.presence.left)
	}
	var r *sekisho.Refusal
	if err := f.desk.CheckOutAtDesk(t.Context(), v.ID, "desk"); !errors.As(err, &r) || r.Code != "not_checked_in" {
		t.Fatalf("checked out twice: %v", err)
	}
	// The badge came back twice in a row (a door and the desk at once):
	// the visitor left once.
	if again := f.desk.Left(in, "badge at main-entrance"); again != nil {
		t.Fatal("a second badge-out checked the visitor out again")
	}
	if evs, _ := f.store.Events(t.Context(), store.Filter{Type: event.VisitorCheckedOut}); len(evs) != 1 {
		t.Fatalf("%d checkouts logged", len(evs))
	}
}

// A visitor for the press gets the lobby and the floor on the way, and the
// clerk is told; a zone no door leads to is refused and nothing written.
func TestRegisterAddsThePath(t *testing.T) {
	f := newFixture(t)
	v := sekisho.Visit{Name: "Press Visitor", Company: "Toyo Auto", HostID: "p-host", Day: f.clock.Day(f.clock.Now()), Zones: []string{"die-press"}}
	added, err := f.desk.Register(t.Context(), &v, "desk")
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(added, []string{"lobby", "floor"}) || !slices.Equal(v.Zones, []string{"lobby", "floor", "die-press"}) {
		t.Fatalf("added %v, zones %v", added, v.Zones)
	}
	stored, _ := f.store.GetVisit(t.Context(), v.ID)
	if !slices.Equal(stored.Zones, v.Zones) {
		t.Fatalf("stored zones %v", stored.Zones)
	}
	before, _ := f.store.SearchVisits(t.Context(), sekisho.VisitQuery{})
	bad := sekisho.Visit{Name: "Nowhere", Company: "X", HostID: "p-host", Day: v.Day, Zones: []string{"no-such-zone"}}
	var r *sekisho.Refusal
	if _, err := f.desk.Register(t.Context(), &bad, "desk"); !errors.As(err, &r) || r.Code != "zone_unreachable" {
		t.Fatalf("unreachable zone: %v", err)
	}
	if after, _ := f.store.SearchVisits(t.Context(), sekisho.VisitQuery{}); len(after) != len(before) {
		t.Fatal("a refused registration wrote a visit")
	}
}
