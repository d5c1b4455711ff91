package site_test

import (
	"context"
	"database/sql"
	"testing"
	"time"

	"periph.io/x/conn/v3/gpio"

	"github.com/sekisho/sekisho/controller/event"
	"github.com/sekisho/sekisho/controller/store"
)

// A backup holds the database: the door does not wait for it. The card's
// strike is set while the lock is still held and nothing of the swipe is in
// the log yet; once the lock goes, every event is logged, in order.
func TestStrikeNeverWaitsOnALockedLog(t *testing.T) {
	t.Parallel()
	ts := startSite(t, "")
	strike := ts.Sim.Door("floor-door").Strike

	backup, err := sql.Open("sqlite3", "file:"+ts.db+"?_busy_timeout=5000")
	if err != nil {
		t.Fatal(err)
	}
	defer backup.Close()
	conn, err := backup.Conn(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(context.Background(), "BEGIN EXCLUSIVE"); err != nil {
		t.Fatal(err)
	}
	// The log's last seq as the lock holder sees it: whatever the start
	// still had queued went in before the lock, nothing can after.
	last := func() int64 {
		t.Helper()
		var seq int64
		if err := conn.QueryRowContext(context.Background(), "SELECT coalesce(max(seq), 0) FROM events").Scan(&seq); err != nil {
			t.Fatal(err)
		}
		return seq
	}
	head := last()
	held := true
	defer func() {
		if held {
			conn.ExecContext(context.Background(), "ROLLBACK")
		}
	}()

	// A door is forced first: its event and alarm wait for the log too.
	if code := ts.call("POST", "/api/sim/doors/dev-door/contact", map[string]any{"open": true}, nil); code != 202 {
		t.Fatalf("contact: %d", code)
	}
	before := strike.Changes()
	ts.swipe("r-floor-out", 12, 345)
	waitFor(t, "the strike, with the log locked", func() bool { return strike.Read() == gpio.High })
	if got := last(); got != head {
		t.Fatalf("the log moved from %d to %d while it was locked", head, got)
	}
	if strike.Changes() <= before {
		t.Fatal("no strike change")
	}
	if _, err := conn.ExecContext(context.Background(), "ROLLBACK"); err != nil {
		t.Fatal(err)
	}
	held = false
	var evs []event.Event
	waitFor(t, "the swipe in the log after the lock", func() bool {
		evs, _ = ts.Store.Events(context.Background(), store.Filter{Door: "floor-door", Limit: 10})
		granted, unlocked := false, false
		for _, e := range evs {
			granted = granted || e.Type == event.AccessGranted
			unlocked = unlocked || e.Type == event.DoorUnlocked
		}
		return granted && unlocked
	})
	assertGrantBeforeUnlock(t, ts)
	dev, _ := ts.Store.Events(context.Background(), store.Filter{Door: "dev-door", Limit: 10})
	forced := false
	for _, e := range dev {
		forced = forced || e.Type == event.DoorForced
	}
	if !forced {
		t.Fatalf("the forced door during the lock is not in the log: %v", dev)
	}
}

// The door loop's inbox is full (a door Pi replays an outage) and the loop
// is busy while a local door unlocks: the strike still relocks on time, and
// the reports follow once the loop is free.
func TestStrikeRelocksWhileTheLoopIsFull(t *testing.T) {
	t.Parallel()
	ts := startSite(t, "")
	strike := ts.Sim.Door("floor-door").Strike
	release := ts.StallLoop(context.Background())
	released := false
	defer func() {
		if !released {
			release()
		}
	}()
	if n := ts.FillSignals("dev-door"); n == 0 {
		t.Fatal("the inbox took nothing")
	}
	go ts.UnlockDirect("floor-door", 200*time.Millisecond)
	waitFor(t, "the unlock", func() bool { return strike.Read() == gpio.High })
	waitFor(t, "the relock with the loop still full", func() bool { return strike.Read() == gpio.Low })
	release()
	released = true
	waitFor(t, "the reports once the loop is free", func() bool {
		evs, _ := ts.Store.Events(context.Background(), store.Filter{Door: "floor-door", Type: "door.locked", Limit: 1})
		return len(evs) == 1
	})
}

// Cards and guards' console unlocks, mixed: in the log, every unlock of a
// door follows the grant (or exit button) that caused it.
func TestGrantAlwaysPrecedesItsUnlock(t *testing.T) {
	t.Parallel()
	ts := startSite(t, "")
	for i := range 6 {
		if i%2 == 0 {
			ts.swipe("r-floor-out", 12, 345)
			ts.swipe("r-floor-in", 12, 345)
		} else if code := ts.call("POST", "/api/doors/floor-door/unlock", map[string]any{}, nil); code != 200 && code != 202 {
			t.Fatalf("console unlock: %d", code)
		}
	}
	waitFor(t, "six unlocks logged", func() bool {
		evs, _ := ts.Store.Events(context.Background(), store.Filter{Door: "floor-door", Type: "door.unlocked", Limit: 100})
		return len(evs) >= 1
	})
	assertGrantBeforeUnlock(t, ts)
}

// assertGrantBeforeUnlock reads the floor door's log oldest first: each
// door.unlocked has a grant or exit button since the door last locked.
func assertGrantBeforeUnlock(t *testing.T, ts *testSite) {
	t.Helper()
	evs, err := ts.Store.Events(context.Background(), store.Filter{Door: "floor-door", Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	cause := false
	for i := len(evs) - 1; i >= 0; i-- { // the store answers newest first
		switch e := evs[i]; e.Type {
		case event.AccessGranted, event.DoorREX:
			cause = true
		case event.DoorUnlocked:
			if !cause {
				t.Fatalf("seq %d: door.unlocked with no grant before it", e.Seq)
			}
		case event.DoorLocked:
			cause = false
		}
	}
}

// The simulator shows a door's pins as they are now: the relay, the door
// switch, the readers' LEDs.
func TestSimShowsTheDoorsPins(t *testing.T) {
	t.Parallel()
	ts := startSite(t, "")
	pins := func() (p struct {
		StrikeLevel string `json:"strike_level"`
		Unlocked    bool
		ContactOpen bool `json:"contact_open"`
		LEDs        map[string]bool
	}) {
		t.Helper()
		if code := ts.call("GET", "/api/sim/doors/floor-door", nil, &p); code != 200 {
			t.Fatalf("GET /api/sim/doors/floor-door: %d", code)
		}
		return p
	}
	if p := pins(); p.Unlocked || p.StrikeLevel != "low" || p.ContactOpen {
		t.Fatalf("at rest: %+v", p)
	}
	ts.swipe("r-floor-out", 12, 345)
	waitFor(t, "the strike and the green LED in the pins", func() bool { p := pins(); return p.Unlocked && p.StrikeLevel == "high" && p.LEDs["r-floor-out"] })
	waitFor(t, "the relock in the pins", func() bool { return !pins().Unlocked })
	if code, word, _ := ts.refusal(t, "GET", "/api/sim/doors/no-door", "", ""); code != 404 || word == "" {
		t.Fatalf("unknown door: %d %s", code, word)
	}
}
