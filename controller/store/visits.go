package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/sekisho/sekisho/controller/sekisho"
)

// Visit statuses.

// CreateVisit stores a visitor (a person of kind visitor) and their visit,
// in one transaction.
func (s *Store) CreateVisit(ctx context.Context, v *sekisho.Visit) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("store: visit: %w", err)
	}
	defer tx.Rollback()
	if v.PersonID == "" {
		v.PersonID = "p-" + uuid.NewString()[:8]
		if _, err := tx.ExecContext(ctx, `INSERT INTO people (id, name, kind, company, levels, created_at) VALUES (?, ?, 'visitor', ?, '', ?)`,
			v.PersonID, v.Name, v.Company, now()); err != nil {
			return fmt.Errorf("store: visitor: %w", err)
		}
	}
	v.ID = "v-" + uuid.NewString()[:8]
	v.Status = sekisho.VisitRegistered
	if _, err := tx.ExecContext(ctx, `INSERT INTO visits (id, person_id, company, host_id, purpose, day, zones, nda_ref, briefed_by, briefed_at, phone_locker, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		v.ID, v.PersonID, v.Company, v.HostID, v.Purpose, v.Day, strings.Join(v.Zones, ","), v.NDARef, v.BriefedBy, v.BriefedAt, v.PhoneLocker, now()); err != nil {
		return fmt.Errorf("store: visit: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("store: visit: %w", err)
	}
	s.cardsDidChange()
	return nil
}

const selectVisit = `SELECT v.id, v.person_id, p.name, v.company, v.host_id, COALESCE(h.name, ''), v.purpose, v.day, v.zones, v.nda_ref,
		v.briefed_by, v.briefed_at, v.phone_locker, v.status, c.number, v.checked_in, v.checked_out
	FROM visits v JOIN people p ON p.id = v.person_id LEFT JOIN people h ON h.id = v.host_id
	LEFT JOIN credentials c ON c.id = v.credential AND c.enabled = 1`

func scanVisit(row interface{ Scan(...any) error }) (sekisho.Visit, error) {
	var v sekisho.Visit
	var zones string
	var card sql.NullInt64
	err := row.Scan(&v.ID, &v.PersonID, &v.Name, &v.Company, &v.HostID, &v.HostName, &v.Purpose, &v.Day, &zones, &v.NDARef,
		&v.BriefedBy, &v.BriefedAt, &v.PhoneLocker, &v.Status, &card, &v.CheckedIn, &v.CheckedOut)
	v.Zones = splitList(zones)
	if card.Valid && v.Status == sekisho.VisitCheckedIn {
		n := uint64(card.Int64)
		v.Card = &n
	}
	return v, err
}

// GetVisit returns the visit id.
func (s *Store) GetVisit(ctx context.Context, id string) (sekisho.Visit, error) {
	v, err := scanVisit(s.db.QueryRowContext(ctx, selectVisit+` WHERE v.id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return v, fmt.Errorf("store: visit %s: %w", id, sekisho.ErrNotFound)
	}
	return v, err
}

// VisitOf is a visitor's visit on day (the latest, if several).
func (s *Store) VisitOf(ctx context.Context, personID, day string) (sekisho.Visit, error) {
	v, err := scanVisit(s.db.QueryRowContext(ctx, selectVisit+` WHERE v.person_id = ? AND v.day = ? ORDER BY v.created_at DESC LIMIT 1`, personID, day))
	if errors.Is(err, sql.ErrNoRows) {
		return v, fmt.Errorf("store: visit of %s on %s: %w", personID, day, sekisho.ErrNotFound)
	}
	return v, err
}

// Visits lists a day's visits, by time of registration.
func (s *Store) Visits(ctx context.Context, day string) ([]sekisho.Visit, error) {
	return s.SearchVisits(ctx, sekisho.VisitQuery{From: day, To: day})
}

