package site_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"periph.io/x/conn/v3/gpio"

	"github.com/sekisho/sekisho/controller/event"
	"github.com/sekisho/sekisho/controller/sekisho"
)

// The casebook's visit, over the public API and the simulated doors: a
// customer's engineer arrives at the inside-only main entrance, the guard
// registers and admits them, the host escorts them to the die-and-press
// area, entry is refused until the other customer's dies are covered, then
// granted for both at once; they leave through the main entrance by badging
// inside, which checks them out.
func TestCasebookVisit(t *testing.T) {
	t.Parallel()
	ts := startSite(t, "")
	ctx := context.Background()
	live := ts.stream()
	next := func(what string, match func(event.Event) bool) event.Event {
		t.Helper()
		return await(t, live, what, match)
	}
	at := func(reader string) func(event.Event) bool {
		return func(ev event.Event) bool { return ev.Reader == reader && len(ev.Type) > 7 && ev.Type[:7] == "access." }
	}

	// The guard registers the engineer from Toyo Auto, host Sato, NDA signed,
	// briefed, phone in locker 4.
	var visit sekisho.Visit
	code := ts.call("POST", "/api/visits", map[string]any{
		"name": "山田 一郎 (Yamada Ichiro)", "company": "Toyo Auto", "host": "p-sato", "purpose": "die trial",
		"zones": []string{"lobby", "floor", "die-press"}, "nda_ref": "NDA-2026-118", "briefed_by": "guard", "phone_locker": "4",
	}, &visit)
	if code != http.StatusCreated {
		t.Fatalf("register: %d", code)
	}
	if code := ts.call("POST", "/api/visits/"+visit.ID+"/checkin", map[string]any{"card": 17}, &visit); code != http.StatusOK || visit.Status != sekisho.VisitCheckedIn {
		t.Fatalf("check in: %d %+v", code, visit)
	}
	// The badge does not open the main entrance from outside: it asks.
	ts.swipe("r-main-out", 200, 17)
	if ev := next("request at the entrance", at("r-main-out")); ev.Type != event.AccessRequested || ev.Visit != visit.ID {
		t.Fatalf("outside the entrance: %s %s", ev.Type, ev.Reason)
	}
	// Nor can the console open it: the guard goes to the door.
	if code := ts.call("POST", "/api/doors/main-entrance/unlock", nil, nil); code != http.StatusConflict {
		t.Fatalf("console unlock of an inside-only door: %d", code)
	}
	ts.Sim.Door("main-entrance").PressREX(ctx)
	walk(t, ts, "main-entrance")

	ts.swipe("r-floor-out", 200, 17)
	if ev := next("onto the floor", at("r-floor-out")); ev.Type != event.AccessGranted {
		t.Fatalf("floor: %s %s", ev.Type, ev.Reason)
	}
	walk(t, ts, "floor-door")

	// At the press area, Enshu Denki's die is not yet covered.
	ts.swipe("r-press-out", 200, 17)
	if ev := next("press area before covers", at("r-press-out")); ev.Reason != event.ReasonCoverCheckPending {
		t.Fatalf("press before covers: %s %s", ev.Type, ev.Reason)
	}
	var covered struct{ Covered []string }
	if code := ts.call("POST", "/api/visits/"+visit.ID+"/covers/confirm", map[string]any{"zone": "die-press"}, &covered); code != http.StatusOK {
		t.Fatalf("covers: %d", code)
	}
	if len(covered.Covered) != 1 || covered.Covered[0] != "die-b-220 (Enshu Denki)" {
		t.Fatalf("covered %v: want only the other customer's die", covered.Covered)
	}
	next("cover confirmation", func(ev event.Event) bool {
		return ev.Type == event.CoverConfirmed && ev.Detail["assets"] == "die-b-220" && ev.Actor != ""
	})

	// The visitor alone is held; the host's card opens the door once for both.
	strike := ts.Sim.Door("press-door").Strike
	before := strike.Changes()
	ts.swipe("r-press-out", 200, 17)
	ts.swipe("r-press-out", 12, 345) // Sato
	host := next("host's grant", func(ev event.Event) bool { return at("r-press-out")(ev) && ev.Person.ID == "p-sato" })
	guest := next("visitor's grant", func(ev event.Event) bool { return at("r-press-out")(ev) && ev.Visit == visit.ID })
	if host.Type != event.AccessGranted || guest.Type != event.AccessGranted {
		t.Fatalf("pair: host %s %s, visitor %s %s", host.Type, host.Reason, guest.Type, guest.Reason)
	}
	if guest.Detail["with"] != "p-sato" || host.Detail["with"] != visit.PersonID {
		t.Fatalf("the log does not link the pair: %v / %v", guest.Detail, host.Detail)
	}
	waitFor(t, "the press door to unlock", func() bool { return strike.Read() == gpio.High })
	walk(t, ts, "press-door")
	if ups := countHigh(strike, before); ups != 1 {
		t.Fatalf("the press door unlocked %d times for the pair, want once", ups)
	}

	// Out again, and out of the site through the main entrance's inside reader.
	for _, r := range []string{"r-press-in", "r-floor-in", "r-main-in"} {
		ts.swipe(r, 200, 17)
		if ev := next("leaving at "+r, at(r)); ev.Type != event.AccessGranted {
			t.Fatalf("%s: %s %s", r, ev.Type, ev.Reason)
		}
	}
	next("checkout by badge", func(ev event.Event) bool { return ev.Type == event.VisitorCheckedOut && ev.Visit == visit.ID })
	if v, _ := ts.Store.GetVisit(ctx, visit.ID); v.Status != sekisho.VisitCheckedOut || v.Card != nil {
		t.Fatalf("after leaving: %+v", v)
	}
	// The manager's log has the press-area stay with the press camera's
	// still of the pair going in.
	waitFor(t, "the still of the pair", func() bool {
		var log struct {
			Rows []struct {
				ID         string
				Restricted []struct {
					Zone   string
					Stills []struct{ Camera, File, SHA256 string }
				}
			}
		}
		ts.call("GET", "/api/reports/visitors", nil, &log)
		for _, r := range log.Rows {
			if r.ID == visit.ID && len(r.Restricted) == 1 && r.Restricted[0].Zone == "die-press" && len(r.Restricted[0].Stills) == 1 {
				st := r.Restricted[0].Stills[0]
				return st.Camera == "cam-press-1" && st.File != "" && len(st.SHA256) == 64
			}
		}
		return false
	})
	// Every door the visit passed is in the log under the visit.
	var passed []event.Event
	ts.call("GET", "/api/events?visit="+visit.ID+"&type=access.granted", nil, &passed)
	doors := map[string]bool{}
	for _, ev := range passed {
		doors[ev.Door] = true
	}
	if len(doors) != 3 || !doors["main-entrance"] || !doors["floor-door"] || !doors["press-door"] {
		t.Fatalf("doors the visit passed: %v", doors)
	}
	// The day badge is dead at once.
	ts.swipe("r-main-out", 200, 17)
	if ev := next("the returned badge", at("r-main-out")); ev.Type != event.AccessDenied || ev.Reason != event.ReasonExpired {
		t.Fatalf("badge after checkout: %s %s", ev.Type, ev.Reason)
	}
}

// walk opens and closes a door, as a person passing through.
func walk(t *testing.T, ts *testSite, door string) {
	t.Helper()
	d := ts.Sim.Door(door)
	if err := d.SetOpen(context.Background(), true); err != nil {
		t.Fatal(err)
	}
	time.Sleep(100 * time.Millisecond)
	if err := d.SetOpen(context.Background(), false); err != nil {
		t.Fatal(err)
	}
}

func countHigh(p interface{ HistoryLevels() []gpio.Level }, since int) int {
	n := 0
	for _, l := range p.HistoryLevels()[since:] {
		if l == gpio.High {
			n++
		}
	}
	return n
}
