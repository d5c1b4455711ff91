package bridge

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"sync/atomic"
	"time"

	"github.com/sekisho/sekisho/firmware-bridge/osdp"
	"github.com/sekisho/sekisho/firmware-bridge/wiegand"
)

// OSDPPlace is where an OSDP reader is: its serial line, its address on
// that bus, and the line's speed.
type OSDPPlace struct {
	Port    string
	Address byte
	Baud    int
}

// SerialLines is hardware that opens the serial lines OSDP buses run on:
// the Pi's UARTs, or the simulator's pseudo-terminals.
type SerialLines interface {
	OpenSerial(port string, baud int) (osdp.Port, error)
}

// Supervised is a reader that reports on itself (its link, tamper switch
// and power) and says what its cards come over.
type Supervised interface {
	Channel() string
	Supervise(report func(Signal))
}

// osdpReader is one reader on an OSDP bus: the bus's reports at its address
// become frames for the site's decoder (cards, keys) or reader signals.
type osdpReader struct {
	bus     *osdp.Bus
	address byte
	events  chan osdp.Event
	report  func(Signal)
	lost    atomic.Int64
}

var (
	_ Reader     = (*osdpReader)(nil)
	_ Supervised = (*osdpReader)(nil)
)

func (r *osdpReader) Channel() string               { return ChannelOSDPSC }
func (r *osdpReader) Supervise(report func(Signal)) { r.report = report }

func (r *osdpReader) Show(granted bool, ledFor time.Duration) {
	r.bus.Show(r.address, granted, ledFor)
}

// take is called from the bus's goroutine: it never waits. Whatever does
// not fit is counted and reported, never dropped silently.
func (r *osdpReader) take(e osdp.Event) {
	select {
	case r.events <- e:
	default:
		r.lost.Add(1)
	}
}

func (r *osdpReader) Run(ctx context.Context, yield func(wiegand.Result)) error {
	for {
		select {
		case <-ctx.Done():
			return nil
		case e := <-r.events:
			if n := r.lost.Swap(0); n > 0 {
				r.signal(Signal{Kind: SignalBadFrame, Error: fmt.Sprintf("%d reports of the OSDP reader were lost: the bridge fell behind", n), At: e.At})
			}
			r.event(e, yield)
		}
	}
}

func (r *osdpReader) signal(s Signal) {
	if r.report != nil {
		r.report(s)
	}
}

func (r *osdpReader) event(e osdp.Event, yield func(wiegand.Result)) {
	state := func(st string) { r.signal(Signal{Kind: SignalReader, State: st, At: e.At}) }
	switch e.Kind {
	case osdp.EventCard:
		bits := make(wiegand.Bits, e.Card.Bits)
		for i := range bits {
			bits[i] = e.Card.Data[i/8] >> (7 - i%8) & 1
		}
		yield(wiegand.Result{Bits: bits, At: e.At})
	case osdp.EventKeys:
		for _, k := range e.Keys {
			b, err := wiegand.KeyBits(k, true)
			if err != nil {
				r.signal(Signal{Kind: SignalBadFrame, Error: err.Error(), At: e.At})
				continue
			}
			yield(wiegand.Result{Bits: b, At: e.At})
		}
	case osdp.EventTamper:
		state(map[bool]string{true: ReaderTamper, false: ReaderIntact}[e.On])
	case osdp.EventPower:
		state(map[bool]string{true: ReaderPowerFault, false: ReaderPowerOK}[e.On])
	case osdp.EventOnline:
		state(ReaderOnline)
	case osdp.EventOffline:
		state(ReaderOffline)
	case osdp.EventKeyed:
		state(ReaderKeyed)
	case osdp.EventInsecure:
		r.signal(Signal{Kind: SignalReader, State: ReaderInsecure, Error: e.Err.Error(), At: e.At})
	case osdp.EventBadFrame:
		r.signal(Signal{Kind: SignalBadFrame, Error: e.Err.Error(), At: e.At})
	}
}

// openBuses opens one OSDP bus per serial line the layout names, each
// reader with the key kept for it. A reader with no key is reported
// insecure until an installer keys it: it is never spoken to in clear.
func (l *Local) openBuses() ([]func(context.Context) error, map[string]Reader, error) {
	byPort := map[string][]ReaderLayout{}
	var ports []string
	for _, r := range l.layout.Readers {
		if r.OSDP == nil {
			continue
		}
		if _, ok := byPort[r.OSDP.Port]; !ok {
			ports = append(ports, r.OSDP.Port)
		}
		byPort[r.OSDP.Port] = append(byPort[r.OSDP.Port], r)
	}
	readers := map[string]Reader{}
	if len(ports) == 0 {
		return nil, readers, nil
	}
	lines, ok := l.hw.(SerialLines)
	if !ok {
		return nil, nil, errors.New("bridge: OSDP readers configured, but this hardware has no serial lines")
	}
	keys := osdp.KeyStore{Dir: l.layout.KeyDir}
	var runs []func(context.Context) error
	for _, port := range ports {
		rs := byPort[port]
		bus := &osdp.Bus{Log: l.Log}
		byAddr := map[byte]*osdpReader{}
		for _, r := range rs {
			key, err := keys.Load(r.ID)
			if err != nil && !errors.Is(err, fs.ErrNotExist) {
				return nil, nil, fmt.Errorf("bridge: reader %s: %w", r.ID, err)
			}
			bus.Readers = append(bus.Readers, osdp.ReaderConfig{Address: r.OSDP.Address, Key: key})
			or := &osdpReader{bus: bus, address: r.OSDP.Address, events: make(chan osdp.Event, 256)}
			byAddr[r.OSDP.Address] = or
			readers[r.ID] = or
		}
		bus.Events = func(e osdp.Event) {
			if r, ok := byAddr[e.Address]; ok {
				r.take(e)
			}
		}
		if err := bus.Prepare(); err != nil {
			return nil, nil, fmt.Errorf("bridge: OSDP bus %s: %w", port, err)
		}
		p, err := lines.OpenSerial(port, rs[0].OSDP.Baud)
		if err != nil {
			return nil, nil, fmt.Errorf("bridge: OSDP bus %s: %w", port, err)
		}
		bus.Port = p
		runs = append(runs, bus.Run)
	}
	return runs, readers, nil
}
