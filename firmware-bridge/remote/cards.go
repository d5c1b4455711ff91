package remote

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math/bits"

	"github.com/sekisho/sekisho/firmware-bridge/wiegand"
)

// A door Pi's cards change by deltas: one card disabled is one small
// message to the Pis that held it, not every card to every Pi. Both sides
// name a set of cards by its Sum, so a Pi that missed a delta, or got two
// out of order, sees that its cards are not the ones a delta starts from
// and asks for the way forward instead of guessing.

// Sum is the digest of a door Pi's cards and doors: the sum, modulo 2^256,
// of the SHA-256 of each card's canonical form and of the header's. Adding
// or removing one card changes it by that card's hash, so the controller
// keeps 200 Pis' sums without holding 200 copies of the cards, and a Pi
// checks a delta's result without rehashing every card.
type Sum [4]uint64

func (s *Sum) add(h [32]byte) {
	var carry uint64
	for i := 3; i >= 0; i-- {
		s[i], carry = bits.Add64(s[i], binary.BigEndian.Uint64(h[i*8:]), carry)
	}
}

func (s *Sum) sub(h [32]byte) {
	var borrow uint64
	for i := 3; i >= 0; i-- {
		s[i], borrow = bits.Sub64(s[i], binary.BigEndian.Uint64(h[i*8:]), borrow)
	}
}

// Add counts a card in; Remove takes it out.
func (s *Sum) Add(c *SnapshotCard)    { s.add(CardHash(c)) }
func (s *Sum) Remove(c *SnapshotCard) { s.sub(CardHash(c)) }

// Version is the sum as the wire carries it: its first 128 bits, in
// URL-safe base64 (22 characters; every byte counts when a change goes to
// 200 door Pis).
func (s Sum) Version() string {
	var b [32]byte
	for i, v := range s {
		binary.BigEndian.PutUint64(b[i*8:], v)
	}
	return base64.RawURLEncoding.EncodeToString(b[:16])
}

// CardHash is the hash a card adds to its Pi's sum.
func CardHash(c *SnapshotCard) [32]byte {
	b, _ := json.Marshal(c) // struct fields in order, map keys sorted: canonical
	return sha256.Sum256(append([]byte("sekisho-card-v1\x00"), b...))
}

// HeaderHash is what a snapshot's doors, zone and holidays add to the sum.
func HeaderHash(s *Snapshot) [32]byte {
	h := struct {
		Site              string         `json:"site"`
		Timezone          string         `json:"timezone"`
		Holidays          []string       `json:"holidays"`
		DecisionTimeoutMS int64          `json:"decision_timeout_ms"`
		Doors             []SnapshotDoor `json:"doors"`
	}{s.Site, s.Timezone, s.Holidays, s.DecisionTimeoutMS, s.Doors}
	b, _ := json.Marshal(h)
	return sha256.Sum256(append([]byte("sekisho-header-v1\x00"), b...))
}

// SumOf is a whole snapshot's sum.
func SumOf(s *Snapshot) Sum {
	var sum Sum
	sum.add(HeaderHash(s))
	for i := range s.Cards {
		sum.Add(&s.Cards[i])
	}
	return sum
}

// Key is the card's key in a Pi's index.
func (c *SnapshotCard) Key() CardKey { return c.CardKey }

// KeyOf is a read card's key.
func KeyOf(c wiegand.Card) CardKey {
	k := CardKey{Format: c.Format, Facility: c.Facility, Number: c.Number}
	if c.Format == wiegand.FormatRaw {
		k.RawHex = c.Hex
	}
	return k
}

// Delta changes a door Pi's cards from one version to the next.
type Delta struct {
	From string         `json:"from"`           // the version it applies to
	To   string         `json:"to"`             // the version it makes
	Put  []SnapshotCard `json:"put,omitempty"`  // added or changed
	Drop []CardKey      `json:"drop,omitempty"` // no longer passes any of the Pi's doors
}

// Cards is what a door Pi decides from: its doors (the snapshot's header)
// and its cards, indexed. It is never changed in place: a delta makes a
// new one, so a card being decided sees one version whole.
type Cards struct {
	Header *Snapshot // Cards empty: the doors, zone, holidays
	Index  map[CardKey]*SnapshotCard
	Sum    Sum
	Seq    int64 // the signed seq of the last message applied: none at or below it is taken
}

// Version is the cards' version.
func (c *Cards) Version() string {
	if c == nil {
		return ""
	}
	return c.Sum.Version()
}

// Errors a door Pi meets applying cards.
var (
	ErrGap      = errors.New("cards: the delta starts from another version (one was lost or is late)")
	ErrMismatch = errors.New("cards: the result is not the version the controller named")
)

// FromSnapshot indexes a whole snapshot, checking its version.
func FromSnapshot(s *Snapshot, seq int64) (*Cards, error) {
	sum := SumOf(s)
	if sum.Version() != s.Version {
		return nil, fmt.Errorf("%w: snapshot says %s, its cards make %s", ErrMismatch, s.Version, sum.Version())
	}
	h := *s
	h.Cards = nil
	c := &Cards{Header: &h, Index: make(map[CardKey]*SnapshotCard, len(s.Cards)), Sum: sum, Seq: seq}
	for i := range s.Cards {
		card := s.Cards[i]
		c.Index[card.Key()] = &card
	}
	return c, nil
}

// Apply makes the cards d leads to; c is left as it was.
func (c *Cards) Apply(d *Delta, seq int64) (*Cards, error) {
	if d.From != c.Version() {
		return nil, fmt.Errorf("%w: holds %s, delta from %s", ErrGap, c.Version(), d.From)
	}
	next := &Cards{Header: c.Header, Index: maps.Clone(c.Index), Sum: c.Sum, Seq: seq}
	h := *c.Header
	h.Version = d.To
	next.Header = &h
	for _, k := range d.Drop {
		if old, ok := next.Index[k]; ok {
			next.Sum.Remove(old)
			delete(next.Index, k)
		}
	}
	for i := range d.Put {
		card := d.Put[i]
		if old, ok := next.Index[card.Key()]; ok {
			next.Sum.Remove(old)
		}
		next.Sum.Add(&card)
		next.Index[card.Key()] = &card
	}
	if next.Sum.Version() != d.To {
		return nil, fmt.Errorf("%w: delta says %s, applying it made %s", ErrMismatch, d.To, next.Sum.Version())
	}
	return next, nil
}

// Snapshot is the cards as one whole snapshot again (to keep on disk).
func (c *Cards) Snapshot() *Snapshot {
	s := *c.Header
	s.Version = c.Version()
	s.Cards = make([]SnapshotCard, 0, len(c.Index))
	for _, card := range c.Index {
		s.Cards = append(s.Cards, *card)
	}
	return &s
}

// Lookup finds a read card.
func (c *Cards) Lookup(card wiegand.Card) *SnapshotCard {
	if c == nil {
		return nil
	}
	return c.Index[KeyOf(card)]
}

// Held is what a door Pi says it holds, retained on its held topic.
type Held struct {
	Version string `json:"version"`
	// Want "snapshot" asks for the whole snapshot: the Pi has none, or saw
	// a gap it could not close.
	Want string `json:"want,omitempty"`
}
