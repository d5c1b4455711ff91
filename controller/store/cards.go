package store

import (
	"context"
	"fmt"
	"strings"
	"sync"

	"github.com/sekisho/sekisho/controller/sekisho"
)

// cardIndex is every card with its holder, in memory, so that a door's
// decision never touches SQLite: a lookup from the database costs as much
// as an append and waits on whoever holds the database (a backup, an
// import). A change made here is loaded again by whoever made it, right
// after its commit; a change made by another process is noticed within a
// second and loaded then. Should a load after a change fail, the index is
// dropped and doors refuse every card until it loads: never a revoked card
// let in from a stale index.
type cardIndex struct {
	mu      sync.Mutex
	entries map[cardKey]sekisho.Cardholder
	loaded  bool
	seen    int64 // cards_version as of the last load
	// reloaded is closed at the next load, and replaced.
	reloaded chan struct{}
	// loading serializes loads: each reads after every commit before it
	// began, so the last installed is never older than one before it.
	loading sync.Mutex
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

// drop forgets the index: a change that could not be loaded.
func (c *cardIndex) drop() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.entries, c.loaded = nil, false
}

const selectAllCardHolders = `SELECT c.id, c.person_id, c.format, c.facility, c.number, c.raw_hex, c.enabled, c.valid_from, c.valid_until, c.pin_hash,
		p.id, p.name, p.kind, p.company, p.levels, p.created_at, p.disabled
	FROM credentials c JOIN people p ON p.id = c.person_id WHERE c.deleted_at = ''`

// LoadCards reads every card into memory for the doors' decisions, unless
// it is loaded already.
func (s *Store) LoadCards(ctx context.Context) error {
	if s.CardsLoaded() {
		return nil
	}
	return s.reloadCards(ctx)
}

// reloadCards reads every card into memory now.
func (s *Store) reloadCards(ctx context.Context) error {
	s.cards.loading.Lock()
	defer s.cards.loading.Unlock()
	version, err := s.cardsVersion(ctx)
	if err != nil {
		return err
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
	s.cards.entries, s.cards.loaded, s.cards.seen = entries, true, version
	if s.cards.reloaded != nil {
		close(s.cards.reloaded)
		s.cards.reloaded = nil
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
// any it loads the index again and wakes CardsChanged, as a change made
// here would.
func (s *Store) NoticeOutsideChanges(ctx context.Context) (bool, error) {
	n, err := s.cardsVersion(ctx)
	if err != nil {
		return false, err
	}
	s.cards.mu.Lock()
	moved := n != s.cards.seen
	s.cards.mu.Unlock()
	if moved {
		s.cardsDidChange()
	}
	return moved, nil
}
