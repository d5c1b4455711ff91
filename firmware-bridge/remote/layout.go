package remote

import (
	"encoding/json"

	"github.com/sekisho/sekisho/firmware-bridge/board"
	"github.com/sekisho/sekisho/firmware-bridge/bridge"
	"github.com/sekisho/sekisho/firmware-bridge/doorio"
)

// How a door Pi's doors are wired, from its cards' header.

func (c *Cards) door(id string) *SnapshotDoor {
	if c == nil {
		return nil
	}
	return c.Header.door(id)
}

func (s *Snapshot) door(id string) *SnapshotDoor {
	if s == nil {
		return nil
	}
	for i := range s.Doors {
		if s.Doors[i].ID == id {
			return &s.Doors[i]
		}
	}
	return nil
}

func (d *SnapshotDoor) pulse() int64 {
	if d == nil {
		return 0
	}
	return d.PulseMS
}

func (s *Snapshot) layout() bridge.Layout {
	var l bridge.Layout
	for _, d := range s.Doors {
		l.Doors = append(l.Doors, bridge.DoorLayout{ID: d.ID, ContactNormallyOpen: d.ContactNormallyOpen,
			Strike: doorio.StrikeConfig{ActiveLow: d.ActiveLow, FailSafe: d.FailSafe}})
		for _, r := range []string{d.OutsideReader, d.InsideReader} {
			if r == "" {
				continue
			}
			pin := false
			for _, p := range d.PINAt {
				pin = pin || p == r
			}
			l.Readers = append(l.Readers, bridge.ReaderLayout{ID: r, Door: d.ID, CardAndPIN: pin})
		}
	}
	return l
}

func (s *Snapshot) binding() board.Binding {
	b := board.Binding{DoorSlots: map[string]string{}, Readers: map[string]board.ReaderPlace{}}
	for _, d := range s.Doors {
		b.DoorSlots[d.ID] = d.Slot
		if d.OutsideReader != "" {
			b.Readers[d.OutsideReader] = board.ReaderPlace{Door: d.ID}
		}
		if d.InsideReader != "" {
			b.Readers[d.InsideReader] = board.ReaderPlace{Door: d.ID, Inside: true}
		}
	}
	return b
}

func sameLayout(a, b *Snapshot) bool {
	ja, _ := json.Marshal(a.Doors)
	jb, _ := json.Marshal(b.Doors)
	return string(ja) == string(jb)
}
