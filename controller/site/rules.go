package site

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/sekisho/sekisho/controller/access"
	"github.com/sekisho/sekisho/controller/config"
	"github.com/sekisho/sekisho/controller/doors"
	"github.com/sekisho/sekisho/controller/event"
	"github.com/sekisho/sekisho/controller/httpapi"
	"github.com/sekisho/sekisho/controller/store"
	"github.com/sekisho/sekisho/firmware-bridge/bridge"
)

// onCard asks the engine, moves the relay, then logs: the door never waits
// on more than the decision and one SQLite append.
func (s *Site) onCard(ctx context.Context, sig bridge.Signal) {
	req := access.Request{Reader: sig.Reader, Card: *sig.Card, PIN: sig.PIN, PINMissing: sig.PINMissing, At: sig.At}
	out, err := s.engine.Card(ctx, req)
	if err != nil {
		s.log.Error("access decision failed; door stays locked", "reader", sig.Reader, "err", err)
		return
	}
	door, side, _ := s.Config.ReaderDoor(sig.Reader)
	if out.Unlock {
		if err := s.link.Unlock(door.ID, door.Strike.Pulse); err != nil {
			s.log.Error("unlock failed", "door", door.ID, "err", err)
		} else if sig.ID == "" {
			// One of the controller's own readers: its clock timed the last bit.
			s.meters.unlockLatency.Observe(time.Since(sig.At).Seconds())
		}
	}
	if out.Hold > 0 {
		// The card waits for its escort or second person; say no if nobody comes.
		token := out.Token
		time.AfterFunc(out.Hold, func() {
			s.do(ctx, func(ctx context.Context) {
				if dec, ok := s.engine.Expire(door.ID, token); ok {
					s.logDecision(ctx, sig, dec)
					s.feedback(sig, false, door)
				}
			})
		})
	}
	for i, dec := range out.Decisions {
		d := sig
		if i > 0 {
			d.ID = "" // the partner's card was read earlier; its event gets its own id
		}
		s.logDecision(ctx, d, dec)
	}
	if len(out.Decisions) > 0 {
		s.feedback(sig, out.Unlock, door)
	}
	for _, a := range out.Alarms {
		s.raise(ctx, a.Kind, a.Severity, a.Door, a.Reader, a.PersonID, a.Detail)
	}
	// A visitor badging out at the inside reader of an inside-only door is
	// leaving the site: that is the checkout.
	for _, dec := range out.Decisions {
		if dec.Granted() && dec.Visit != nil && door.InsideOnly && side == config.Inside {
			s.checkOut(ctx, dec.Visit.ID, dec.Person, "badge at "+door.ID)
		}
	}
}

// feedback shows the answer at the card's reader; a door Pi matches it to
// the card by the signal's id.
func (s *Site) feedback(sig bridge.Signal, granted bool, door config.Door) {
	if err := s.link.Feedback(sig.Reader, sig.ID, granted, door.Strike.Pulse); err != nil {
		s.log.Warn("reader feedback", "reader", sig.Reader, "err", err)
	}
}

// logDecision appends one access event.
func (s *Site) logDecision(ctx context.Context, sig bridge.Signal, dec access.Decision) {
	ev := s.readerEvent(sig)
	ev.Type, ev.Reason = dec.Type, dec.Reason
	ev.ZoneFrom, ev.ZoneTo = dec.From, dec.To
	if p := dec.Person; p != nil {
		ev.Person = personOf(*p)
		if dec.Credential != nil && sig.Card != nil && (sig.Card.Number != dec.Credential.Number || sig.Card.Facility != dec.Credential.Facility) {
			// A partner's decision: its own card, not this signal's.
			ev.Credential = &event.Credential{Format: dec.Credential.Format, Facility: dec.Credential.Facility, Number: dec.Credential.Number}
			ev.Time = time.Now()
		}
	}
	if dec.Visit != nil {
		ev.Visit = dec.Visit.ID
	}
	if dec.Partner != nil || dec.Violation != "" {
		if ev.Detail == nil {
			ev.Detail = map[string]string{}
		}
		if dec.Partner != nil {
			ev.Detail["with"] = dec.Partner.ID
			ev.Detail["with_name"] = dec.Partner.Name
		}
		if dec.Violation != "" {
			ev.Detail["violation"] = dec.Violation
		}
	}
	s.lastDecision = s.record(ctx, ev)
}

func personOf(p store.Person) *event.Person {
	return &event.Person{ID: p.ID, Name: p.Name, Kind: p.Kind, Company: p.Company}
}

func newAlarmID() string { return "al-" + uuid.NewString()[:12] }

