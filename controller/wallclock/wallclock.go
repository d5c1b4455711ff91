// Package wallclock keeps the log's time honest on a Pi without a real-time
// clock. A Pi 3 or 4 boots with the time it shut down at (fake-hwclock), or
// 1970, until NTP answers; then the clock jumps. While the kernel says its
// clock is not synchronised, the site raises clock_unsynced, marks what it
// logs, and never lets logged time run backwards: a stamp is at least the
// last one plus the time the monotonic clock says has passed since. A jump
// of the wall clock against the monotonic one is logged (system.clock_jump).
package wallclock

import (
	"context"
	"sync"
	"time"

	"golang.org/x/sys/unix"
)

// JumpAfter is how far the wall clock may drift from the monotonic one
// between two looks before it counts as a jump.
const JumpAfter = 2 * time.Second

// Clock stamps the log's events.
type Clock struct {
	now func() time.Time // the site's wall clock

	mu       sync.Mutex
	synced   bool
	last     time.Time // the latest time stamped (wall)
	lastMono time.Time // when, by the monotonic clock
}

// New is a clock reading the wall time from now (time.Now when nil); it
// counts as synchronised until a look says otherwise.
func New(now func() time.Time) *Clock {
	if now == nil {
		now = time.Now
	}
	return &Clock{now: now, synced: true}
}

// Now is the wall clock, stripped of its monotonic reading (the site's time
// is what the wall says, moved by tests through now).
func (c *Clock) Now() time.Time { return c.now().Round(0) }

// Synced says whether the kernel's clock was synchronised at the last look.
func (c *Clock) Synced() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.synced
}

// Stamp is the time to log for an event that happened at t: t itself while
// the clock is synchronised; while it is not, never before the last stamp
// plus the monotonic time since (unsynced is then true, to be marked).
func (c *Clock) Stamp(t time.Time) (stamped time.Time, unsynced bool) {
	mono := time.Now()
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.synced && !c.last.IsZero() {
		if floor := c.last.Add(mono.Sub(c.lastMono)); t.Before(floor) {
			t = floor
		}
	}
	if t.After(c.last) || c.last.IsZero() {
		c.last, c.lastMono = t, mono
	}
	return t, !c.synced
}

// Observer hears what the clock does.
type Observer interface {
	Unsynced()
	Synced()
	// Jumped: the wall clock moved by by more than the monotonic clock
	// since the last look (from is where it would have been).
	Jumped(from, to time.Time, by time.Duration)
}

// Watch looks at the kernel's sync state (sync; KernelSynced when nil) and
// at the wall clock against the monotonic one every every, until ctx ends.
func (c *Clock) Watch(ctx context.Context, every time.Duration, sync func() (bool, error), obs Observer) error {
	if sync == nil {
		sync = KernelSynced
	}
	t := time.NewTicker(every)
	defer t.Stop()
	wall, mono := c.Now(), time.Now()
	first := true
	for {
		synced, err := sync()
		if err == nil {
			c.mu.Lock()
			changed := synced != c.synced || first && !synced
			c.synced = synced
			c.mu.Unlock()
			switch {
			case changed && !synced:
				obs.Unsynced()
			case changed && synced:
				obs.Synced()
			}
			first = false
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
		nowWall, nowMono := c.Now(), time.Now()
		expected := wall.Add(nowMono.Sub(mono))
		if by := nowWall.Sub(expected); by > JumpAfter || by < -JumpAfter {
			obs.Jumped(expected, nowWall, by)
		}
		wall, mono = nowWall, nowMono
	}
}

// KernelSynced reads the kernel's NTP state (adjtimex): false while the
// clock is not synchronised (TIME_ERROR, STA_UNSYNC).
func KernelSynced() (bool, error) {
	var tx unix.Timex
	state, err := unix.Adjtimex(&tx)
	if err != nil {
		return false, err
	}
	return state != unix.TIME_ERROR && tx.Status&unix.STA_UNSYNC == 0, nil
}
