package osdp

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"time"
)

// Timing of the poll cycle (OSDP v2.2 §5.7, §5.9).
const (
	DefaultPollEvery    = 10 * time.Millisecond // the least time between two polls of one reader
	DefaultReplyTimeout = 200 * time.Millisecond
	DefaultOfflineAfter = 8 * time.Second
	DefaultRetries      = 2
	// DefaultInsecureRetry is how often a reader reported insecure is tried
	// again, with its own key only: nothing less than Secure Channel is
	// accepted.
	DefaultInsecureRetry = 5 * time.Second
	maxOutputs           = 8
)

// Port is the bus's serial line.
type Port interface {
	io.ReadWriter
	io.Closer
}

// ReaderConfig is one reader on a bus.
type ReaderConfig struct {
	Address byte
	// Key is the reader's own SCBK. A reader with no key cannot be talked
	// to securely and is reported insecure, unless Install is set.
	Key []byte
	// Install keys a factory-fresh reader: Secure Channel with SCBK-D, once,
	// to send it NewKey (KEYSET). Keyed is called with the key before it is
	// sent, so a key the reader accepts is never one the panel lost.
	Install bool
	NewKey  []byte
	Keyed   func(key []byte) error
}

// EventKind says what a reader reported.
type EventKind int

// What a bus reports of its readers.
const (
	EventCard     EventKind = iota + 1 // a card, over Secure Channel
	EventKeys                          // keys pressed, over Secure Channel
	EventTamper                        // On: the reader's tamper switch is open
	EventPower                         // On: the reader reports a power fault
	EventOnline                        // the reader answers over Secure Channel
	EventOffline                       // no answer for OfflineAfter
	EventInsecure                      // Err says why; its cards are dropped
	EventKeyed                         // install mode gave the reader its own key
	EventBadFrame                      // bytes on the bus that were no packet
)

func (k EventKind) String() string {
	return [...]string{"?", "card", "keys", "tamper", "power", "online", "offline", "insecure", "keyed", "bad_frame"}[k]
}

// Event is one thing a reader reported.
type Event struct {
	Address byte
	Kind    EventKind
	Card    Card
	Keys    string
	On      bool
	Err     error
	ID      ID
	At      time.Time
}

// InsecureError says why a reader is not trusted.
type InsecureError struct {
	Address byte
	Reason  string
	Err     error
}

func (e *InsecureError) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("osdp: reader %d: %s: %v", e.Address, e.Reason, e.Err)
	}
	return fmt.Sprintf("osdp: reader %d: %s", e.Address, e.Reason)
}

func (e *InsecureError) Unwrap() error { return e.Err }

// Bus is a Control Panel for the readers on one serial line: it polls each
// in turn, one command at a time, and reports what they send.
type Bus struct {
	Port    Port
	Readers []ReaderConfig
	// Events receives each report, from the bus's goroutine; it must not
	// block for long.
	Events       func(Event)
	PollEvery    time.Duration
	ReplyTimeout time.Duration
	OfflineAfter time.Duration
	Retries      int
	// AllowChecksum accepts replies checked by the one-byte checksum;
	// without it only CRC-16 is accepted (Secure Channel needs it anyway).
	AllowChecksum bool
	// InsecureRetry is how long a reader found insecure waits for its next
	// handshake.
	InsecureRetry time.Duration
	Log           *slog.Logger

	mu    sync.Mutex
	links map[byte]*link
	wake  chan struct{}
	now   func() time.Time
}

// Show queues a decision for a reader: its LED green or red for ledFor, and
// a beep (two for a refusal).
func (b *Bus) Show(address byte, granted bool, ledFor time.Duration) error {
	colour, beeps := byte(ColourRed), byte(2)
	if granted {
		colour, beeps = ColourGreen, 1
	}
	ticks := uint16(ledFor / (100 * time.Millisecond))
	if ticks == 0 {
		ticks = 1
	}
	if err := b.queue(address, CmdLED, LED{Colour: colour, Ticks: ticks, Permanent: ColourBlack}.marshal()); err != nil {
		return err
	}
	return b.queue(address, CmdBuz, Buzzer{On: 1, Off: 1, Count: beeps}.marshal())
}

