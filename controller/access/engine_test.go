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

// fixture is the demo factory on a real SQLite file, with a few people.
type fixture struct {
	t   *testing.T
	cfg *config.Config
	st  *store.Store
	e   *Engine
	now time.Time
}

func newFixture(t *testing.T, tweak func(*config.Config)) *fixture {
	t.Helper()
	cfg, err := config.Load("../../configs/demo-factory.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if tweak != nil {
		tweak(cfg)
	}
	st, err := store.Open(context.Background(), filepath.Join(t.TempDir(), "s.db"), cfg.Site)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	f := &fixture{t: t, cfg: cfg, st: st, now: time.Now()}
	f.e = NewEngine(Decider{Config: cfg, Cards: st, Visits: st})
	// The employee the fixture's visits name as host.
	if err := st.CreatePerson(context.Background(), &sekisho.Person{ID: "desk-host", Name: "desk host", Kind: "employee"}); err != nil {
		t.Fatal(err)
	}
	return f
}

func (f *fixture) person(id, kind, company string, number uint64, levels ...string) {
	f.t.Helper()
	p := &sekisho.Person{ID: id, Name: id, Kind: kind, Company: company, Levels: levels}
	if err := f.st.CreatePerson(context.Background(), p); err != nil {
		f.t.Fatal(err)
	}
	if err := f.st.AddCredential(context.Background(), &sekisho.Credential{PersonID: id, Format: "H10301", Facility: 1, Number: number, Enabled: true}); err != nil {
		f.t.Fatal(err)
	}
}

// visitor registers and checks in a visitor of company with badge number.
func (f *fixture) visitor(company string, number uint64, nda string, zones ...string) sekisho.Visit {
	f.t.Helper()
	ctx := context.Background()
	v := &sekisho.Visit{Name: "guest-" + company, Company: company, HostID: "desk-host", Day: f.now.In(f.cfg.Location).Format("2006-01-02"), Zones: zones, NDARef: nda, BriefedBy: "g"}
	if err := f.st.CreateVisit(ctx, v); err != nil {
		f.t.Fatal(err)
	}
	if err := f.st.CheckIn(ctx, v.ID, "H10301", 1, number, f.now.Add(24*time.Hour)); err != nil {
		f.t.Fatal(err)
	}
	got, _ := f.st.GetVisit(ctx, v.ID)
	return got
}

// card presents card number at reader, after advancing the clock by d.
func (f *fixture) card(reader string, number uint64, d time.Duration) Outcome {
	f.t.Helper()
	f.now = f.now.Add(d)
	out, err := f.e.Card(context.Background(), Request{Reader: reader, Card: wiegand.Card{Format: "H10301", Facility: 1, Number: number}, At: f.now})
	if err != nil {
		f.t.Fatal(err)
	}
	return out
}

func only(t *testing.T, out Outcome) Decision {
	t.Helper()
	if len(out.Decisions) != 1 {
		t.Fatalf("%d decisions (hold %v), want 1", len(out.Decisions), out.Hold)
	}
	return out.Decisions[0]
}

func want(t *testing.T, d Decision, typ, reason string) {
	t.Helper()
	if d.Type != typ || d.Reason != reason {
		t.Fatalf("got %s %s, want %s %s", d.Type, d.Reason, typ, reason)
	}
}

func TestAntiPassback(t *testing.T) {
	f := newFixture(t, nil) // press-door is hard anti-passback in the demo
	f.person("op", "employee", "", 1, "press-operators")
	want(t, only(t, f.card("r-press-out", 1, 0)), event.AccessGranted, "")
	// In again without having badged out: a passed-back card.
	want(t, only(t, f.card("r-press-out", 1, time.Minute)), event.AccessDenied, event.ReasonAntiPassback)
	// Out, then in: fine.
	want(t, only(t, f.card("r-press-in", 1, time.Minute)), event.AccessGranted, "")
	want(t, only(t, f.card("r-press-out", 1, time.Minute)), event.AccessGranted, "")
	// A guard forgives; then in again is allowed.
	f.e.Forgive("op")
	want(t, only(t, f.card("r-press-out", 1, time.Minute)), event.AccessGranted, "")
	// The record resets after the configured time.
	want(t, only(t, f.card("r-press-out", 1, 13*time.Hour)), event.AccessGranted, "")
}

func TestSoftAntiPassbackGrantsWithAnAlarm(t *testing.T) {
	f := newFixture(t, func(c *config.Config) {
		for i := range c.Doors {
			if c.Doors[i].ID == "press-door" {
				c.Doors[i].AntiPassback = "soft"
			}
		}
	})
	f.person("op", "employee", "", 1, "press-operators")
	f.card("r-press-out", 1, 0)
	out := f.card("r-press-out", 1, time.Minute)
	d := only(t, out)
	want(t, d, event.AccessGranted, "")
	if d.Violation != event.ReasonAntiPassback || len(out.Alarms) != 1 {
		t.Fatalf("soft violation %q, alarms %v", d.Violation, out.Alarms)
	}
}

