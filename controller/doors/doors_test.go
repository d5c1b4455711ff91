package doors

import (
	"testing"
	"time"

	"github.com/sekisho/sekisho/controller/config"
	"github.com/sekisho/sekisho/controller/event"
	"github.com/sekisho/sekisho/controller/sekisho"
	"github.com/sekisho/sekisho/firmware-bridge/bridge"
)

func types(o Outcome) []string {
	var ts []string
	for _, e := range o.Events {
		ts = append(ts, e.Type)
	}
	return ts
}

func TestDoorStates(t *testing.T) {
	cfg := &config.Config{Doors: []config.Door{{ID: "d", From: "a", To: "b", HeldOpenAfter: time.Second}}}
	sig := func(kind string, on bool) bridge.Signal {
		return bridge.Signal{Kind: kind, Door: "d", On: on, At: time.Now()}
	}
	steps := []struct {
		name   string
		sig    bridge.Signal
		want   []string
		relock bool
		alarm  string
	}{
		{"contact at start is no event", sig(bridge.SignalContact, false), nil, false, ""},
		{"grant unlocks", sig(bridge.SignalStrike, true), []string{event.DoorUnlocked}, false, ""},
		{"opened under grant", sig(bridge.SignalContact, true), []string{event.DoorOpened}, false, ""},
		{"closing relocks", sig(bridge.SignalContact, false), []string{event.DoorClosed}, true, ""},
		{"relocked", sig(bridge.SignalStrike, false), []string{event.DoorLocked}, false, ""},
		{"opened while locked is forced", sig(bridge.SignalContact, true), []string{event.DoorOpened, event.DoorForced}, false, string(sekisho.AlarmForced)},
		{"closing clears forced, nothing to relock", sig(bridge.SignalContact, false), []string{event.DoorClosed}, false, ""},
		{"rex", sig(bridge.SignalREX, true), []string{event.DoorREX}, false, ""},
	}
	tr := NewTracker(cfg)
	for _, s := range steps {
		out := tr.Apply(s.sig)
		got := types(out)
		if len(got) != len(s.want) || (len(got) > 0 && got[len(got)-1] != s.want[len(s.want)-1]) || out.Relock != s.relock {
			t.Fatalf("%s: events %v relock %v, want %v relock %v", s.name, got, out.Relock, s.want, s.relock)
		}
		if st, _ := tr.Get("d"); st.Alarm != s.alarm {
			t.Fatalf("%s: alarm %q, want %q", s.name, st.Alarm, s.alarm)
		}
	}
}

func TestHeldOnlyForTheSameOpening(t *testing.T) {
	cfg := &config.Config{Doors: []config.Door{{ID: "d", HeldOpenAfter: time.Second}}}
	tr := NewTracker(cfg)
	tr.Apply(bridge.Signal{Kind: bridge.SignalContact, Door: "d"})
	tr.Apply(bridge.Signal{Kind: bridge.SignalStrike, Door: "d", On: true})
	first := tr.Apply(bridge.Signal{Kind: bridge.SignalContact, Door: "d", On: true})
	if first.HeldCheck != time.Second {
		t.Fatalf("held check %v", first.HeldCheck)
	}
	tr.Apply(bridge.Signal{Kind: bridge.SignalContact, Door: "d", On: false})
	second := tr.Apply(bridge.Signal{Kind: bridge.SignalContact, Door: "d", On: true})
	if evs := tr.Held("d", first.Opening, time.Now()); evs != nil {
		t.Fatal("held raised for an earlier opening")
	}
	if evs := tr.Held("d", second.Opening, time.Now()); len(evs) != 1 || evs[0].Type != event.DoorHeld {
		t.Fatalf("held: %v", evs)
	}
}
