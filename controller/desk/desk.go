// Package desk is the visitor desk: a visit registered, a day badge issued
// to a briefed visitor, covers confirmed over other companies' dies, the
// badge back at the desk or at an inside-only door, and the alarm for a
// visitor still inside after hours.
//
// The desk keeps the visits now checked in, with their covers, in memory:
// the doors judge a visitor's badge from there and never wait on the
// database, and a badge handed back at a door is let go at once while the
// database write follows in the log's order.
package desk

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/sekisho/sekisho/controller/access"
	"github.com/sekisho/sekisho/controller/config"
	"github.com/sekisho/sekisho/controller/event"
	"github.com/sekisho/sekisho/controller/journal"
	"github.com/sekisho/sekisho/controller/sekisho"
	"github.com/sekisho/sekisho/controller/sitetime"
)

// Store keeps the visitor book.
type Store interface {
	CreateVisit(ctx context.Context, v *sekisho.Visit) error
	GetVisit(ctx context.Context, id string) (sekisho.Visit, error)
	CheckIn(ctx context.Context, visitID, format string, facility, number uint64, validUntil time.Time) error
	CheckOut(ctx context.Context, visitID string) error
	ConfirmCovers(ctx context.Context, visitID, zone string, assets []string, by string) error
	CoveredZones(ctx context.Context, visitID string) ([]string, error)
	SearchVisits(ctx context.Context, q sekisho.VisitQuery) ([]sekisho.Visit, error)
}

// Loop runs f on the door loop and waits for it and for the events it
// handed the journal: a desk checkout takes its turn with the doors.
type Loop interface {
	OnLoop(ctx context.Context, f func(ctx context.Context) ([]<-chan error, error)) error
}

// Presence is who the doors believe is inside; it is the loop's.
type Presence interface {
	Left(personID string)
}

// Desk is one site's visitor desk.
type Desk struct {
	config   *config.Config
	store    Store
	journal  *journal.Journal
	clock    sitetime.Clock
	log      *slog.Logger
	loop     Loop
	presence Presence
	// Places says where customers' assets are now (the config's places
	// when nil).
	Places access.Places

	mu     sync.Mutex
	inside map[string]sekisho.Visit   // person id → their visit now checked in
	covers map[string]map[string]bool // visit id → zones with covers confirmed
}

// New is the desk of cfg's site.
func New(cfg *config.Config, st Store, j *journal.Journal, clock sitetime.Clock, loop Loop, presence Presence, log *slog.Logger) *Desk {
	return &Desk{config: cfg, store: st, journal: j, clock: clock, loop: loop, presence: presence, log: log,
		inside: map[string]sekisho.Visit{}, covers: map[string]map[string]bool{}}
}