func TestEscort(t *testing.T) {
	for _, visitorFirst := range []bool{true, false} {
		f := newFixture(t, nil)
		f.person("host", "employee", "", 1, "press-operators")
		v := f.visitor("Toyo Auto", 50, "NDA-1", "floor", "die-press")
		f.st.ConfirmCovers(context.Background(), v.ID, "die-press", []string{"die-b-220"}, "guard")
		var out Outcome
		if visitorFirst {
			held := f.card("r-press-out", 50, 0)
			if held.Hold == 0 || len(held.Decisions) != 0 || held.Unlock {
				t.Fatalf("visitor alone: %+v", held)
			}
			out = f.card("r-press-out", 1, 3*time.Second)
		} else {
			first := f.card("r-press-out", 1, 0)
			want(t, only(t, first), event.AccessGranted, "")
			out = f.card("r-press-out", 50, 3*time.Second)
		}
		var guest Decision
		for _, d := range out.Decisions {
			if d.Person.Kind == "visitor" {
				guest = d
			}
		}
		if guest.Type != event.AccessGranted || guest.Partner == nil || guest.Partner.ID != "host" || !out.Unlock {
			t.Fatalf("visitor first %v: %+v", visitorFirst, out)
		}
	}
}

func TestEscortTooLateOrAlone(t *testing.T) {
	f := newFixture(t, nil)
	f.person("host", "employee", "", 1, "press-operators")
	f.person("clerk", "employee", "", 2, "staff") // may not enter: escorts nobody
	v := f.visitor("Toyo Auto", 50, "NDA-1", "floor", "die-press")
	f.st.ConfirmCovers(context.Background(), v.ID, "die-press", nil, "guard")
	held := f.card("r-press-out", 50, 0)
	want(t, only(t, f.card("r-press-out", 2, time.Second)), event.AccessDenied, event.ReasonNotAuthorized)
	d, ok := f.e.Expire("press-door", held.Token)
	if !ok {
		t.Fatal("held card gone")
	}
	want(t, d, event.AccessDenied, event.ReasonEscortRequired)
	// An escort who passed long ago does not count.
	f.card("r-press-out", 1, time.Second)
	f.card("r-press-in", 1, time.Second)
	late := f.card("r-press-out", 50, time.Minute)
	if late.Hold == 0 {
		t.Fatalf("an escort a minute ago let the visitor through: %+v", late)
	}
}

func TestVisitorRules(t *testing.T) {
	f := newFixture(t, func(c *config.Config) {
		for i := range c.Doors {
			c.Doors[i].CardAndPIN = nil
		}
	})
	noNDA := f.visitor("Toyo Auto", 60, "", "floor", "die-press")
	_ = noNDA
	want(t, only(t, f.card("r-press-out", 60, 0)), event.AccessDenied, event.ReasonNDAMissing)
	want(t, only(t, f.card("r-floor-out", 60, 0)), event.AccessGranted, "") // an unrestricted zone needs no NDA
	want(t, only(t, f.card("r-dev-out", 60, 0)), event.AccessDenied, event.ReasonNotAuthorized)
	ok := f.visitor("Toyo Auto", 61, "NDA-2", "die-press")
	want(t, only(t, f.card("r-press-out", 61, 0)), event.AccessDenied, event.ReasonCoverCheckPending)
	f.st.ConfirmCovers(context.Background(), ok.ID, "die-press", []string{"die-b-220"}, "guard")
	if out := f.card("r-press-out", 61, 0); out.Hold == 0 {
		t.Fatalf("after covers, the visitor should wait for an escort: %+v", out)
	}
	// A visit checked out: the badge is dead.
	f.st.CheckOut(context.Background(), ok.ID)
	want(t, only(t, f.card("r-floor-out", 61, 0)), event.AccessDenied, event.ReasonExpired)
}

func TestCoversNeededSkipsTheVisitorsOwnAssets(t *testing.T) {
	cfg, _ := config.Load("../../configs/demo-factory.yaml")
	for company, want := range map[string]string{"Toyo Auto": "die-b-220", "Enshu Denki": "die-a-100", " toyo auto ": "die-b-220"} {
		got := CoversNeeded(cfg.Assets, "die-press", company)
		if len(got) != 1 || got[0].ID != want {
			t.Errorf("%q must cover %v, want [%s]", company, got, want)
		}
	}
	if got := CoversNeeded(cfg.Assets, "die-press", "Someone Else"); len(got) != 2 {
		t.Errorf("a third company must cover both: %v", got)
	}
}

