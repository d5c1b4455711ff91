package wallclock

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sekisho/sekisho/controller/testtool"
)

// While unsynchronised, a time before the last stamp is lifted to it (plus
// what passed since) and marked; once synchronised, times are the wall's.
func TestStampNeverRunsBackwardsWhileUnsynced(t *testing.T) {
	base := time.Date(2026, 12, 3, 9, 0, 0, 0, time.UTC)
	c := New(func() time.Time { return base })
	c.synced = false
	first, marked := c.Stamp(base)
	if !first.Equal(base) || !marked {
		t.Fatalf("first stamp %v %v", first, marked)
	}
	back, marked := c.Stamp(base.Add(-time.Hour)) // the wall clock stepped back
	if back.Before(first) || !marked {
		t.Fatalf("a stamp ran backwards: %v after %v", back, first)
	}
	c.synced = true
	at := base.Add(-time.Hour)
	if got, marked := c.Stamp(at); !got.Equal(at) || marked {
		t.Fatalf("synchronised: %v %v", got, marked)
	}
}

type seen struct {
	mu               sync.Mutex
	unsynced, synced int
	jumps            []time.Duration
}

func (s *seen) Unsynced() { s.mu.Lock(); s.unsynced++; s.mu.Unlock() }
func (s *seen) Synced()   { s.mu.Lock(); s.synced++; s.mu.Unlock() }
func (s *seen) Jumped(_, _ time.Time, by time.Duration) {
	s.mu.Lock()
	s.jumps = append(s.jumps, by)
	s.mu.Unlock()
}

// The watch tells a clock falling out of and back into sync once each, and
// a wall clock that jumps.
func TestWatch(t *testing.T) {
	var ahead atomic.Int64
	c := New(func() time.Time { return time.Now().Add(time.Duration(ahead.Load())) })
	var synced atomic.Bool
	obs := &seen{}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- c.Watch(ctx, 5*time.Millisecond, func() (bool, error) { return synced.Load(), nil }, obs)
	}()
	wait := func(what string, cond func() bool) { t.Helper(); testtool.WaitFor(t, 10*time.Second, what, cond) }
	count := func() (int, int, int) {
		obs.mu.Lock()
		defer obs.mu.Unlock()
		return obs.unsynced, obs.synced, len(obs.jumps)
	}
	wait("unsynced told", func() bool { u, _, _ := count(); return u == 1 })
	ahead.Store(int64(time.Hour)) // NTP answers at last: the clock steps on
	wait("the jump", func() bool { _, _, j := count(); return j == 1 })
	synced.Store(true)
	wait("synced told", func() bool { _, s, _ := count(); return s == 1 })
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if u, s, j := count(); u != 1 || s != 1 || j != 1 {
		t.Fatalf("told unsynced %d, synced %d, jumps %d", u, s, j)
	}
	if obs.jumps[0] < 59*time.Minute {
		t.Fatalf("the jump measured %v", obs.jumps[0])
	}
}

func TestKernelSyncedReads(t *testing.T) {
	if _, err := KernelSynced(); err != nil {
		t.Fatalf("adjtimex: %v", err)
	}
}
