package remote

import (
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/sekisho/sekisho/firmware-bridge/bridge"
	"github.com/sekisho/sekisho/firmware-bridge/wiegand"
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
// doors, the snapshots it was sent, and the live cards it has asked about.
type Check struct {
	Bridge  string
	Readers map[string]string // reader → its door
	Doors   map[string]bool
	// Window is how long a door Pi waits for an answer (its decision
	// timeout): a live card older than that is the door Pi's to decide.
	Window time.Duration

	mu     sync.Mutex
	seen   map[string]time.Time // live card ids answered, within Window
	issued []issued             // the latest snapshots sent, newest last
}

type issued struct {
	version string
	cards   map[cardKey]SnapshotCard
}

type cardKey struct {
	format           string
	facility, number uint64
	raw              string
}

func keyOf(c wiegand.Card) cardKey {
	k := cardKey{format: c.Format, facility: c.Facility, number: c.Number}
	if c.Format == wiegand.FormatRaw {
		k.raw = c.Hex
	}
	return k
}

// keepIssued is how many of the latest snapshots a door Pi may still be
// deciding from (it may have missed the newest while cut off).
const keepIssued = 8

// Issued records a snapshot sent to the door Pi.
func (c *Check) Issued(s *Snapshot) {
	cards := make(map[cardKey]SnapshotCard, len(s.Cards))
	for _, sc := range s.Cards {
		k := cardKey{format: sc.Format, facility: sc.Facility, number: sc.Number, raw: sc.RawHex}
		cards[k] = sc
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, is := range c.issued {
		if is.version == s.Version {
			return
		}
	}
	c.issued = append(c.issued, issued{version: s.Version, cards: cards})
	if len(c.issued) > keepIssued {
		c.issued = c.issued[len(c.issued)-keepIssued:]
	}
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
	if d := env.Decision; d != nil {
		if why := c.checkDecision(s, d); why != "" {
			return reject("forged_decision", "%s", why)
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

// checkDecision says why a door Pi's own decision cannot be believed, or "".
func (c *Check) checkDecision(s bridge.Signal, d *bridge.Decision) string {
	c.mu.Lock()
	defer c.mu.Unlock()
	var snap *issued
	for i := range c.issued {
		if c.issued[i].version == d.Snapshot {
			snap = &c.issued[i]
		}
	}
	if snap == nil {
		if d.Type != granted {
			return "" // a refusal from a snapshot this controller forgot opens nothing
		}
		return fmt.Sprintf("snapshot %q was never sent to %s", d.Snapshot, c.Bridge)
	}
	if d.Type != granted {
		return ""
	}
	sc, ok := snap.cards[keyOf(*s.Card)]
	switch {
	case !ok:
		return fmt.Sprintf("card %s is not in snapshot %s", s.Card.Printed(), d.Snapshot)
	case !sc.Enabled:
		return fmt.Sprintf("card %s is disabled in snapshot %s", s.Card.Printed(), d.Snapshot)
	case !hasReader(sc, s.Reader):
		return fmt.Sprintf("card %s may not pass %s in snapshot %s", s.Card.Printed(), s.Reader, d.Snapshot)
	case d.Person == nil || d.Person.ID != sc.Person.ID:
		return fmt.Sprintf("the snapshot's holder of card %s is %s, not the one named", s.Card.Printed(), sc.Person.ID)
	}
	return ""
}

func hasReader(sc SnapshotCard, reader string) bool {
	_, ok := sc.Readers[reader]
	return ok
}
