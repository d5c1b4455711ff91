package simhw

import (
	"context"

	"github.com/jonboulle/clockwork"
	"fmt"
	"sync"
	"time"

	"periph.io/x/conn/v3/gpio"
	"periph.io/x/conn/v3/gpio/gpiotest"
)

// Pin is a gpiotest.Pin that reports only the edges its reader asked for in
// In, as a real line does, and keeps a history of every level driven by Out.
type Pin struct {
	*gpiotest.Pin

	mu      sync.Mutex
	edge    gpio.Edge
	history []Change
}

// Change is one level an output was driven to.
type Change struct {
	Level gpio.Level
	At    time.Time
}

var _ gpio.PinIO = (*Pin)(nil)

// NewPin makes a fake pin idling at level idle.
func NewPin(name string, num int, idle gpio.Level) *Pin {
	return &Pin{Pin: &gpiotest.Pin{
		N: name, Num: num, L: idle,
		Clock:     clockwork.NewRealClock(),
		EdgesChan: make(chan gpio.Level),
	}}
}

// In remembers which edges the reader wants, then sets the pin up as gpiotest
// does (which flushes pending edges).
func (p *Pin) In(pull gpio.Pull, edge gpio.Edge) error {
	p.mu.Lock()
	p.edge = edge
	p.mu.Unlock()
	// gpiotest forces the level to the pull; a real line keeps what the
	// outside world drives, so restore it.
	l := p.Read()
	err := p.Pin.In(pull, edge)
	_ = p.Pin.Out(l)
	return err
}

// Out drives the pin and records the level.
func (p *Pin) Out(l gpio.Level) error {
	p.mu.Lock()
	p.history = append(p.history, Change{Level: l, At: time.Now()})
	p.mu.Unlock()
	return p.Pin.Out(l)
}

// History returns every level the pin was driven to, oldest first.
func (p *Pin) History() []Change {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]Change(nil), p.history...)
}

// Drive is the outside world pulling the line to l. If the change is an edge
// the reader listens for, Drive waits until the reader takes it, like the
// kernel's edge queue handing it to WaitForEdge.
func (p *Pin) Drive(ctx context.Context, l gpio.Level) error {
	prev := p.Pin.Read()
	if prev == l {
		return nil
	}
	p.mu.Lock()
	edge := p.edge
	p.mu.Unlock()
	wanted := edge == gpio.BothEdges ||
		(edge == gpio.FallingEdge && l == gpio.Low) ||
		(edge == gpio.RisingEdge && l == gpio.High)
	if !wanted {
		return p.Pin.Out(l)
	}
	select {
	case p.EdgesChan <- l: // WaitForEdge sets the level as it takes the edge
		return nil
	case <-ctx.Done():
		return fmt.Errorf("simhw: nobody is reading %s: %w", p.Name(), ctx.Err())
	}
}
