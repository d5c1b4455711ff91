package wiegand

import (
	"context"
	"fmt"
	"time"

	"periph.io/x/conn/v3/gpio"
)

// PinPair reads D0 and D1 as two separate pins, each watched by its own
// goroutine. It is the fallback for pins that cannot share one kernel edge
// queue (not the Pi's chardev lines): a late wake-up can skew the stamps,
// so a receiver on a Pi reads a LineSet instead (see hardware/README.md).
type PinPair struct {
	edges  chan Edge
	cancel context.CancelFunc
}

// NewPinPair sets both pins up for both edges and starts watching them.
func NewPinPair(d0, d1 gpio.PinIn) (*PinPair, error) {
	for _, p := range []gpio.PinIn{d0, d1} {
		if err := p.In(gpio.PullUp, gpio.BothEdges); err != nil {
			return nil, fmt.Errorf("wiegand: set up %s: %w", p, err)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	pp := &PinPair{edges: make(chan Edge, 256), cancel: cancel}
	for line, p := range []gpio.PinIn{d0, d1} {
		go pp.watch(ctx, p, uint8(line))
	}
	return pp, nil
}

func (pp *PinPair) watch(ctx context.Context, p gpio.PinIn, line uint8) {
	stop := context.AfterFunc(ctx, func() { _ = p.Halt() })
	defer stop()
	for ctx.Err() == nil {
		if !p.WaitForEdge(edgePoll) {
			continue
		}
		e := Edge{Line: line, Fall: p.Read() == gpio.Low, At: time.Now()}
		select {
		case pp.edges <- e:
		case <-ctx.Done():
			return
		}
	}
}

// Next implements Lines.
func (pp *PinPair) Next(timeout time.Duration) (Edge, bool, error) {
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case e := <-pp.edges:
		return e, true, nil
	case <-t.C:
		return Edge{}, false, nil
	}
}

// Close implements Lines.
func (pp *PinPair) Close() error {
	pp.cancel()
	return nil
}
