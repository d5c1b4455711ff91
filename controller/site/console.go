package site

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/sekisho/sekisho/controller/access"
	"github.com/sekisho/sekisho/controller/config"
	"github.com/sekisho/sekisho/controller/event"
	"github.com/sekisho/sekisho/controller/journal"
	"github.com/sekisho/sekisho/controller/sekisho"
	"github.com/sekisho/sekisho/firmware-bridge/bridge"
)

// console is the guard's hand on the doors: an unlock from the board, a
// lockdown, anti-passback forgiven, the muster list. Each command takes its
// turn on the door loop, so the log's order is the order things happened,
// and is answered once it is logged.
type console struct {
	config *config.Config
	people interface {
		Person(context.Context, string) (sekisho.Person, error)
	}
	engine  *access.Engine
	desk    interface{ Inside() []sekisho.Visit }
	link    bridge.Link
	journal *journal.Journal
	onLoop  func(ctx context.Context, f func(ctx context.Context) ([]<-chan error, error)) error
}

// UnlockDoor is a guard's momentary unlock from the console.
func (c *console) UnlockDoor(ctx context.Context, id, by string) error {
	d, ok := c.config.Door(id)
	if !ok {
		return fmt.Errorf("%w: door %s", sekisho.ErrNotFound, id)
	}
	if d.InsideOnly && !d.ConsoleUnlock {
		return sekisho.Refuse(event.ReasonInsideOnly, id+" unlocks only from inside; the guard opens it at the door (console_unlock allows the console)")
	}
	return c.unlockFor(ctx, id, by, "console")
}

// unlockFor unlocks door id for its pulse, logged as a grant by whom and
// through what (console, home_assistant).
func (c *console) unlockFor(ctx context.Context, id, by, via string) error {
	d, _ := c.config.Door(id)
	return c.onLoop(ctx, func(context.Context) ([]<-chan error, error) {
		// The grant is logged before the strike moves, as for a card.
		done := c.journal.Record(&event.Event{Type: event.AccessGranted, Door: id, ZoneFrom: d.From, ZoneTo: d.To, Actor: by, Detail: map[string]string{"by": via}})
		return []<-chan error{done}, c.link.Unlock(id, d.Strike.Pulse)
	})
}

// SetLockdown starts or lifts a lockdown of every restricted zone.
func (c *console) SetLockdown(ctx context.Context, on bool, by, reason string) error {
	return c.onLoop(ctx, func(context.Context) ([]<-chan error, error) {
		if !c.engine.SetLockdown(on) {
			return nil, nil
		}
		typ := event.LockdownLifted
		if on {
			typ = event.LockdownStarted
		}
		ev := &event.Event{Type: typ, Actor: by, Detail: map[string]string{"reason": reason}}
		if on {
			ev.Alarm = &event.Alarm{ID: "lockdown", Severity: string(sekisho.Critical)}
		}
		return []<-chan error{c.journal.Record(ev)}, nil
	})
}

// Forgive clears a person's anti-passback record.
func (c *console) Forgive(ctx context.Context, personID, by string) error {
	p, err := c.people.Person(ctx, personID)
	if err != nil {
		return err
	}
	return c.onLoop(ctx, func(context.Context) ([]<-chan error, error) {
		c.engine.Forgive(personID)
		return []<-chan error{c.journal.Record(&event.Event{Type: event.PersonForgiven, Person: p.Logged(), Actor: by})}, nil
	})
}

// Muster is everyone on site, for an evacuation: everyone let in at a
// door, and every visitor checked in at the desk from that moment, even
// one not yet through a door (last seen at the desk).
func (c *console) Muster() []access.Presence {
	list := c.engine.Muster()
	for _, v := range c.desk.Inside() {
		if slices.ContainsFunc(list, func(p access.Presence) bool { return p.PersonID == v.PersonID }) {
			continue
		}
		at, _ := time.Parse(time.RFC3339Nano, v.CheckedIn)
		list = append(list, access.Presence{PersonID: v.PersonID, Name: v.Name, Kind: sekisho.KindVisitor, Company: v.Company,
			At: at, Visit: v.ID, Where: "desk"})
	}
	return list
}

// Occupancy counts people per zone.
func (c *console) Occupancy() map[string]int { return c.engine.Occupancy() }

// Lockdown reports whether a lockdown is on.
func (c *console) Lockdown() bool { return c.engine.Lockdown() }