// CheckIn binds a day badge to a registered visit until validUntil.
func (s *Store) CheckIn(ctx context.Context, visitID, format string, facility, number uint64, validUntil time.Time) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	var personID, status string
	if err := tx.QueryRowContext(ctx, `SELECT person_id, status FROM visits WHERE id = ?`, visitID).Scan(&personID, &status); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("store: visit %s: %w", visitID, sekisho.ErrNotFound)
		}
		return err
	}
	if status != sekisho.VisitRegistered {
		return fmt.Errorf("store: visit %s is %s: %w", visitID, status, sekisho.ErrConflict)
	}
	var inUse int
	if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM credentials WHERE format = ? AND facility = ? AND number = ? AND enabled = 1`,
		format, facility, number).Scan(&inUse); err != nil {
		return err
	}
	if inUse > 0 {
		return fmt.Errorf("store: badge %d:%d: %w", facility, number, sekisho.ErrDuplicate)
	}
	// An earlier, disabled binding of the same badge steps aside (kept, for
	// the visits that used it) so the new one can take its number.
	if _, err := tx.ExecContext(ctx, `UPDATE credentials SET raw_hex = 'retired:' || id WHERE format = ? AND facility = ? AND number = ? AND enabled = 0`,
		format, facility, number); err != nil {
		return err
	}
	res, err := tx.ExecContext(ctx, `INSERT INTO credentials (person_id, format, facility, number, enabled, valid_until, created_at) VALUES (?, ?, ?, ?, 1, ?, ?)`,
		personID, format, facility, number, validUntil.UTC().Format(time.RFC3339), now())
	if err != nil {
		return fmt.Errorf("store: badge for %s: %w", visitID, err)
	}
	credID, _ := res.LastInsertId()
	if _, err := tx.ExecContext(ctx, `UPDATE visits SET status = 'checked_in', credential = ?, checked_in = ? WHERE id = ?`, credID, now(), visitID); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return err
	}
	s.cardsDidChange()
	return nil
}

// CheckOut ends a visit and disables its badge at once.
func (s *Store) CheckOut(ctx context.Context, visitID string) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	var status string
	var cred sql.NullInt64
	if err := tx.QueryRowContext(ctx, `SELECT status, credential FROM visits WHERE id = ?`, visitID).Scan(&status, &cred); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("store: visit %s: %w", visitID, sekisho.ErrNotFound)
		}
		return err
	}
	if status != sekisho.VisitCheckedIn {
		return fmt.Errorf("store: visit %s is %s, not checked in: %w", visitID, status, sekisho.ErrConflict)
	}
	if cred.Valid {
		if _, err := tx.ExecContext(ctx, `UPDATE credentials SET enabled = 0 WHERE id = ?`, cred.Int64); err != nil {
			return err
		}
	}
	if _, err := tx.ExecContext(ctx, `UPDATE visits SET status = 'checked_out', checked_out = ? WHERE id = ?`, now(), visitID); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return err
	}
	s.cardsDidChange()
	return nil
}

// ConfirmCovers records that a zone's other companies' assets are covered
// for a visit. The first confirmation stands; later ones are events only.
func (s *Store) ConfirmCovers(ctx context.Context, visitID, zone string, assets []string, by string) error {
	_, err := s.db.ExecContext(ctx, `INSERT INTO visit_covers (visit_id, zone, assets, confirmed_by, confirmed_at) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (visit_id, zone) DO NOTHING`,
		visitID, zone, strings.Join(assets, ","), by, now())
	if err != nil {
		return fmt.Errorf("store: covers for %s in %s: %w", visitID, zone, err)
	}
	return nil
}

// CoversConfirmed reports whether covers were confirmed for a visit in zone.
func (s *Store) CoversConfirmed(ctx context.Context, visitID, zone string) (bool, error) {
	var n int
	err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM visit_covers WHERE visit_id = ? AND zone = ?`, visitID, zone).Scan(&n)
	return n > 0, err
}

// SearchVisits finds visits, newest day first.
func (s *Store) SearchVisits(ctx context.Context, q sekisho.VisitQuery) ([]sekisho.Visit, error) {
	var where []string
	var args []any
	// What a desk types is looked for as written: % and _ are letters
	// here, not wildcards.
	escape := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace
	like := func(col, v string) {
		if v != "" {
			where = append(where, col+` LIKE ? ESCAPE '\'`)
			args = append(args, "%"+escape(v)+"%")
		}
	}
	like("v.company", q.Company)
	like("p.name", q.Person)
	if q.Host != "" {
		where = append(where, `(h.name LIKE ? ESCAPE '\' OR v.host_id = ?)`)
		args = append(args, "%"+escape(q.Host)+"%", q.Host)
	}
	if q.From != "" {
		where, args = append(where, "v.day >= ?"), append(args, q.From)
	}
	if q.To != "" {
		where, args = append(where, "v.day <= ?"), append(args, q.To)
	}
	if q.Status != "" {
		where, args = append(where, "v.status = ?"), append(args, q.Status)
	}
	sqlq := selectVisit
	if len(where) > 0 {
		sqlq += " WHERE " + strings.Join(where, " AND ")
	}
	rows, err := s.db.QueryContext(ctx, sqlq+" ORDER BY v.day DESC, v.created_at LIMIT 1000", args...)
	if err != nil {
		return nil, fmt.Errorf("store: search visits: %w", err)
	}
	defer rows.Close()
	out := []sekisho.Visit{}
	for rows.Next() {
		v, err := scanVisit(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

// BadgesInUse are the day badge numbers bound to checked-in visits.
func (s *Store) BadgesInUse(ctx context.Context, format string, facility uint64) (map[uint64]bool, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT number FROM credentials WHERE format = ? AND facility = ? AND enabled = 1`, format, facility)
	if err != nil {
		return nil, fmt.Errorf("store: badges: %w", err)
	}
	defer rows.Close()
	out := map[uint64]bool{}
	for rows.Next() {
		var n uint64
		if err := rows.Scan(&n); err != nil {
			return nil, err
		}
		out[n] = true
	}
	return out, rows.Err()
}

// CoveredZones are the zones where covers were confirmed for a visit.
func (s *Store) CoveredZones(ctx context.Context, visitID string) ([]string, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT DISTINCT zone FROM visit_covers WHERE visit_id = ?`, visitID)
	if err != nil {
		return nil, fmt.Errorf("store: covers of %s: %w", visitID, err)
	}
	defer rows.Close()
	var zones []string
	for rows.Next() {
		var z string
		if err := rows.Scan(&z); err != nil {
			return nil, fmt.Errorf("store: covers of %s: %w", visitID, err)
		}
		zones = append(zones, z)
	}
	return zones, rows.Err()
}
