package alarms

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/sekisho/sekisho/controller/event"
	"github.com/sekisho/sekisho/controller/sekisho"
)

// Storage raises the storage alarm as the journal hears of a log that
// cannot be written, and as free space runs short: the guards hear at once,
// on the board and over MQTT, by paths that do not go through the log; the
// log gets its own alarm.raised when it can.
type Storage struct {
	Alarms *Alarms

	mu      sync.Mutex
	alarmID string // the storage alarm of the failure, while it lasts
}

// Failing is the log refusing appends or folds of its write-ahead log.
func (s *Storage) Failing(reason string, _ error) {
	id := NewID()
	s.mu.Lock()
	s.alarmID = id
	s.mu.Unlock()
	ev := &event.Event{Time: time.Now()}
	s.Alarms.RaiseWith(sekisho.Alarm{ID: id, Kind: sekisho.AlarmStorage, Severity: sekisho.Critical, Detail: reason}, ev) // logged and stored after what is waiting
	s.Alarms.Notify(ev)
}

// Resumed is the log written again: its storage alarm is cleared, after
// its own raising in the log's order; it stays on the board until a guard
// acknowledges it.
func (s *Storage) Resumed(time.Duration) {
	s.mu.Lock()
	id := s.alarmID
	s.alarmID = ""
	s.mu.Unlock()
	cleared := &event.Event{Type: event.AlarmCleared, Alarm: &event.Alarm{ID: id}, Detail: map[string]string{"kind": string(sekisho.AlarmStorage)}}
	s.Alarms.Notify(cleared)
	s.Alarms.journal.RecordThen(cleared, func(ctx context.Context) error {
		_, err := s.Alarms.store.ClearAlarm(ctx, id)
		return err
	})
}

// NotLogged raises the storage alarm for one event the store refused for
// good: it is named in the alarm, on the board and over MQTT.
func (s *Storage) NotLogged(ev *event.Event, err error) {
	raised := &event.Event{Door: ev.Door}
	s.Alarms.RaiseWith(sekisho.Alarm{Kind: sekisho.AlarmStorage, Severity: sekisho.Critical, Door: ev.Door,
		Detail: fmt.Sprintf("%s at %s not logged: %v", ev.Type, ev.Time.UTC().Format(time.RFC3339Nano), err)}, raised)
	s.Alarms.Notify(raised)
}

// Space raises the storage alarm when free space falls under the mark
// (low says why), and clears it when there is room again (low is "").
func (s *Storage) Space(low, was string) {
	switch {
	case low != "" && was == "":
		s.Alarms.log.Error("the data dir's disk is running out of room", "reason", low)
		ev := &event.Event{}
		s.Alarms.RaiseWith(sekisho.Alarm{Kind: sekisho.AlarmStorage, Severity: sekisho.Warning, Detail: low}, ev)
		s.Alarms.Notify(ev)
	case low == "" && was != "":
		s.Alarms.log.Info("the data dir's disk has room again")
		s.Alarms.Clear("", sekisho.AlarmStorage)
		s.Alarms.Notify(&event.Event{Type: event.AlarmCleared, Detail: map[string]string{"kind": string(sekisho.AlarmStorage)}})
	}
}