// ComSet queues a new address and baud rate for a reader.
func (b *Bus) ComSet(address byte, to ComSet) error { return b.queue(address, CmdComSet, to.marshal()) }

func (b *Bus) queue(address, code byte, data []byte) error {
	b.mu.Lock()
	l, ok := b.links[address]
	if ok {
		if len(l.outputs) >= maxOutputs {
			l.outputs = l.outputs[1:] // the newest answer matters, not a backlog
		}
		l.outputs = append(l.outputs, output{code, data})
	}
	b.mu.Unlock()
	if !ok {
		return fmt.Errorf("osdp: no reader at address %d", address)
	}
	select {
	case b.wake <- struct{}{}:
	default:
	}
	return nil
}

type output struct {
	code byte
	data []byte
}

// Prepare sets the bus up; Run calls it, and Show works once it has run.
func (b *Bus) Prepare() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.links != nil {
		return nil
	}
	if b.PollEvery <= 0 {
		b.PollEvery = DefaultPollEvery
	}
	if b.ReplyTimeout <= 0 {
		b.ReplyTimeout = DefaultReplyTimeout
	}
	if b.OfflineAfter <= 0 {
		b.OfflineAfter = DefaultOfflineAfter
	}
	if b.Retries <= 0 {
		b.Retries = DefaultRetries
	}
	if b.InsecureRetry <= 0 {
		b.InsecureRetry = DefaultInsecureRetry
	}
	if b.Log == nil {
		b.Log = slog.Default()
	}
	if b.now == nil {
		b.now = time.Now
	}
	b.wake = make(chan struct{}, 1)
	b.links = map[byte]*link{}
	for _, r := range b.Readers {
		if r.Address >= Broadcast {
			return fmt.Errorf("osdp: address %d: want 0–126", r.Address)
		}
		if _, dup := b.links[r.Address]; dup {
			return fmt.Errorf("osdp: address %d used twice on one bus", r.Address)
		}
		if r.Key != nil && len(r.Key) != 16 {
			return fmt.Errorf("osdp: reader %d: key of %d bytes, want 16", r.Address, len(r.Key))
		}
		b.links[r.Address] = &link{cfg: r}
	}
	return nil
}

// Run polls the readers until ctx ends, then closes the port.
func (b *Bus) Run(ctx context.Context) error {
	if err := b.Prepare(); err != nil {
		return err
	}
	rx := make(chan []byte, 64)
	readDone := make(chan error, 1)
	go func() { readDone <- readInto(b.Port, rx) }()
	defer func() {
		// A pseudo-terminal's read is not ended by Close alone; a deadline
		// ends it. A serial port's Close ends its read.
		if d, ok := b.Port.(interface{ SetReadDeadline(time.Time) error }); ok {
			d.SetReadDeadline(time.Now())
		}
		b.Port.Close()
		<-readDone
	}()
	order := make([]*link, 0, len(b.Readers))
	for _, r := range b.Readers {
		order = append(order, b.links[r.Address])
	}
	x := &exchanger{bus: b, rx: rx}
	for {
		start := b.now()
		for _, l := range order {
			if ctx.Err() != nil {
				return nil
			}
			if err := x.serve(ctx, l); err != nil {
				if ctx.Err() != nil {
					return nil
				}
				return err
			}
		}
		if wait := b.PollEvery - b.now().Sub(start); wait > 0 {
			t := time.NewTimer(wait)
			select {
			case <-ctx.Done():
				t.Stop()
				return nil
			case <-b.wake:
			case <-t.C:
			}
			t.Stop()
		}
	}
}

func readInto(r io.Reader, rx chan<- []byte) error {
	defer close(rx)
	buf := make([]byte, 512)
	for {
		n, err := r.Read(buf)
		if n > 0 {
			rx <- append([]byte(nil), buf[:n]...)
		}
		if err != nil {
			return err
		}
	}
}

func (b *Bus) emit(e Event) {
	if e.At.IsZero() {
		e.At = b.now()
	}
	if b.Events != nil {
		b.Events(e)
	}
}

// errBusClosed ends the bus when its port stops reading.
var errBusClosed = errors.New("osdp: the serial port closed")
