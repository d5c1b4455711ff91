package board

import (
	"strconv"
	"strings"
	"sync"

	"periph.io/x/conn/v3/gpio"

	"github.com/sekisho/sekisho/firmware-bridge/simhw"
)

// SimPins opens simulated pins by the board's names, each made once and
// kept so a test can drive and read it.
type SimPins struct {
	mu   sync.Mutex
	pins map[string]*simhw.Pin
}

// NewSimPins makes a simulated pin for every line in f, idling as the
// wiring holds it: reader data lines and exit buttons high by their
// pull-ups, closed contacts and tamper loops low, outputs low.
func NewSimPins(f *File) *SimPins {
	s := &SimPins{pins: map[string]*simhw.Pin{}}
	for _, slot := range f.Doors {
		for _, r := range []*Reader{slot.Reader, slot.InsideReader} {
			if r != nil {
				s.make(r.D0, gpio.High)
				s.make(r.D1, gpio.High)
				w := simhw.NewWire() // the pair's edges, in order, as the kernel queues them
				s.pins[r.D0].Wire, s.pins[r.D1].Wire = w, w
			}
		}
		s.make(slot.REX, gpio.High)
	}
	return s
}

func (s *SimPins) make(name string, idle gpio.Level) {
	if name == "" {
		return
	}
	n, _ := strconv.Atoi(strings.TrimPrefix(name, "GPIO"))
	s.pins[name] = simhw.NewPin(name, n, idle)
}

// Open implements Opener.
func (s *SimPins) Open(name string) (gpio.PinIO, error) {
	return s.Pin(name), nil
}

// Pin returns the simulated pin name.
func (s *SimPins) Pin(name string) *simhw.Pin {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.pins[name]; !ok {
		s.make(name, gpio.Low)
	}
	return s.pins[name]
}
