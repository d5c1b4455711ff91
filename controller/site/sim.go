package site

import (
	"context"
	"fmt"

	"github.com/sekisho/sekisho/controller/demo"
	"github.com/sekisho/sekisho/firmware-bridge/wiegand"
)

// simulator drives the simulated pins for the API's sim endpoints.
type simulator struct{ site *Site }

func (m *simulator) Swipe(ctx context.Context, reader string, bits wiegand.Bits) error {
	if _, _, ok := m.site.Config.ReaderDoor(reader); !ok {
		return fmt.Errorf("no reader %q", reader)
	}
	return m.site.Sim.Reader(reader).Send(ctx, bits)
}

func (m *simulator) Keys(ctx context.Context, reader, keys string) error {
	if _, _, ok := m.site.Config.ReaderDoor(reader); !ok {
		return fmt.Errorf("no reader %q", reader)
	}
	return m.site.Sim.Reader(reader).PressKeys(ctx, keys, false)
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
