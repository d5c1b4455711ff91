package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/google/uuid"
	"github.com/sekisho/sekisho/controller/sekisho"
)

const selectPerson = `SELECT id, name, kind, company, employee_number, levels, photo, created_at, disabled, deleted_at FROM people`

func scanPerson(row interface{ Scan(...any) error }) (sekisho.Person, error) {
	var p sekisho.Person
	var levels string
	if err := row.Scan(&p.ID, &p.Name, &p.Kind, &p.Company, &p.EmployeeNumber, &levels, &p.Photo, &p.CreatedAt, &p.Disabled, &p.DeletedAt); err != nil {
		return p, err
	}
	p.Levels = splitList(levels)
	return p, nil
}

// CreatePerson stores p, giving it an id when it has none.
func (s *Store) CreatePerson(ctx context.Context, p *sekisho.Person) error {
	if p.ID == "" {
		p.ID = "p-" + uuid.NewString()[:8]
	}
	p.CreatedAt = now()
	_, err := s.db.ExecContext(ctx, `INSERT INTO people (id, name, kind, company, employee_number, levels, photo, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
		p.ID, p.Name, p.Kind, p.Company, p.EmployeeNumber, strings.Join(p.Levels, ","), p.Photo, p.CreatedAt)
	if err != nil {
		if isUnique(err) {
			return fmt.Errorf("store: person %s: %w", p.ID, sekisho.ErrDuplicate)
		}
		return fmt.Errorf("store: create person %s: %w", p.ID, err)
	}
	s.cardsDidChange()
	return nil
}

// Person returns the person id, deleted or not.
func (s *Store) Person(ctx context.Context, id string) (sekisho.Person, error) {
	p, err := scanPerson(s.db.QueryRowContext(ctx, selectPerson+` WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return p, fmt.Errorf("store: person %s: %w", id, sekisho.ErrNotFound)
	}
	if err != nil {
		return p, fmt.Errorf("store: person %s: %w", id, err)
	}
	return p, nil
}

// People lists everyone not deleted, by name.
func (s *Store) People(ctx context.Context) ([]sekisho.Person, error) {
	rows, err := s.db.QueryContext(ctx, selectPerson+` WHERE deleted_at = '' ORDER BY name, id`)
	if err != nil {
		return nil, fmt.Errorf("store: people: %w", err)
	}
	defer rows.Close()
	var out []sekisho.Person
	for rows.Next() {
		p, err := scanPerson(rows)
		if err != nil {
			return nil, fmt.Errorf("store: people: %w", err)
		}
		out = append(out, p)
	}
	return out, rows.Err()
}

// UpdatePerson writes p's name, kind, company, employee number, levels and photo.
func (s *Store) UpdatePerson(ctx context.Context, p sekisho.Person) error {
	res, err := s.db.ExecContext(ctx, `UPDATE people SET name = ?, kind = ?, company = ?, employee_number = ?, levels = ?, photo = ? WHERE id = ? AND deleted_at = ''`,
		p.Name, p.Kind, p.Company, p.EmployeeNumber, strings.Join(p.Levels, ","), p.Photo, p.ID)
	if err != nil {
		return fmt.Errorf("store: update person %s: %w", p.ID, err)
	}
	return s.personChanged(ctx, res, p.ID)
}

// SetPersonDisabled switches all of a person's cards off, or on again.
func (s *Store) SetPersonDisabled(ctx context.Context, id string, disabled bool) error {
	res, err := s.db.ExecContext(ctx, `UPDATE people SET disabled = ? WHERE id = ? AND deleted_at = ''`, disabled, id)
	if err != nil {
		return fmt.Errorf("store: disable person %s: %w", id, err)
	}
	return s.personChanged(ctx, res, id)
}

