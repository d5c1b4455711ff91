package bridge_test

import (
	"context"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"periph.io/x/conn/v3/gpio"

	"github.com/sekisho/sekisho/firmware-bridge/bridge"
	"github.com/sekisho/sekisho/firmware-bridge/simhw"
	"github.com/sekisho/sekisho/firmware-bridge/wiegand"
)

func startBridge(t *testing.T, layouts ...bridge.Layout) (*simhw.Board, *bridge.Local, chan bridge.Signal) {
	t.Helper()
	board := simhw.NewBoard()
	layout := bridge.Layout{
		Readers: []bridge.ReaderLayout{{ID: "r1", Door: "d1"}},
		Doors:   []bridge.DoorLayout{{ID: "d1"}},
	}
	if len(layouts) > 0 {
		layout = layouts[0]
	}
	l, err := bridge.NewLocal(layout, board)
	if err != nil {
		t.Fatal(err)
	}
	signals := make(chan bridge.Signal, 64)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- l.Run(ctx, func(s bridge.Signal) { signals <- s }) }()
	<-l.Ready()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	})
	return board, l, signals
}

func next(t *testing.T, signals chan bridge.Signal, kind string) bridge.Signal {
	t.Helper()
	return nextOf(t, signals, kind)
}

// recv waits for a value on ch; a test fails naming what it waited for
// rather than hanging the suite.
func recv[T any](t *testing.T, ch <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(10 * time.Second):
		t.Fatalf("timed out waiting for %s", what)
	}
	var zero T
	return zero
}

// waitUntil asks ok until it holds, failing the test after 10 s.
func waitUntil(t *testing.T, what string, ok func() bool) {
	t.Helper()
	deadline := time.NewTimer(10 * time.Second)
	defer deadline.Stop()
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for !ok() {
		select {
		case <-deadline.C:
			t.Fatalf("timed out waiting for %s", what)
		case <-tick.C:
		}
	}
}

// nextOf returns the next signal of any of kinds.
func nextOf(t *testing.T, signals chan bridge.Signal, kinds ...string) bridge.Signal {
	t.Helper()
	deadline := time.After(5 * time.Second)
	for {
		select {
		case s := <-signals:
			if slices.Contains(kinds, s.Kind) {
				return s
			}
		case <-deadline:
			t.Fatalf("no %v signal", kinds)
		}
	}
}

func TestPulseTrainBecomesCard(t *testing.T) {
	board, _, signals := startBridge(t)
	bits, _ := wiegand.Encode(wiegand.FormatH10301, 123, 4567)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for i := 0; i < 3; i++ {
		if err := board.Reader("r1").Send(ctx, bits); err != nil {
			t.Fatal(err)
		}
		s := next(t, signals, bridge.SignalCard)
		if s.Card.Facility != 123 || s.Card.Number != 4567 || s.Reader != "r1" || s.Door != "d1" {
			t.Fatalf("swipe %d: %+v", i, s.Card)
		}
	}
}

func TestGarbledFrameIsBadFrameSignal(t *testing.T) {
	board, _, signals := startBridge(t)
	bits, _ := wiegand.Encode(wiegand.FormatH10301, 12, 345)
	bits[5] ^= 1
	if err := board.Reader("r1").Send(context.Background(), bits); err != nil {
		t.Fatal(err)
	}
	s := next(t, signals, bridge.SignalBadFrame)
	if s.Error == "" || s.Bits != bits.String() {
		t.Fatalf("bad frame signal %+v", s)
	}
}

