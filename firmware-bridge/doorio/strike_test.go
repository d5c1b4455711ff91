package doorio

import (
	"math/rand/v2"
	"sort"
	"testing"
	"time"

	"periph.io/x/conn/v3/gpio"
	"periph.io/x/conn/v3/physic"
	"periph.io/x/conn/v3/pin"
)

// fakeTimers runs relocks synchronously as the test moves time on.
type fakeTimers struct {
	now   time.Time
	queue []*fakeTimer
}

type fakeTimer struct {
	due     time.Time
	f       func()
	stopped bool
}

func (t *fakeTimer) Stop() bool { was := !t.stopped; t.stopped = true; return was }

func (ft *fakeTimers) AfterFunc(d time.Duration, f func()) Stopper {
	t := &fakeTimer{due: ft.now.Add(d), f: f}
	ft.queue = append(ft.queue, t)
	return t
}

func (ft *fakeTimers) advance(d time.Duration) {
	end := ft.now.Add(d)
	for {
		sort.SliceStable(ft.queue, func(i, j int) bool { return ft.queue[i].due.Before(ft.queue[j].due) })
		if len(ft.queue) == 0 || ft.queue[0].due.After(end) {
			break
		}
		t := ft.queue[0]
		ft.queue = ft.queue[1:]
		ft.now = t.due
		if !t.stopped {
			t.f()
		}
	}
	ft.now = end
}

// levelPin records its level, as a relay coil would see it.
type levelPin struct{ level gpio.Level }

func (p *levelPin) Out(l gpio.Level) error                { p.level = l; return nil }
func (p *levelPin) PWM(gpio.Duty, physic.Frequency) error { return nil }
func (p *levelPin) String() string                        { return "strike" }
func (p *levelPin) Halt() error                           { return nil }
func (p *levelPin) Name() string                          { return "strike" }
func (p *levelPin) Number() int                           { return 17 }
func (p *levelPin) Function() string                      { return "Out" }
func (p *levelPin) Func() pin.Func                        { return gpio.OUT }
func (p *levelPin) SupportedFuncs() []pin.Func            { return []pin.Func{gpio.OUT} }
func (p *levelPin) SetFunc(pin.Func) error                { return nil }

// TestStrikeNeverOutlivesItsPulse: random unlocks, locks and time steps,
// for every wiring; the lock is never released longer than the pulse of the
// last unlock, and a lock is immediate.
func TestStrikeNeverOutlivesItsPulse(t *testing.T) {
	for _, cfg := range []StrikeConfig{{}, {ActiveLow: true}, {FailSafe: true}, {ActiveLow: true, FailSafe: true}} {
		rng := rand.New(rand.NewPCG(7, uint64(len(t.Name()))))
		timers := &fakeTimers{now: time.Unix(0, 0)}
		cfg.Timers = timers
		p := &levelPin{}
		s, err := NewStrike(p, cfg, func(bool, time.Time) {})
		if err != nil {
			t.Fatal(err)
		}
		locked := p.level
		var lastUnlock time.Time
		var lastPulse time.Duration
		for step := 0; step < 20000; step++ {
			switch rng.IntN(4) {
			case 0:
				lastPulse = time.Duration(1+rng.IntN(10)) * time.Second
				lastUnlock = timers.now
				s.Unlock(lastPulse)
			case 1:
				s.Lock()
				if p.level != locked {
					t.Fatalf("%+v: Lock left the strike released", cfg)
				}
			default:
				timers.advance(time.Duration(rng.IntN(4000)) * time.Millisecond)
			}
			if p.level != locked && timers.now.Sub(lastUnlock) > lastPulse {
				t.Fatalf("%+v step %d: released %v after an unlock of %v", cfg, step, timers.now.Sub(lastUnlock), lastPulse)
			}
			if (p.level != locked) != s.Unlocked() {
				t.Fatalf("%+v: the strike's own state disagrees with its pin", cfg)
			}
		}
	}
}

// chanPin tells each level it is driven to.
type chanPin struct {
	levelPin
	levels chan gpio.Level
}

func (p *chanPin) Out(l gpio.Level) error { p.levels <- l; return nil }

// A listener that stops listening (a full event channel, a stalled loop)
// holds up the report of a change, never the relay: the relock comes on
// time with the unlock's report still waiting, and both reports follow, in
// order, once it listens again.
func TestStuckListenerNeverHoldsTheStrikeOpen(t *testing.T) {
	p := &chanPin{levels: make(chan gpio.Level, 8)}
	release := make(chan struct{})
	told := make(chan bool, 2)
	s, err := NewStrike(p, StrikeConfig{}, func(unlocked bool, _ time.Time) {
		<-release
		told <- unlocked
	})
	if err != nil {
		t.Fatal(err)
	}
	level := func(what string) gpio.Level {
		t.Helper()
		select {
		case l := <-p.levels:
			return l
		case <-time.After(10 * time.Second):
			t.Fatalf("no %s", what)
			return gpio.Low
		}
	}
	if l := level("lock at start"); l != gpio.Low {
		t.Fatalf("start level %v", l)
	}
	unlocked := make(chan error, 1)
	go func() { unlocked <- s.Unlock(20 * time.Millisecond) }()
	if l := level("unlock"); l != gpio.High {
		t.Fatalf("unlock level %v", l)
	}
	if l := level("relock with the listener stuck"); l != gpio.Low {
		t.Fatalf("relock level %v", l)
	}
	close(release)
	if err := <-unlocked; err != nil {
		t.Fatal(err)
	}
	for _, want := range []bool{true, false} {
		select {
		case got := <-told:
			if got != want {
				t.Fatalf("report %v, want %v: out of order", got, want)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("a report never came")
		}
	}
}
