package remote

import (
	"bytes"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"
)

// What a door Pi obeys (commands) and decides from (snapshots) comes
// signed by the controller's key, for that door Pi alone, in order. A
// message anyone else on the broker could write moves no strike.

// Signed is one message from the controller to one door Pi.
type Signed struct {
	Kind   string    `json:"kind"`   // KindCommand or KindSnapshot
	Bridge string    `json:"bridge"` // the door Pi it is for
	Seq    int64     `json:"seq"`    // strictly increasing per door Pi
	At     time.Time `json:"at"`     // when the controller signed it
	Body   []byte    `json:"body"`   // a Command's JSON, or a snapshot sealed to the door Pi
	Sig    []byte    `json:"sig"`    // ed25519 over all of the above
}

// Kinds of signed message.
const (
	KindCommand  = "command"
	KindSnapshot = "snapshot" // the old whole snapshot, retained; no longer sent
	KindCards    = "cards"    // a snapshot or a delta, sealed to the door Pi
)

// Why a door Pi refuses a message.
var (
	ErrUnsigned     = errors.New("not a signed message")
	ErrBadSignature = errors.New("signature does not verify with the controller's key")
	ErrOtherBridge  = errors.New("signed for another door Pi")
	ErrWrongKind    = errors.New("signed as another kind of message")
	ErrReplayed     = errors.New("replayed: not newer than the last one obeyed")
	ErrStale        = errors.New("stale: signed too long ago (or the clocks disagree)")
)

// signedBytes is what the signature covers: every field, unambiguously.
func (s *Signed) signedBytes() []byte {
	var b bytes.Buffer
	b.WriteString("sekisho-link-v1\x00")
	b.WriteString(s.Kind)
	b.WriteByte(0)
	b.WriteString(s.Bridge)
	b.WriteByte(0)
	b.WriteString(strconv.FormatInt(s.Seq, 10))
	b.WriteByte(0)
	b.WriteString(s.At.UTC().Format(time.RFC3339Nano))
	b.WriteByte(0)
	b.Write(s.Body)
	return b.Bytes()
}

// Signer signs the controller's messages to one door Pi. Seq follows the
// controller's clock in nanoseconds, so it still grows after a restart.
type Signer struct {
	Key    ed25519.PrivateKey
	Bridge string

	mu   sync.Mutex
	last int64
}

// Sign wraps body as kind for the signer's door Pi.
func (s *Signer) Sign(kind string, body []byte, now time.Time) []byte {
	s.mu.Lock()
	seq := max(now.UnixNano(), s.last+1)
	s.last = seq
	s.mu.Unlock()
	m := Signed{Kind: kind, Bridge: s.Bridge, Seq: seq, At: now.UTC(), Body: body}
	m.Sig = ed25519.Sign(s.Key, m.signedBytes())
	out, _ := json.Marshal(m)
	return out
}

// Verifier is a door Pi's check of what it receives.
type Verifier struct {
	Key    ed25519.PublicKey // the controller's, from the enrolment
	Bridge string            // this door Pi's id
	// MaxAge is how old a command may be when it arrives, either way of
	// the door Pi's clock (DefaultCommandMaxAge when zero). Snapshots have
	// no age: a retained one may wait days for its door Pi.
	MaxAge time.Duration

	mu   sync.Mutex
	last map[string]int64 // the highest seq accepted, per kind
	// Commands may be handled out of order (paho hands each to its own
	// goroutine), so each is accepted once within MaxAge rather than
	// strictly in order; floor is what a restart must never accept again.
	seen  map[int64]time.Time
	floor int64
}

// DefaultCommandMaxAge bounds how late a command may be obeyed. A door Pi's
// clock is kept by NTP; this leaves room for a few seconds' drift.
const DefaultCommandMaxAge = 30 * time.Second

// Verify checks a message's signature, door Pi and kind, and nothing of its
// order: cards are taken in the order their versions chain, which the door
// Pi checks itself (Cards.Apply), and a seq above the last applied.
func (v *Verifier) Verify(raw []byte, kind string) (*Signed, error) {
	var m Signed
	if err := json.Unmarshal(raw, &m); err != nil || len(m.Sig) == 0 {
		return nil, ErrUnsigned
	}
	if !ed25519.Verify(v.Key, m.signedBytes(), m.Sig) {
		return nil, ErrBadSignature
	}
	if m.Bridge != v.Bridge {
		return nil, fmt.Errorf("%w (%s)", ErrOtherBridge, m.Bridge)
	}
	if m.Kind != kind {
		return nil, fmt.Errorf("%w (%s)", ErrWrongKind, m.Kind)
	}
	return &m, nil
}

// Open verifies a message of kind and returns it. Each is accepted once: a
// snapshot must be newer than the last, a command fresh and not seen.
func (v *Verifier) Open(raw []byte, kind string, now time.Time) (*Signed, error) {
	var m Signed
	if err := json.Unmarshal(raw, &m); err != nil || len(m.Sig) == 0 {
		return nil, ErrUnsigned
	}
	if !ed25519.Verify(v.Key, m.signedBytes(), m.Sig) {
		return nil, ErrBadSignature
	}
	if m.Bridge != v.Bridge {
		return nil, fmt.Errorf("%w (%s)", ErrOtherBridge, m.Bridge)
	}
	if m.Kind != kind {
		return nil, fmt.Errorf("%w (%s)", ErrWrongKind, m.Kind)
	}
	if kind == KindCommand {
		if age := now.Sub(m.At); age > v.maxAge() || age < -v.maxAge() {
			return nil, fmt.Errorf("%w: signed %s, here it is %s", ErrStale, m.At.Format(time.RFC3339), now.UTC().Format(time.RFC3339))
		}
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.last == nil {
		v.last = map[string]int64{}
		v.seen = map[int64]time.Time{}
	}
	if kind == KindCommand {
		if _, again := v.seen[m.Seq]; again || m.Seq <= v.floor {
			return nil, fmt.Errorf("%w (seq %d)", ErrReplayed, m.Seq)
		}
		for seq, at := range v.seen {
			if now.Sub(at) > 2*v.maxAge() {
				delete(v.seen, seq) // stale by now: refused for that
			}
		}
		v.seen[m.Seq] = now
		v.last[kind] = max(v.last[kind], m.Seq)
		return &m, nil
	}
	if m.Seq <= v.last[kind] {
		return &m, fmt.Errorf("%w (seq %d, last %d)", ErrReplayed, m.Seq, v.last[kind])
	}
	v.last[kind] = m.Seq
	return &m, nil
}

func (v *Verifier) maxAge() time.Duration {
	if v.MaxAge <= 0 {
		return DefaultCommandMaxAge
	}
	return v.MaxAge
}

// Obeyed is the last seq accepted of kind, to keep across restarts.
func (v *Verifier) Obeyed(kind string) int64 {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.last[kind]
}

// Resume sets the last seq accepted of kind, from what was kept: nothing
// at or below it is accepted again.
func (v *Verifier) Resume(kind string, seq int64) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.last == nil {
		v.last = map[string]int64{}
		v.seen = map[int64]time.Time{}
	}
	v.last[kind] = max(v.last[kind], seq)
	if kind == KindCommand {
		v.floor = max(v.floor, seq)
	}
}
