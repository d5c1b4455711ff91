// Package board reads a door Pi's pin map (which GPIO each reader line,
// strike, contact, exit button and tamper loop is wired to) and opens those
// pins: the Pi's own through periph.io, or simulated ones from the same
// file, so a board file is checked even where there is no Pi.
package board

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"regexp"
	"strconv"

	"gopkg.in/yaml.v3"
	"periph.io/x/conn/v3/gpio"

	"github.com/sekisho/sekisho/firmware-bridge/bridge"
	"github.com/sekisho/sekisho/firmware-bridge/osdp"
)

// File is a board's pin map: one slot per door it can drive.
type File struct {
	Board       string `yaml:"board"`
	Description string `yaml:"description"`
	Doors       []Slot `yaml:"doors"`

	path string
}

// Slot is one door's wiring on the header. Pin names are periph's
// ("GPIO17"), the BCM numbers.
type Slot struct {
	Slot         string  `yaml:"slot"`
	Reader       *Reader `yaml:"reader"`        // the outside reader
	InsideReader *Reader `yaml:"inside_reader"` // optional
	Strike       string  `yaml:"strike"`
	Contact      string  `yaml:"contact"`
	REX          string  `yaml:"rex"`
	Tamper       string  `yaml:"tamper"`
}

// Reader is a Wiegand reader's lines.
type Reader struct {
	D0     string `yaml:"d0"`
	D1     string `yaml:"d1"`
	LED    string `yaml:"led"`
	Buzzer string `yaml:"buzzer"`
}

var gpioName = regexp.MustCompile(`^GPIO(\d+)$`)

// Load reads and checks a board file.
func Load(path string) (*File, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("board: %w", err)
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true) // a misspelt line name must not leave a pin unwired
	f := &File{path: path}
	if err := dec.Decode(f); err != nil {
		return nil, fmt.Errorf("board: %s: %w", path, err)
	}
	if err := f.check(); err != nil {
		return nil, fmt.Errorf("board: %s: %w", path, err)
	}
	return f, nil
}

func (f *File) check() error {
	var errs []error
	used := map[string]string{}
	use := func(what, pin string, required bool) {
		if pin == "" {
			if required {
				errs = append(errs, fmt.Errorf("%s: no pin given", what))
			}
			return
		}
		m := gpioName.FindStringSubmatch(pin)
		if m == nil {
			errs = append(errs, fmt.Errorf("%s: %q is not a pin name like GPIO17", what, pin))
			return
		}
		if n, _ := strconv.Atoi(m[1]); n > 27 {
			errs = append(errs, fmt.Errorf("%s: %s is not on the 40-pin header (GPIO0–GPIO27)", what, pin))
		}
		if prev, ok := used[pin]; ok {
			errs = append(errs, fmt.Errorf("%s: %s is already %s", what, pin, prev))
		}
		used[pin] = what
	}
	if len(f.Doors) == 0 {
		errs = append(errs, errors.New("no doors"))
	}
	slots := map[string]bool{}
	for i, s := range f.Doors {
		name := s.Slot
		if name == "" {
			name = fmt.Sprintf("doors[%d]", i)
			errs = append(errs, fmt.Errorf("%s: slot name missing", name))
		} else if slots[name] {
			errs = append(errs, fmt.Errorf("slot %s: defined twice", name))
		}
		slots[name] = true
		if s.Reader == nil {
			errs = append(errs, fmt.Errorf("slot %s: no reader", name))
		}
		for _, r := range []struct {
			side string
			r    *Reader
		}{{"reader", s.Reader}, {"inside_reader", s.InsideReader}} {
			if r.r == nil {
				continue
			}
			use(name+" "+r.side+" d0", r.r.D0, true)
			use(name+" "+r.side+" d1", r.r.D1, true)
			use(name+" "+r.side+" led", r.r.LED, false)
			use(name+" "+r.side+" buzzer", r.r.Buzzer, false)
		}
		use(name+" strike", s.Strike, true)
		use(name+" contact", s.Contact, false)
		use(name+" rex", s.REX, false)
		use(name+" tamper", s.Tamper, false)
	}
	return errors.Join(errs...)
}

