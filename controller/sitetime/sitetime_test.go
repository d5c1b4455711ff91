package sitetime

import (
	"testing"
	"time"
)

func TestTheSiteDayIsNotTheMachineDay(t *testing.T) {
	tokyo, err := time.LoadLocation("Asia/Tokyo")
	if err != nil {
		t.Fatal(err)
	}
	// 16:30 UTC on the 30th is 01:30 on the 1st in Tokyo.
	at := time.Date(2026, 11, 30, 16, 30, 0, 0, time.UTC)
	c := Clock{Location: tokyo, Source: func() time.Time { return at }}
	if got := c.Today(); got != "2026-12-01" {
		t.Fatalf("today = %s, want the site's 2026-12-01", got)
	}
	if got := c.EndOfDay(at); !got.Equal(time.Date(2026, 12, 1, 15, 0, 0, 0, time.UTC)) {
		t.Fatalf("end of day = %s", got)
	}
	for _, tc := range []struct {
		in   string
		want time.Time
		bad  bool
	}{
		{in: "2026-12-01", want: time.Date(2026, 11, 30, 15, 0, 0, 0, time.UTC)},
		{in: "2026-12-01T08:00:00+09:00", want: time.Date(2026, 11, 30, 23, 0, 0, 0, time.UTC)},
		{in: "01/12/2026", bad: true},
		{in: "", bad: true},
	} {
		got, err := c.ParseTime(tc.in)
		if tc.bad != (err != nil) || (!tc.bad && !got.Equal(tc.want)) {
			t.Errorf("ParseTime(%q) = %s, %v", tc.in, got, err)
		}
	}
}

func TestZeroClockIsUTC(t *testing.T) {
	var c Clock
	if c.Now().Location() != time.UTC {
		t.Fatal("zero clock is not UTC")
	}
}
