// Package access decides whether a card may pass a door: the credential, the
// person's access levels and their schedules, and the door's own rules.
package access

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/sekisho/sekisho/controller/config"
	"github.com/sekisho/sekisho/controller/event"
	"github.com/sekisho/sekisho/controller/store"
	"github.com/sekisho/sekisho/firmware-bridge/wiegand"
)

// Cards finds who holds a card.
type Cards interface {
	CardHolder(ctx context.Context, format string, facility, number uint64, rawHex string) (store.Credential, store.Person, error)
}

// Decider applies a site's rules.
type Decider struct {
	Config *config.Config
	Cards  Cards
}

// Decision is the outcome of one card at one reader.
type Decision struct {
	Type       string // event.AccessGranted, AccessDenied or AccessRequested
	Reason     string
	Door       config.Door
	Side       config.Side
	From, To   string // zones: where the person is and where they would go
	Person     *store.Person
	Credential *store.Credential
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
	if errors.Is(err, store.ErrNotFound) {
		return deny(event.ReasonUnknownCredential)
	}
	if err != nil {
		return Decision{}, fmt.Errorf("access: %w", err)
	}
	dec.Person, dec.Credential = &person, &cred
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
	// The outside reader of an inside-only door never unlocks it: the swipe
	// asks the guard, who lets the person in from inside.
	if door.InsideOnly && side == config.Outside {
		dec.Type, dec.Reason = event.AccessRequested, event.ReasonInsideOnly
		return dec, nil
	}
	if reason := d.zoneReason(person, dec.To, at); reason != "" {
		return deny(reason)
	}
	dec.Type = event.AccessGranted
	return dec, nil
}

// zoneReason is why person may not enter zone at t, or "" if they may.
func (d *Decider) zoneReason(person store.Person, zone string, at time.Time) string {
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
		if level.Schedule == "" || d.Config.Windows[level.Schedule].Allows(at.In(d.Config.Location)) {
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
