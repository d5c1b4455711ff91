package simhw

import (
	"fmt"
	"sync"

	"periph.io/x/conn/v3/gpio"

	"github.com/sekisho/sekisho/firmware-bridge/bridge"
	"github.com/sekisho/sekisho/firmware-bridge/osdp"
)

// Board is a set of simulated readers and doors, made on first use and kept
// so that tests and the sim API can drive and inspect them.
type Board struct {
	mu      sync.Mutex
	readers map[string]*Reader
	cards   map[string]*CardReader
	doors   map[string]*Door
	next    int
	lines   map[string]*osdpLine
	osdp    map[string]*osdp.Device
}

var (
	_ bridge.Hardware = (*Board)(nil)
	_ bridge.Readers  = (*Board)(nil)
)

// UseCardReader puts a frame-level reader at id instead of a wired one.
func (b *Board) UseCardReader(id string) *CardReader {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.cards == nil {
		b.cards = map[string]*CardReader{}
	}
	c := NewCardReader()
	b.cards[id] = c
	return c
}

// Offers implements bridge.Readers: the frame-level readers put in place.
func (b *Board) Offers(id string) (bridge.Reader, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	c, ok := b.cards[id]
	return c, ok
}

// NewBoard returns an empty simulated board.
func NewBoard() *Board {
	return &Board{readers: map[string]*Reader{}, doors: map[string]*Door{}}
}

func (b *Board) pin(name string, idle gpio.Level) *Pin {
	b.next++
	return NewPin(name, b.next, idle)
}

// Reader returns the simulated reader id, making it if needed.
func (b *Board) Reader(id string) *Reader {
	b.mu.Lock()
	defer b.mu.Unlock()
	r, ok := b.readers[id]
	if !ok {
		r = &Reader{ID: id, D0: b.pin(id+".D0", gpio.High), D1: b.pin(id+".D1", gpio.High),
			LED: b.pin(id+".LED", gpio.Low), Buzzer: b.pin(id+".buzzer", gpio.Low)}
		r.D0.Wire = NewWire()
		r.D1.Wire = r.D0.Wire
		b.readers[id] = r
	}
	return r
}

// Door returns the simulated door id, closed and locked, making it if needed.
func (b *Board) Door(id string) *Door {
	b.mu.Lock()
	defer b.mu.Unlock()
	d, ok := b.doors[id]
	if !ok {
		d = &Door{
			ID:      id,
			Strike:  b.pin(id+".strike", gpio.Low),
			Contact: b.pin(id+".contact", gpio.Low),
			REX:     b.pin(id+".rex", gpio.High),
			Tamper:  b.pin(id+".tamper", gpio.Low),
		}
		b.doors[id] = d
	}
	return d
}

// HasReader and HasDoor tell whether the board has wired id.
func (b *Board) HasReader(id string) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	_, ok := b.readers[id]
	return ok
}

func (b *Board) HasDoor(id string) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	_, ok := b.doors[id]
	return ok
}

// ReaderPins implements bridge.Hardware.
func (b *Board) ReaderPins(id string) (bridge.ReaderPins, error) {
	if id == "" {
		return bridge.ReaderPins{}, fmt.Errorf("simhw: reader without id")
	}
	r := b.Reader(id)
	return bridge.ReaderPins{D0: r.D0, D1: r.D1, LED: r.LED, Buzzer: r.Buzzer}, nil
}

// DoorPins implements bridge.Hardware.
func (b *Board) DoorPins(id string) (bridge.DoorPins, error) {
	if id == "" {
		return bridge.DoorPins{}, fmt.Errorf("simhw: door without id")
	}
	d := b.Door(id)
	return bridge.DoorPins{Strike: d.Strike, Contact: d.Contact, REX: d.REX, Tamper: d.Tamper}, nil
}