func TestTwoPersonRule(t *testing.T) {
	f := newFixture(t, func(c *config.Config) {
		for i := range c.Zones {
			if c.Zones[i].ID == "dev-room" {
				c.Zones[i].TwoPerson = true
			}
		}
		for i := range c.Doors {
			c.Doors[i].CardAndPIN = nil
		}
	})
	f.person("a", "employee", "", 1, "developers")
	f.person("b", "employee", "", 2, "developers")
	f.person("c", "employee", "", 3, "developers")
	first := f.card("r-dev-out", 1, 0)
	if first.Hold == 0 || first.Unlock {
		t.Fatalf("first into an empty two-person room: %+v", first)
	}
	pair := f.card("r-dev-out", 2, 2*time.Second)
	if len(pair.Decisions) != 2 || !pair.Unlock || pair.Decisions[0].Partner.ID != "b" {
		t.Fatalf("second person: %+v", pair)
	}
	// With two inside, a third may come alone.
	want(t, only(t, f.card("r-dev-out", 3, time.Second)), event.AccessGranted, "")
	// Alone after the delay: denied.
	f2 := newFixture(t, func(c *config.Config) {
		for i := range c.Zones {
			if c.Zones[i].ID == "dev-room" {
				c.Zones[i].TwoPerson = true
			}
		}
		for i := range c.Doors {
			c.Doors[i].CardAndPIN = nil
		}
	})
	f2.person("a", "employee", "", 1, "developers")
	h := f2.card("r-dev-out", 1, 0)
	d, _ := f2.e.Expire("dev-door", h.Token)
	want(t, d, event.AccessDenied, event.ReasonTwoPersonRequired)
}

func TestTwoPersonRuleKeepsTwoWithAVisitor(t *testing.T) {
	f := newFixture(t, func(c *config.Config) {
		for i := range c.Zones {
			if c.Zones[i].ID == "die-press" {
				c.Zones[i].TwoPerson = true
			}
		}
	})
	f.person("a", "employee", "", 1, "press-operators")
	f.person("b", "employee", "", 2, "press-operators")
	v := f.visitor("Toyo Auto", 50, "NDA", "floor", "die-press")
	f.st.ConfirmCovers(context.Background(), v.ID, "die-press", nil, "g")
	f.card("r-press-out", 1, 0)
	f.card("r-press-out", 2, time.Second) // a and b in together
	f.card("r-press-out", 50, time.Second)
	f.card("r-press-out", 1, time.Second) // a badges again: escorts the visitor (hard APB: denied, so use b's pass)
	f.e.Forgive("a")
	out := f.card("r-press-out", 1, time.Second)
	if len(out.Decisions) < 2 {
		t.Fatalf("visitor not escorted in: %+v", out)
	}
	want(t, only(t, f.card("r-press-in", 2, time.Second)), event.AccessDenied, event.ReasonTwoPersonRule)
	// Once the visitor is out, staff may leave.
	want(t, only(t, f.card("r-press-in", 50, time.Second)), event.AccessGranted, "")
	want(t, only(t, f.card("r-press-in", 2, time.Second)), event.AccessGranted, "")
}

func TestLockoutAfterBadCards(t *testing.T) {
	f := newFixture(t, nil)
	f.person("op", "employee", "", 1, "staff")
	var alarms []Alarm
	for i := 0; i < 5; i++ {
		out := f.card("r-floor-out", uint64(900+i), time.Second)
		alarms = append(alarms, out.Alarms...)
	}
	if len(alarms) != 1 || alarms[0].Kind != "reader_locked_out" {
		t.Fatalf("alarms after 5 bad cards: %v", alarms)
	}
	want(t, only(t, f.card("r-floor-out", 1, time.Second)), event.AccessDenied, event.ReasonLockedOut)
	want(t, only(t, f.card("r-floor-in", 1, time.Second)), event.AccessGranted, "") // other readers work
	want(t, only(t, f.card("r-floor-out", 1, 6*time.Minute)), event.AccessGranted, "")
	// Four bad cards spread over more than the window lock nothing.
	for i := 0; i < 8; i++ {
		if out := f.card("r-dev-in", 999, 20*time.Second); len(out.Alarms) > 0 {
			t.Fatal("slow bad cards locked the reader out")
		}
	}
}

