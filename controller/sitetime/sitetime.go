// Package sitetime is the site's clock: "now" and "today" as the site's time
// zone reads them, whatever zone the controller's machine or a guard's
// browser is set to. A visit, a still's folder and a day's log all belong to
// the site's day, so every one of them asks here.
package sitetime

import (
	"fmt"
	"time"
)

// Clock reads the time in the site's zone. The zero Clock is UTC on the
// real clock.
type Clock struct {
	Location *time.Location
	// Source is where time comes from; time.Now when nil. Tests move it to
	// the site's midnight.
	Source func() time.Time
}

// Now is the current time in the site's zone.
func (c Clock) Now() time.Time {
	now := time.Now
	if c.Source != nil {
		now = c.Source
	}
	return now().In(c.loc())
}

// Today is the site's date, YYYY-MM-DD.
func (c Clock) Today() string { return c.Day(c.Now()) }

// Day is the site's date of t, YYYY-MM-DD.
func (c Clock) Day(t time.Time) string { return t.In(c.loc()).Format(time.DateOnly) }

// EndOfDay is the site's next midnight after t.
func (c Clock) EndOfDay(t time.Time) time.Time {
	t = t.In(c.loc())
	return time.Date(t.Year(), t.Month(), t.Day()+1, 0, 0, 0, 0, c.loc())
}

// StartOfDay is the site's midnight that begins day (YYYY-MM-DD).
func (c Clock) StartOfDay(day string) (time.Time, error) {
	t, err := time.ParseInLocation(time.DateOnly, day, c.loc())
	if err != nil {
		return time.Time{}, fmt.Errorf("date %q: want YYYY-MM-DD", day)
	}
	return t, nil
}

// ParseTime reads an RFC 3339 time, or a date as the site's midnight: what a
// manager types for "from" and "until" means the site's day.
func (c Clock) ParseTime(v string) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339, v); err == nil {
		return t, nil
	}
	if t, err := c.StartOfDay(v); err == nil {
		return t, nil
	}
	return time.Time{}, fmt.Errorf("%q: want 2026-11-25 or 2026-11-25T08:00:00+09:00", v)
}

func (c Clock) loc() *time.Location {
	if c.Location == nil {
		return time.UTC
	}
	return c.Location
}