func TestStrikeLocksFirstAndRelocksAfterPulse(t *testing.T) {
	board, l, signals := startBridge(t)
	strike := board.Door("d1").Strike
	if h := strike.History(); len(h) != 1 || h[0].Level != gpio.Low {
		t.Fatalf("strike at start: %v, want one Low", h)
	}
	if err := l.Unlock("d1", 100*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	if s := next(t, signals, bridge.SignalStrike); !s.On {
		t.Fatal("first strike signal should be unlocked")
	}
	if s := next(t, signals, bridge.SignalStrike); s.On {
		t.Fatal("second strike signal should be locked")
	}
	h := strike.History()
	if len(h) != 3 || h[1].Level != gpio.High || h[2].Level != gpio.Low {
		t.Fatalf("strike history %v, want Low High Low", h)
	}
	if held := h[2].At.Sub(h[1].At); held < 100*time.Millisecond {
		t.Fatalf("strike held %v, less than its pulse", held)
	}
}

func TestContactAndREX(t *testing.T) {
	board, _, signals := startBridge(t)
	ctx := context.Background()
	if s := next(t, signals, bridge.SignalContact); s.On {
		t.Fatal("door should start closed")
	}
	if err := board.Door("d1").SetOpen(ctx, true); err != nil {
		t.Fatal(err)
	}
	if s := next(t, signals, bridge.SignalContact); !s.On {
		t.Fatal("door should read open")
	}
	if err := board.Door("d1").PressREX(ctx); err != nil {
		t.Fatal(err)
	}
	next(t, signals, bridge.SignalREX)
}

// 150 random cards, back to back, with three goroutines hogging the CPU:
// not one decodes to another number (a wrong person let in), and every one
// is read. The reader's edges reach the decoder as one ordered stream with
// their own times, as a Pi's kernel queues them, so no wake-up delay can
// swap or split bits.
func TestManyCardsDecodeExactly(t *testing.T) {
	stop := make(chan struct{})
	defer close(stop)
	for range 3 {
		go func() {
			x := 0
			for {
				select {
				case <-stop:
					return
				default:
					x++
				}
			}
		}()
	}
	board, _, signals := startBridge(t)
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(11, 26))
	read := 0
	for i := range 150 {
		fc, cn := rng.Uint64N(256), rng.Uint64N(65536)
		bits, _ := wiegand.Encode(wiegand.FormatH10301, fc, cn)
		if err := board.Reader("r1").Send(ctx, bits); err != nil {
			t.Fatal(err)
		}
		s := nextOf(t, signals, bridge.SignalCard, bridge.SignalBadFrame)
		if s.Kind != bridge.SignalCard {
			t.Logf("card %d: %d:%d came as a bad frame %s: %s", i, fc, cn, s.Bits, s.Error)
			continue
		}
		if s.Card.Facility != fc || s.Card.Number != cn {
			t.Fatalf("MISREAD card %d: sent %d:%d, decoded %s (%s)", i, fc, cn, s.Card.Printed(), s.Bits)
		}
		read++
	}
	if read < 149 {
		t.Fatalf("read %d of 150 cards, want at least 99%%", read)
	}
}

func TestCardAndPIN(t *testing.T) {
	layout := bridge.Layout{
		Readers: []bridge.ReaderLayout{{ID: "r1", Door: "d1", CardAndPIN: true, PINTimeout: 500 * time.Millisecond}},
		Doors:   []bridge.DoorLayout{{ID: "d1"}},
	}
	board, _, signals := startBridge(t, layout)
	ctx := context.Background()
	r := board.Reader("r1")
	card, _ := wiegand.Encode(wiegand.FormatH10301, 12, 345)

	for _, eight := range []bool{false, true} {
		if err := r.Send(ctx, card); err != nil {
			t.Fatal(err)
		}
		// A slip corrected with * before the real PIN.
		if err := r.PressKeys(ctx, "9*4711#", eight); err != nil {
			t.Fatal(err)
		}
		s := next(t, signals, bridge.SignalCard)
		if s.PIN != "4711" || s.PINMissing || s.Card.Number != 345 {
			t.Fatalf("8-bit %v: card+PIN signal %+v", eight, s)
		}
	}

	// No PIN in time: the card goes on marked as missing its PIN.
	if err := r.Send(ctx, card); err != nil {
		t.Fatal(err)
	}
	if s := next(t, signals, bridge.SignalCard); !s.PINMissing || s.PIN != "" {
		t.Fatalf("timed-out card %+v", s)
	}

	// A garbled 8-bit key is a bad frame, not a digit.
	bad, _ := wiegand.KeyBits('5', true)
	bad[1] ^= 1
	if err := r.Send(ctx, bad); err != nil {
		t.Fatal(err)
	}
	if s := next(t, signals, bridge.SignalBadFrame); s.Bits != bad.String() {
		t.Fatalf("garbled key %+v", s)
	}
}

func TestTamperAndNormallyOpenContact(t *testing.T) {
	layout := bridge.Layout{Doors: []bridge.DoorLayout{{ID: "d1", ContactNormallyOpen: true}}}
	board, _, signals := startBridge(t, layout)
	ctx := context.Background()
	// Each input reports its state at start, in no set order.
	initial := map[string]bool{}
	for len(initial) < 2 {
		select {
		case s := <-signals:
			initial[s.Kind] = s.On
		case <-time.After(5 * time.Second):
			t.Fatalf("initial states: %v", initial)
		}
	}
	// With an NO contact, the idle low line means open.
	if !initial[bridge.SignalContact] || initial[bridge.SignalTamper] {
		t.Fatalf("at start: %v; want contact open (NO, line low), tamper loop closed", initial)
	}
	if err := board.Door("d1").Contact.Drive(ctx, gpio.High); err != nil {
		t.Fatal(err)
	}
	if s := next(t, signals, bridge.SignalContact); s.On {
		t.Fatal("NO contact high should read closed")
	}
	if err := board.Door("d1").SetTampered(ctx, true); err != nil {
		t.Fatal(err)
	}
	if s := next(t, signals, bridge.SignalTamper); !s.On {
		t.Fatal("tamper not reported")
	}
}

