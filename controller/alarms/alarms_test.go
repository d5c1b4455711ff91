package alarms_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/sekisho/sekisho/controller/alarms"
	"github.com/sekisho/sekisho/controller/event"
	"github.com/sekisho/sekisho/controller/journal"
	"github.com/sekisho/sekisho/controller/outbox"
	"github.com/sekisho/sekisho/controller/sekisho"
	"github.com/sekisho/sekisho/controller/store"
	"github.com/sekisho/sekisho/controller/testtool"
)

type quiet struct{}

func (quiet) Logged(*event.Event)           {}
func (quiet) NotLogged(*event.Event, error) {}
func (quiet) Failing(string, error)         {}
func (quiet) Resumed(time.Duration)         {}

// fixture is alarms over a real SQLite file and a running journal.
func fixture(t *testing.T) (*alarms.Alarms, *store.Store, *journal.Journal, chan outbox.Notice) {
	t.Helper()
	st, err := store.Open(t.Context(), filepath.Join(t.TempDir(), "a.db"), "test")
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	j := journal.New(st, journal.Faults{Transient: store.Transient, Reason: store.Reason}, quiet{}, log)
	j.Start()
	t.Cleanup(func() { j.Close(time.Second); st.Close() })
	notices := make(chan outbox.Notice, 16)
	return alarms.New(st, j, "test", notices, log), st, j, notices
}

func open(t *testing.T, st *store.Store) []sekisho.Alarm {
	t.Helper()
	a, err := st.OpenAlarms(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// An alarm is logged, then stored after its event; its severity is its
// kind's unless the moment says otherwise.
func TestRaiseLogsThenStores(t *testing.T) {
	a, st, _, _ := fixture(t)
	done := a.Raise(sekisho.Alarm{Kind: sekisho.AlarmReaderLockedOut, Door: "d1", Detail: "bad cards"})
	if err := journal.Wait(t.Context(), done); err != nil {
		t.Fatal(err)
	}
	got := open(t, st)
	if len(got) != 1 || got[0].Severity != sekisho.Critical || got[0].Kind != sekisho.AlarmReaderLockedOut || got[0].ID == "" {
		t.Fatalf("stored: %+v", got)
	}
	if held := a.Held(); len(held) != 0 {
		t.Fatalf("still held after it was stored: %+v", held)
	}
	evs, _ := st.Events(t.Context(), store.Filter{Type: event.AlarmRaised})
	if len(evs) != 1 || evs[0].Alarm.ID != got[0].ID || evs[0].Detail["kind"] != "reader_locked_out" {
		t.Fatalf("alarm.raised: %+v", evs)
	}
}

// A door's alarm is raised with its event and cleared when the door
// closes; other doors' alarms stay.
func TestDoorAlarmsClearWithTheDoor(t *testing.T) {
	a, st, j, _ := fixture(t)
	a.DoorEvent(event.Event{Type: event.DoorForced, Door: "d1", Alarm: &event.Alarm{ID: "al-1", Severity: "critical"}})
	a.DoorEvent(event.Event{Type: event.DoorHeld, Door: "d2", Alarm: &event.Alarm{ID: "al-2", Severity: "warning"}})
	a.DoorEvent(event.Event{Type: event.DoorClosed, Door: "d1"})
	if err := journal.Wait(t.Context(), j.Record(&event.Event{Type: "marker"})); err != nil {
		t.Fatal(err)
	}
	testtool.WaitFor(t, 10*time.Second, "d1's alarm cleared", func() bool {
		cleared := map[string]bool{}
		for _, a := range open(t, st) {
			cleared[a.ID] = a.ClearedAt != ""
		}
		return cleared["al-1"] && !cleared["al-2"]
	})
	// alarm.cleared follows the clearing, in the log's order.
	var cleared []event.Event
	testtool.WaitFor(t, 10*time.Second, "alarm.cleared in the log", func() bool {
		cleared, _ = st.Events(t.Context(), store.Filter{Type: event.AlarmCleared})
		return len(cleared) > 0
	})
	if len(cleared) != 1 || cleared[0].Alarm.ID != "al-1" {
		t.Fatalf("alarm.cleared: %+v", cleared)
	}
}

// An alarm nobody acknowledges goes to the supervisor once; an
// acknowledged one does not.
func TestEscalation(t *testing.T) {
	a, st, _, _ := fixture(t)
	journal.Wait(t.Context(), a.Raise(sekisho.Alarm{ID: "al-late", Kind: sekisho.AlarmForced, Door: "d1"}))
	journal.Wait(t.Context(), a.Raise(sekisho.Alarm{ID: "al-seen", Kind: sekisho.AlarmHeld, Door: "d2"}))
	if _, err := st.AckAlarm(t.Context(), "al-seen", "guard"); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	stopped := make(chan error, 1)
	go func() { stopped <- a.Escalate(ctx, 0, 10*time.Millisecond) }()
	testtool.WaitFor(t, 10*time.Second, "alarm.escalated", func() bool {
		evs, _ := st.Events(t.Context(), store.Filter{Type: event.AlarmEscalated})
		return len(evs) == 1 && evs[0].Alarm.ID == "al-late"
	})
	cancel()
	if err := <-stopped; err != nil {
		t.Fatal(err)
	}
	if evs, _ := st.Events(t.Context(), store.Filter{Type: event.AlarmEscalated}); len(evs) != 1 {
		t.Fatalf("escalated %d times", len(evs))
	}
}

// A log that cannot be written is told at once over MQTT, with its
// health, and its storage alarm is cleared once it is written again.
func TestStorageFailingIsToldAtOnceThenCleared(t *testing.T) {
	a, st, j, notices := fixture(t)
	s := &alarms.Storage{Alarms: a}
	s.Failing("disk full: no room", errors.New("full"))
	n := testtool.Recv(t, notices, 10*time.Second, "the storage alarm over MQTT")
	var told event.Event
	if err := json.Unmarshal(n.Alarm, &told); err != nil || told.Type != event.AlarmRaised || told.Detail["kind"] != "storage" || told.Site != "test" {
		t.Fatalf("told over MQTT: %s %v", n.Alarm, err)
	}
	if n := testtool.Recv(t, notices, 10*time.Second, "the log's health over MQTT"); n.Storage == nil {
		t.Fatal("the log's health was not sent with it")
	}
	if held := a.Held(); !slices.ContainsFunc(held, func(h sekisho.Alarm) bool { return h.Kind == sekisho.AlarmStorage }) {
		// Stored already is fine too: the writer is quick here.
		if got := open(t, st); len(got) != 1 {
			t.Fatalf("the storage alarm is neither held nor stored: %+v", got)
		}
	}
	s.Resumed(time.Second)
	if err := journal.Wait(t.Context(), j.Record(&event.Event{Type: "marker"})); err != nil {
		t.Fatal(err)
	}
	testtool.WaitFor(t, 10*time.Second, "the storage alarm cleared", func() bool {
		all, _ := st.Events(t.Context(), store.Filter{Type: event.AlarmCleared})
		return len(all) == 1 && all[0].Detail["kind"] == "storage"
	})
}
