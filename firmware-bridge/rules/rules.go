// Package rules holds the pieces of an access decision that a door Pi must
// apply exactly as the controller does when it decides alone: weekly time
// windows and PIN checks.
package rules

import (
	"time"
)

// Window is days of the week and a time-of-day span in the site's zone. An
// end before the start runs past midnight and belongs to the day it starts on.
type Window struct {
	Days  [7]bool `json:"days"`  // indexed by time.Weekday
	Start int     `json:"start"` // minutes after midnight
	End   int     `json:"end"`
	// Holiday windows apply on the site's holidays, whatever the weekday.
	Holiday bool `json:"holiday,omitempty"`
}

// Schedule is a set of windows.
type Schedule []Window

// Allows reports whether t (already in the site's zone) falls in a window.
func (s Schedule) Allows(t time.Time) bool { return s.AllowsOn(t, false) }

// AllowsOn is Allows on a day that may be a holiday: then only holiday
// windows count, and they count whatever the weekday.
func (s Schedule) AllowsOn(t time.Time, holiday bool) bool {
	minute := t.Hour()*60 + t.Minute()
	day := t.Weekday()
	yesterday := (day + 6) % 7
	for _, w := range s {
		if holiday != w.Holiday {
			continue
		}
		if holiday {
			if minute >= w.Start && minute < w.End {
				return true
			}
			continue
		}
		if w.Start < w.End {
			if w.Days[day] && minute >= w.Start && minute < w.End {
				return true
			}
			continue
		}
		if (w.Days[day] && minute >= w.Start) || (w.Days[yesterday] && minute < w.End) {
			return true
		}
	}
	return false
}

// Disabled says whether a card is refused as switched off: its holder or
// the card itself turned off by an admin. A visitor's badge is switched off
// when it is handed back, and to a guard that is a day badge past its day
// (expired), not a disabled card.
func Disabled(holderDisabled, cardEnabled bool, holderKind string) bool {
	return holderDisabled || (!cardEnabled && holderKind != "visitor")
}
