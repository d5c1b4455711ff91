package simhw

import (
	"context"
	"sync"
	"time"

	"github.com/sekisho/sekisho/firmware-bridge/wiegand"
)

// Wire is a simulated reader's D0 and D1 as the kernel gives a Pi's lines:
// one queue of edges in the order they happened, each with its own time. A
// frame is played onto it whole, its edges stamped by the reader's nominal
// timing, so a busy test machine can delay the receiver but never reorder
// or split a frame.
type Wire struct {
	mu     sync.Mutex
	edges  []wiegand.Edge
	closed bool
	free   time.Time // the lines are quiet from here on
	wake   chan struct{}
}

var _ wiegand.Lines = (*Wire)(nil)

// NewWire makes an idle pair of data lines.
func NewWire() *Wire { return &Wire{wake: make(chan struct{}, 1)} }

// Open readies the wire for a (new) receiver after a Close.
func (w *Wire) Open() {
	w.mu.Lock()
	w.closed = false
	w.mu.Unlock()
}

// Play queues a frame's edges: bit i falls interval apart from the one
// before and rises pulse later. It starts no sooner than the end of the
// last frame plus a reader's quiet between frames, and returns when this
// frame is surely over on the lines.
func (w *Wire) Play(bits wiegand.Bits, pulse, interval time.Duration) (lastBit, over time.Time) {
	w.mu.Lock()
	start := time.Now()
	if start.Before(w.free) {
		start = w.free
	}
	at := start
	for i, b := range bits {
		if i > 0 {
			at = at.Add(interval)
		}
		w.edges = append(w.edges,
			wiegand.Edge{Line: b, Fall: true, At: at},
			wiegand.Edge{Line: b, Fall: false, At: at.Add(pulse)})
	}
	lastBit = at.Add(pulse)
	over = lastBit.Add(wiegand.DefaultIsolation + 10*time.Millisecond)
	w.free = over
	w.mu.Unlock()
	select {
	case w.wake <- struct{}{}:
	default:
	}
	return lastBit, over
}

// Next implements wiegand.Lines. An edge is handed over once its time has
// come, as the kernel would.
func (w *Wire) Next(timeout time.Duration) (wiegand.Edge, bool, error) {
	deadline := time.Now().Add(timeout)
	for {
		w.mu.Lock()
		switch {
		case w.closed:
			w.mu.Unlock()
			return wiegand.Edge{}, false, wiegand.ErrLinesClosed
		case len(w.edges) > 0 && !w.edges[0].At.After(time.Now()):
			e := w.edges[0]
			w.edges = w.edges[1:]
			w.mu.Unlock()
			return e, true, nil
		}
		until := deadline
		if len(w.edges) > 0 && w.edges[0].At.Before(until) {
			until = w.edges[0].At
		}
		w.mu.Unlock()
		d := time.Until(until)
		if d <= 0 && !time.Now().Before(deadline) {
			return wiegand.Edge{}, false, nil
		}
		t := time.NewTimer(max(d, 0))
		select {
		case <-w.wake:
		case <-t.C:
		}
		t.Stop()
	}
}

// Close implements wiegand.Lines.
func (w *Wire) Close() error {
	w.mu.Lock()
	w.closed = true
	w.mu.Unlock()
	select {
	case w.wake <- struct{}{}:
	default:
	}
	return nil
}

// sleepUntil waits until t, or less if ctx ends.
func sleepUntil(ctx context.Context, t time.Time) error {
	timer := time.NewTimer(time.Until(t))
	defer timer.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-timer.C:
		return nil
	}
}
