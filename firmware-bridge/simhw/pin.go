package simhw

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/jonboulle/clockwork"
	"github.com/sekisho/sekisho/firmware-bridge/wiegand"
	"periph.io/x/conn/v3/gpio"
	"periph.io/x/conn/v3/gpio/gpiotest"
)

// Pin is a gpiotest.Pin that reports only the edges its reader asked for in
// In, as a real line does, and keeps a history of every level driven by Out.
//
// The line's level is kept here, set at once by whoever drives it:
// gpiotest sets its level only when WaitForEdge takes an edge, which may be
// after the outside world has already moved the line again.
type Pin struct {
	*gpiotest.Pin

	// Wire, on a reader's data lines, is their shared queue of edges: a
	// receiver reads the pair from it (Lines), in order.
	Wire *Wire

	mu      sync.Mutex
	level   gpio.Level
	edge    gpio.Edge
	history []Change
}

// Lines is the pin's reader wire, if it is a data line, opened for a
// receiver; nil otherwise.
func (p *Pin) Lines() wiegand.Lines {
	if p.Wire == nil {
		return nil
	}
	p.Wire.Open()
	return p.Wire
}

// Change is one level an output was driven to.
type Change struct {
	Level gpio.Level
	At    time.Time
}

var _ gpio.PinIO = (*Pin)(nil)

// NewPin makes a fake pin idling at level idle.
func NewPin(name string, num int, idle gpio.Level) *Pin {
	return &Pin{level: idle, Pin: &gpiotest.Pin{
		N: name, Num: num, L: idle,
		Clock:     clockwork.NewRealClock(),
		EdgesChan: make(chan gpio.Level),
	}}
}

// In remembers which edges the reader wants, then sets the pin up as gpiotest
// does (which flushes pending edges). The level stays what the outside world
// drives, not the pull.
func (p *Pin) In(pull gpio.Pull, edge gpio.Edge) error {
	p.mu.Lock()
	p.edge = edge
	p.mu.Unlock()
	return p.Pin.In(pull, edge)
}

// Read returns the line's level.
func (p *Pin) Read() gpio.Level {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.level
}

// Out drives the pin and records the level.
func (p *Pin) Out(l gpio.Level) error {
	p.mu.Lock()
	p.level = l
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

// HistoryLevels is the levels of History, oldest first.
func (p *Pin) HistoryLevels() []gpio.Level {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make([]gpio.Level, len(p.history))
	for i, c := range p.history {
		out[i] = c.Level
	}
	return out
}

// LastChange is the latest level driven, and when.
func (p *Pin) LastChange() Change {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.history) == 0 {
		return Change{}
	}
	return p.history[len(p.history)-1]
}

// Changes is how many times the pin was driven, without copying the history.
func (p *Pin) Changes() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.history)
}

// Drive is the outside world pulling the line to l. If the change is an edge
// the reader listens for, Drive waits until the reader takes it, like the
// kernel's edge queue handing it to WaitForEdge.
func (p *Pin) Drive(ctx context.Context, l gpio.Level) error {
	p.mu.Lock()
	if p.level == l {
		p.mu.Unlock()
		return nil
	}
	p.level = l
	edge := p.edge
	p.mu.Unlock()
	wanted := edge == gpio.BothEdges ||
		(edge == gpio.FallingEdge && l == gpio.Low) ||
		(edge == gpio.RisingEdge && l == gpio.High)
	if !wanted {
		return nil
	}
	select {
	case p.EdgesChan <- l:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("simhw: nobody is reading %s: %w", p.Name(), ctx.Err())
	}
}
