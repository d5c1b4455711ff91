package remote

import (
	"time"

	"github.com/sekisho/sekisho/firmware-bridge/bridge"
	"github.com/sekisho/sekisho/firmware-bridge/rules"
)

// Envelope carries one signal from a bridge, with the bridge's own decision
// when it had to make one.
type Envelope struct {
	ID       string           `json:"id"`  // becomes the event id: the controller dedupes on it
	Seq      int64            `json:"seq"` // the bridge's outbox order
	Bridge   string           `json:"bridge"`
	Signal   bridge.Signal    `json:"signal"`
	Decision *bridge.Decision `json:"decision,omitempty"`
	// Refused reports what the door Pi would not obey (a forged or replayed
	// command or snapshot); the controller logs it as bridge.rejected.
	Refused *Refused `json:"refused,omitempty"`
}

// Refused is a door Pi's report of messages it refused.
type Refused struct {
	Kind   string `json:"kind"`   // command or snapshot
	Reason string `json:"reason"` // unsigned, bad_signature, other_bridge, replayed, stale, pulse
	Detail string `json:"detail,omitempty"`
	Count  int    `json:"count"` // how many since the last report
}

// SignalRefused is the signal kind of an envelope that carries a Refused.
const SignalRefused = "refused"

// Command is what the controller tells a bridge to do.
type Command struct {
	Op      string `json:"op"` // unlock, lock, feedback
	Door    string `json:"door,omitempty"`
	Reader  string `json:"reader,omitempty"`
	PulseMS int64  `json:"pulse_ms,omitempty"`
	Granted bool   `json:"granted,omitempty"`
	About   string `json:"about,omitempty"` // the envelope id this answers
}

// Command ops.
const (
	OpUnlock   = "unlock"
	OpLock     = "lock"
	OpFeedback = "feedback"
)

// Snapshot is everything a bridge needs to run its doors and decide alone:
// its doors' wiring and rules, and the cards that may use them. The
// controller publishes it retained, so a bridge gets it on every connect.
type Snapshot struct {
	// Version is the content's digest (see Sum): both sides compute it, so
	// a door Pi knows it holds exactly what the controller meant.
	Version  string    `json:"version"`
	Rev      int64     `json:"rev"` // the controller's change counter it was made at
	Site     string    `json:"site"`
	Timezone string    `json:"timezone"`
	Holidays []string  `json:"holidays,omitempty"`
	Made     time.Time `json:"made"`
	// DecisionTimeoutMS is how long the door Pi waits for the controller's
	// answer to a card before it decides alone.
	DecisionTimeoutMS int64          `json:"decision_timeout_ms,omitempty"`
	Doors             []SnapshotDoor `json:"doors"`
	Cards             []SnapshotCard `json:"cards"`
}

// SnapshotDoor is one of the bridge's doors.
type SnapshotDoor struct {
	ID                  string   `json:"id"`
	Slot                string   `json:"slot"`
	PulseMS             int64    `json:"pulse_ms"`
	FailSafe            bool     `json:"fail_safe,omitempty"`
	ActiveLow           bool     `json:"active_low,omitempty"`
	ContactNormallyOpen bool     `json:"contact_normally_open,omitempty"`
	InsideOnly          bool     `json:"inside_only,omitempty"`
	OutsideReader       string   `json:"outside_reader,omitempty"`
	InsideReader        string   `json:"inside_reader,omitempty"`
	PINAt               []string `json:"pin_at,omitempty"` // reader ids that want card+PIN
}

// CardKey is a card as a reader reads it.
type CardKey struct {
	Format   string `json:"format"`
	Facility uint64 `json:"facility"`
	Number   uint64 `json:"number"`
	RawHex   string `json:"raw_hex,omitempty"`
}

// SnapshotCard is one card and where it may be used.
type SnapshotCard struct {
	CardKey
	Enabled    bool          `json:"enabled"`
	ValidFrom  string        `json:"valid_from,omitempty"`
	ValidUntil string        `json:"valid_until,omitempty"`
	PINHash    string        `json:"pin_hash,omitempty"` // only where one of this Pi's readers wants a PIN
	Person     bridge.Person `json:"person"`
	// Readers maps each reader the card may pass to its weekly windows
	// (none: always).
	Readers map[string]rules.Schedule `json:"readers"`
}
