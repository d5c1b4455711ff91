package site

import (
	"context"
	"fmt"
	"strings"

	"github.com/sekisho/sekisho/controller/demo"
	"github.com/sekisho/sekisho/controller/httpapi"
	"github.com/sekisho/sekisho/firmware-bridge/wiegand"
	"periph.io/x/conn/v3/gpio"
)

// simulator drives the simulated pins for the API's sim endpoints.
type simulator struct{ site *Site }

func (m *simulator) Swipe(ctx context.Context, reader string, bits wiegand.Bits) error {
	if _, _, ok := m.site.Config.ReaderDoor(reader); !ok {
		return fmt.Errorf("no reader %q", reader)
	}
	return m.site.Sim.Swipe(ctx, reader, bits)
}

func (m *simulator) Keys(ctx context.Context, reader, keys string) error {
	if _, _, ok := m.site.Config.ReaderDoor(reader); !ok {
		return fmt.Errorf("no reader %q", reader)
	}
	return m.site.Sim.PressKeys(ctx, reader, keys)
}

func (m *simulator) SetTampered(ctx context.Context, door string, tampered bool) error {
	if _, ok := m.site.Config.Door(door); !ok {
		return fmt.Errorf("no door %q", door)
	}
	return m.site.Sim.Door(door).SetTampered(ctx, tampered)
}

func (m *simulator) SetContact(ctx context.Context, door string, open bool) error {
	if _, ok := m.site.Config.Door(door); !ok {
		return fmt.Errorf("no door %q", door)
	}
	return m.site.Sim.Door(door).SetOpen(ctx, open)
}

func (m *simulator) PressREX(ctx context.Context, door string) error {
	if _, ok := m.site.Config.Door(door); !ok {
		return fmt.Errorf("no door %q", door)
	}
	return m.site.Sim.Door(door).PressREX(ctx)
}

func (m *simulator) Shift(ctx context.Context) error {
	return demo.Shift(ctx, m.site.Config, m.site.Sim, demo.DefaultPace)
}

func (m *simulator) Pins(door string) (httpapi.SimPins, error) {
	d, ok := m.site.Config.Door(door)
	if !ok {
		return httpapi.SimPins{}, fmt.Errorf("no door %q", door)
	}
	pins := m.site.Sim.Door(door)
	strike := pins.Strike.Read()
	// The relay's unlocked level follows the door's wiring, as the strike does.
	energised := gpio.High
	if d.Strike.ActiveLow {
		energised = gpio.Low
	}
	unlockedLevel := energised
	if d.Strike.Fail == "safe" {
		unlockedLevel = !energised
	}
	out := httpapi.SimPins{Door: door, StrikeLevel: strings.ToLower(strike.String()), StrikeChanges: pins.Strike.Changes(),
		Unlocked: strike == unlockedLevel, ContactOpen: pins.Contact.Read() == gpio.High,
		REXPressed: pins.REX.Read() == gpio.Low, Tampered: pins.Tamper.Read() == gpio.High, LEDs: map[string]bool{}}
	for _, r := range []string{d.Readers.Outside, d.Readers.Inside} {
		if r != "" && m.site.Sim.HasReader(r) {
			out.LEDs[r] = m.site.Sim.Reader(r).LED.Read() == gpio.High
		}
	}
	return out, nil
}
