package board

import (
	"errors"
	"fmt"
	"log/slog"

	"periph.io/x/conn/v3/gpio"
	"periph.io/x/conn/v3/gpio/gpioreg"
	"periph.io/x/host/v3"
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
