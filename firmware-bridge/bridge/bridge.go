package bridge

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"periph.io/x/conn/v3/gpio"

	"github.com/sekisho/sekisho/firmware-bridge/doorio"
	"github.com/sekisho/sekisho/firmware-bridge/wiegand"
)

// Signal kinds.
const (
	SignalCard     = "card"      // a frame decoded to a card
	SignalBadFrame = "bad_frame" // a frame that is no card: parity, length
	SignalContact  = "contact"   // door contact changed; On = open
	SignalREX      = "rex"       // exit button; On = pressed
	SignalStrike   = "strike"    // lock relay changed; On = unlocked
)

// Signal is one thing the hardware sensed or did.
type Signal struct {
	Kind   string        `json:"kind"`
	Reader string        `json:"reader,omitempty"`
	Door   string        `json:"door,omitempty"`
	Card   *wiegand.Card `json:"card,omitempty"`
	Bits   string        `json:"bits,omitempty"`
	Error  string        `json:"error,omitempty"`
	On     bool          `json:"on"`
	At     time.Time     `json:"at"`
}

// Link is what the controller needs of a bridge, wherever it runs.
type Link interface {
	// Run reports signals until ctx ends. emit is called from several
	// goroutines and must not block for long.
	Run(ctx context.Context, emit func(Signal)) error
	// Unlock releases a door's lock for pulse; the bridge relocks by itself.
	Unlock(door string, pulse time.Duration) error
	// Lock locks a door at once.
	Lock(door string) error
}

// Layout names the readers and doors a bridge drives.
type Layout struct {
	Readers []ReaderLayout
	Doors   []DoorLayout
}

// ReaderLayout is one Wiegand reader and the door it sits at.
type ReaderLayout struct {
	ID   string
	Door string
}

// DoorLayout is one door's lock wiring.
type DoorLayout struct {
	ID     string
	Strike doorio.StrikeConfig
}

// ReaderPins are a reader's data lines.
type ReaderPins struct{ D0, D1 gpio.PinIn }

// DoorPins are a door's lines. Contact and REX may be nil when not wired.
type DoorPins struct {
	Strike       gpio.PinOut
	Contact, REX gpio.PinIn
}

// Hardware hands out the pins of named readers and doors: simulated pins or
// the Pi's header through a board file.
type Hardware interface {
	ReaderPins(id string) (ReaderPins, error)
	DoorPins(id string) (DoorPins, error)
}

// Local drives readers and doors wired to this machine.
type Local struct {
	Log *slog.Logger // slog.Default() when nil

	layout  Layout
	hw      Hardware
	strikes map[string]*doorio.Strike
	pins    map[string]DoorPins

	ready chan struct{}
	mu    sync.Mutex
	emit  func(Signal)
}

var _ Link = (*Local)(nil)

// NewLocal locks every door at once, before any reader is listened to.
func NewLocal(layout Layout, hw Hardware) (*Local, error) {
	l := &Local{layout: layout, hw: hw, strikes: map[string]*doorio.Strike{}, pins: map[string]DoorPins{}, ready: make(chan struct{})}
	for _, d := range layout.Doors {
		pins, err := hw.DoorPins(d.ID)
		if err != nil {
			return nil, fmt.Errorf("bridge: door %s: %w", d.ID, err)
		}
		s, err := doorio.NewStrike(pins.Strike, d.Strike, func(unlocked bool, at time.Time) {
			l.send(Signal{Kind: SignalStrike, Door: d.ID, On: unlocked, At: at})
		})
		if err != nil {
			return nil, fmt.Errorf("bridge: door %s: %w", d.ID, err)
		}
		l.strikes[d.ID] = s
		l.pins[d.ID] = pins
	}
	return l, nil
}

func (l *Local) send(s Signal) {
	l.mu.Lock()
	emit := l.emit
	l.mu.Unlock()
	if emit != nil {
		emit(s)
	}
}

// Ready is closed once every line is set up and signals are being reported.
func (l *Local) Ready() <-chan struct{} { return l.ready }

// Run listens to every reader and input until ctx ends.
func (l *Local) Run(ctx context.Context, emit func(Signal)) error {
	l.mu.Lock()
	l.emit = emit
	l.mu.Unlock()

	// Every line is set up before any goroutine starts, so no edge sent
	// after Ready is lost.
	var runs []func(context.Context) error
	for _, r := range l.layout.Readers {
		pins, err := l.hw.ReaderPins(r.ID)
		if err != nil {
			return fmt.Errorf("bridge: reader %s: %w", r.ID, err)
		}
		rx := &wiegand.Receiver{D0: pins.D0, D1: pins.D1}
		if err := rx.Listen(); err != nil {
			return fmt.Errorf("bridge: reader %s: %w", r.ID, err)
		}
		runs = append(runs, func(ctx context.Context) error {
			return rx.Run(ctx, func(res wiegand.Result) {
				emit(frameSignal(r, res))
			})
		})
	}
	for _, d := range l.layout.Doors {
		pins := l.pins[d.ID]
		inputs := []struct {
			pin        gpio.PinIn
			kind       string
			activeHigh bool
		}{
			{pins.Contact, SignalContact, true},
			{pins.REX, SignalREX, false},
		}
		for _, input := range inputs {
			if input.pin == nil {
				continue
			}
			in := &doorio.Input{Pin: input.pin, ActiveHigh: input.activeHigh}
			if err := in.Listen(); err != nil {
				return fmt.Errorf("bridge: door %s %s: %w", d.ID, input.kind, err)
			}
			runs = append(runs, func(ctx context.Context) error {
				return in.Run(ctx, func(on bool, at time.Time) {
					// A button reports its press; its release says nothing.
					if input.kind == SignalREX && !on {
						return
					}
					emit(Signal{Kind: input.kind, Door: d.ID, On: on, At: at})
				})
			})
		}
	}

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	errs := make(chan error, len(runs))
	for _, run := range runs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := run(ctx); err != nil {
				errs <- err
				cancel()
			}
		}()
	}
	close(l.ready)
	log := l.Log
	if log == nil {
		log = slog.Default()
	}
	log.Info("bridge running", "readers", len(l.layout.Readers), "doors", len(l.layout.Doors))
	wg.Wait()
	close(errs)
	return errors.Join(collect(errs)...)
}

func collect(errs <-chan error) []error {
	var all []error
	for err := range errs {
		all = append(all, err)
	}
	return all
}

func frameSignal(r ReaderLayout, res wiegand.Result) Signal {
	bad := func(err error) Signal {
		return Signal{Kind: SignalBadFrame, Reader: r.ID, Door: r.Door, Bits: res.Bits.String(), Error: err.Error(), At: res.At}
	}
	if res.Err != nil {
		return bad(res.Err)
	}
	card, err := wiegand.Decode(res.Bits)
	if err != nil {
		return bad(err)
	}
	return Signal{Kind: SignalCard, Reader: r.ID, Door: r.Door, Card: &card, Bits: res.Bits.String(), At: res.At}
}

// Unlock releases a door for pulse.
func (l *Local) Unlock(door string, pulse time.Duration) error {
	s, ok := l.strikes[door]
	if !ok {
		return fmt.Errorf("bridge: no door %q", door)
	}
	return s.Unlock(pulse)
}

// Lock locks a door now.
func (l *Local) Lock(door string) error {
	s, ok := l.strikes[door]
	if !ok {
		return fmt.Errorf("bridge: no door %q", door)
	}
	return s.Lock()
}