// raise stores an alarm and logs alarm.raised.
func (s *Site) raise(ctx context.Context, kind, severity, door, reader, personID, detail string) {
	s.raiseID(ctx, newAlarmID(), kind, severity, door, reader, personID, detail)
}

func (s *Site) raiseID(ctx context.Context, id, kind, severity, door, reader, personID, detail string) {
	a := &store.Alarm{ID: id, Kind: kind, Severity: severity, Door: door, Reader: reader, PersonID: personID, Detail: detail}
	s.raiseAlarm(ctx, a, &event.Event{Door: door, Reader: reader})
}

// raiseAlarm logs alarm.raised from ev (which may carry more: a camera, a
// zone, evidence in its detail) and has the log's writer store a after it.
// Until then the board shows a from memory, so an alarm is seen at once
// even while the database is locked or the card full.
func (s *Site) raiseAlarm(ctx context.Context, a *store.Alarm, ev *event.Event) {
	if a.RaisedAt == "" {
		a.RaisedAt = time.Now().UTC().Format(time.RFC3339Nano)
	}
	s.holdAlarm(*a)
	ev.Type, ev.Alarm = event.AlarmRaised, &event.Alarm{ID: a.ID, Severity: a.Severity}
	if ev.Detail == nil {
		ev.Detail = map[string]string{}
	}
	ev.Detail["kind"], ev.Detail["detail"] = a.Kind, a.Detail
	stored := *a
	s.recordThen(ctx, ev, func(ctx context.Context) error {
		if err := s.Store.RaiseAlarm(ctx, &stored); err != nil {
			return err
		}
		s.unholdAlarm(stored.ID)
		return nil
	})
}

// doorAlarms mirrors the door's alarms into the alarms table: raised with
// the door event, cleared when the door closes or the loop is restored.
func (s *Site) doorAlarms(ctx context.Context, ev event.Event) {
	switch {
	case ev.Alarm != nil:
		kind := strings.TrimPrefix(ev.Type, "door.")
		s.raiseID(ctx, ev.Alarm.ID, kind, ev.Alarm.Severity, ev.Door, "", "", ev.Type)
	case ev.Type == event.DoorClosed:
		s.clear(ctx, ev.Door, doors.AlarmForced, doors.AlarmHeld)
	case ev.Type == event.DoorTamper && ev.Detail["state"] == "restored":
		s.clear(ctx, ev.Door, doors.AlarmTamper)
	}
}

// clear has the log's writer clear door's alarms of kinds, after every
// event before it, and log alarm.cleared for each.
func (s *Site) clear(ctx context.Context, door string, kinds ...string) {
	s.recordThen(ctx, nil, func(ctx context.Context) error {
		for _, kind := range kinds {
			ids, err := s.Store.ClearAlarms(ctx, kind, door)
			if err != nil {
				return err
			}
			for _, id := range ids {
				s.record(ctx, &event.Event{Type: event.AlarmCleared, Door: door, Alarm: &event.Alarm{ID: id}, Detail: map[string]string{"kind": kind}})
			}
		}
		return nil
	})
}

func (s *Site) checkOut(ctx context.Context, visitID string, p *store.Person, by string) []<-chan error {
	if err := s.Store.CheckOut(ctx, visitID); err != nil {
		if !errors.Is(err, store.ErrConflict) {
			s.log.Error("checkout failed", "visit", visitID, "err", err)
		}
		return nil
	}
	s.engine.Left(p.ID)
	return []<-chan error{s.record(ctx, &event.Event{Type: event.VisitorCheckedOut, Visit: visitID, Person: personOf(*p), Actor: by})}
}

// The guard's and manager's actions the API offers; each is logged.

// UnlockDoor is a guard's momentary unlock from the console.
func (s *Site) UnlockDoor(ctx context.Context, id, by string) error {
	d, ok := s.Config.Door(id)
	if !ok {
		return fmt.Errorf("%w: door %s", store.ErrNotFound, id)
	}
	if d.InsideOnly && !d.ConsoleUnlock {
		return &httpapi.Refusal{Code: event.ReasonInsideOnly, Detail: id + " unlocks only from inside; the guard opens it at the door (console_unlock allows the console)"}
	}
	return s.unlockFor(ctx, id, by, "console")
}

// unlockFor unlocks door id for its pulse, logged as a grant by whom and
// through what (console, home_assistant).
func (s *Site) unlockFor(ctx context.Context, id, by, via string) error {
	d, _ := s.Config.Door(id)
	return s.onLoop(ctx, func(ctx context.Context) ([]<-chan error, error) {
		// The grant is logged before the strike moves, as for a card.
		done := s.record(ctx, &event.Event{Type: event.AccessGranted, Door: id, ZoneFrom: d.From, ZoneTo: d.To, Actor: by, Detail: map[string]string{"by": via}})
		return []<-chan error{done}, s.link.Unlock(id, d.Strike.Pulse)
	})
}

