package doorio

import (
	"sync"
	"time"

	"periph.io/x/conn/v3/gpio"
)

// Feedback drives a reader's LED and buzzer lines: green and one beep for a
// grant, three beeps for a denial. Either line may be nil.
type Feedback struct {
	LED, Buzzer gpio.PinOut

	mu  sync.Mutex
	gen uint64
}

// NewFeedback turns both lines off first.
func NewFeedback(led, buzzer gpio.PinOut) *Feedback {
	f := &Feedback{LED: led, Buzzer: buzzer}
	f.set(f.LED, false)
	f.set(f.Buzzer, false)
	return f
}

func (f *Feedback) set(p gpio.PinOut, on bool) {
	if p != nil {
		_ = p.Out(gpio.Level(on))
	}
}

// Beep timing a person can tell apart: one long for yes, three short for no.
const (
	grantBeep = 200 * time.Millisecond
	denyBeep  = 80 * time.Millisecond
)

// Show plays the answer without blocking the caller; a newer answer cuts an
// older one short.
func (f *Feedback) Show(granted bool, ledFor time.Duration) {
	f.mu.Lock()
	f.gen++
	gen := f.gen
	f.mu.Unlock()
	step := func(after time.Duration, do func()) {
		time.AfterFunc(after, func() {
			f.mu.Lock()
			defer f.mu.Unlock()
			if f.gen == gen {
				do()
			}
		})
	}
	if granted {
		f.set(f.LED, true)
		f.set(f.Buzzer, true)
		step(grantBeep, func() { f.set(f.Buzzer, false) })
		step(ledFor, func() { f.set(f.LED, false) })
		return
	}
	f.set(f.LED, false)
	for i := range 3 {
		on := time.Duration(2*i) * denyBeep
		step(on, func() { f.set(f.Buzzer, true) })
		step(on+denyBeep, func() { f.set(f.Buzzer, false) })
	}
}
