package config

import (
	"fmt"
	"strings"
	"time"

	"github.com/sekisho/sekisho/firmware-bridge/rules"
)

// Schedule is a set of weekly windows in the site's time zone.
type Schedule = rules.Schedule

// Window is days of the week and a time of day span, e.g. "Mon-Fri 07:00-19:00".
type Window = rules.Window

// Holiday is the day token for windows that apply on the config's holidays
// ("Hol 09:00-12:00"); on a holiday, only those apply.
const Holiday = "hol"

var weekdays = map[string]time.Weekday{
	"sun": time.Sunday, "mon": time.Monday, "tue": time.Tuesday, "wed": time.Wednesday,
	"thu": time.Thursday, "fri": time.Friday, "sat": time.Saturday,
}

// ParseWindow reads "Mon-Fri 07:00-19:00", "Sat 08:00-12:00" or
// "Mon,Wed 00:00-24:00".
func ParseWindow(s string) (Window, error) {
	var w Window
	days, span, ok := strings.Cut(strings.TrimSpace(s), " ")
	if !ok {
		return w, fmt.Errorf("%q: want days and hours, like \"Mon-Fri 07:00-19:00\"", s)
	}
	for _, part := range strings.Split(days, ",") {
		if strings.EqualFold(part, Holiday) {
			w.Holiday = true
			continue
		}
		from, to, isRange := strings.Cut(part, "-")
		a, ok1 := weekdays[strings.ToLower(from)]
		b, ok2 := a, ok1
		if isRange {
			b, ok2 = weekdays[strings.ToLower(to)]
		}
		if !ok1 || !ok2 {
			return w, fmt.Errorf("%q: unknown day in %q (use Mon Tue Wed Thu Fri Sat Sun)", s, part)
		}
		for d := a; ; d = (d + 1) % 7 {
			w.Days[d] = true
			if d == b {
				break
			}
		}
	}
	start, end, ok := strings.Cut(strings.TrimSpace(span), "-")
	if !ok {
		return w, fmt.Errorf("%q: want hours like 07:00-19:00", s)
	}
	var err error
	if w.Start, err = clock(start); err != nil {
		return w, fmt.Errorf("%q: %w", s, err)
	}
	if w.End, err = clock(end); err != nil {
		return w, fmt.Errorf("%q: %w", s, err)
	}
	if w.Start == w.End {
		return w, fmt.Errorf("%q: window is empty", s)
	}
	return w, nil
}

func clock(s string) (int, error) {
	var h, m int
	if _, err := fmt.Sscanf(s, "%d:%d", &h, &m); err != nil || h < 0 || h > 24 || m < 0 || m > 59 || (h == 24 && m != 0) {
		return 0, fmt.Errorf("bad time %q, want HH:MM", s)
	}
	return h*60 + m, nil
}
