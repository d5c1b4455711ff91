package bridge_test

import (
	"context"
	"testing"
	"time"

	"periph.io/x/conn/v3/gpio"

	"github.com/sekisho/sekisho/firmware-bridge/bridge"
	"github.com/sekisho/sekisho/firmware-bridge/simhw"
	"github.com/sekisho/sekisho/firmware-bridge/wiegand"
)

func startBridge(t *testing.T) (*simhw.Board, *bridge.Local, chan bridge.Signal) {
	t.Helper()
	board := simhw.NewBoard()
	layout := bridge.Layout{
		Readers: []bridge.ReaderLayout{{ID: "r1", Door: "d1"}},
		Doors:   []bridge.DoorLayout{{ID: "d1"}},
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
	deadline := time.After(5 * time.Second)
	for {
		select {
		case s := <-signals:
			if s.Kind == kind {
				return s
			}
		case <-deadline:
			t.Fatalf("no %s signal", kind)
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

// Many different cards, back to back: every one decodes to its own number.
// Catches bits dropped or reordered between the two lines.
func TestManyCardsDecodeExactly(t *testing.T) {
	board, _, signals := startBridge(t)
	ctx := context.Background()
	for i := 0; i < 40; i++ {
		fc, cn := uint64(i*37%256), uint64(i*7919%65536)
		bits, _ := wiegand.Encode(wiegand.FormatH10301, fc, cn)
		if err := board.Reader("r1").Send(ctx, bits); err != nil {
			t.Fatal(err)
		}
		s := next(t, signals, bridge.SignalCard)
		if s.Card.Facility != fc || s.Card.Number != cn {
			t.Fatalf("card %d: sent %d:%d, decoded %s (%s)", i, fc, cn, s.Card.Printed(), s.Bits)
		}
	}
}
