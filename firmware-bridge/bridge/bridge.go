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
	SignalCard     = "card"      // a card (with its PIN, at a card+PIN reader)
	SignalBadFrame = "bad_frame" // a burst that is no card: parity, length, glitch, split
	SignalContact  = "contact"   // door contact changed; On = open
	SignalREX      = "rex"       // exit button; On = pressed
	SignalTamper   = "tamper"    // tamper loop; On = tampered
	SignalStrike   = "strike"    // lock relay changed; On = unlocked
	SignalReader   = "reader"    // a supervised reader's own state: State says which
)

// States a supervised (OSDP) reader reports in a SignalReader.
const (
	ReaderOnline     = "online"      // it answers over Secure Channel
	ReaderOffline    = "offline"     // it has not answered for 8 s
	ReaderInsecure   = "insecure"    // it answered in clear, failed a MAC or a key; Error says which
	ReaderTamper     = "tamper"      // its own tamper switch opened
	ReaderIntact     = "intact"      // its tamper switch closed again
	ReaderPowerFault = "power_fault" // it reports a power fault
	ReaderPowerOK    = "power_ok"    // its power is back
	ReaderKeyed      = "keyed"       // install mode gave it its own key
)

// Channels a card came over.
const (
	ChannelWiegand = "wiegand" // two wires, in clear
	ChannelOSDPSC  = "osdp-sc" // OSDP over Secure Channel
)

// Signal is one thing the hardware sensed or did.
type Signal struct {
	Kind       string        `json:"kind"`
	Reader     string        `json:"reader,omitempty"`
	Door       string        `json:"door,omitempty"`
	Card       *wiegand.Card `json:"card,omitempty"`
	Bits       string        `json:"bits,omitempty"`
	PIN        string        `json:"pin,omitempty"`
	PINMissing bool          `json:"pin_missing,omitempty"` // card+PIN reader, no PIN came
	Error      string        `json:"error,omitempty"`
	On         bool          `json:"on"`
	// Channel is what a card came over (ChannelWiegand, ChannelOSDPSC);
	// State is a SignalReader's.
	Channel string    `json:"channel,omitempty"`
	State   string    `json:"state,omitempty"`
	At      time.Time `json:"at"`

	// From a remote bridge: ID is its envelope id, which the event keeps, and
	// Decided is the bridge's own decision when it could not ask.
	ID      string    `json:"-"`
	Decided *Decision `json:"-"`
	// Claimed is the door Pi's own time for the signal when it lay outside
	// the window around the controller's clock: At is then the time the
	// controller received it, and the log keeps the claim beside it.
	Claimed time.Time `json:"-"`
	// Unvouched says why a grant the door Pi decided alone was not backed by
	// the newest cards it had acknowledged: the door opened, and the log
	// and an alarm say on what.
	Unvouched string `json:"-"`
}

// Decision is an access decision a bridge made on its own.
type Decision struct {
	Type     string  `json:"type"` // access.granted, access.denied, access.requested
	Reason   string  `json:"reason,omitempty"`
	Person   *Person `json:"person,omitempty"`
	Snapshot string  `json:"snapshot"` // the version of the cards it was decided from
}

// Person is a cardholder as a snapshot names them.
type Person struct {
	ID      string `json:"id"`
	Name    string `json:"name,omitempty"`
	Kind    string `json:"kind"`
	Company string `json:"company,omitempty"`
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
	// Feedback shows a reader's answer on its LED and buzzer. about is the
	// id of the signal it answers, for a bridge that asked (else "").
	Feedback(reader, about string, granted bool, ledFor time.Duration) error
}

// Layout names the readers and doors a bridge drives.
type Layout struct {
	Readers []ReaderLayout
	Doors   []DoorLayout
	// Decoder reads cards; the default formats when nil.
	Decoder *wiegand.Decoder
	// FrameGap ends a frame; wiegand.DefaultGap when zero.
	FrameGap time.Duration
	// KeyDir keeps each OSDP reader's own Secure Channel key.
	KeyDir string
}

// ReaderLayout is one reader and the door it sits at: Wiegand on pins, or
// OSDP on a serial bus when OSDP is set.
type ReaderLayout struct {
	ID         string
	Door       string
	OSDP       *OSDPPlace
	CardAndPIN bool          // a card is followed by its PIN, ended with #
	PINTimeout time.Duration // DefaultPINTimeout when zero
}

// DoorLayout is one door's wiring.
type DoorLayout struct {
	ID     string
	Strike doorio.StrikeConfig
	// ContactNormallyOpen is a contact that closes when the door opens; the
	// usual NC contact opens with the door, so a cut wire reads open.
	ContactNormallyOpen bool
	Debounce            time.Duration // doorio.DefaultDebounce when zero
}

// ReaderPins are a reader's lines. LED and Buzzer may be nil.
type ReaderPins struct {
	// Lines is the data lines as one ordered stream of edges (a Pi's
	// LineSet, a simulated wire). Without it, D0 and D1 are watched apart.
	Lines       wiegand.Lines
	D0, D1      gpio.PinIn
	LED, Buzzer gpio.PinOut
}