// SetLockdown starts or lifts a lockdown of every restricted zone.
func (s *Site) SetLockdown(ctx context.Context, on bool, by, reason string) {
	err := s.onLoop(ctx, func(ctx context.Context) ([]<-chan error, error) {
		if !s.engine.SetLockdown(on) {
			return nil, nil
		}
		typ := event.LockdownLifted
		if on {
			typ = event.LockdownStarted
		}
		ev := &event.Event{Type: typ, Actor: by, Detail: map[string]string{"reason": reason}}
		if on {
			ev.Alarm = &event.Alarm{ID: "lockdown", Severity: "critical"}
		}
		return []<-chan error{s.record(ctx, ev)}, nil
	})
	if err != nil {
		s.log.Error("lockdown", "on", on, "err", err)
	}
}

// Forgive clears a person's anti-passback record.
func (s *Site) Forgive(ctx context.Context, personID, by string) error {
	p, err := s.Store.Person(ctx, personID)
	if err != nil {
		return err
	}
	return s.onLoop(ctx, func(ctx context.Context) ([]<-chan error, error) {
		s.engine.Forgive(personID)
		return []<-chan error{s.record(ctx, &event.Event{Type: event.PersonForgiven, Person: personOf(p), Actor: by})}, nil
	})
}

// ConfirmCovers records that other companies' assets in zone are covered for
// a visit, and logs which they were and who confirmed.
func (s *Site) ConfirmCovers(ctx context.Context, visitID, zone, by string) ([]config.Asset, error) {
	v, err := s.Store.GetVisit(ctx, visitID)
	if err != nil {
		return nil, err
	}
	if _, ok := s.Config.Zone(zone); !ok {
		return nil, fmt.Errorf("%w: zone %s", store.ErrNotFound, zone)
	}
	assets := access.CoversNeeded(s.Config, zone, v.Company)
	ids := make([]string, len(assets))
	for i, a := range assets {
		ids[i] = a.ID
	}
	if err := s.Store.ConfirmCovers(ctx, visitID, zone, ids, by); err != nil {
		return nil, err
	}
	return assets, s.logged(ctx, &event.Event{Type: event.CoverConfirmed, Visit: visitID, ZoneTo: zone, Actor: by,
		Person: &event.Person{ID: v.PersonID, Name: v.Name, Kind: "visitor", Company: v.Company},
		Detail: map[string]string{"assets": strings.Join(ids, ","), "company": v.Company}})
}

// Muster is everyone on site, for an evacuation.
func (s *Site) Muster() []access.Presence { return s.engine.Muster() }

// Occupancy counts people per zone.
func (s *Site) Occupancy() map[string]int { return s.engine.Occupancy() }

// Lockdown reports whether a lockdown is on.
func (s *Site) Lockdown() bool { return s.engine.Lockdown() }

// RegisterVisit records a visit (and its visitor).
func (s *Site) RegisterVisit(ctx context.Context, v *store.Visit, by string) error {
	if err := s.Store.CreateVisit(ctx, v); err != nil {
		return err
	}
	return s.logged(ctx, &event.Event{Type: event.VisitorRegistered, Visit: v.ID, Actor: by,
		Person: &event.Person{ID: v.PersonID, Name: v.Name, Kind: "visitor", Company: v.Company},
		Detail: map[string]string{"host": v.HostID, "zones": strings.Join(v.Zones, ","), "nda": v.NDARef, "briefed_by": v.BriefedBy}})
}

