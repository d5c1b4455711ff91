package camera

import (
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"
)

// Frigate is taken for stopped when it says so (offline, its will;
// stopped, 0.18's clean stop) and when its stats stop arriving (0.14–0.17
// stop cleanly without a word); its stats arriving again say it is back.
func TestFrigateLife(t *testing.T) {
	now := time.Date(2026, 12, 4, 9, 0, 0, 0, time.UTC)
	type told struct {
		up  bool
		why string
	}
	var heard []told
	s := &Subscriber{StatsTimeout: time.Minute, Now: func() time.Time { return now }, Log: slog.New(slog.NewTextHandler(io.Discard, nil)),
		Available: func(up bool, why string) { heard = append(heard, told{up, why}) }}
	s.lifeWake = make(chan struct{}, 1)
	s.life.start(now)
	step := func(what string, d time.Duration, act func(), want ...told) {
		t.Helper()
		now = now.Add(d)
		heard = nil
		if act != nil {
			act()
		}
		s.tellLife()
		if len(heard) != len(want) {
			t.Fatalf("%s: heard %v, want %v", what, heard, want)
		}
		for i := range want {
			if heard[i].up != want[i].up || !strings.Contains(heard[i].why, want[i].why) {
				t.Fatalf("%s: heard %v, want %v", what, heard, want)
			}
		}
	}
	step("at start", 0, nil)
	step("stats on time", 50*time.Second, func() { s.life.stats(now) })
	step("still within the minute", 50*time.Second, nil)
	step("silent past the minute", 20*time.Second, nil, told{false, "no stats from Frigate for 1m10s"})
	step("still silent: said once", 30*time.Second, nil)
	step("stats again", time.Second, func() { s.life.stats(now) }, told{true, ""})
	step("0.18 stops cleanly", time.Second, func() { s.life.said("stopped", now) }, told{false, "stopped"})
	step("restarted: online", time.Second, func() { s.life.said("online", now) }, told{true, ""})
	step("its first stats take a while", 50*time.Second, nil)
	step("killed: its will", time.Second, func() { s.life.said("offline", now) }, told{false, "offline"})
	step("a stray stats message from it means it runs", time.Second, func() { s.life.stats(now) }, told{true, ""})
}