// lines is the reader's data lines as one ordered stream, however given.
func (p ReaderPins) lines() (wiegand.Lines, error) {
	if p.Lines != nil {
		return p.Lines, nil
	}
	if w, ok := p.D0.(interface{ Lines() wiegand.Lines }); ok {
		if l := w.Lines(); l != nil {
			return l, nil
		}
	}
	return wiegand.NewPinPair(p.D0, p.D1)
}

// DoorPins are a door's lines. Contact, REX and Tamper may be nil when not
// wired.
type DoorPins struct {
	Strike               gpio.PinOut
	Contact, REX, Tamper gpio.PinIn
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
	readers map[string]Reader

	ready   chan struct{}
	mu      sync.Mutex
	signals *signalQueue
}

var _ Link = (*Local)(nil)

// NewLocal locks every door at once, before any reader is listened to.
func NewLocal(layout Layout, hw Hardware) (*Local, error) {
	if layout.Decoder == nil {
		d, err := wiegand.NewDecoder(nil, nil)
		if err != nil {
			return nil, err
		}
		layout.Decoder = d
	}
	l := &Local{layout: layout, hw: hw, strikes: map[string]*doorio.Strike{}, pins: map[string]DoorPins{},
		readers: map[string]Reader{}, ready: make(chan struct{}), signals: newSignalQueue()}
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

// send queues a signal for the listener; it never waits on it.
func (l *Local) send(s Signal) { l.signals.add(s) }

// Progressing says whether signals reach the listener: none waits, or one
// was handed on since the last ask. A door Pi feeds systemd's watchdog
// with it.
func (l *Local) Progressing() bool { return l.signals.progressing() }

// Ready is closed once every line is set up and signals are being reported.
func (l *Local) Ready() <-chan struct{} { return l.ready }

// Run listens to every reader and input until ctx ends, then locks every
// door: a bridge that stops leaves nothing open.
func (l *Local) Run(ctx context.Context, emit func(Signal)) error {
	defer l.lockAll()

	// Every line is set up before any goroutine starts, so no edge sent
	// after Ready is lost.
	runs, osdpReaders, err := l.openBuses()
	if err != nil {
		return err
	}
	for _, r := range l.layout.Readers {
		rd, ok := osdpReaders[r.ID]
		if !ok {
			if rd, err = l.openReader(r.ID); err != nil {
				return fmt.Errorf("bridge: reader %s: %w", r.ID, err)
			}
		}
		l.mu.Lock()
		l.readers[r.ID] = rd
		l.mu.Unlock()
		pad := newPINPad(r, l.send)
		pad.channel = ChannelWiegand
		if sv, ok := rd.(Supervised); ok {
			pad.channel = sv.Channel()
			sv.Supervise(func(s Signal) {
				s.Reader, s.Door = r.ID, r.Door
				l.send(s)
			})
		}
		runs = append(runs, func(ctx context.Context) error {
			return rd.Run(ctx, func(res wiegand.Result) { pad.frame(res, l.layout.Decoder) })
		})
	}
	for _, d := range l.layout.Doors {
		pins := l.pins[d.ID]
		inputs := []struct {
			pin        gpio.PinIn
			kind       string
			activeHigh bool
		}{
			{pins.Contact, SignalContact, !d.ContactNormallyOpen},
			{pins.REX, SignalREX, false},
			{pins.Tamper, SignalTamper, true}, // a closed loop holds the line low
		}
		for _, input := range inputs {
			if input.pin == nil {
				continue
			}
			in := &doorio.Input{Pin: input.pin, ActiveHigh: input.activeHigh, Debounce: d.Debounce}
			if err := in.Listen(); err != nil {
				return fmt.Errorf("bridge: door %s %s: %w", d.ID, input.kind, err)
			}
			runs = append(runs, func(ctx context.Context) error {
				return in.Run(ctx, func(on bool, at time.Time) {
					// A button reports its press; its release says nothing.
					if input.kind == SignalREX && !on {
						return
					}
					l.send(Signal{Kind: input.kind, Door: d.ID, On: on, At: at})
				})
			})
		}
	}

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	errs := make(chan error, len(runs))
	relayed := make(chan struct{})
	go func() {
		defer close(relayed)
		l.signals.run(ctx, emit)
	}()
	defer func() { cancel(); <-relayed }()
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
	var all []error
	for err := range errs {
		all = append(all, err)
	}
	return errors.Join(all...)
}

func (l *Local) lockAll() {
	for id, s := range l.strikes {
		if err := s.Lock(); err != nil && l.Log != nil {
			l.Log.Error("lock at stop failed", "door", id, "err", err)
		}
	}
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

// Feedback shows a decision on a reader's LED and buzzer.
func (l *Local) Feedback(reader, _ string, granted bool, ledFor time.Duration) error {
	l.mu.Lock()
	r, ok := l.readers[reader]
	l.mu.Unlock()
	if !ok {
		return fmt.Errorf("bridge: no reader %q", reader)
	}
	r.Show(granted, ledFor)
	return nil
}
