package site_test

import (
	"context"
	"log/slog"
	"os"
	"strings"
	"testing"
	"time"

	"periph.io/x/conn/v3/gpio"

	"github.com/sekisho/sekisho/controller/config"
	"github.com/sekisho/sekisho/controller/event"
	"github.com/sekisho/sekisho/controller/store"
	"github.com/sekisho/sekisho/controller/testtool"
	"github.com/sekisho/sekisho/firmware-bridge/board"
	"github.com/sekisho/sekisho/firmware-bridge/remote"
	"github.com/sekisho/sekisho/firmware-bridge/simhw"
	"github.com/sekisho/sekisho/firmware-bridge/wiegand"
)

// The press door and the development room are on a door Pi that talks to
// the controller only through a real Mosquitto. The broker goes away for a
// while; the door Pi keeps granting from its snapshot and denying the rest,
// and when the broker is back every event reaches the controller's log once
// and in order, marked as the bridge's decisions.
func TestDoorPiRidesOutABrokerOutage(t *testing.T) {
	m := testtool.StartMosquitto(t)
	ts := startSite(t, m.URL, func(cfg *config.Config) {
		for i, d := range cfg.Doors {
			switch d.ID {
			case "press-door":
				cfg.Doors[i].Bridge, cfg.Doors[i].Slot = "door-pi-1", "door-1"
				cfg.Doors[i].Strike.Pulse = 3 * time.Second // only the door closing relocks it
				cfg.Doors[i].Readers.Inside = ""            // the reference board wires one reader per door
			case "dev-door":
				cfg.Doors[i].Bridge, cfg.Doors[i].Slot = "door-pi-1", "door-2"
				cfg.Doors[i].Readers.Inside = ""
			}
		}
	})
	ts.addCardholder("Remote Operator", []string{"press-operators"}, 50, 1)

	f, err := board.Load("../../hardware/pi-reference.yaml")
	if err != nil {
		t.Fatal(err)
	}
	pins := board.NewSimPins(f)
	d := &remote.Daemon{
		ID: "door-pi-1", Prefix: ts.Config.MQTT.TopicPrefix, Broker: remote.Broker{URL: m.URL},
		Board: f, Open: pins.Open, DataDir: t.TempDir(),
		OfflineAfter: 500 * time.Millisecond, DecisionTimeout: 500 * time.Millisecond,
		Log: slog.New(slog.NewTextHandler(os.Stderr, nil)),
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	})
	select {
	case <-d.Ready():
	case <-time.After(10 * time.Second):
		t.Fatal("the door Pi never got its snapshot")
	}
	waitFor(t, "the cardholder in the door Pi's snapshot", func() bool {
		s := d.Snapshot()
		if s == nil {
			return false
		}
		for _, c := range s.Cards {
			if c.Facility == 50 && c.Number == 1 {
				return true
			}
		}
		return false
	})

	reader := &simhw.Reader{ID: "r-press-out", D0: pins.Pin("GPIO5"), D1: pins.Pin("GPIO6")}
	contact := pins.Pin("GPIO22")
	strike := pins.Pin("GPIO17")
	swipe := func(fc, cn uint64) {
		t.Helper()
		b, _ := wiegand.Encode(wiegand.FormatH10301, fc, cn)
		if err := reader.Send(context.Background(), b); err != nil {
			t.Fatal(err)
		}
	}
	live := ts.stream()

	// Link up: the controller decides.
	swipe(50, 1)
	ev := await(t, live, "live grant", func(ev event.Event) bool { return ev.Type == event.AccessGranted && ev.Door == "press-door" })
	if ev.DecidedBy != "" {
		t.Fatalf("live grant decided by %q", ev.DecidedBy)
	}
	waitFor(t, "the strike to move", func() bool { return strike.Changes() >= 2 })
	waitFor(t, "relock", func() bool { return strike.Read() == gpio.Low })
	await(t, live, "the live relock in the log", func(ev event.Event) bool { return ev.Type == event.DoorLocked && ev.Door == "press-door" })

	// The broker goes away.
	head := ts.Store.Head()
	m.Stop()
	time.Sleep(time.Second)
	swipe(50, 1) // granted from the snapshot
	waitFor(t, "the strike to move without the controller", func() bool { return strike.Read() == gpio.High })
	contact.Drive(context.Background(), gpio.High) // walked through...
	time.Sleep(200 * time.Millisecond)
	contact.Drive(context.Background(), gpio.Low) // ...and closed: relocked at once
	waitFor(t, "relock on close", func() bool { return strike.Read() == gpio.Low })
	swipe(99, 9999) // unknown: denied
	time.Sleep(300 * time.Millisecond)

	m.Start(t, testtool.Need(t, "mosquitto", "/usr/sbin/mosquitto"))
	waitFor(t, "the outage's events in the log", func() bool {
		evs, _ := ts.Store.Events(context.Background(), store.Filter{Door: "press-door", Reason: event.ReasonUnknownCredential})
		return len(evs) >= 1
	})
	time.Sleep(500 * time.Millisecond) // let any duplicate deliveries land too

	evs, err := ts.Store.After(context.Background(), 0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	ids := map[string]int{}
	var story []string
	for _, ev := range evs {
		ids[ev.ID]++
		if ev.Seq > head && ev.Door == "press-door" {
			story = append(story, ev.Type+" "+ev.Reason+" "+ev.DecidedBy)
		}
	}
	for id, n := range ids {
		if n != 1 {
			t.Fatalf("event %s logged %d times", id, n)
		}
	}
	want := []string{
		"access.granted  bridge",
		"door.unlocked  ",
		"door.opened  ",
		"door.closed  ",
		"door.locked  ",
		"access.denied unknown_credential bridge",
	}
	if strings.Join(story, "|") != strings.Join(want, "|") {
		for _, ev := range evs {
			if ev.Seq > head-3 {
				t.Logf("seq %d %s %s %s %s by=%q id=%s", ev.Seq, ev.Time.Format("15:04:05.000"), ev.Door, ev.Type, ev.Reason, ev.DecidedBy, ev.ID)
			}
		}
		t.Fatalf("the outage in the log:\n%q\nwant, once each and in this order:\n%q", story, want)
	}
	if v, _ := ts.Store.Verify(context.Background()); !v.OK {
		t.Fatalf("chain %+v", v)
	}
}