// DeletePerson marks a person deleted and deletes their cards, whose
// numbers are free for someone else from now on. It returns the cards.
func (s *Store) DeletePerson(ctx context.Context, id string) ([]sekisho.Credential, error) {
	cards, err := s.Credentials(ctx, id)
	if err != nil {
		return nil, err
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("store: delete person %s: %w", id, err)
	}
	defer tx.Rollback()
	at := now()
	res, err := tx.ExecContext(ctx, `UPDATE people SET deleted_at = ?, disabled = 1 WHERE id = ? AND deleted_at = ''`, at, id)
	if err != nil {
		return nil, fmt.Errorf("store: delete person %s: %w", id, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		tx.Rollback() // before asking why, on another connection
		return nil, s.missingPerson(ctx, id)
	}
	if _, err := tx.ExecContext(ctx, `UPDATE credentials SET `+retireCard+` WHERE person_id = ? AND deleted_at = ''`, at, id); err != nil {
		return nil, fmt.Errorf("store: delete the cards of %s: %w", id, err)
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("store: delete person %s: %w", id, err)
	}
	s.cardsDidChange()
	return cards, nil
}

// retireCard is the change that deletes a card: off, and its number set
// aside so the same card can be bound to someone else.
const retireCard = `enabled = 0, deleted_at = ?, raw_hex = 'retired:' || id`

// personChanged checks that an update found its person, and has the
// doors forget what they knew.
func (s *Store) personChanged(ctx context.Context, res sql.Result, id string) error {
	if n, _ := res.RowsAffected(); n == 0 {
		return s.missingPerson(ctx, id)
	}
	s.cardsDidChange()
	return nil
}

// missingPerson says why a change found no person id: none, or deleted.
func (s *Store) missingPerson(ctx context.Context, id string) error {
	p, err := s.Person(ctx, id)
	if err != nil {
		return err
	}
	if p.DeletedAt != "" {
		return fmt.Errorf("store: person %s was deleted at %s: %w", id, p.DeletedAt, sekisho.ErrDeleted)
	}
	return fmt.Errorf("store: person %s changed by someone else meanwhile: %w", id, sekisho.ErrNotFound)
}

// AddCredential binds a card to a person.
func (s *Store) AddCredential(ctx context.Context, c *sekisho.Credential) error {
	res, err := s.db.ExecContext(ctx, `INSERT INTO credentials (person_id, format, facility, number, raw_hex, enabled, valid_from, valid_until, pin_hash, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		c.PersonID, c.Format, c.Facility, c.Number, c.RawHex, c.Enabled, c.ValidFrom, c.ValidUntil, c.PINHash, now())
	if err != nil {
		if isUnique(err) {
			return fmt.Errorf("store: card %s %d:%d: %w", c.Format, c.Facility, c.Number, sekisho.ErrDuplicate)
		}
		return fmt.Errorf("store: add credential for %s: %w", c.PersonID, err)
	}
	c.ID, _ = res.LastInsertId()
	c.HasPIN = c.PINHash != ""
	s.cardsDidChange()
	return nil
}

// Credential returns the person's card id, unless it was deleted.
func (s *Store) Credential(ctx context.Context, personID string, id int64) (sekisho.Credential, error) {
	var c sekisho.Credential
	err := s.db.QueryRowContext(ctx, `SELECT id, person_id, format, facility, number, raw_hex, enabled, valid_from, valid_until, pin_hash
		FROM credentials WHERE person_id = ? AND id = ? AND deleted_at = ''`, personID, id).
		Scan(&c.ID, &c.PersonID, &c.Format, &c.Facility, &c.Number, &c.RawHex, &c.Enabled, &c.ValidFrom, &c.ValidUntil, &c.PINHash)
	if errors.Is(err, sql.ErrNoRows) {
		return c, fmt.Errorf("store: card %d of %s: %w", id, personID, sekisho.ErrNotFound)
	}
	if err != nil {
		return c, fmt.Errorf("store: card %d of %s: %w", id, personID, err)
	}
	c.HasPIN = c.PINHash != ""
	return c, nil
}

// UpdateCredential writes a card's switch, dates and PIN hash.
func (s *Store) UpdateCredential(ctx context.Context, c sekisho.Credential) error {
	res, err := s.db.ExecContext(ctx, `UPDATE credentials SET enabled = ?, valid_from = ?, valid_until = ?, pin_hash = ?
		WHERE person_id = ? AND id = ? AND deleted_at = ''`, c.Enabled, c.ValidFrom, c.ValidUntil, c.PINHash, c.PersonID, c.ID)
	if err != nil {
		return fmt.Errorf("store: update card %d of %s: %w", c.ID, c.PersonID, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("store: card %d of %s: %w", c.ID, c.PersonID, sekisho.ErrNotFound)
	}
	s.cardsDidChange()
	return nil
}

// DeleteCredential deletes a card: refused at every door from now on, its
// row kept for the record, its number free for someone else.
func (s *Store) DeleteCredential(ctx context.Context, personID string, id int64) error {
	res, err := s.db.ExecContext(ctx, `UPDATE credentials SET `+retireCard+` WHERE person_id = ? AND id = ? AND deleted_at = ''`, now(), personID, id)
	if err != nil {
		return fmt.Errorf("store: delete card %d of %s: %w", id, personID, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("store: card %d of %s: %w", id, personID, sekisho.ErrNotFound)
	}
	s.cardsDidChange()
	return nil
}

// Credentials lists a person's cards, but not deleted ones.
func (s *Store) Credentials(ctx context.Context, personID string) ([]sekisho.Credential, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT id, person_id, format, facility, number, raw_hex, enabled, valid_from, valid_until, pin_hash
		FROM credentials WHERE person_id = ? AND deleted_at = '' ORDER BY id`, personID)
	if err != nil {
		return nil, fmt.Errorf("store: credentials of %s: %w", personID, err)
	}
	defer rows.Close()
	var out []sekisho.Credential
	for rows.Next() {
		var c sekisho.Credential
		if err := rows.Scan(&c.ID, &c.PersonID, &c.Format, &c.Facility, &c.Number, &c.RawHex, &c.Enabled, &c.ValidFrom, &c.ValidUntil, &c.PINHash); err != nil {
			return nil, fmt.Errorf("store: credentials of %s: %w", personID, err)
		}
		c.HasPIN = c.PINHash != ""
		out = append(out, c)
	}
	return out, rows.Err()
}

const selectCardHolder = `SELECT c.id, c.person_id, c.format, c.facility, c.number, c.raw_hex, c.enabled, c.valid_from, c.valid_until, c.pin_hash,
		p.id, p.name, p.kind, p.company, p.levels, p.created_at, p.disabled
	FROM credentials c JOIN people p ON p.id = c.person_id
	WHERE c.format = ? AND c.facility = ? AND c.number = ? AND c.raw_hex = ?`

// ErrCardsNotLoaded is a door's question asked while the cards are not in
// memory: the door stays locked rather than wait on the database.
var ErrCardsNotLoaded = errors.New("store: the cards are not loaded")

// HeldCard is CardHolder from memory alone, for the doors: it never touches
// the database, and says ErrCardsNotLoaded while the index is not loaded.
func (s *Store) HeldCard(format string, facility, number uint64, rawHex string) (sekisho.Credential, sekisho.Person, error) {
	h, found, ok := s.cards.lookup(cardKey{format, facility, number, rawHex})
	switch {
	case !ok:
		return sekisho.Credential{}, sekisho.Person{}, ErrCardsNotLoaded
	case !found:
		return sekisho.Credential{}, sekisho.Person{}, fmt.Errorf("store: card %s %d:%d: %w", format, facility, number, sekisho.ErrNotFound)
	}
	return h.Credential, h.Person.Clone(), nil
}

// CardHolder finds the credential for a card and the person it belongs to:
// from memory once the site has loaded the cards (LoadCards), otherwise
// from the database.
func (s *Store) CardHolder(ctx context.Context, format string, facility, number uint64, rawHex string) (sekisho.Credential, sekisho.Person, error) {
	if h, found, ok := s.cards.lookup(cardKey{format, facility, number, rawHex}); ok {
		if !found {
			return sekisho.Credential{}, sekisho.Person{}, fmt.Errorf("store: card %s %d:%d: %w", format, facility, number, sekisho.ErrNotFound)
		}
		return h.Credential, h.Person.Clone(), nil
	}
	return s.cardHolder(ctx, format, facility, number, rawHex)
}

func (s *Store) cardHolder(ctx context.Context, format string, facility, number uint64, rawHex string) (sekisho.Credential, sekisho.Person, error) {
	var c sekisho.Credential
	var p sekisho.Person
	var levels string
	err := s.card.QueryRowContext(ctx, format, facility, number, rawHex).
		Scan(&c.ID, &c.PersonID, &c.Format, &c.Facility, &c.Number, &c.RawHex, &c.Enabled, &c.ValidFrom, &c.ValidUntil, &c.PINHash,
			&p.ID, &p.Name, &p.Kind, &p.Company, &levels, &p.CreatedAt, &p.Disabled)
	if errors.Is(err, sql.ErrNoRows) {
		return c, p, fmt.Errorf("store: card %s %d:%d: %w", format, facility, number, sekisho.ErrNotFound)
	}
	if err != nil {
		return c, p, fmt.Errorf("store: card %s %d:%d: %w", format, facility, number, err)
	}
	p.Levels = splitList(levels)
	c.HasPIN = c.PINHash != ""
	return c, p, nil
}

// Cardholders lists every card with its holder, for the snapshots door Pis
// decide from when they are cut off.
func (s *Store) Cardholders(ctx context.Context) ([]sekisho.Cardholder, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT c.id, c.person_id, c.format, c.facility, c.number, c.raw_hex, c.enabled, c.valid_from, c.valid_until, c.pin_hash,
			p.id, p.name, p.kind, p.company, p.levels, p.disabled
		FROM credentials c JOIN people p ON p.id = c.person_id WHERE c.raw_hex NOT LIKE 'retired:%' AND p.deleted_at = '' ORDER BY c.id`)
	if err != nil {
		return nil, fmt.Errorf("store: cardholders: %w", err)
	}
	defer rows.Close()
	var out []sekisho.Cardholder
	for rows.Next() {
		var h sekisho.Cardholder
		var levels string
		if err := rows.Scan(&h.ID, &h.PersonID, &h.Format, &h.Facility, &h.Number, &h.RawHex, &h.Enabled, &h.ValidFrom, &h.ValidUntil, &h.PINHash,
			&h.Person.ID, &h.Person.Name, &h.Person.Kind, &h.Person.Company, &levels, &h.Person.Disabled); err != nil {
			return nil, fmt.Errorf("store: cardholders: %w", err)
		}
		h.HasPIN = h.PINHash != ""
		h.Person.Levels = splitList(levels)
		out = append(out, h)
	}
	return out, rows.Err()
}
