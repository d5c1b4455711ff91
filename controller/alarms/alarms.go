// Package alarms raises and clears the site's alarms. An alarm is logged
// (alarm.raised) through the journal and stored in the alarms table by the
// journal's writer after its event, so the table follows the log's order
// and nobody raising an alarm waits on the database; until it is stored
// the board shows it from memory.
package alarms

import (
	"context"
	"encoding/json"
	"log/slog"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/sekisho/sekisho/controller/event"
	"github.com/sekisho/sekisho/controller/journal"
	"github.com/sekisho/sekisho/controller/outbox"
	"github.com/sekisho/sekisho/controller/sekisho"
)

// Store keeps the alarms table.
type Store interface {
	RaiseAlarm(ctx context.Context, a *sekisho.Alarm) error
	ClearAlarm(ctx context.Context, id string) (bool, error)
	ClearAlarms(ctx context.Context, kind sekisho.AlarmKind, door string) ([]string, error)
	Unescalated(ctx context.Context) ([]sekisho.Alarm, error)
	EscalateAlarm(ctx context.Context, id string) (bool, error)
}

// Alarms raises, clears and escalates one site's alarms.
type Alarms struct {
	store   Store
	journal *journal.Journal
	log     *slog.Logger
	site    string
	notices chan<- outbox.Notice // told over MQTT at once, outside the log

	mu   sync.Mutex
	held []sekisho.Alarm // raised, not yet stored by the log's writer
}

// New raises alarms through j into st; notices hears the ones that must go
// out before the log can take them (storage).
func New(st Store, j *journal.Journal, site string, notices chan<- outbox.Notice, log *slog.Logger) *Alarms {
	return &Alarms{store: st, journal: j, site: site, notices: notices, log: log}
}

// NewID is a new alarm's id.
func NewID() string { return "al-" + uuid.NewString()[:12] }

// Raise logs alarm.raised for a and has the log's writer store it after;
// an empty id, time or severity is filled in.
func (s *Alarms) Raise(a sekisho.Alarm) <-chan error {
	return s.RaiseWith(a, &event.Event{Door: a.Door, Reader: a.Reader})
}

// RaiseWith logs alarm.raised from ev (which may carry more: a camera, a
// zone, evidence in its detail) and has the log's writer store a after it.
// Until then the board shows a from memory, so an alarm is seen at once
// even while the database is locked or the card full.
func (s *Alarms) RaiseWith(a sekisho.Alarm, ev *event.Event) <-chan error {
	if a.ID == "" {
		a.ID = NewID()
	}
	if a.Severity == "" {
		a.Severity = sekisho.SeverityOf(a.Kind)
	}
	if a.RaisedAt == "" {
		a.RaisedAt = time.Now().UTC().Format(time.RFC3339Nano)
	}
	s.mu.Lock()
	s.held = append(s.held, a)
	s.mu.Unlock()
	ev.Type, ev.Alarm = event.AlarmRaised, &event.Alarm{ID: a.ID, Severity: string(a.Severity)}
	if ev.Detail == nil {
		ev.Detail = map[string]string{}
	}
	ev.Detail["kind"], ev.Detail["detail"] = string(a.Kind), a.Detail
	return s.journal.RecordThen(ev, func(ctx context.Context) error {
		if err := s.store.RaiseAlarm(ctx, &a); err != nil {
			return err
		}
		s.unhold(a.ID)
		return nil
	})
}

// Held are alarms raised and not stored yet (the log's writer stores each
// after its alarm.raised, and may be waiting out a locked database or a
// full card): the board shows them all the same.
func (s *Alarms) Held() []sekisho.Alarm {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]sekisho.Alarm(nil), s.held...)
}

func (s *Alarms) unhold(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, a := range s.held {
		if a.ID == id {
			s.held = append(s.held[:i:i], s.held[i+1:]...)
			return
		}
	}
}

// Clear has the log's writer clear door's alarms of kinds, after every
// event before it, and log alarm.cleared for each.
func (s *Alarms) Clear(door string, kinds ...sekisho.AlarmKind) <-chan error {
	return s.journal.RecordThen(nil, func(ctx context.Context) error {
		for _, kind := range kinds {
			ids, err := s.store.ClearAlarms(ctx, kind, door)
			if err != nil {
				return err
			}
			for _, id := range ids {
				s.journal.Record(&event.Event{Type: event.AlarmCleared, Door: door, Alarm: &event.Alarm{ID: id}, Detail: map[string]string{"kind": string(kind)}})
			}
		}
		return nil
	})
}

// DoorEvent mirrors a door's alarms into the alarms table: raised with the
// door event, cleared when the door closes or its tamper loop is restored.
func (s *Alarms) DoorEvent(ev event.Event) {
	switch {
	case ev.Alarm != nil && ev.Type != event.AlarmRaised:
		kind := sekisho.AlarmKind(ev.Type[len("door."):])
		s.Raise(sekisho.Alarm{ID: ev.Alarm.ID, Kind: kind, Severity: sekisho.Severity(ev.Alarm.Severity), Door: ev.Door, Detail: ev.Type})
	case ev.Type == event.DoorClosed:
		s.Clear(ev.Door, sekisho.AlarmForced, sekisho.AlarmHeld)
	case ev.Type == event.DoorTamper && ev.Detail["state"] == "restored":
		s.Clear(ev.Door, sekisho.AlarmTamper)
	}
}

// Notify puts an alarm on MQTT now, outside the log (which may be what is
// failing), and the log's health on its retained topic.
func (s *Alarms) Notify(ev *event.Event) {
	payload := *ev
	payload.Site = s.site
	if payload.Time.IsZero() {
		payload.Time = time.Now()
	}
	b, err := json.Marshal(&payload)
	if err != nil {
		return
	}
	state, _ := json.Marshal(s.journal.Health())
	for _, n := range []outbox.Notice{{Alarm: b}, {Storage: state}} {
		select {
		case s.notices <- n:
		default:
			s.log.Warn("storage notice not sent: the MQTT link is behind")
		}
	}
}
