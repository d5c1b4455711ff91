package fleet

import (
	"testing"
	"time"

	"github.com/sekisho/sekisho/controller/testtool"
	"github.com/sekisho/sekisho/firmware-bridge/bridge"
)

const granted, denied = "access.granted", "access.denied"

// Every door Pi starts with no cards and gets its share; a card disabled
// is refused at every Pi that held it, from the cards each holds (what it
// decides from when cut off), and re-enabled is let in again.
func TestRevokedCardRefusedByEveryDoorPi(t *testing.T) {
	p := startPlant(t, 6, 400)
	testtool.WaitFor(t, 30*time.Second, "every door Pi holding its cards", func() bool { return p.inStep() })
	// Card 2 passes the doors of room 2 (group 2): Pi 2 holds it, Pi 3 not.
	now := time.Now()
	if d := p.pis[2].daemon.Decide(reader(2), card(2), now); d.Type != granted {
		t.Fatalf("card 2 at its own room before: %s %s", d.Type, d.Reason)
	}
	if d := p.pis[3].daemon.Decide(reader(3), card(2), now); d.Type != denied || d.Reason != "unknown_credential" {
		t.Fatalf("card 2 at another room: %s %s (a Pi holds only the cards for its doors)", d.Type, d.Reason)
	}
	before := p.fleet.States()

	p.change(func(hs []Holder) { hs[2].Enabled = false })
	testtool.WaitFor(t, 10*time.Second, "the fleet making the revocation", func() bool { return p.versions()["pi-2"] != before[2].Version })
	testtool.WaitFor(t, 10*time.Second, "every door Pi holding the revocation", func() bool { return p.inStep() })
	if d := p.pis[2].daemon.Decide(reader(2), card(2), now); d.Type != denied || d.Reason != "disabled" {
		t.Fatalf("the disabled card alone at its door Pi: %s %s", d.Type, d.Reason)
	}
	// Only the Pi whose doors the card passes got a new version.
	after := p.fleet.States()
	for i := range after {
		moved := after[i].Version != before[i].Version
		if moved != (after[i].ID == "pi-2") {
			t.Errorf("%s moved: %v", after[i].ID, moved)
		}
	}

	p.change(func(hs []Holder) { hs[2].Enabled = true })
	testtool.WaitFor(t, 10*time.Second, "the card let in again", func() bool {
		return p.pis[2].daemon.Decide(reader(2), card(2), now).Type == granted
	})
	if after[2].Version == p.fleet.States()[2].Version {
		// Same cards, same version: the sum is of the content.
	} else if p.fleet.States()[2].Version != before[2].Version {
		t.Errorf("re-enabled, the version is not the one before the disable: %s vs %s", p.fleet.States()[2].Version, before[2].Version)
	}
}

// A door Pi away while a thousand changes are made catches up when it is
// back: with the deltas if they were kept, otherwise its whole snapshot.
func TestDoorPiOfflineDuringAThousandChangesCatchesUp(t *testing.T) {
	p := startPlant(t, 3, 200)
	testtool.WaitFor(t, 30*time.Second, "every door Pi holding its cards", func() bool { return p.inStep() })
	away := p.pis[1]

	// Away for a few changes: the deltas it missed are sent again.
	p.stopPi(t, away)
	wholes := p.wholes(away)
	for i := range 5 {
		p.change(func(hs []Holder) { hs[1+i*groups].Enabled = false })
	}
	testtool.WaitFor(t, 30*time.Second, "the others keeping up", func() bool {
		st := p.versions()
		return st["pi-1"] != "" && p.inStep(p.pis[0], p.pis[2]) && p.fleetHas(func(hs []Holder) bool { return !hs[1+4*groups].Enabled })
	})
	p.startPi(t, away)
	testtool.WaitFor(t, 30*time.Second, "the door Pi back in step", func() bool { return p.inStep() })
	if p.wholes(away) != wholes {
		t.Errorf("caught up with %d whole snapshots, not the deltas it missed", p.wholes(away)-wholes)
	}

	// Away for a thousand: too many to send again; the whole snapshot.
	p.stopPi(t, away)
	for i := range 1000 {
		p.change(func(hs []Holder) {
			n := 1 + (i%10)*groups // cards of room 1
			hs[n].Enabled = !hs[n].Enabled
			hs[n].Person.Name = "renamed " + time.Now().String()
		})
	}
	p.mu.Lock()
	last := p.holders[1+9*groups].Person.Name
	p.mu.Unlock()
	testtool.WaitFor(t, 30*time.Second, "the fleet taking the last change", func() bool {
		c, _ := p.fleet.Holder(card(1 + 9*groups))
		return c != nil && c.Person.Name == last
	})
	testtool.WaitFor(t, 30*time.Second, "the others keeping up", func() bool { return p.inStep(p.pis[0], p.pis[2]) })
	p.startPi(t, away)
	testtool.WaitFor(t, 30*time.Second, "the door Pi back in step", func() bool { return p.inStep() })
	// What it holds is exactly the controller's: the version is the sum of
	// the content, checked on arrival.
	for n := 1; n < 200; n += groups {
		want := granted
		p.mu.Lock()
		if !p.holders[n].Enabled {
			want = denied
		}
		p.mu.Unlock()
		if d := away.daemon.Decide(reader(1), card(n), time.Now()); d.Type != want {
			t.Errorf("card %d: %s, want %s", n, d.Type, want)
		}
	}
}

// A door Pi restarted keeps its cards (checked, from its own disk) and
// decides from them before the controller is heard; a kept file it did
// not write is refused.
func TestDoorPiKeepsItsCardsAcrossARestart(t *testing.T) {
	p := startPlant(t, 2, 100)
	testtool.WaitFor(t, 30*time.Second, "every door Pi holding its cards", func() bool { return p.inStep() })
	pi := p.pis[0]
	held := pi.daemon.Held()
	p.stopPi(t, pi)
	p.closeBroker() // no controller to be heard from
	p.startPi(t, pi)
	testtool.WaitFor(t, 10*time.Second, "the kept cards in use", func() bool { return pi.daemon.Held() == held })
	if d := pi.daemon.Decide(reader(0), card(0), time.Now()); d.Type != granted {
		t.Fatalf("card 0 from the kept cards: %s %s", d.Type, d.Reason)
	}
}

var _ = bridge.Decision{}
