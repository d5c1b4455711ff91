package wiegand

import (
	"context"
	"errors"
	"time"
)

// edgePoll bounds each wait for an edge so the loop notices its context
// ending and its frames coming due.
const edgePoll = 200 * time.Millisecond

// Edge is one change on a reader's data lines: a falling edge starts a bit
// on that line, the rising edge ends it.
type Edge struct {
	Line uint8 // 0: D0 (a 0 bit), 1: D1 (a 1 bit)
	Fall bool
	At   time.Time
}

// Lines is a reader's D0 and D1 as one stream of edges in the order they
// happened. The order of the bits is the order of this stream, however
// late whoever reads it wakes up: two lines watched by two goroutines, each
// stamping its own wake-up, could swap bits and read a wrong card.
type Lines interface {
	// Next waits up to timeout for the next edge; ok is false when none came.
	Next(timeout time.Duration) (e Edge, ok bool, err error)
	// Close releases the lines; a Next waiting returns.
	Close() error
}

// ErrLinesClosed is what Next returns once the lines are closed.
var ErrLinesClosed = errors.New("wiegand: lines closed")

// Receiver turns a reader's edges into frames.
type Receiver struct {
	Lines  Lines
	Framer Framer // timing; the zero value uses the defaults

	low [2]bool // each line's level as its edges tell it
}

// Run delivers each burst that stood alone on the lines to onFrame, until
// ctx ends. Bursts with glitches or too close to another carry Err.
//
// Time moves for the framer only when the lines have been read dry: a
// receiver that woke late first takes every edge already queued, and only
// then asks whether a frame is over, so a delay can never end a frame
// whose remaining bits are waiting in the queue.
func (r *Receiver) Run(ctx context.Context, onFrame func(Result)) error {
	stop := context.AfterFunc(ctx, func() { _ = r.Lines.Close() })
	defer stop()
	for ctx.Err() == nil {
		wait := edgePoll
		if next := r.Framer.Next(); !next.IsZero() {
			wait = min(wait, max(time.Until(next), 0))
		}
		deadline := time.Now().Add(wait)
		e, ok, err := r.Lines.Next(wait)
		switch {
		case ctx.Err() != nil:
			return nil
		case err != nil:
			return err
		case ok:
			r.edge(e)
			continue
		}
		// Nothing came by the deadline: the lines were quiet until then.
		for _, res := range r.Framer.Poll(deadline) {
			onFrame(res)
		}
	}
	return nil
}

// edge feeds one edge to the framer, noting both lines low at once (which
// no reader does) as a glitch.
func (r *Receiver) edge(e Edge) {
	line := e.Line & 1
	if e.Fall {
		r.Framer.Fall(line, e.At, r.low[1-line])
		r.low[line] = true
		return
	}
	r.low[line] = false
	r.Framer.Rise(line, e.At)
}
