package remote

import (
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/sekisho/sekisho/firmware-bridge/bridge"
)

// The controller believes a door Pi only about that door Pi's own readers
// and doors, and only grants the snapshot it was sent would grant. Anything
// else becomes a Rejection: logged, counted, alarmed, and never acted on.

// MaxEnvelope is the largest envelope a door Pi sends (a card, a PIN, a
// decision); anything bigger is not one.
const MaxEnvelope = 16 << 10

// Rejection is a message from a door Pi that was not acted on.
type Rejection struct {
	Bridge   string
	Envelope string // its id, when it had one
	Reason   string // a stable word: malformed, not_this_bridge, replayed, late, forged_decision
	Detail   string
	Reader   string // as the message named them, for the log
	Door     string
}

func (r Rejection) Error() string { return r.Reason + ": " + r.Detail }

var signalKinds = map[string]bool{
	bridge.SignalCard: true, bridge.SignalBadFrame: true, bridge.SignalContact: true,
	bridge.SignalREX: true, bridge.SignalTamper: true, bridge.SignalStrike: true,
	SignalRefused: true,
}

var decisionTypes = map[string]bool{granted: true, denied: true, requested: true}

// ParseEnvelope reads one envelope and checks its form: what any door Pi
// could have sent, whoever it is. It never panics, whatever the bytes.
func ParseEnvelope(raw []byte) (Envelope, error) {
	var env Envelope
	if len(raw) > MaxEnvelope {
		return env, fmt.Errorf("%d bytes, over %d", len(raw), MaxEnvelope)
	}
	if err := json.Unmarshal(raw, &env); err != nil {
		return env, fmt.Errorf("not JSON: %w", err)
	}
	s := env.Signal
	switch {
	case env.ID == "" || len(env.ID) > 64:
		return env, errors.New("no id, or one over 64 characters")
	case !signalKinds[s.Kind]:
		return env, fmt.Errorf("unknown signal kind %q", s.Kind)
	case s.At.IsZero():
		return env, errors.New("no time")
	case (s.Kind == bridge.SignalCard || s.Kind == bridge.SignalBadFrame) && s.Reader == "":
		return env, errors.New("a reader's signal without its reader")
	case s.Kind == bridge.SignalCard && s.Card == nil:
		return env, errors.New("a card signal without a card")
	case s.Kind == SignalRefused && env.Refused == nil:
		return env, errors.New("a refusal report without what was refused")
	case s.Kind != bridge.SignalCard && s.Kind != bridge.SignalBadFrame && s.Kind != SignalRefused && s.Door == "":
		return env, errors.New("a door's signal without its door")
	case env.Decision != nil && s.Kind != bridge.SignalCard:
		return env, errors.New("a decision about no card")
	case env.Decision != nil && !decisionTypes[env.Decision.Type]:
		return env, fmt.Errorf("unknown decision %q", env.Decision.Type)
	case env.Decision != nil && env.Decision.Snapshot == "":
		return env, errors.New("a decision naming no snapshot")
	}
	return env, nil
}

// Check is the controller's knowledge of one door Pi: its readers and
// doors, its clock, and the live cards it has asked about.
type Check struct {
	Bridge  string
	Readers map[string]string // reader → its door
	Doors   map[string]bool
	// Window is how long a door Pi waits for an answer (its decision
	// timeout): a live card older than that is the door Pi's to decide.
	Window time.Duration
	// Skew is how far ahead of the controller's clock a door Pi's may run
	// (DefaultSkew when zero).
	Skew time.Duration
	// Vouch judges a grant the door Pi decided alone (nil: every grant is
	// unvouched).
	Vouch func(sig bridge.Signal, d *bridge.Decision, at time.Time) string

	mu        sync.Mutex
	seen      map[string]time.Time // live card ids answered, within Window
	heard     time.Time            // when the door Pi was last heard, by the controller's clock
	floor     time.Time            // no claim before this is believed
	lastClaim time.Time            // the latest time of the door Pi's that was believed
}

// The controller's clock orders the log. A door Pi's time for a signal is
// believed only within a window: no later than DefaultSkew past the
// controller's clock; no earlier than when the controller last heard from
// it before its latest silence (what a door Pi kept while cut off is from
// after that), nor than MaxBacklog ago; and no more than DefaultSkew before
// the latest of its times already believed (its outbox sends in order). A
// claim outside is logged at the time the controller received it, with the
// claim beside it.
const (
	DefaultSkew = 5 * time.Second
	MaxBacklog  = 7 * 24 * time.Hour
	// quiet is a silence after which a door Pi's next messages may be a
	// backlog from while it was cut off.
	quiet = 10 * time.Second
)

