package store

import (
	"context"
	"fmt"
	"strings"
	"sync"

	"github.com/sekisho/sekisho/controller/sekisho"
)

// cardIndex is every card with its holder, in memory, so that a door's
// decision touches SQLite only to append its event: a lookup from the
// database costs as much as the append itself and, on a busy controller,
// doubles the time a door can be held up behind other work. Any change to
// people or cards drops the index at once (lookups go to the database)
// until the site has loaded it again.
type cardIndex struct {
	mu      sync.Mutex
	gen     uint64 // moves with every change
	entries map[cardKey]sekisho.Cardholder
	loaded  bool  // entries hold generation gen
	seen    int64 // cards_version as of the last change noticed
	// reloaded is closed at the next load, and replaced.
	reloaded chan struct{}
}

type cardKey struct {
	format           string
	facility, number uint64
	rawHex           string
}

// lookup answers from the index; ok is false while it is not loaded.
func (c *cardIndex) lookup(k cardKey) (h sekisho.Cardholder, found, ok bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.loaded {
		return h, false, false
	}
	h, found = c.entries[k]
	return h, found, true
}

// drop forgets the index after a change; version is cards_version after
// it, or -1 when unknown.
func (c *cardIndex) drop(version int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	c.entries, c.loaded = nil, false
	if version >= 0 {
		c.seen = version
	}
}

const selectAllCardHolders = `SELECT c.id, c.person_id, c.format, c.facility, c.number, c.raw_hex, c.enabled, c.valid_from, c.valid_until, c.pin_hash,
		p.id, p.name, p.kind, p.company, p.levels, p.created_at, p.disabled
	FROM credentials c JOIN people p ON p.id = c.person_id WHERE c.deleted_at = ''`

// LoadCards reads every card into memory for the doors' decisions, unless
// it is loaded already. A change made while it reads leaves it unloaded,
// to be read again.
func (s *Store) LoadCards(ctx context.Context) error {
	s.cards.mu.Lock()
	gen, loaded := s.cards.gen, s.cards.loaded
	s.cards.mu.Unlock()
	if loaded {
		return nil
	}
	rows, err := s.db.QueryContext(ctx, selectAllCardHolders)
	if err != nil {
		return fmt.Errorf("store: load cards: %w", err)
	}
	defer rows.Close()
	entries := map[cardKey]sekisho.Cardholder{}
	for rows.Next() {
		var h sekisho.Cardholder
		var levels string
		if err := rows.Scan(&h.ID, &h.PersonID, &h.Format, &h.Facility, &h.Number, &h.RawHex, &h.Enabled, &h.ValidFrom, &h.ValidUntil, &h.PINHash,
			&h.Person.ID, &h.Person.Name, &h.Person.Kind, &h.Person.Company, &levels, &h.Person.CreatedAt, &h.Person.Disabled); err != nil {
			return fmt.Errorf("store: load cards: %w", err)
		}
		h.HasPIN = h.PINHash != ""
		h.Person.Levels = splitList(levels)
		entries[cardKey{h.Format, h.Facility, h.Number, h.RawHex}] = h
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("store: load cards: %w", err)
	}
	s.cards.mu.Lock()
	defer s.cards.mu.Unlock()
	if s.cards.gen == gen {
		s.cards.entries, s.cards.loaded = entries, true
		if s.cards.reloaded != nil {
			close(s.cards.reloaded)
			s.cards.reloaded = nil
		}
	}
	return nil
}

// CardsReloaded is closed once the card index is next loaded: the door
// Pis' fleet takes every change from memory then, not from the database
// the doors share.
func (s *Store) CardsReloaded() <-chan struct{} {
	s.cards.mu.Lock()
	defer s.cards.mu.Unlock()
	if s.cards.reloaded == nil {
		s.cards.reloaded = make(chan struct{})
	}
	return s.cards.reloaded
}

// LoadedCardholders is every live card with its holder from the index,
// when it is loaded (false: read Cardholders instead).
func (s *Store) LoadedCardholders() ([]sekisho.Cardholder, bool) {
	s.cards.mu.Lock()
	defer s.cards.mu.Unlock()
	if !s.cards.loaded {
		return nil, false
	}
	out := make([]sekisho.Cardholder, 0, len(s.cards.entries))
	for _, h := range s.cards.entries {
		if strings.HasPrefix(h.RawHex, "retired:") {
			continue // a badge handed back and issued again: never read as this
		}
		out = append(out, h)
	}
	return out, true
}

// CardsLoaded says whether decisions answer from memory now.
func (s *Store) CardsLoaded() bool {
	s.cards.mu.Lock()
	defer s.cards.mu.Unlock()
	return s.cards.loaded
}

func (s *Store) cardsVersion(ctx context.Context) (int64, error) {
	var n int64
	if err := s.db.QueryRowContext(ctx, `SELECT n FROM cards_version`).Scan(&n); err != nil {
		return 0, fmt.Errorf("store: cards version: %w", err)
	}
	return n, nil
}

// NoticeOutsideChanges looks for changes to people or cards made by another
// process, such as `controller import` while the site runs. If there were
// any it drops the index and wakes CardsChanged, as a change made here
// would.
func (s *Store) NoticeOutsideChanges(ctx context.Context) (bool, error) {
	n, err := s.cardsVersion(ctx)
	if err != nil {
		return false, err
	}
	s.cards.mu.Lock()
	moved := n != s.cards.seen
	s.cards.mu.Unlock()
	if moved {
		s.cardsDidChangeAt(n)
	}
	return moved, nil
}
