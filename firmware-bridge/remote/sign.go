package remote

import (
	"bytes"
	"crypto/ed25519"
	"encoding/binary"
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

// Cards messages are the one kind a change sends to many door Pis at once,
// so they travel in a compact binary form rather than the JSON envelope:
// "SKC1", the seq (8 bytes, big-endian), the ed25519 signature (64 bytes),
// then the sealed body, the signature covering the door Pi's id, the seq
// and the body. A one-card delta is then about 300 bytes on the wire.
const cardsMagic = "SKC1"

func cardsSigned(bridge string, seq int64, sealed []byte) []byte {
	var b bytes.Buffer
	b.WriteString("sekisho-cards-v1\x00")
	b.WriteString(bridge)
	b.WriteByte(0)
	var n [8]byte
	binary.BigEndian.PutUint64(n[:], uint64(seq))
	b.Write(n[:])
	b.Write(sealed)
	return b.Bytes()
}

// SignCards wraps a sealed cards body for the signer's door Pi, in order
// with everything else it signs.
func (s *Signer) SignCards(sealed []byte, now time.Time) []byte {
	s.mu.Lock()
	seq := max(now.UnixNano(), s.last+1)
	s.last = seq
	s.mu.Unlock()
	out := make([]byte, 0, 4+8+ed25519.SignatureSize+len(sealed))
	out = append(out, cardsMagic...)
	out = binary.BigEndian.AppendUint64(out, uint64(seq))
	out = append(out, ed25519.Sign(s.Key, cardsSigned(s.Bridge, seq, sealed))...)
	return append(out, sealed...)
}

// VerifyCards checks a cards message's signature for this door Pi and
// returns its seq and sealed body; its order is the door Pi's to check (a
// seq above the last applied, and the version a delta starts from).
func (v *Verifier) VerifyCards(raw []byte) (int64, []byte, error) {
	const head = 4 + 8 + ed25519.SignatureSize
	if len(raw) < head || string(raw[:4]) != cardsMagic {
		return 0, nil, ErrUnsigned
	}
	seq := int64(binary.BigEndian.Uint64(raw[4:12]))
	sig, sealed := raw[12:head], raw[head:]
	if !ed25519.Verify(v.Key, cardsSigned(v.Bridge, seq, sealed), sig) {
		return 0, nil, ErrBadSignature // another key, or signed for another door Pi
	}
	return seq, sealed, nil
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
