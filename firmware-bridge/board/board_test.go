package board

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"periph.io/x/conn/v3/gpio"

	"github.com/sekisho/sekisho/firmware-bridge/bridge"
	"github.com/sekisho/sekisho/firmware-bridge/simhw"
	"github.com/sekisho/sekisho/firmware-bridge/wiegand"
)

// The reference board file, on simulated pins: a card at door-1's reader
// pulses door-1's strike relay and nothing else.
func TestReferenceBoardOnSimPins(t *testing.T) {
	f, err := Load("../../hardware/pi-reference.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if len(f.Doors) != 2 {
		t.Fatalf("%d doors, want 2", len(f.Doors))
	}
	pins := NewSimPins(f)
	hw := &Hardware{File: f, Open: pins.Open, Binding: Binding{
		DoorSlots: map[string]string{"press-door": "door-1", "dev-door": "door-2"},
		Readers:   map[string]ReaderPlace{"r-press-out": {Door: "press-door"}, "r-dev-out": {Door: "dev-door"}},
	}}
	layout := bridge.Layout{
		Readers: []bridge.ReaderLayout{{ID: "r-press-out", Door: "press-door"}, {ID: "r-dev-out", Door: "dev-door"}},
		Doors:   []bridge.DoorLayout{{ID: "press-door"}, {ID: "dev-door"}},
	}
	l, err := bridge.NewLocal(layout, hw)
	if err != nil {
		t.Fatal(err)
	}
	signals := make(chan bridge.Signal, 64)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- l.Run(ctx, func(s bridge.Signal) { signals <- s }) }()
	defer func() { cancel(); <-done }()
	<-l.Ready()

	reader := &simhw.Reader{ID: "r-press-out", D0: pins.Pin("GPIO5"), D1: pins.Pin("GPIO6")}
	bits, _ := wiegand.Encode(wiegand.FormatH10301, 12, 345)
	if err := reader.Send(ctx, bits); err != nil {
		t.Fatal(err)
	}
	deadline := time.After(5 * time.Second)
	for {
		select {
		case s := <-signals:
			if s.Kind != bridge.SignalCard {
				continue
			}
			if s.Reader != "r-press-out" || s.Card.Number != 345 {
				t.Fatalf("card %+v", s)
			}
			if err := l.Unlock(s.Door, 50*time.Millisecond); err != nil {
				t.Fatal(err)
			}
			if pins.Pin("GPIO17").Read() != gpio.High || pins.Pin("GPIO27").Read() != gpio.Low {
				t.Fatal("the wrong relay moved")
			}
			return
		case <-deadline:
			t.Fatal("no card from GPIO5/GPIO6")
		}
	}
}

func TestBrokenBoardFiles(t *testing.T) {
	tests := []struct{ name, yaml, want string }{
		{"pin used twice", "board: b\ndoors:\n  - slot: a\n    reader: {d0: GPIO5, d1: GPIO5}\n    strike: GPIO17\n", "GPIO5 is already a reader d0"},
		{"not a pin", "board: b\ndoors:\n  - slot: a\n    reader: {d0: P1_29, d1: GPIO6}\n    strike: GPIO17\n", `"P1_29" is not a pin name`},
		{"off the header", "board: b\ndoors:\n  - slot: a\n    reader: {d0: GPIO40, d1: GPIO6}\n    strike: GPIO17\n", "not on the 40-pin header"},
		{"no strike", "board: b\ndoors:\n  - slot: a\n    reader: {d0: GPIO5, d1: GPIO6}\n", "a strike: no pin given"},
		{"misspelt line", "board: b\ndoors:\n  - slot: a\n    reader: {d0: GPIO5, d1: GPIO6}\n    strike: GPIO17\n    contakt: GPIO22\n", "line 6: field contakt not found"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "b.yaml")
			os.WriteFile(path, []byte(tt.yaml), 0o600)
			_, err := Load(path)
			if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), path) {
				t.Fatalf("Load = %v, want %q naming the file", err, tt.want)
			}
		})
	}
}

// On a machine with no GPIO (this build machine), the periph backend says so
// instead of handing out pins that do nothing.
func TestPeriphWithoutGPIOSaysSo(t *testing.T) {
	if _, err := os.Stat("/dev/gpiochip0"); err == nil {
		t.Skip("this machine has GPIO; the hardware-in-the-loop tests cover it")
	}
	_, err := Periph(slog.New(slog.NewTextHandler(io.Discard, nil)))
	if !errors.Is(err, ErrNoGPIO) {
		t.Fatalf("Periph on a machine without GPIO: %v", err)
	}
}
