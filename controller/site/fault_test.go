package site_test

import (
	"context"
	"testing"
	"time"

	"periph.io/x/conn/v3/gpio"

	"github.com/sekisho/sekisho/controller/config"
	"github.com/sekisho/sekisho/controller/event"
)

// A fault in the door loop does not take the controller down: every strike
// is locked at once, the fault is logged and alarmed, and the next card is
// decided as before.
func TestDoorLoopSurvivesAFaultWithEveryStrikeLocked(t *testing.T) {
	t.Parallel()
	ts := startSite(t, "", func(cfg *config.Config) {
		for i := range cfg.Doors {
			if cfg.Doors[i].ID == "floor-door" {
				cfg.Doors[i].Strike.Pulse = time.Minute // held open by a grant when the fault comes
			}
		}
	})
	live := ts.stream()
	strike := ts.Sim.Door("floor-door").Strike
	ts.swipe("r-floor-out", 12, 345)
	await(t, live, "the grant", func(ev event.Event) bool { return ev.Type == event.AccessGranted && ev.Door == "floor-door" })
	waitFor(t, "the floor strike to open", func() bool { return strike.Read() == gpio.High })

	ts.FaultOnLoop(context.Background())
	waitFor(t, "every strike locked after the fault", func() bool { return strike.Read() == gpio.Low })
	await(t, live, "the fault in the log", func(ev event.Event) bool { return ev.Type == event.SystemFault })
	waitFor(t, "the fault alarm in the alarms table", func() bool {
		alarms, err := ts.Store.OpenAlarms(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		for _, a := range alarms {
			if a.Kind == "fault" {
				return true
			}
		}
		return false
	})
	ts.swipe("r-floor-in", 12, 345)
	await(t, live, "a decision after the fault", func(ev event.Event) bool { return ev.Reader == "r-floor-in" && ev.Type == event.AccessGranted })
}
