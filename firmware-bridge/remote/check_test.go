package remote

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/sekisho/sekisho/firmware-bridge/bridge"
	"github.com/sekisho/sekisho/firmware-bridge/wiegand"
)

func pressCheck() *Check {
	// The fleet vouches for card 50:1 of p-op in version snap-1 (its own
	// tests judge versions; here only what the check does with the answer).
	vouch := func(sig bridge.Signal, d *bridge.Decision, _ time.Time) string {
		if d.Snapshot == "snap-1" && sig.Card.Facility == 50 && sig.Card.Number == 1 && d.Person != nil && d.Person.ID == "p-op" {
			return ""
		}
		return "not in the cards the door Pi held"
	}
	return &Check{Bridge: "door-pi-1", Readers: map[string]string{"r-press-out": "press-door"},
		Doors: map[string]bool{"press-door": true}, Window: time.Second, Vouch: vouch}
}

func envelope(t *testing.T, env Envelope) []byte {
	t.Helper()
	b, err := json.Marshal(env)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestControllerBelievesADoorPiOnlyAboutItsOwnDoors(t *testing.T) {
	now := time.Now()
	live := func() string { return uuid.Must(uuid.NewV7()).String() }
	card := &wiegand.Card{Format: "H10301", Facility: 50, Number: 1}
	stranger := &wiegand.Card{Format: "H10301", Facility: 9, Number: 9}
	grant := func(snapshot, person string) *bridge.Decision {
		return &bridge.Decision{Type: "access.granted", Snapshot: snapshot, Person: &bridge.Person{ID: person}}
	}
	tests := []struct {
		name   string
		raw    []byte
		reason string // "" accepted, "late" left to the door Pi, "unvouched" a grant logged with an alarm
	}{
		{"not JSON", []byte("{"), "malformed"},
		{"a card signal without a card", envelope(t, Envelope{ID: live(), Signal: bridge.Signal{Kind: "card", Reader: "r-press-out", At: now}}), "malformed"},
		{"unknown kind", envelope(t, Envelope{ID: live(), Signal: bridge.Signal{Kind: "open_sesame", Door: "press-door", At: now}}), "malformed"},
		{"no id", envelope(t, Envelope{Signal: bridge.Signal{Kind: "contact", Door: "press-door", At: now}}), "malformed"},
		{"no time", envelope(t, Envelope{ID: live(), Signal: bridge.Signal{Kind: "contact", Door: "press-door"}}), "malformed"},
		{"oversized", append([]byte(`{"id":"`+strings.Repeat("a", MaxEnvelope)), '"', '}'), "malformed"},
		{"another bridge's reader", envelope(t, Envelope{ID: live(), Signal: bridge.Signal{Kind: "card", Reader: "r-main-in", Card: card, At: now}}), "not_this_bridge"},
		{"another bridge's door", envelope(t, Envelope{ID: live(), Signal: bridge.Signal{Kind: "rex", Door: "main-door", On: true, At: now}}), "not_this_bridge"},
		{"its reader, another door", envelope(t, Envelope{ID: live(), Signal: bridge.Signal{Kind: "card", Reader: "r-press-out", Door: "main-door", Card: card, At: now}}), "not_this_bridge"},
		{"says it is another bridge", envelope(t, Envelope{ID: live(), Bridge: "door-pi-2", Signal: bridge.Signal{Kind: "contact", Door: "press-door", At: now}}), "not_this_bridge"},
		{"grant for a made-up person", envelope(t, Envelope{ID: live(), Signal: bridge.Signal{Kind: "card", Reader: "r-press-out", Card: card, At: now}, Decision: grant("snap-1", "p-nobody")}), "unvouched"},
		{"grant for a card not in the snapshot", envelope(t, Envelope{ID: live(), Signal: bridge.Signal{Kind: "card", Reader: "r-press-out", Card: stranger, At: now}, Decision: grant("snap-1", "p-op")}), "unvouched"},
		{"grant from a snapshot never sent", envelope(t, Envelope{ID: live(), Signal: bridge.Signal{Kind: "card", Reader: "r-press-out", Card: card, At: now}, Decision: grant("attacker-0001", "p-op")}), "unvouched"},
		{"a decision about a door", envelope(t, Envelope{ID: live(), Signal: bridge.Signal{Kind: "rex", Door: "press-door", At: now}, Decision: grant("snap-1", "p-op")}), "malformed"},
		{"a refusal report", envelope(t, Envelope{ID: live(), Signal: bridge.Signal{Kind: SignalRefused, At: now}, Refused: &Refused{Kind: "command", Reason: "bad_signature", Count: 3}}), "refused_by_bridge"},
		{"a live card whose id is no UUIDv7", envelope(t, Envelope{ID: "not-a-uuid", Signal: bridge.Signal{Kind: "card", Reader: "r-press-out", Card: card, At: now}}), "malformed"},
		{"an honest offline grant", envelope(t, Envelope{ID: live(), Signal: bridge.Signal{Kind: "card", Reader: "r-press-out", Card: card, At: now.Add(-time.Hour)}, Decision: grant("snap-1", "p-op")}), ""},
		{"an honest refusal from a forgotten snapshot", envelope(t, Envelope{ID: live(), Signal: bridge.Signal{Kind: "card", Reader: "r-press-out", Card: stranger, At: now}, Decision: &bridge.Decision{Type: "access.denied", Snapshot: "older"}}), ""},
		{"an honest door report", envelope(t, Envelope{ID: live(), Signal: bridge.Signal{Kind: "contact", Door: "press-door", On: true, At: now}}), ""},
		{"a live card sensed long ago", envelope(t, Envelope{ID: live(), Signal: bridge.Signal{Kind: "card", Reader: "r-press-out", Card: card, At: now.Add(-time.Minute)}}), "late"},
	}
	c := pressCheck()
	for _, tt := range tests {
		sig, late, rej := c.Accept(tt.raw, now)
		got := ""
		switch {
		case rej != nil:
			got = rej.Reason
		case late:
			got = "late"
		case sig.Unvouched != "":
			got = "unvouched"
		}
		if got != tt.reason {
			t.Errorf("%s: %q (%v), want %q", tt.name, got, rej, tt.reason)
		}
	}
}

// The controller's clock orders the log: a door Pi's time is believed
// within a window (a few seconds ahead; back to when it was last heard
// before a silence), otherwise the signal is logged at the time the
// controller received it, with the claim beside it.
func TestADoorPisClockIsBelievedOnlyWithinAWindow(t *testing.T) {
	c := pressCheck()
	start := time.Date(2026, 12, 3, 9, 0, 0, 0, time.UTC)
	door := func(at time.Time) []byte {
		return envelope(t, Envelope{ID: uuid.Must(uuid.NewV7()).String(), Signal: bridge.Signal{Kind: "contact", Door: "press-door", On: true, At: at}})
	}
	for _, tt := range []struct {
		name     string
		now, at  time.Time
		believed bool
	}{
		{"first contact, a backlog of an hour", start, start.Add(-time.Hour), true},
		{"the year 1", start, time.Time{}.Add(time.Hour), false},
		{"backdated to 2020", start.Add(time.Second), time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC), false},
		{"dated 9999", start.Add(2 * time.Second), time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC), false},
		{"a little ahead", start.Add(3 * time.Second), start.Add(5 * time.Second), true},
		{"live traffic", start.Add(4 * time.Second), start.Add(4 * time.Second), true},
		// Busy, but backdating within its traffic: not before its own last.
		{"backdated during live traffic", start.Add(6 * time.Second), start.Add(-10 * time.Minute), false},
		// Silent for an hour, then its backlog: from after it was last heard.
		{"a backlog after a silence", start.Add(time.Hour), start.Add(30 * time.Minute), true},
		{"the backlog goes on, in order", start.Add(time.Hour + time.Second), start.Add(40 * time.Minute), true},
		{"older than the last contact", start.Add(time.Hour + 2*time.Second), start.Add(-time.Minute), false},
	} {
		sig, _, rej := c.Accept(door(tt.at), tt.now)
		if rej != nil {
			t.Fatalf("%s: rejected: %v", tt.name, rej)
		}
		if tt.believed && (!sig.At.Equal(tt.at) || !sig.Claimed.IsZero()) {
			t.Errorf("%s: logged at %s (claim %s), want the door Pi's %s", tt.name, sig.At, sig.Claimed, tt.at)
		}
		if !tt.believed && (!sig.At.Equal(tt.now) || !sig.Claimed.Equal(tt.at)) {
			t.Errorf("%s: logged at %s (claim %s), want the controller's %s with the claim beside it", tt.name, sig.At, sig.Claimed, tt.now)
		}
	}
}

