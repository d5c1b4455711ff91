package board

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/sekisho/sekisho/firmware-bridge/wiegand"
	"periph.io/x/conn/v3/gpio"
	"periph.io/x/conn/v3/gpio/gpioreg"
	"periph.io/x/host/v3"
	"periph.io/x/host/v3/gpioioctl"
)

// ErrNoGPIO says this machine shows no GPIO pins to this process.
var ErrNoGPIO = errors.New("no GPIO pins: not a Raspberry Pi, or no access to /dev/gpiochip* (run as a user in the gpio group)")

// Periph initialises periph.io's host drivers and opens pins by name from
// its registry. It fails when no GPIO driver loaded, with the reasons the
// drivers gave, since host.Init's own error says nothing of them.
func Periph(log *slog.Logger) (Opener, error) {
	state, err := host.Init()
	if err != nil {
		return nil, fmt.Errorf("board: periph host init: %w", err)
	}
	for _, d := range state.Loaded {
		log.Info("periph driver loaded", "driver", d.String())
	}
	var failed []error
	for _, f := range state.Failed {
		log.Warn("periph driver failed", "driver", f.D.String(), "err", f.Err)
		failed = append(failed, fmt.Errorf("%s: %w", f.D, f.Err))
	}
	if len(gpioreg.All()) == 0 {
		return nil, fmt.Errorf("board: %w", errors.Join(append([]error{ErrNoGPIO}, failed...)...))
	}
	return func(name string) (gpio.PinIO, error) {
		// By name, not by header position: CM5 and Pi 500 have no P1 header map.
		p := gpioreg.ByName(name)
		if p == nil {
			return nil, fmt.Errorf("board: no pin %s on this machine", name)
		}
		return p, nil
	}, nil
}

// lineSet reads a reader's D0 and D1 as one kernel edge queue when both are
// lines of one GPIO chip (the Pi's chardev driver): the kernel keeps their
// edges in the order they happened, whenever this process reads them.
// Periph hands each edge over without the kernel's timestamp, so edges are
// stamped as read; the order, which decides the card, is the kernel's.
func lineSet(d0, d1 gpio.PinIn) (wiegand.Lines, bool, error) {
	l0, ok0 := d0.(*gpioioctl.GPIOLine)
	l1, ok1 := d1.(*gpioioctl.GPIOLine)
	if !ok0 || !ok1 {
		return nil, false, nil
	}
	for _, chip := range gpioioctl.Chips {
		if chip.ByName(l0.Name()) != l0 || chip.ByName(l1.Name()) != l1 {
			continue
		}
		ls, err := chip.LineSetFromConfig(&gpioioctl.LineSetConfig{
			Lines:            []string{l0.Name(), l1.Name()},
			DefaultDirection: gpioioctl.LineInput,
			DefaultEdge:      gpio.BothEdges,
			DefaultPull:      gpio.PullUp,
		})
		if err != nil {
			return nil, true, fmt.Errorf("board: %s and %s as one line set: %w", l0.Name(), l1.Name(), err)
		}
		return &kernelLines{set: ls, d0: ls.ByOffset(0).(*gpioioctl.LineSetLine).Offset()}, true, nil
	}
	return nil, false, nil
}

// kernelLines is a reader's line set.
type kernelLines struct {
	set *gpioioctl.LineSet
	d0  uint32
}

// Next implements wiegand.Lines.
func (k *kernelLines) Next(timeout time.Duration) (wiegand.Edge, bool, error) {
	// Periph waits forever on a zero timeout; a receiver asking "anything
	// queued?" means a glance.
	number, edge, err := k.set.WaitForEdge(max(timeout, time.Microsecond))
	switch {
	case errors.Is(err, os.ErrDeadlineExceeded):
		return wiegand.Edge{}, false, nil
	case errors.Is(err, os.ErrClosed):
		return wiegand.Edge{}, false, wiegand.ErrLinesClosed
	case err != nil:
		return wiegand.Edge{}, false, fmt.Errorf("board: reader lines: %w", err)
	case edge == gpio.NoEdge:
		return wiegand.Edge{}, false, nil
	}
	line := uint8(1)
	if uint32(number) == k.d0 {
		line = 0
	}
	return wiegand.Edge{Line: line, Fall: edge == gpio.FallingEdge, At: time.Now()}, true, nil
}

// Close implements wiegand.Lines.
func (k *kernelLines) Close() error { return k.set.Close() }
