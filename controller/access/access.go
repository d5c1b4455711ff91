// Package access decides whether a card may pass a door: the credential, the
// person's access levels and their schedules, and the door's own rules.
package access

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/sekisho/sekisho/controller/config"
	"github.com/sekisho/sekisho/controller/event"
	"github.com/sekisho/sekisho/controller/sekisho"
	"github.com/sekisho/sekisho/firmware-bridge/rules"
	"github.com/sekisho/sekisho/firmware-bridge/wiegand"
)

// Cards finds who holds a card.
type Cards interface {
	CardHolder(ctx context.Context, format string, facility, number uint64, rawHex string) (sekisho.Credential, sekisho.Person, error)
}

// Visits finds a visitor's visit and its cover confirmations.
type Visits interface {
	VisitOf(ctx context.Context, personID, day string) (sekisho.Visit, error)
	CoversConfirmed(ctx context.Context, visitID, zone string) (bool, error)
}

// Decider applies a site's rules that need no memory of earlier passages:
// the card, the person's levels or visit, schedules, PIN, NDA and covers.
type Decider struct {
	Config *config.Config
	Cards  Cards
	Visits Visits // nil: visitors are judged by levels like anyone
	Places Places // where customers' assets are now; nil: where the config puts them
}

// Places says where every customer's asset is now. It answers from
// memory: the cover check runs on the door's path.
type Places interface {
	Assets() []config.Asset
}

// Assets are the customers' assets where they are now.
func (d *Decider) Assets() []config.Asset {
	if d.Places != nil {
		return d.Places.Assets()
	}
	return d.Config.Assets
}

// Decision is the outcome of one card at one reader.
type Decision struct {
	Type       string // event.AccessGranted, AccessDenied or AccessRequested
	Reason     string
	Door       config.Door
	Side       config.Side
	From, To   string // zones: where the person is and where they would go
	Person     *sekisho.Person
	Credential *sekisho.Credential
	Visit      *sekisho.Visit // a visitor's visit
	// Partner is the other person of an escort or two-person pair.
	Partner *sekisho.Person
	// Violation names a rule broken but let through (soft anti-passback).
	Violation string
}

// Granted reports whether the door should unlock.
func (d Decision) Granted() bool { return d.Type == event.AccessGranted }

// ErrUnknownReader is returned for a reader no door names.
var ErrUnknownReader = errors.New("access: reader is on no door")

// Request is a card presented at a reader, with its PIN where the reader
// asks for one.
type Request struct {
	Reader     string
	Card       wiegand.Card
	PIN        string
	PINMissing bool
	At         time.Time
}

// Decide judges one card at one reader.
func (d *Decider) Decide(ctx context.Context, req Request) (Decision, error) {
	reader, card, at := req.Reader, req.Card, req.At
	door, side, ok := d.Config.ReaderDoor(reader)
	if !ok {
		return Decision{}, fmt.Errorf("%w: %s", ErrUnknownReader, reader)
	}
	dec := Decision{Door: door, Side: side, From: door.From, To: door.To}
	if side == config.Inside {
		dec.From, dec.To = door.To, door.From
	}
	deny := func(reason string) (Decision, error) {
		dec.Type, dec.Reason = event.AccessDenied, reason
		return dec, nil
	}

	cred, person, err := d.Cards.CardHolder(ctx, card.Format, card.Facility, card.Number, rawHex(card))
	if errors.Is(err, sekisho.ErrNotFound) {
		return deny(event.ReasonUnknownCredential)
	}
	if err != nil {
		return Decision{}, fmt.Errorf("access: %w", err)
	}
	dec.Person, dec.Credential = &person, &cred
	if rules.Disabled(person.Disabled, cred.Enabled, person.Kind) {
		return deny(event.ReasonDisabled)
	}
	if !cred.ValidAt(at) {
		return deny(event.ReasonExpired)
	}
	if door.WantsPIN(side) {
		switch {
		case req.PINMissing || req.PIN == "" || !cred.HasPIN:
			return deny(event.ReasonPINRequired)
		case !cred.CheckPIN(req.PIN):
			return deny(event.ReasonBadPIN)
		}
	}
	if person.Kind == "visitor" && d.Visits != nil {
		v, err := d.Visits.VisitOf(ctx, person.ID, at.In(d.Config.Location).Format("2006-01-02"))
		if errors.Is(err, sekisho.ErrNotFound) || (err == nil && v.Status != sekisho.VisitCheckedIn) {
			return deny(event.ReasonExpired) // no visit today: the day badge is stale
		}
		if err != nil {
			return Decision{}, fmt.Errorf("access: %w", err)
		}
		dec.Visit = &v
	}
	// The outside reader of an inside-only door never unlocks it: the swipe
	// asks the guard, who lets the person in from inside.
	if door.InsideOnly && side == config.Outside {
		dec.Type, dec.Reason = event.AccessRequested, event.ReasonInsideOnly
		return dec, nil
	}
	if dec.Visit != nil {
		reason, err := d.visitorReason(ctx, *dec.Visit, dec.To)
		if err != nil {
			return Decision{}, err
		}
		if reason != "" {
			return deny(reason)
		}
		dec.Type = event.AccessGranted
		return dec, nil
	}
	if reason := d.zoneReason(person, dec.To, at); reason != "" {
		return deny(reason)
	}
	dec.Type = event.AccessGranted
	return dec, nil
}

// visitorReason is why a visitor may not enter zone, or "": the visit must
// name the zone, a restricted zone needs a signed NDA, and other companies'
// assets in the zone must be confirmed covered for this visit (目隠し).
func (d *Decider) visitorReason(ctx context.Context, v sekisho.Visit, zone string) (string, error) {
	z, ok := d.Config.Zone(zone)
	if ok && z.Public {
		return "", nil
	}
	if !slices.Contains(v.Zones, zone) {
		return event.ReasonNotAuthorized, nil
	}
	if z.Restricted && v.NDARef == "" {
		return event.ReasonNDAMissing, nil
	}
	if len(CoversNeeded(d.Assets(), zone, v.Company)) > 0 {
		covered, err := d.Visits.CoversConfirmed(ctx, v.ID, zone)
		if err != nil {
			return "", fmt.Errorf("access: covers: %w", err)
		}
		if !covered {
			return event.ReasonCoverCheckPending, nil
		}
	}
	return "", nil
}

// CoversNeeded lists the assets in zone that belong to companies other than
// company: what must be covered before its visitor enters.
func CoversNeeded(assets []config.Asset, zone, company string) []config.Asset {
	var out []config.Asset
	for _, a := range assets {
		if a.Zone == zone && !strings.EqualFold(strings.TrimSpace(a.Owner), strings.TrimSpace(company)) {
			out = append(out, a)
		}
	}
	return out
}

// zoneReason is why person may not enter zone at t, or "" if they may.
func (d *Decider) zoneReason(person sekisho.Person, zone string, at time.Time) string {
	if z, ok := d.Config.Zone(zone); ok && z.Public {
		return ""
	}
	covered := false
	for _, id := range person.Levels {
		level, ok := d.Config.Level(id)
		if !ok || !slices.Contains(level.Zones, zone) {
			continue
		}
		covered = true
		if level.Schedule == "" || d.Config.Windows[level.Schedule].AllowsOn(at.In(d.Config.Location), d.Config.IsHoliday(at)) {
			return ""
		}
	}
	if covered {
		return event.ReasonOutsideSchedule
	}
	return event.ReasonNotAuthorized
}

func rawHex(c wiegand.Card) string {
	if c.Format == wiegand.FormatRaw {
		return c.Hex
	}
	return ""
}
