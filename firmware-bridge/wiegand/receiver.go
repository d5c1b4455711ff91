package wiegand

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	"periph.io/x/conn/v3/gpio"
)

// DefaultFrameGap ends a frame when no bit arrived for this long. The SIA
// spec lets readers space bits up to 20 ms apart, so anything shorter splits
// frames from slow readers; 25 ms adds barely a blink to the unlock.
const DefaultFrameGap = 25 * time.Millisecond

// edgePoll bounds each WaitForEdge so the loop notices its context ending.
// periph's chardev driver returns at once on a negative timeout (host#78).
const edgePoll = 200 * time.Millisecond

// Receiver reads frames from a reader's D0 and D1 lines. Both idle high; a
// falling edge on D0 is a 0 bit, on D1 a 1 bit.
type Receiver struct {
	D0, D1 gpio.PinIn
	Gap    time.Duration // DefaultFrameGap when zero

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
	bit uint8
	at  time.Time
}

// Run delivers each complete frame to onFrame, stamped with the time of its
// last bit, until ctx ends.
func (r *Receiver) Run(ctx context.Context, onFrame func(Bits, time.Time)) error {
	gap := r.Gap
	if gap <= 0 {
		gap = DefaultFrameGap
	}
	if !r.listening {
		if err := r.Listen(); err != nil {
			return err
		}
	}
	edges := make(chan edge, 256)
	var wg sync.WaitGroup
	for bit, p := range []gpio.PinIn{r.D0, r.D1} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			watch(ctx, p, uint8(bit), edges)
		}()
	}
	defer wg.Wait()

	var frame []edge
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case e := <-edges:
			frame = append(frame, e)
			timer.Reset(gap)
		case <-timer.C:
			// Two goroutines stamp the two lines; order by stamp, not arrival.
			slices.SortStableFunc(frame, func(a, b edge) int { return a.at.Compare(b.at) })
			bits := make(Bits, len(frame))
			for i, e := range frame {
				bits[i] = e.bit
			}
			onFrame(bits, frame[len(frame)-1].at)
			frame = frame[:0]
		}
	}
}

func watch(ctx context.Context, p gpio.PinIn, bit uint8, edges chan<- edge) {
	stop := context.AfterFunc(ctx, func() { _ = p.Halt() })
	defer stop()
	for ctx.Err() == nil {
		if p.WaitForEdge(edgePoll) {
			select {
			case edges <- edge{bit: bit, at: time.Now()}:
			case <-ctx.Done():
				return
			}
		}
	}
}
