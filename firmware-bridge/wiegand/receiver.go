package wiegand

import (
	"context"
	"fmt"
	"sync"
	"time"

	"periph.io/x/conn/v3/gpio"
)

// edgePoll bounds each WaitForEdge so the loop notices its context ending.
// periph's chardev driver returns at once on a negative timeout (host#78).
const edgePoll = 200 * time.Millisecond

// Receiver reads frames from a reader's D0 and D1 lines. Both idle high; a
// falling edge on D0 is a 0 bit, on D1 a 1 bit.
type Receiver struct {
	D0, D1 gpio.PinIn
	Framer Framer // timing; the zero value uses the defaults

	listening bool
}

// Listen sets both lines up for falling edges. Run calls it if the caller
// has not, but a caller that must know when edges start counting calls it first.
func (r *Receiver) Listen() error {
	for _, p := range []gpio.PinIn{r.D0, r.D1} {
		if err := p.In(gpio.PullUp, gpio.FallingEdge); err != nil {
			return fmt.Errorf("wiegand: set up %s: %w", p, err)
		}
	}
	r.listening = true
	return nil
}

type edge struct {
	line     uint8
	at       time.Time
	otherLow bool
}

// Run delivers each burst that stood alone on the lines to onFrame, until
// ctx ends. Bursts with glitches or too close to another carry Err.
func (r *Receiver) Run(ctx context.Context, onFrame func(Result)) error {
	if !r.listening {
		if err := r.Listen(); err != nil {
			return err
		}
	}
	edges := make(chan edge, 256)
	var wg sync.WaitGroup
	lines := []gpio.PinIn{r.D0, r.D1}
	for line, p := range lines {
		other := lines[1-line]
		wg.Add(1)
		go func() {
			defer wg.Done()
			watch(ctx, p, other, uint8(line), edges)
		}()
	}
	defer wg.Wait()

	timer := time.NewTimer(time.Hour)
	timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case e := <-edges:
			r.Framer.Fall(e.line, e.at, e.otherLow)
		case now := <-timer.C:
			for _, res := range r.Framer.Poll(now) {
				onFrame(res)
			}
		}
		if next := r.Framer.Next(); !next.IsZero() {
			timer.Reset(max(time.Until(next), 0))
		}
	}
}

func watch(ctx context.Context, p, other gpio.PinIn, line uint8, edges chan<- edge) {
	stop := context.AfterFunc(ctx, func() { _ = p.Halt() })
	defer stop()
	for ctx.Err() == nil {
		if !p.WaitForEdge(edgePoll) {
			continue
		}
		e := edge{line: line, at: time.Now(), otherLow: other.Read() == gpio.Low}
		select {
		case edges <- e:
		case <-ctx.Done():
			return
		}
	}
}