// Slot returns the slot named name.
func (f *File) Slot(name string) (Slot, bool) {
	for _, s := range f.Doors {
		if s.Slot == name {
			return s, true
		}
	}
	return Slot{}, false
}

// Opener finds a pin by name.
type Opener func(name string) (gpio.PinIO, error)

// Binding says which slot each of a site's doors is wired to, and which
// side each reader is on.
type Binding struct {
	DoorSlots map[string]string // door id → slot
	Readers   map[string]ReaderPlace
}

// ReaderPlace is where a reader is wired: its door and whether it is the
// inside one.
type ReaderPlace struct {
	Door   string
	Inside bool
}

// Hardware is a board's pins for a site's doors.
type Hardware struct {
	File    *File
	Binding Binding
	Open    Opener
}

var (
	_ bridge.Hardware    = (*Hardware)(nil)
	_ bridge.SerialLines = (*Hardware)(nil)
)

// OpenSerial implements bridge.SerialLines: an RS-485 line of the Pi.
func (h *Hardware) OpenSerial(port string, baud int) (osdp.Port, error) {
	return osdp.OpenSerial(port, baud)
}

func (h *Hardware) slot(door string) (Slot, error) {
	name, ok := h.Binding.DoorSlots[door]
	if !ok {
		return Slot{}, fmt.Errorf("board: door %s has no slot on board %s", door, h.File.Board)
	}
	s, ok := h.File.Slot(name)
	if !ok {
		return Slot{}, fmt.Errorf("board: door %s: board %s has no slot %q", door, h.File.Board, name)
	}
	return s, nil
}

func (h *Hardware) in(name string) (gpio.PinIn, error) {
	if name == "" {
		return nil, nil
	}
	return h.Open(name)
}

func (h *Hardware) out(name string) (gpio.PinOut, error) {
	if name == "" {
		return nil, nil
	}
	return h.Open(name)
}

// ReaderPins implements bridge.Hardware.
func (h *Hardware) ReaderPins(id string) (bridge.ReaderPins, error) {
	place, ok := h.Binding.Readers[id]
	if !ok {
		return bridge.ReaderPins{}, fmt.Errorf("board: reader %s is on no door of this board", id)
	}
	s, err := h.slot(place.Door)
	if err != nil {
		return bridge.ReaderPins{}, err
	}
	r := s.Reader
	if place.Inside {
		r = s.InsideReader
	}
	if r == nil {
		return bridge.ReaderPins{}, fmt.Errorf("board: reader %s: slot %s wires no inside reader", id, s.Slot)
	}
	var p bridge.ReaderPins
	var errs [5]error
	p.D0, errs[0] = h.in(r.D0)
	p.D1, errs[1] = h.in(r.D1)
	p.LED, errs[2] = h.out(r.LED)
	p.Buzzer, errs[3] = h.out(r.Buzzer)
	if errs[0] == nil && errs[1] == nil {
		var isSet bool
		if p.Lines, isSet, errs[4] = lineSet(p.D0, p.D1); isSet && errs[4] == nil {
			p.D0, p.D1 = nil, nil // the line set holds them now
		}
	}
	return p, errors.Join(errs[:]...)
}

// DoorPins implements bridge.Hardware.
func (h *Hardware) DoorPins(id string) (bridge.DoorPins, error) {
	s, err := h.slot(id)
	if err != nil {
		return bridge.DoorPins{}, err
	}
	var p bridge.DoorPins
	var errs [4]error
	p.Strike, errs[0] = h.out(s.Strike)
	p.Contact, errs[1] = h.in(s.Contact)
	p.REX, errs[2] = h.in(s.REX)
	p.Tamper, errs[3] = h.in(s.Tamper)
	return p, errors.Join(errs[:]...)
}