func TestFeedbackLines(t *testing.T) {
	board, l, _ := startBridge(t)
	r := board.Reader("r1")
	if err := l.Feedback("r1", "", true, 300*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	waitLevel := func(p *simhw.Pin, want gpio.Level) {
		t.Helper()
		deadline := time.Now().Add(3 * time.Second)
		for p.Read() != want {
			if time.Now().After(deadline) {
				t.Fatalf("%s stayed %s", p.Name(), p.Read())
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	waitLevel(r.LED, gpio.High)
	waitLevel(r.LED, gpio.Low)
	if err := l.Feedback("r1", "", false, 0); err != nil {
		t.Fatal(err)
	}
	beeps := func() (n int) {
		for _, c := range r.Buzzer.History() {
			if c.Level == gpio.High {
				n++
			}
		}
		return n
	}
	// One for the grant, three for the denial; then the buzzer falls silent.
	waitUntil(t, "the denial's three beeps", func() bool { return beeps() >= 1+3 && r.Buzzer.Read() == gpio.Low })
	if n := beeps(); n != 1+3 {
		t.Fatalf("%d beeps, want 4", n)
	}
	if err := l.Feedback("nobody", "", true, time.Second); err == nil {
		t.Fatal("feedback on an unknown reader")
	}
}

// TestNoPulseOnStartStopOrRestart records every level the strike pin is
// driven to across a start, a stop, a crash (the bridge abandoned without
// stopping) and a restart on the same pins: locked first every time, and
// unlocked only for the one grant.
func TestNoPulseOnStartStopOrRestart(t *testing.T) {
	board := simhw.NewBoard()
	layout := bridge.Layout{Doors: []bridge.DoorLayout{{ID: "d1"}}}
	run := func() (*bridge.Local, context.CancelFunc, chan error) {
		l, err := bridge.NewLocal(layout, board)
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- l.Run(ctx, func(bridge.Signal) {}) }()
		recv(t, l.Ready(), "the bridge to be ready")
		return l, cancel, done
	}
	l, stop, done := run()
	if err := l.Unlock("d1", 50*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	strike := board.Door("d1").Strike
	waitUntil(t, "the 50 ms grant to end", func() bool {
		h := strike.History()
		return len(h) >= 2 && h[len(h)-1].Level == gpio.Low && slices.ContainsFunc(h, func(c simhw.Change) bool { return c.Level == gpio.High })
	})
	stop()
	recv(t, done, "the bridge to stop")
	_, _, _ = run() // restarted after a clean stop; then abandoned like a crash
	_, stop, done = run()
	stop()
	recv(t, done, "the restarted bridge to stop")

	var levels []gpio.Level
	for _, c := range board.Door("d1").Strike.History() {
		levels = append(levels, c.Level)
	}
	high := 0
	for i, lv := range levels {
		if lv == gpio.High {
			high++
			if i == 0 {
				t.Fatal("the first level driven was unlocked")
			}
		}
	}
	if high != 1 || levels[0] != gpio.Low || levels[len(levels)-1] != gpio.Low {
		t.Fatalf("strike levels %v: want Low first and last, High once (the grant)", levels)
	}
}

// A reader is what yields frames and shows answers, wired or not: a
// frame-level reader (as an OSDP one would be) gives its card to the same
// decoder and shows the controller's answer.
func TestAnyReaderGoesThroughTheSameDecoder(t *testing.T) {
	board := simhw.NewBoard()
	cards := board.UseCardReader("r1")
	l, err := bridge.NewLocal(bridge.Layout{Readers: []bridge.ReaderLayout{{ID: "r1", Door: "d1"}}, Doors: []bridge.DoorLayout{{ID: "d1"}}}, board)
	if err != nil {
		t.Fatal(err)
	}
	signals := make(chan bridge.Signal, 8)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go l.Run(ctx, func(s bridge.Signal) { signals <- s })
	<-l.Ready()
	bits, _ := wiegand.Encode(wiegand.FormatH10306, 4660, 43981)
	if err := cards.Present(ctx, bits); err != nil {
		t.Fatal(err)
	}
	s := next(t, signals, bridge.SignalCard)
	if s.Card.Format != wiegand.FormatH10306 || s.Card.Facility != 4660 || s.Card.Number != 43981 || s.Reader != "r1" {
		t.Fatalf("card: %+v", s.Card)
	}
	if err := l.Feedback("r1", "", true, time.Second); err != nil {
		t.Fatal(err)
	}
	if shown := cards.Shown(); len(shown) != 1 || !shown[0] {
		t.Fatalf("answers shown: %v", shown)
	}
}
