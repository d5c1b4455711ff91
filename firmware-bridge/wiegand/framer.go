package wiegand

import (
	"errors"
	"time"
)

// Frame-level rejects.
var (
	// ErrGlitch: a pulse shorter than MinPulse, or both lines low at once.
	ErrGlitch = errors.New("glitch on the data lines")
	// ErrSplit: another burst came within Isolation of this one, so this may
	// be part of a frame broken by a pause, not a whole frame.
	ErrSplit = errors.New("burst too close to another: frame split by a pause")
)

// Timing defaults. A frame ends after Gap of quiet; SIA lets bits be up to
// 20 ms apart, so 25 ms keeps slow readers' frames whole. A frame is only
// believed once the lines stay quiet for Isolation after it: a pause longer
// than Gap inside a frame would otherwise cut it into two shorter frames, and
// a fragment can pass a shorter format's parity by chance. Readers never send
// two frames within 60 ms, so nothing real is lost, and the door waits 60 ms.
const (
	DefaultGap       = 25 * time.Millisecond
	DefaultIsolation = 60 * time.Millisecond
	MinPulse         = 10 * time.Microsecond
)

// Result is one burst of bits that stood alone on the lines.
type Result struct {
	Bits Bits
	At   time.Time // the last bit
	Err  error     // ErrGlitch or ErrSplit; the bits are kept for the log
}

type edgeBit struct {
	bit uint8
	at  time.Time
}

type burst struct {
	bits   []edgeBit
	glitch bool
	split  bool
}

func (b *burst) last() time.Time { return b.bits[len(b.bits)-1].at }

// Framer turns timestamped edges into frames. It holds no clock and starts
// no goroutine: the caller feeds edges and asks for frames with Poll, so the
// same code runs on a Pi and under a test that plays a million edges.
type Framer struct {
	Gap, Isolation time.Duration
	// Longest is the longest frame the site's readers send (its formats'
	// longest length; 0: unknown). A burst of exactly that many bits cannot
	// be the start of a longer frame, so it is believed as soon as its own
	// bit rhythm says it is over (Quick), without waiting out Isolation. A
	// burst that then follows within Isolation is refused as split.
	Longest int

	cur      *burst // bits still arriving
	pending  *burst // ended, waiting to be isolated
	ready    []Result
	fallAt   [2]time.Time
	quickEnd time.Time // when the last frame believed early ended
}

// QuickGap bounds the quiet that ends a frame early: a multiple of the
// frame's own bit interval, within the SIA range of intervals.
const (
	quickFactor = 3
	minQuickGap = 200 * time.Microsecond
	maxQuickGap = 20 * time.Millisecond
)

// quickGap is the quiet after which a complete burst is over: three of its
// own bit intervals (the widest seen), bounded by the SIA range and by Gap.
func (f *Framer) quickGap(b *burst) time.Duration {
	widest := time.Duration(0)
	for i := 1; i < len(b.bits); i++ {
		widest = max(widest, b.bits[i].at.Sub(b.bits[i-1].at))
	}
	return min(max(quickFactor*widest, minQuickGap), maxQuickGap, f.gap())
}

// quick reports whether b may be believed without waiting out Isolation.
func (f *Framer) quick(b *burst) bool {
	return f.Longest > 0 && len(b.bits) == f.Longest && !b.glitch && !b.split
}

func (f *Framer) gap() time.Duration {
	if f.Gap > 0 {
		return f.Gap
	}
	return DefaultGap
}

func (f *Framer) isolation() time.Duration {
	if f.Isolation > f.gap() {
		return f.Isolation
	}
	return max(DefaultIsolation, f.gap())
}

// advance moves time to now: a burst quiet for Gap ends, an ended burst
// quiet for Isolation is ready.
func (f *Framer) advance(now time.Time) {
	if f.pending != nil && now.Sub(f.pending.last()) >= f.isolation() {
		f.ready = append(f.ready, f.pending.result())
		f.pending = nil
	}
	if f.cur != nil && f.pending == nil && f.quick(f.cur) && now.Sub(f.cur.last()) >= f.quickGap(f.cur) {
		f.ready = append(f.ready, f.cur.result())
		f.quickEnd = f.cur.last()
		f.cur = nil
		return
	}
	if f.cur != nil && now.Sub(f.cur.last()) >= f.gap() {
		if f.pending != nil {
			// Both were marked split when this burst began.
			f.ready = append(f.ready, f.pending.result())
		}
		f.pending, f.cur = f.cur, nil
		if now.Sub(f.pending.last()) >= f.isolation() {
			f.ready = append(f.ready, f.pending.result())
			f.pending = nil
		}
	}
}

// Fall is a falling edge on line 0 (D0) or 1 (D1) at at: one bit. otherLow
// says the other line was low at that moment, which no reader does.
func (f *Framer) Fall(line uint8, at time.Time, otherLow bool) {
	f.advance(at)
	if f.cur == nil {
		f.cur = &burst{}
		if f.pending != nil {
			f.pending.split, f.cur.split = true, true
		}
		// Bits right after a frame believed early are no frame of their
		// own: a reader leaves a pause between frames.
		if !f.quickEnd.IsZero() && at.Sub(f.quickEnd) < f.isolation() {
			f.cur.split = true
		}
	}
	// Edges come as one ordered stream (Lines): the bits are in that order,
	// never re-sorted by stamps that a late wake-up may have skewed.
	f.cur.bits = append(f.cur.bits, edgeBit{line, at})
	f.cur.glitch = f.cur.glitch || otherLow
	f.fallAt[line&1] = at
}

// Rise is a rising edge: it measures the pulse, and one shorter than
// MinPulse is a glitch.
func (f *Framer) Rise(line uint8, at time.Time) {
	if f.cur != nil && at.Sub(f.fallAt[line&1]) < MinPulse {
		f.cur.glitch = true
	}
}

// Poll returns the frames settled by now, oldest first.
func (f *Framer) Poll(now time.Time) []Result {
	f.advance(now)
	out := f.ready
	f.ready = nil
	return out
}

// Next is when Poll may next have something: zero when nothing is waiting.
func (f *Framer) Next() time.Time {
	switch {
	case f.cur != nil && f.pending == nil && f.quick(f.cur):
		return f.cur.last().Add(f.quickGap(f.cur))
	case f.cur != nil:
		return f.cur.last().Add(f.gap())
	case f.pending != nil:
		return f.pending.last().Add(f.isolation())
	}
	return time.Time{}
}

func (b *burst) result() Result {
	r := Result{Bits: make(Bits, len(b.bits)), At: b.last()}
	for i, e := range b.bits {
		r.Bits[i] = e.bit
	}
	switch {
	case b.glitch:
		r.Err = ErrGlitch
	case b.split:
		r.Err = ErrSplit
	}
	return r
}
