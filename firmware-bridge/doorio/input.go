package doorio

import (
	"context"
	"fmt"
	"time"

	"periph.io/x/conn/v3/gpio"
)

// DefaultDebounce filters contact bounce; a door leaf settles well within it.
const DefaultDebounce = 50 * time.Millisecond

const edgePoll = 200 * time.Millisecond

// Input is a debounced on/off line: a door contact, REX button or tamper
// loop. All are wired to ground with the Pi's pull-up.
type Input struct {
	Pin gpio.PinIn
	// ActiveHigh inputs are "on" when the line is high (an NC door contact
	// that opens with the door); others are on when pulled low (a button).
	ActiveHigh bool
	Debounce   time.Duration

	listening bool
}

// Listen sets the line up for edges; Run calls it if the caller has not.
func (in *Input) Listen() error {
	if err := in.Pin.In(gpio.PullUp, gpio.BothEdges); err != nil {
		return fmt.Errorf("doorio: set up %s: %w", in.Pin, err)
	}
	in.listening = true
	return nil
}

// Run reports each settled change of state until ctx ends. The state at start
// is reported first, so the listener never has to guess.
func (in *Input) Run(ctx context.Context, onChange func(on bool, at time.Time)) error {
	debounce := in.Debounce
	if debounce <= 0 {
		debounce = DefaultDebounce
	}
	if !in.listening {
		if err := in.Listen(); err != nil {
			return err
		}
	}
	stop := context.AfterFunc(ctx, func() { _ = in.Pin.Halt() })
	defer stop()

	state := in.on()
	onChange(state, time.Now())
	var settleBy time.Time // zero when no edge is waiting to settle
	for ctx.Err() == nil {
		wait := edgePoll
		if !settleBy.IsZero() {
			wait = max(time.Until(settleBy), time.Millisecond) // never 0 on real pins
		}
		if in.Pin.WaitForEdge(wait) {
			settleBy = time.Now().Add(debounce)
			continue
		}
		if settleBy.IsZero() || time.Now().Before(settleBy) {
			continue
		}
		settleBy = time.Time{}
		if now := in.on(); now != state {
			state = now
			onChange(state, time.Now())
		}
	}
	return nil
}

func (in *Input) on() bool {
	return (in.Pin.Read() == gpio.High) == in.ActiveHigh
}
