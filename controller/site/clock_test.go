package site_test

import (
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sekisho/sekisho/controller/event"
	"github.com/sekisho/sekisho/controller/sekisho"
	"github.com/sekisho/sekisho/controller/site"
)

// A Pi without a real-time clock boots unsynchronised: the guards see
// clock_unsynced, what is logged meanwhile is marked and never runs
// backwards, the clock stepping back is logged as a jump, and NTP's answer
// clears the alarm. All through the site's clock, not the machine's.
func TestClockWithoutRTC(t *testing.T) {
	t.Parallel()
	var synced atomic.Bool
	var ahead atomic.Int64
	ts := startSiteWith(t, func(o *site.Options) {
		o.ClockSynced = func() (bool, error) { return synced.Load(), nil }
		o.ClockEvery = 20 * time.Millisecond
		o.Now = func() time.Time { return time.Now().Add(time.Duration(ahead.Load())) }
	})
	live := ts.stream()
	alarmOpen := func() (open, cleared bool) {
		var list []sekisho.Alarm
		ts.call("GET", "/api/alarms", nil, &list)
		for _, a := range list {
			if a.Kind == sekisho.AlarmClockUnsynced {
				return true, a.ClearedAt != ""
			}
		}
		return false, false
	}
	waitFor(t, "the clock_unsynced alarm", func() bool { open, _ := alarmOpen(); return open })

	if code := ts.call("POST", "/api/people", map[string]any{"name": "Before The Step", "kind": "employee"}, nil); code != http.StatusCreated {
		t.Fatalf("person: %d", code)
	}
	before := await(t, live, "the first change", func(ev event.Event) bool { return ev.Type == event.PersonAdded })
	if before.Detail["clock"] != "unsynced" {
		t.Fatalf("an event logged while unsynchronised is not marked: %v", before.Detail)
	}
	// fake-hwclock's time was an hour behind: the clock steps back.
	ahead.Store(int64(-time.Hour))
	jump := await(t, live, "the clock's jump", func(ev event.Event) bool { return ev.Type == event.SystemClockJump })
	if jump.Detail["by"] == "" || jump.Detail["from"] == "" {
		t.Fatalf("the jump: %v", jump.Detail)
	}
	if code := ts.call("POST", "/api/people", map[string]any{"name": "After The Step", "kind": "employee"}, nil); code != http.StatusCreated {
		t.Fatalf("person: %d", code)
	}
	after := await(t, live, "the change after the step", func(ev event.Event) bool {
		return ev.Type == event.PersonAdded && ev.Person != nil && ev.Person.Name == "After The Step"
	})
	if after.Time.Before(before.Time) || after.Detail["clock"] != "unsynced" {
		t.Fatalf("logged time ran backwards: %v then %v (%v)", before.Time, after.Time, after.Detail)
	}

	// NTP answers: the alarm clears, and events are no longer marked.
	synced.Store(true)
	waitFor(t, "the alarm cleared", func() bool { _, cleared := alarmOpen(); return cleared })
	if code := ts.call("POST", "/api/people", map[string]any{"name": "Synced", "kind": "employee"}, nil); code != http.StatusCreated {
		t.Fatalf("person: %d", code)
	}
	ok := await(t, live, "a change once synchronised", func(ev event.Event) bool {
		return ev.Type == event.PersonAdded && ev.Person != nil && ev.Person.Name == "Synced"
	})
	if ok.Detail["clock"] != "" {
		t.Fatalf("an event after the sync is marked: %v", ok.Detail)
	}
}
