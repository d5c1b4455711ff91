package doorio

import (
	"fmt"
	"sync"
	"time"

	"periph.io/x/conn/v3/gpio"
)

// Strike is the lock relay of a door. It keeps its commanded level in
// software: reading an output back on periph's chardev path turns it into an
// input (see FIELD-NOTES).
type Strike struct {
	pin      gpio.PinOut
	unlocked gpio.Level
	onChange func(unlocked bool, at time.Time)

	timers   Timers
	mu       sync.Mutex
	isOpen   bool // true while unlocked
	relock   Stopper
	generate uint64 // invalidates a relock timer that fired after a newer command
	// Changes are told outside the lock, in the order they happened: one
	// caller at a time tells what is pending.
	pending []change
	telling bool
}

type change struct {
	unlocked bool
	at       time.Time
}

// Timers schedules the relock; the real clock unless a test gives another.
type Timers interface {
	AfterFunc(d time.Duration, f func()) Stopper
}

// Stopper cancels a scheduled relock.
type Stopper interface{ Stop() bool }

type realTimers struct{}

func (realTimers) AfterFunc(d time.Duration, f func()) Stopper { return time.AfterFunc(d, f) }

// StrikeConfig says how the relay and lock are wired.
type StrikeConfig struct {
	// ActiveLow relays energise when the pin is low (many opto-isolated HATs).
	ActiveLow bool
	// FailSafe locks (maglocks) are energised to hold; fail-secure strikes
	// are energised to release.
	FailSafe bool
	// Timers, for tests; the real clock when nil.
	Timers Timers
}

// NewStrike drives the pin to its locked level before anything else, so a
// start or restart never pulses the door open.
func NewStrike(pin gpio.PinOut, cfg StrikeConfig, onChange func(unlocked bool, at time.Time)) (*Strike, error) {
	energised := gpio.High
	if cfg.ActiveLow {
		energised = gpio.Low
	}
	unlocked := energised
	if cfg.FailSafe {
		unlocked = !energised
	}
	s := &Strike{pin: pin, unlocked: unlocked, onChange: onChange, timers: cfg.Timers}
	if s.timers == nil {
		s.timers = realTimers{}
	}
	if err := pin.Out(!unlocked); err != nil {
		return nil, fmt.Errorf("doorio: lock %s at start: %w", pin, err)
	}
	return s, nil
}

// Unlock releases the lock for pulse, then locks again on its own: the bridge
// owns the timer so a lost link can never leave a door unlocked.
func (s *Strike) Unlock(pulse time.Duration) error {
	defer s.tell()
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.pin.Out(s.unlocked); err != nil {
		return fmt.Errorf("doorio: unlock %s: %w", s.pin, err)
	}
	s.generate++
	gen := s.generate
	if s.relock != nil {
		s.relock.Stop()
	}
	s.relock = s.timers.AfterFunc(pulse, func() {
		defer s.tell()
		s.mu.Lock()
		defer s.mu.Unlock()
		if s.generate == gen {
			s.lockLocked()
		}
	})
	if !s.isOpen {
		s.isOpen = true
		s.pending = append(s.pending, change{true, time.Now()})
	}
	return nil
}

// Lock locks at once, e.g. when the door closes after a grant.
func (s *Strike) Lock() error {
	defer s.tell()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.generate++
	if s.relock != nil {
		s.relock.Stop()
	}
	return s.lockLocked()
}

func (s *Strike) lockLocked() error {
	if err := s.pin.Out(!s.unlocked); err != nil {
		return fmt.Errorf("doorio: lock %s: %w", s.pin, err)
	}
	if s.isOpen {
		s.isOpen = false
		s.pending = append(s.pending, change{false, time.Now()})
	}
	return nil
}

// tell reports pending changes, with the lock released: a listener that
// waits can hold up the report, never the relay or its relock timer.
func (s *Strike) tell() {
	s.mu.Lock()
	if s.telling {
		s.mu.Unlock() // the caller already telling reports ours too
		return
	}
	s.telling = true
	for len(s.pending) > 0 {
		c := s.pending[0]
		s.pending = s.pending[1:]
		s.mu.Unlock()
		s.onChange(c.unlocked, c.at)
		s.mu.Lock()
	}
	s.telling = false
	s.mu.Unlock()
}

// Unlocked reports the commanded state.
func (s *Strike) Unlocked() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.isOpen
}