// clock checks a signal's time against the window, moving it to now when
// it lies outside.
func (c *Check) clock(s *bridge.Signal, now time.Time) {
	skew := c.Skew
	if skew <= 0 {
		skew = DefaultSkew
	}
	c.mu.Lock()
	switch {
	case c.heard.IsZero():
		c.floor = now.Add(-MaxBacklog)
	case now.Sub(c.heard) > quiet:
		c.floor = c.heard.Add(-skew)
	}
	c.floor = later(c.floor, now.Add(-MaxBacklog))
	c.heard = now
	floor := c.floor
	if !c.lastClaim.IsZero() {
		floor = later(floor, c.lastClaim.Add(-skew))
	}
	if s.At.After(now.Add(skew)) || s.At.Before(floor) {
		s.Claimed, s.At = s.At, now
	} else {
		c.lastClaim = later(c.lastClaim, s.At)
	}
	c.mu.Unlock()
}

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// Late reports whether a live card sensed at `at` is past the door Pi's
// patience at now: the one place the two clocks are compared.
func Late(at, now time.Time, window time.Duration) bool {
	age := now.Sub(at)
	return age > window || age < -window
}

// Accept parses and checks one envelope; the signal it returns may be acted
// on. late is set for a live card the door Pi has stopped waiting on.
func (c *Check) Accept(raw []byte, now time.Time) (sig bridge.Signal, late bool, rej *Rejection) {
	env, err := ParseEnvelope(raw)
	if err != nil {
		return sig, false, &Rejection{Bridge: c.Bridge, Envelope: env.ID, Reason: "malformed", Detail: err.Error()}
	}
	s := env.Signal
	reject := func(reason, format string, args ...any) (bridge.Signal, bool, *Rejection) {
		return bridge.Signal{}, false, &Rejection{Bridge: c.Bridge, Envelope: env.ID, Reason: reason,
			Detail: fmt.Sprintf(format, args...), Reader: s.Reader, Door: s.Door}
	}
	if env.Bridge != "" && env.Bridge != c.Bridge {
		return reject("not_this_bridge", "the envelope says it is from %q", env.Bridge)
	}
	if s.Reader != "" {
		door, ok := c.Readers[s.Reader]
		if !ok {
			return reject("not_this_bridge", "reader %q is not on %s", s.Reader, c.Bridge)
		}
		if s.Door != "" && s.Door != door {
			return reject("not_this_bridge", "reader %q is at %s, not %s", s.Reader, door, s.Door)
		}
	}
	if s.Door != "" && !c.Doors[s.Door] {
		return reject("not_this_bridge", "door %q is not on %s", s.Door, c.Bridge)
	}
	if r := env.Refused; r != nil {
		return reject("refused_by_bridge", "%s %s refused %d time(s): %s %s", c.Bridge, r.Kind, r.Count, r.Reason, r.Detail)
	}
	if s.Kind == bridge.SignalCard && env.Decision == nil {
		// A live card: its age is the door Pi's patience, judged below.
	} else {
		c.clock(&s, now)
	}
	if d := env.Decision; d != nil && d.Type == granted {
		s.Unvouched = "no record of the cards this door Pi held"
		if c.Vouch != nil {
			s.Unvouched = c.Vouch(s, d, s.At)
		}
	}
	s.ID, s.Decided = env.ID, env.Decision
	if s.Kind == bridge.SignalCard && env.Decision == nil {
		// A live card asks the controller to move a strike now: it must be
		// new, and it is answered once.
		id, err := uuid.Parse(env.ID)
		if err != nil || id.Version() != 7 {
			return reject("malformed", "a live card's id must be a UUIDv7, not %q", env.ID)
		}
		sec, nsec := id.Time().UnixTime()
		if Late(time.Unix(sec, nsec), now, c.Window) || Late(s.At, now, c.Window) {
			return s, true, nil
		}
		c.mu.Lock()
		defer c.mu.Unlock()
		if c.seen == nil {
			c.seen = map[string]time.Time{}
		}
		for k, at := range c.seen {
			if now.Sub(at) > 2*c.Window {
				delete(c.seen, k)
			}
		}
		if _, again := c.seen[env.ID]; again {
			return reject("replayed", "card %s was already answered", env.ID)
		}
		c.seen[env.ID] = now
	}
	return s, false, nil
}
