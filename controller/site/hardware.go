package site

import (
	"crypto/rand"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"

	"github.com/sekisho/sekisho/controller/config"
	"github.com/sekisho/sekisho/firmware-bridge/board"
	"github.com/sekisho/sekisho/firmware-bridge/bridge"
	"github.com/sekisho/sekisho/firmware-bridge/doorio"
	"github.com/sekisho/sekisho/firmware-bridge/osdp"
	"github.com/sekisho/sekisho/firmware-bridge/simhw"
)

func (s *Site) startHardware() (*bridge.Local, error) {
	multi := bridge.NewMulti()
	s.link, s.multi = multi, multi
	layout := Layout(s.Config)
	if len(layout.Doors) == 0 {
		return nil, nil // every door is on a door Pi
	}
	var hw bridge.Hardware
	switch s.Config.Hardware {
	case "sim":
		s.Sim = simhw.NewBoard()
		if err := simOSDPReaders(s.Sim, layout); err != nil {
			return nil, err
		}
		hw = s.Sim
	case "periph":
		f, err := board.Load(s.Config.Board)
		if err != nil {
			return nil, err
		}
		open, err := board.Periph(s.log)
		if err != nil {
			return nil, err
		}
		hw = &board.Hardware{File: f, Open: open, Binding: Binding(s.Config)}
	default:
		return nil, fmt.Errorf("site: hardware %q: want sim or periph", s.Config.Hardware)
	}
	local, err := bridge.NewLocal(layout, hw)
	if err != nil {
		return nil, err
	}
	local.Log = s.log
	var doors, readers []string
	for _, d := range layout.Doors {
		doors = append(doors, d.ID)
	}
	for _, r := range layout.Readers {
		readers = append(readers, r.ID)
	}
	multi.Add(local, doors, readers)
	return local, nil
}

// Binding maps a site's doors to board slots and its readers to sides.
func Binding(cfg *config.Config) board.Binding {
	b := board.Binding{DoorSlots: map[string]string{}, Readers: map[string]board.ReaderPlace{}}
	for _, d := range cfg.Doors {
		b.DoorSlots[d.ID] = d.Slot
		if d.Readers.Outside != "" {
			b.Readers[d.Readers.Outside] = board.ReaderPlace{Door: d.ID}
		}
		if d.Readers.Inside != "" {
			b.Readers[d.Readers.Inside] = board.ReaderPlace{Door: d.ID, Inside: true}
		}
	}
	return b
}

// Layout is what the bridge needs to know of a site's doors and readers.
func Layout(cfg *config.Config) bridge.Layout {
	layout := bridge.Layout{Decoder: cfg.Decoder, FrameGap: cfg.Wiegand.FrameGap, KeyDir: filepath.Join(cfg.DataDir, "keys")}
	for _, d := range cfg.LocalDoors() {
		layout.Doors = append(layout.Doors, bridge.DoorLayout{
			ID:                  d.ID,
			Strike:              doorio.StrikeConfig{ActiveLow: d.Strike.ActiveLow, FailSafe: d.Strike.Fail == "safe"},
			ContactNormallyOpen: d.Contact.Normally == "open",
			Debounce:            d.Contact.Debounce,
		})
		for _, side := range []config.Side{config.Outside, config.Inside} {
			id := d.Readers.Outside
			if side == config.Inside {
				id = d.Readers.Inside
			}
			if id != "" {
				r := bridge.ReaderLayout{ID: id, Door: d.ID, CardAndPIN: d.WantsPIN(side), PINTimeout: d.PINTimeout}
				if o, ok := cfg.OSDP[id]; ok && o.Address != nil {
					r.OSDP = &bridge.OSDPPlace{Port: o.Port, Address: byte(*o.Address), Baud: o.Baud}
				}
				layout.Readers = append(layout.Readers, r)
			}
		}
	}
	return layout
}

// simOSDPReaders puts a simulated reader on each OSDP reader's line, keyed
// as its installer would have left it: with the key kept for it, made now
// (0600) if the site has none yet.
func simOSDPReaders(b *simhw.Board, layout bridge.Layout) error {
	keys := osdp.KeyStore{Dir: layout.KeyDir}
	for _, r := range layout.Readers {
		if r.OSDP == nil {
			continue
		}
		key, err := keys.Load(r.ID)
		if errors.Is(err, fs.ErrNotExist) {
			key = make([]byte, 16)
			if _, err = rand.Read(key); err == nil {
				err = keys.Save(r.ID, key)
			}
		}
		if err != nil {
			return fmt.Errorf("site: simulated OSDP reader %s: %w", r.ID, err)
		}
		b.AddOSDPReader(r.ID, r.OSDP.Port, r.OSDP.Address, key)
	}
	return nil
}