func TestALiveCardIsAnsweredOnce(t *testing.T) {
	c := pressCheck()
	now := time.Now()
	raw := envelope(t, Envelope{ID: uuid.Must(uuid.NewV7()).String(),
		Signal: bridge.Signal{Kind: "card", Reader: "r-press-out", Card: &wiegand.Card{Format: "H10301", Facility: 50, Number: 1}, At: now}})
	if sig, late, rej := c.Accept(raw, now); rej != nil || late || sig.Card == nil || sig.ID == "" {
		t.Fatalf("first: %+v %v %v", sig, late, rej)
	}
	if _, _, rej := c.Accept(raw, now.Add(100*time.Millisecond)); rej == nil || rej.Reason != "replayed" {
		t.Fatalf("replay within the window: %v", rej)
	}
	// Once past the window, the same id is late: the door Pi's to decide,
	// never a strike the controller moves.
	if _, late, rej := c.Accept(raw, now.Add(5*time.Second)); rej == nil && !late {
		t.Fatal("replay after the window was acted on")
	}
}

// FuzzParseEnvelope: no bytes from the broker crash the controller, and what
// passes has what the door loop reads.
func FuzzParseEnvelope(f *testing.F) {
	f.Add([]byte(`{"id":"x","signal":{"kind":"card","reader":"r1","card":{"format":"H10301","facility":1,"number":2},"at":"2026-11-30T09:00:00Z"}}`))
	f.Add([]byte(`{"id":"x","signal":{"kind":"card","reader":"r1","at":"2026-11-30T09:00:00Z"}}`))
	f.Add([]byte(`{"id":"x","signal":{"kind":"rex","door":"d","at":"2026-11-30T09:00:00Z"},"decision":{"type":"access.granted","snapshot":"s"}}`))
	f.Add([]byte(`{"id":"x","signal":{"kind":"refused","at":"2026-11-30T09:00:00Z"},"refused":{"kind":"command","reason":"stale"}}`))
	f.Add([]byte(`null`))
	f.Fuzz(func(t *testing.T, raw []byte) {
		env, err := ParseEnvelope(raw)
		if err != nil {
			return
		}
		s := env.Signal
		if env.ID == "" || s.At.IsZero() || !signalKinds[s.Kind] {
			t.Fatalf("accepted without id, time or kind: %+v", env)
		}
		if s.Kind == bridge.SignalCard && s.Card == nil {
			t.Fatal("accepted a card signal without a card")
		}
		if env.Decision != nil && (s.Kind != bridge.SignalCard || env.Decision.Snapshot == "") {
			t.Fatalf("accepted a decision about no card or no snapshot: %+v", env)
		}
		// The whole check must not panic either.
		pressCheck().Accept(raw, time.Now())
	})
}
