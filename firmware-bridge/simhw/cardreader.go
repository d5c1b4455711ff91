package simhw

import (
	"context"
	"sync"
	"time"

	"github.com/sekisho/sekisho/firmware-bridge/bridge"
	"github.com/sekisho/sekisho/firmware-bridge/wiegand"
)

// CardReader is a simulated reader that hands over whole frames, as a
// reader on a serial bus (OSDP) does: no wires, no timing. It shows that a
// reader is what yields cards and shows answers, not a pair of pins.
type CardReader struct {
	frames chan wiegand.Result

	mu    sync.Mutex
	shown []bool // each answer shown, granted or not
}

var _ bridge.Reader = (*CardReader)(nil)

// NewCardReader makes a frame-level reader.
func NewCardReader() *CardReader { return &CardReader{frames: make(chan wiegand.Result, 16)} }

// Present hands a frame to whoever runs the reader.
func (c *CardReader) Present(ctx context.Context, bits wiegand.Bits) error {
	select {
	case c.frames <- wiegand.Result{Bits: bits, At: time.Now()}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Run implements bridge.Reader.
func (c *CardReader) Run(ctx context.Context, yield func(wiegand.Result)) error {
	for {
		select {
		case <-ctx.Done():
			return nil
		case r := <-c.frames:
			yield(r)
		}
	}
}

// Show implements bridge.Reader.
func (c *CardReader) Show(granted bool, _ time.Duration) {
	c.mu.Lock()
	c.shown = append(c.shown, granted)
	c.mu.Unlock()
}

// Shown is every answer shown so far.
func (c *CardReader) Shown() []bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]bool(nil), c.shown...)
}
