package camera

import (
	"fmt"
	"sync"
	"time"
)

// frigateLife is what Sekisho knows of whether Frigate runs: what it last
// said on <root>/available and when its stats last arrived. paho's
// goroutines write it; the subscriber's Run reads it.
type frigateLife struct {
	mu        sync.Mutex
	word      string    // online, offline, stopped; "" before any
	lastStats time.Time // or the start, or the last "online"
}

func (l *frigateLife) start(now time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.lastStats = now
}

// said records Frigate's word; "online" gives it a fresh stats window, as
// a restarted Frigate takes a while to send its first stats.
func (l *frigateLife) said(word string, now time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.word = word
	if word == "online" {
		l.lastStats = now
	}
}

// stats records that stats arrived; true if Frigate had been taken for
// down (the caller wakes Run to say it is back).
func (l *frigateLife) stats(now time.Time) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.lastStats = now
	if l.word == "offline" || l.word == "stopped" {
		// Stats come only from a running Frigate: its last word is old.
		l.word = "online"
		return true
	}
	return false
}

// up says whether Frigate runs as far as Sekisho can tell, and why not.
func (l *frigateLife) up(now time.Time, timeout time.Duration) (bool, string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	switch {
	case l.word == "stopped":
		return false, "Frigate says it was stopped"
	case l.word == "offline":
		return false, "Frigate went offline (its last will)"
	case now.Sub(l.lastStats) > timeout:
		return false, fmt.Sprintf("no stats from Frigate for %s: it stopped, or cannot reach the broker", now.Sub(l.lastStats).Round(time.Second))
	}
	return true, ""
}

func (s *Subscriber) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

func (s *Subscriber) statsTimeout() time.Duration {
	if s.StatsTimeout > 0 {
		return s.StatsTimeout
	}
	return 3 * time.Minute
}

// poke wakes Run to look at Frigate's life again.
func (s *Subscriber) poke() {
	select {
	case s.lifeWake <- struct{}{}:
	default:
	}
}

// tellLife tells Available when Frigate's state changed (Run's goroutine).
func (s *Subscriber) tellLife() {
	if s.Available == nil {
		return
	}
	up, why := s.life.up(s.now(), s.statsTimeout())
	if s.told != nil && *s.told == up {
		return
	}
	if s.told != nil || !up {
		if !up {
			s.Log.Warn("Frigate is not running", "why", why)
		}
		s.Available(up, why)
	}
	s.told = &up
}
