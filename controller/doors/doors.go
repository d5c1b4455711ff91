// Package doors keeps each door's state (locked, open, in alarm) from what
// the bridge senses, and says which events that is and when to relock.
package doors

import (
	"sync"
	"time"

	"github.com/sekisho/sekisho/controller/config"
	"github.com/sekisho/sekisho/controller/event"
	"github.com/sekisho/sekisho/controller/sekisho"
	"github.com/sekisho/sekisho/firmware-bridge/bridge"
)

// State is a door as guards and MQTT see it.
type State struct {
	ID         string         `json:"id"`
	Name       string         `json:"name"`
	From       string         `json:"from"`
	To         string         `json:"to"`
	Readers    config.Readers `json:"readers"`
	InsideOnly bool           `json:"inside_only"`
	Locked     bool           `json:"locked"`
	Open       bool           `json:"open"`
	Alarm      string         `json:"alarm"` // "", "forced", "held"
	Updated    time.Time      `json:"updated"`
}

type door struct {
	State
	cfg      config.Door
	known    bool // the contact has reported once
	openings int  // counts openings, so a held check knows it is still the same one

	tamperKnown, tampered bool
}

// Tracker holds every door's state. It is safe for concurrent use.
type Tracker struct {
	mu    sync.Mutex
	doors map[string]*door
	order []string // config order: the walk from the entrance inwards
}

// NewTracker starts with every door locked and closed.
func NewTracker(cfg *config.Config) *Tracker {
	t := &Tracker{doors: map[string]*door{}}
	now := time.Now()
	for _, d := range cfg.Doors {
		t.order = append(t.order, d.ID)
		t.doors[d.ID] = &door{cfg: d, State: State{ID: d.ID, Name: d.Name, From: d.From, To: d.To,
			Readers: d.Readers, InsideOnly: d.InsideOnly, Locked: true, Updated: now}}
	}
	return t
}

// Outcome is what a signal means.
type Outcome struct {
	Events []event.Event
	Relock bool // lock now: the door closed behind the person let through
	// HeldCheck, when set, asks for Held(door, opening) after this long.
	HeldCheck time.Duration
	Opening   int
}

// Apply takes a door signal (strike, contact, rex) into the door's state.
func (t *Tracker) Apply(sig bridge.Signal) Outcome {
	t.mu.Lock()
	defer t.mu.Unlock()
	d, ok := t.doors[sig.Door]
	if !ok {
		return Outcome{}
	}
	ev := func(typ string) event.Event {
		return event.Event{Type: typ, Time: sig.At, Door: d.ID, ZoneFrom: d.cfg.From, ZoneTo: d.cfg.To}
	}
	var out Outcome
	switch sig.Kind {
	case bridge.SignalStrike:
		if d.Locked == !sig.On {
			return out
		}
		d.Locked = !sig.On
		if d.Locked {
			out.Events = append(out.Events, ev(event.DoorLocked))
		} else {
			out.Events = append(out.Events, ev(event.DoorUnlocked))
		}
	case bridge.SignalContact:
		first := !d.known
		d.known = true
		if d.Open == sig.On {
			return out
		}
		d.Open = sig.On
		if first {
			break // the door's position at start is a fact, not an event
		}
		if d.Open {
			d.openings++
			out.Events = append(out.Events, ev(event.DoorOpened))
			if d.Locked {
				// Nothing let it open: no grant, REX or console unlock.
				d.Alarm = string(sekisho.AlarmForced)
				f := ev(event.DoorForced)
				f.Alarm = &event.Alarm{ID: "door-forced-" + d.ID, Severity: "critical"}
				out.Events = append(out.Events, f)
			}
			out.HeldCheck, out.Opening = d.cfg.HeldOpenAfter, d.openings
		} else {
			out.Events = append(out.Events, ev(event.DoorClosed))
			d.Alarm = ""
			out.Relock = !d.Locked
		}
	case bridge.SignalREX:
		out.Events = append(out.Events, ev(event.DoorREX))
	case bridge.SignalTamper:
		if d.tampered == sig.On {
			return out
		}
		first := !d.tamperKnown
		d.tamperKnown, d.tampered = true, sig.On
		if first && !sig.On {
			break // an intact loop at start is no news
		}
		t := ev(event.DoorTamper)
		if sig.On {
			d.Alarm = string(sekisho.AlarmTamper)
			t.Alarm = &event.Alarm{ID: "door-tamper-" + d.ID, Severity: "critical"}
			t.Detail = map[string]string{"state": "tampered"}
		} else {
			if d.Alarm == string(sekisho.AlarmTamper) {
				d.Alarm = ""
			}
			t.Detail = map[string]string{"state": "restored"}
		}
		out.Events = append(out.Events, t)
	default:
		return out
	}
	d.Updated = sig.At
	return out
}

// Held reports the door held open if it is still open from the same opening.
func (t *Tracker) Held(id string, opening int, at time.Time) []event.Event {
	t.mu.Lock()
	defer t.mu.Unlock()
	d, ok := t.doors[id]
	if !ok || !d.Open || d.openings != opening {
		return nil
	}
	d.Alarm, d.Updated = string(sekisho.AlarmHeld), at
	return []event.Event{{Type: event.DoorHeld, Time: at, Door: d.ID, ZoneFrom: d.cfg.From, ZoneTo: d.cfg.To,
		Alarm: &event.Alarm{ID: "door-held-" + d.ID, Severity: "warning"}}}
}

// States lists every door in config order.
func (t *Tracker) States() []State {
	t.mu.Lock()
	defer t.mu.Unlock()
	out := make([]State, 0, len(t.order))
	for _, id := range t.order {
		out = append(out, t.doors[id].State)
	}
	return out
}

// Get returns one door's state.
func (t *Tracker) Get(id string) (State, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	d, ok := t.doors[id]
	if !ok {
		return State{}, false
	}
	return d.State, true
}