func TestLockdown(t *testing.T) {
	f := newFixture(t, func(c *config.Config) { c.Access.LockdownExempt = []string{"day-press"} })
	f.person("op", "employee", "", 1, "press-operators")
	f.person("sec", "employee", "", 2, "press-operators", "day-press")
	f.person("clerk", "employee", "", 3, "staff")
	want(t, only(t, f.card("r-press-out", 1, 0)), event.AccessGranted, "")
	f.e.SetLockdown(true)
	want(t, only(t, f.card("r-press-in", 1, time.Second)), event.AccessGranted, "") // egress keeps working
	want(t, only(t, f.card("r-press-out", 1, time.Second)), event.AccessDenied, event.ReasonLockdown)
	want(t, only(t, f.card("r-floor-out", 3, time.Second)), event.AccessGranted, "") // unrestricted zones unaffected
	f.now = time.Date(2026, 11, 25, 10, 0, 0, 0, f.cfg.Location)                     // day-press is a day-shift level
	want(t, only(t, f.card("r-press-out", 2, 0)), event.AccessGranted, "")
	f.e.SetLockdown(false)
	want(t, only(t, f.card("r-press-out", 1, time.Second)), event.AccessGranted, "")
}

func TestHolidays(t *testing.T) {
	f := newFixture(t, func(c *config.Config) {
		c.Holidays = []string{"2026-11-23"}
	})
	// Reload to apply the holiday list through validation.
	cfg, _ := config.Parse("x.yaml", []byte("site: s\ntimezone: Asia/Tokyo\nholidays: [\"2026-11-23\"]\nzones: [{id: a}, {id: b}]\ndoors: [{id: d, from: a, to: b, readers: {outside: r}}]\nschedules: {day: [\"Mon-Fri 07:00-19:00\", \"Hol 09:00-12:00\"]}\naccess_levels: [{id: l, zones: [b], schedule: day}]\n"))
	f.e = NewEngine(Decider{Config: cfg, Cards: f.st, Visits: f.st})
	f.cfg = cfg
	f.person("w", "employee", "", 1, "l")
	tokyo := cfg.Location
	f.now = time.Date(2026, 11, 23, 14, 0, 0, 0, tokyo) // a Monday, but a holiday: only 09–12
	want(t, only(t, f.card("r", 1, 0)), event.AccessDenied, event.ReasonOutsideSchedule)
	f.now = time.Date(2026, 11, 23, 10, 0, 0, 0, tokyo)
	want(t, only(t, f.card("r", 1, 0)), event.AccessGranted, "")
	f.now = time.Date(2026, 11, 24, 14, 0, 0, 0, tokyo) // an ordinary Tuesday
	want(t, only(t, f.card("r", 1, 0)), event.AccessGranted, "")
}

func TestOccupancyAndReplay(t *testing.T) {
	f := newFixture(t, nil)
	f.person("a", "employee", "", 1, "press-operators")
	f.person("b", "employee", "", 2, "staff")
	f.card("r-floor-out", 1, 0)
	f.card("r-press-out", 1, time.Second)
	f.card("r-floor-out", 2, time.Second)
	occ := f.e.Occupancy()
	if occ["die-press"] != 1 || occ["floor"] != 1 {
		t.Fatalf("occupancy %v", occ)
	}
	m := f.e.Muster()
	if len(m) != 2 || m[0].Zone != "die-press" || m[0].Door != "press-door" {
		t.Fatalf("muster %+v", m)
	}
	// A new engine rebuilt from the grants knows the same.
	evs := []event.Event{
		{Type: event.AccessGranted, Door: "press-door", ZoneTo: "die-press", Person: &event.Person{ID: "a", Name: "a", Kind: "employee"}},
		{Type: event.AccessGranted, Door: "main-entrance", ZoneTo: "outside", Person: &event.Person{ID: "b", Name: "b", Kind: "employee"}},
	}
	e2 := NewEngine(f.e.Decider)
	e2.Replay(evs)
	if occ := e2.Occupancy(); occ["die-press"] != 1 || len(occ) != 1 {
		t.Fatalf("replayed occupancy %v", occ)
	}
	// Counts move with every way of leaving: moving on, a guard's
	// forgiveness, a checkout replayed from the log.
	e2.Replay([]event.Event{
		{Type: event.AccessGranted, Door: "floor-door", ZoneTo: "floor", Person: &event.Person{ID: "c", Name: "c", Kind: "employee"}},
		{Type: event.AccessGranted, Door: "press-door", ZoneTo: "floor", Person: &event.Person{ID: "a", Name: "a", Kind: "employee"}},
		{Type: event.AccessGranted, Door: "press-door", ZoneTo: "die-press", Person: &event.Person{ID: "v", Name: "v", Kind: "visitor"}},
	})
	if occ := e2.Occupancy(); occ["floor"] != 2 || occ["die-press"] != 1 || len(occ) != 2 {
		t.Fatalf("after moves %v", occ)
	}
	e2.Forgive("c")
	e2.Replay([]event.Event{{Type: event.VisitorCheckedOut, Person: &event.Person{ID: "v"}}})
	if occ := e2.Occupancy(); occ["floor"] != 1 || len(occ) != 1 {
		t.Fatalf("after forgiveness and checkout %v", occ)
	}
	if e2.Forgive("c") {
		t.Fatal("forgave someone not there")
	}
}