// CheckIn issues a day badge from the site's pool to a briefed visitor,
// valid until checkout or the end of the visit's day.
func (s *Site) CheckIn(ctx context.Context, visitID string, card uint64, by string) error {
	v, err := s.Store.GetVisit(ctx, visitID)
	if err != nil {
		return err
	}
	pool := s.Config.VisitorCards
	if pool == nil {
		return &httpapi.Refusal{Code: "no_badge_pool", Detail: "the site config has no visitor_cards"}
	}
	inPool := false
	for _, r := range pool.Numbers {
		from, to, _ := config.CardRange(r)
		inPool = inPool || (card >= from && card <= to)
	}
	if !inPool {
		return &httpapi.Refusal{Code: "not_a_day_badge", Detail: fmt.Sprintf("badge %d is not in the visitor pool %v", card, pool.Numbers)}
	}
	if v.BriefedBy == "" {
		return &httpapi.Refusal{Code: "briefing_missing", Detail: "no badge before the visitor is briefed (新規受入れ者の指導)"}
	}
	now := s.clock.Now()
	if v.Day != s.clock.Day(now) {
		return &httpapi.Refusal{Code: "not_today", Detail: "the visit is for " + v.Day}
	}
	if err := s.Store.CheckIn(ctx, visitID, pool.Format, pool.Facility, card, s.clock.EndOfDay(now)); err != nil {
		return err
	}
	return s.logged(ctx, &event.Event{Type: event.VisitorCheckedIn, Visit: visitID, Actor: by,
		Person:     &event.Person{ID: v.PersonID, Name: v.Name, Kind: "visitor", Company: v.Company},
		Credential: &event.Credential{Format: pool.Format, Facility: pool.Facility, Number: card},
		Detail:     map[string]string{"host": v.HostID, "host_name": v.HostName}})
}

// CheckOutAtDesk checks a visitor out at the desk.
func (s *Site) CheckOutAtDesk(ctx context.Context, visitID, by string) error {
	v, err := s.Store.GetVisit(ctx, visitID)
	if err != nil {
		return err
	}
	if v.Status != store.VisitCheckedIn {
		return &httpapi.Refusal{Code: "not_checked_in", Detail: "visit " + visitID + " is " + v.Status}
	}
	return s.onLoop(ctx, func(ctx context.Context) ([]<-chan error, error) {
		return s.checkOut(ctx, visitID, &store.Person{ID: v.PersonID, Name: v.Name, Kind: "visitor", Company: v.Company}, by), nil
	})
}

// overstays raises an alarm for each visitor still checked in after the
// day's overstay time, or from an earlier day: their badge has not come back
// to the desk.
// escalations pass every alarm no guard has acknowledged within
// access.escalate_after up to the supervisor: the casebook's "a violation
// is reported to the supervisor at once". alarm.escalated goes out on the
// alarms topic, where a pager or a phone (Node-RED, Home Assistant) can
// take it, and the board marks the alarm.
func (s *Site) escalations(ctx context.Context) error {
	every := s.escalateEvery
	if every <= 0 {
		every = 5 * time.Second
	}
	after := s.Config.Access.EscalateAfter
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
		alarms, err := s.Store.Unescalated(ctx)
		if err != nil {
			if ctx.Err() == nil {
				s.log.Warn("escalation check", "err", err)
			}
			continue
		}
		for _, a := range alarms {
			raised, err := time.Parse(time.RFC3339Nano, a.RaisedAt)
			if err != nil || time.Since(raised) < after {
				continue
			}
			escalated, err := s.Store.EscalateAlarm(ctx, a.ID)
			if err != nil {
				s.log.Error("alarm not escalated", "alarm", a.ID, "err", err)
				continue
			}
			if !escalated {
				continue // acknowledged a moment ago
			}
			detail := map[string]string{"kind": a.Kind, "detail": a.Detail, "raised_at": a.RaisedAt, "after": after.String()}
			if a.PersonID != "" {
				detail["person_id"] = a.PersonID
			}
			s.record(ctx, &event.Event{Type: event.AlarmEscalated, Door: a.Door, Reader: a.Reader,
				Alarm: &event.Alarm{ID: a.ID, Severity: a.Severity}, Detail: detail})
		}
	}
}

func (s *Site) overstays(ctx context.Context) error {
	pool := s.Config.VisitorCards
	if pool == nil {
		return nil
	}
	every := s.overstayEvery
	if every <= 0 {
		every = 30 * time.Second
	}
	t := time.NewTicker(every)
	defer t.Stop()
	raised := map[string]bool{}
	for {
		now := s.clock.Now()
		today := s.clock.Day(now)
		late := now.Hour()*60+now.Minute() >= pool.Overstay()
		visits, err := s.Store.SearchVisits(ctx, store.VisitQuery{To: today, Status: store.VisitCheckedIn})
		if err != nil && ctx.Err() == nil {
			s.log.Warn("overstay check", "err", err)
		}
		for _, v := range visits {
			if raised[v.ID] || (v.Day == today && !late) {
				continue
			}
			raised[v.ID] = true
			badge := ""
			if v.Card != nil {
				badge = fmt.Sprintf(", badge %d not returned", *v.Card)
			}
			s.raise(ctx, "overstay", "warning", "", "", v.PersonID, fmt.Sprintf("%s (%s) still checked in after %s on %s%s; host %s", v.Name, v.Company, pool.OverstayAt, v.Day, badge, v.HostName))
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}
