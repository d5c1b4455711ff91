package site

import (
	"time"

	"github.com/sekisho/sekisho/controller/alarms"
	"github.com/sekisho/sekisho/controller/event"
	"github.com/sekisho/sekisho/controller/journal"
	"github.com/sekisho/sekisho/controller/sekisho"
)

// clockWatch tells the guards and the log what the clock does: an alarm
// while it is not synchronised, and each jump, logged.
type clockWatch struct {
	alarms  *alarms.Alarms
	journal *journal.Journal
	alarm   bool // storage.unsynced_alarm
}

func (c *clockWatch) Unsynced() {
	if c.alarm {
		c.alarms.Raise(sekisho.Alarm{Kind: sekisho.AlarmClockUnsynced,
			Detail: "the clock is not synchronised (no real-time clock, and NTP has not answered): events are marked and their times never run backwards until it is"})
	}
}

func (c *clockWatch) Synced() { c.alarms.Clear("", sekisho.AlarmClockUnsynced) }

func (c *clockWatch) Jumped(from, to time.Time, by time.Duration) {
	c.journal.Record(&event.Event{Type: event.SystemClockJump, Detail: map[string]string{
		"from": from.UTC().Format(time.RFC3339Nano), "to": to.UTC().Format(time.RFC3339Nano), "by": by.Round(time.Millisecond).String()}})
}
