package bridge

import (
	"sync"
	"time"

	"github.com/sekisho/sekisho/firmware-bridge/wiegand"
)

// DefaultPINTimeout is how long a reader waits for the next key, or for the
// PIN after a card in card+PIN mode.
const DefaultPINTimeout = 10 * time.Second

// maxPINDigits bounds a PIN; longer entries are mistakes.
const maxPINDigits = 12

// pinPad assembles keypad presses into a PIN for one reader and pairs it
// with the card presented before it.
type pinPad struct {
	reader  ReaderLayout
	channel string // what its cards come over
	timeout time.Duration
	emit    func(Signal)

	mu     sync.Mutex
	digits []rune
	card   *Signal // the card waiting for its PIN
	timer  *time.Timer
	gen    uint64
}

func newPINPad(r ReaderLayout, emit func(Signal)) *pinPad {
	t := r.PINTimeout
	if t <= 0 {
		t = DefaultPINTimeout
	}
	return &pinPad{reader: r, timeout: t, emit: emit}
}

// card takes a card read. Without card+PIN it goes straight on; with it, the
// card waits for its PIN, or times out as a card without one.
func (p *pinPad) cardRead(s Signal) {
	if !p.reader.CardAndPIN {
		p.emit(s)
		return
	}
	var out []Signal
	p.mu.Lock()
	if p.card != nil {
		// A card still waiting for its PIN is never dropped unlogged.
		prev := *p.card
		prev.PINMissing = true
		out = append(out, prev)
	}
	p.card, p.digits = &s, nil
	p.arm()
	p.mu.Unlock()
	p.send(out)
}

// send emits what was decided under the lock, after it is released.
func (p *pinPad) send(out []Signal) {
	for _, s := range out {
		p.emit(s)
	}
}

// key takes one key press.
func (p *pinPad) key(k rune, at time.Time) {
	var out []Signal
	defer func() { p.send(out) }()
	p.mu.Lock()
	defer p.mu.Unlock()
	switch {
	case k == '*':
		p.digits = nil
		p.arm()
	case k == '#':
		pin := string(p.digits)
		p.digits = nil
		p.stop()
		if p.card == nil {
			// A PIN alone opens nothing here; say so on the log.
			out = append(out, Signal{Kind: SignalBadFrame, Reader: p.reader.ID, Door: p.reader.Door, Error: "PIN entered with no card", At: at})
			return
		}
		s := *p.card
		p.card = nil
		s.PIN, s.At = pin, at
		out = append(out, s)
	case len(p.digits) < maxPINDigits:
		p.digits = append(p.digits, k)
		p.arm()
	}
}

func (p *pinPad) stop() {
	p.gen++
	if p.timer != nil {
		p.timer.Stop()
	}
}

// arm restarts the wait for the next key; when it runs out, a waiting card
// goes on without a PIN and the controller refuses it.
func (p *pinPad) arm() {
	p.stop()
	gen := p.gen
	p.timer = time.AfterFunc(p.timeout, func() {
		var out []Signal
		p.mu.Lock()
		if p.gen == gen {
			p.digits = nil
			if p.card != nil {
				s := *p.card
				p.card = nil
				s.PINMissing = true
				out = append(out, s)
			}
		}
		p.mu.Unlock()
		p.send(out)
	})
}

// frame routes one burst from the reader: keys to the pad, cards through it.
func (p *pinPad) frame(res wiegand.Result, dec *wiegand.Decoder) {
	bad := func(err error) {
		p.emit(Signal{Kind: SignalBadFrame, Reader: p.reader.ID, Door: p.reader.Door, Bits: res.Bits.String(), Error: err.Error(), At: res.At})
	}
	if res.Err != nil {
		bad(res.Err)
		return
	}
	if wiegand.IsKey(res.Bits) {
		k, err := wiegand.Key(res.Bits)
		if err != nil {
			bad(err)
			return
		}
		p.key(k, res.At)
		return
	}
	card, err := dec.Decode(res.Bits)
	if err != nil {
		bad(err)
		return
	}
	p.cardRead(Signal{Kind: SignalCard, Reader: p.reader.ID, Door: p.reader.Door, Card: &card, Bits: res.Bits.String(), Channel: p.channel, At: res.At})
}