// Load reads the visits now checked in, with their covers, before the
// doors first ask.
func (d *Desk) Load(ctx context.Context) error {
	visits, err := d.store.SearchVisits(ctx, sekisho.VisitQuery{Status: sekisho.VisitCheckedIn})
	if err != nil {
		return fmt.Errorf("desk: visits checked in: %w", err)
	}
	covers := map[string]map[string]bool{}
	for _, v := range visits {
		zones, err := d.store.CoveredZones(ctx, v.ID)
		if err != nil {
			return fmt.Errorf("desk: %w", err)
		}
		for _, z := range zones {
			if covers[v.ID] == nil {
				covers[v.ID] = map[string]bool{}
			}
			covers[v.ID][z] = true
		}
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	// Newest last (SearchVisits lists the newest day first): a person's
	// latest visit wins.
	for i := len(visits) - 1; i >= 0; i-- {
		d.inside[visits[i].PersonID] = visits[i]
	}
	d.covers = covers
	return nil
}

// VisitOf is a visitor's visit on day, if it is checked in now; the doors
// ask, from memory.
func (d *Desk) VisitOf(_ context.Context, personID, day string) (sekisho.Visit, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	v, ok := d.inside[personID]
	if !ok || v.Day != day {
		return sekisho.Visit{}, fmt.Errorf("desk: no visit of %s checked in on %s: %w", personID, day, sekisho.ErrNotFound)
	}
	v.Zones = append([]string(nil), v.Zones...)
	return v, nil
}

// CoversConfirmed says whether a guard confirmed the covers in zone for a
// visit; from memory.
func (d *Desk) CoversConfirmed(_ context.Context, visitID, zone string) (bool, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.covers[visitID][zone], nil
}

var _ access.Visits = (*Desk)(nil)

// Inside are the visits checked in now, oldest check-in first.
func (d *Desk) Inside() []sekisho.Visit {
	d.mu.Lock()
	out := make([]sekisho.Visit, 0, len(d.inside))
	for _, v := range d.inside {
		out = append(out, v)
	}
	d.mu.Unlock()
	slices.SortFunc(out, func(a, b sekisho.Visit) int { return strings.Compare(a.CheckedIn, b.CheckedIn) })
	return out
}

// Register records a visit (and its visitor). The zones on the way to
// those chosen are added, so a badge for the press opens the doors before
// it; added names them for the clerk. A zone no door leads to is refused.
func (d *Desk) Register(ctx context.Context, v *sekisho.Visit, by string) (added []string, err error) {
	zones := []string{}
	for _, z := range v.Zones {
		path, ok := d.config.PathTo(z)
		if !ok {
			return nil, sekisho.Refuse("zone_unreachable", "no door leads from the entrance to "+z)
		}
		for _, p := range path {
			if !slices.Contains(zones, p) {
				zones = append(zones, p)
				if !slices.Contains(v.Zones, p) {
					added = append(added, p)
				}
			}
		}
	}
	v.Zones = zones
	if err := d.store.CreateVisit(ctx, v); err != nil {
		return nil, err
	}
	detail := map[string]string{"host": v.HostID, "zones": strings.Join(v.Zones, ","), "nda": v.NDARef, "briefed_by": v.BriefedBy}
	if len(added) > 0 {
		detail["path_added"] = strings.Join(added, ",")
	}
	return added, d.journal.Logged(ctx, &event.Event{Type: event.VisitorRegistered, Visit: v.ID, Actor: by,
		Person: v.Visitor().Logged(), Detail: detail})
}

// CheckIn issues a day badge from the site's pool to a briefed visitor,
// valid until checkout or the end of the visit's day.
func (d *Desk) CheckIn(ctx context.Context, visitID string, card uint64, by string) error {
	v, err := d.store.GetVisit(ctx, visitID)
	if err != nil {
		return err
	}
	pool := d.config.VisitorCards
	if pool == nil {
		return sekisho.Refuse("no_badge_pool", "the site config has no visitor_cards")
	}
	inPool := false
	for _, r := range pool.Numbers {
		from, to, _ := config.CardRange(r)
		inPool = inPool || (card >= from && card <= to)
	}
	if !inPool {
		return sekisho.Refuse("not_a_day_badge", fmt.Sprintf("badge %d is not in the visitor pool %v", card, pool.Numbers))
	}
	if v.BriefedBy == "" {
		return sekisho.Refuse("briefing_missing", "no badge before the visitor is briefed (新規受入れ者の指導)")
	}
	now := d.clock.Now()
	if v.Day != d.clock.Day(now) {
		return sekisho.Refuse("not_today", "the visit is for "+v.Day)
	}
	if err := d.store.CheckIn(ctx, visitID, pool.Format, pool.Facility, card, d.clock.EndOfDay(now)); err != nil {
		return err
	}
	if in, err := d.store.GetVisit(ctx, visitID); err == nil {
		d.mu.Lock()
		d.inside[in.PersonID] = in
		d.mu.Unlock()
	} else {
		d.log.Error("visit checked in but not read back: the badge opens nothing until the site restarts", "visit", visitID, "err", err)
	}
	return d.journal.Logged(ctx, &event.Event{Type: event.VisitorCheckedIn, Visit: visitID, Actor: by,
		Person:     v.Visitor().Logged(),
		Credential: &event.Credential{Format: pool.Format, Facility: pool.Facility, Number: card},
		Detail:     map[string]string{"host": v.HostID, "host_name": v.HostName}})
}

// CheckOutAtDesk checks a visitor out at the desk, in turn with the doors.
func (d *Desk) CheckOutAtDesk(ctx context.Context, visitID, by string) error {
	v, err := d.store.GetVisit(ctx, visitID)
	if err != nil {
		return err
	}
	if v.Status != sekisho.VisitCheckedIn {
		return sekisho.Refuse("not_checked_in", "visit "+visitID+" is "+v.Status)
	}
	return d.loop.OnLoop(ctx, func(context.Context) ([]<-chan error, error) {
		done := d.Left(v, by)
		if done == nil {
			// Gone a moment ago at a door; the database is still catching up.
			return nil, sekisho.Refuse("not_checked_in", "visit "+visitID+" was checked out a moment ago")
		}
		return []<-chan error{done}, nil
	})
}

// Left is a visitor gone: their badge back at the desk, or read at the
// inside reader of an inside-only door. It runs on the door loop and
// touches memory only: the badge opens nothing from now, the visitor is
// counted out, and the database's checkout follows its event in the log.
// A visit not checked in (gone a moment ago) is left alone: nil.
func (d *Desk) Left(v sekisho.Visit, by string) <-chan error {
	d.mu.Lock()
	in, ok := d.inside[v.PersonID]
	if !ok || in.ID != v.ID {
		d.mu.Unlock()
		return nil
	}
	delete(d.inside, v.PersonID)
	delete(d.covers, v.ID)
	d.mu.Unlock()
	d.presence.Left(v.PersonID)
	return d.journal.RecordThen(&event.Event{Type: event.VisitorCheckedOut, Visit: v.ID, Person: v.Visitor().Logged(), Actor: by},
		func(ctx context.Context) error {
			err := d.store.CheckOut(ctx, v.ID)
			if errors.Is(err, sekisho.ErrConflict) {
				return nil // checked out a moment before, at the desk or another door
			}
			return err
		})
}

// ConfirmCovers records that other companies' assets in zone are covered for
// a visit, and logs which they were and who confirmed.
func (d *Desk) ConfirmCovers(ctx context.Context, visitID, zone, by string) ([]config.Asset, error) {
	v, err := d.store.GetVisit(ctx, visitID)
	if err != nil {
		return nil, err
	}
	if _, ok := d.config.Zone(zone); !ok {
		return nil, fmt.Errorf("%w: zone %s", sekisho.ErrNotFound, zone)
	}
	places := d.config.Assets
	if d.Places != nil {
		places = d.Places.Assets()
	}
	assets := access.CoversNeeded(places, zone, v.Company)
	ids := make([]string, len(assets))
	for i, a := range assets {
		ids[i] = a.ID
	}
	if err := d.store.ConfirmCovers(ctx, visitID, zone, ids, by); err != nil {
		return nil, err
	}
	d.mu.Lock()
	if d.covers[visitID] == nil {
		d.covers[visitID] = map[string]bool{}
	}
	d.covers[visitID][zone] = true
	d.mu.Unlock()
	return assets, d.journal.Logged(ctx, &event.Event{Type: event.CoverConfirmed, Visit: visitID, ZoneTo: zone, Actor: by,
		Person: v.Visitor().Logged(),
		Detail: map[string]string{"assets": strings.Join(ids, ","), "company": v.Company}})
}
