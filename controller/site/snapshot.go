package site

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"slices"
	"time"

	"github.com/sekisho/sekisho/controller/config"
	"github.com/sekisho/sekisho/controller/store"
	"github.com/sekisho/sekisho/firmware-bridge/bridge"
	"github.com/sekisho/sekisho/firmware-bridge/remote"
	"github.com/sekisho/sekisho/firmware-bridge/rules"
)

// Snapshot is what door Pi id needs to run its doors and to decide alone:
// its doors' wiring and rules, and only the cards allowed through one of
// them, each with the weekly windows it may pass in.
func Snapshot(ctx context.Context, cfg *config.Config, st *store.Store, id string) (*remote.Snapshot, error) {
	doors := cfg.Bridges()[id]
	snap := &remote.Snapshot{Site: cfg.Site, Timezone: cfg.Timezone, Holidays: cfg.Holidays}
	type place struct {
		reader string
		zone   string
	}
	var places []place
	for _, d := range doors {
		sd := remote.SnapshotDoor{
			ID: d.ID, Slot: d.Slot, PulseMS: d.Strike.Pulse.Milliseconds(),
			FailSafe: d.Strike.Fail == "safe", ActiveLow: d.Strike.ActiveLow,
			ContactNormallyOpen: d.Contact.Normally == "open", InsideOnly: d.InsideOnly,
			OutsideReader: d.Readers.Outside, InsideReader: d.Readers.Inside,
		}
		if d.Readers.Outside != "" {
			places = append(places, place{d.Readers.Outside, d.To})
			if d.WantsPIN(config.Outside) {
				sd.PINAt = append(sd.PINAt, d.Readers.Outside)
			}
		}
		if d.Readers.Inside != "" {
			places = append(places, place{d.Readers.Inside, d.From})
			if d.WantsPIN(config.Inside) {
				sd.PINAt = append(sd.PINAt, d.Readers.Inside)
			}
		}
		snap.Doors = append(snap.Doors, sd)
	}
	holders, err := st.Cardholders(ctx)
	if err != nil {
		return nil, err
	}
	for _, h := range holders {
		readers := map[string]rules.Schedule{}
		for _, p := range places {
			if sched, ok := allowedIn(cfg, h.Person, p.zone); ok {
				readers[p.reader] = sched
			}
		}
		if len(readers) == 0 {
			continue
		}
		snap.Cards = append(snap.Cards, remote.SnapshotCard{
			Format: h.Format, Facility: h.Facility, Number: h.Number, RawHex: h.RawHex,
			Enabled: h.Enabled && !h.Person.Disabled, ValidFrom: h.ValidFrom, ValidUntil: h.ValidUntil, PINHash: h.PINHash,
			Person:  bridge.Person{ID: h.Person.ID, Name: h.Person.Name, Kind: h.Person.Kind, Company: h.Person.Company},
			Readers: readers,
		})
	}
	body, _ := json.Marshal(snap) // before Made and Version: the version is the content
	sum := sha256.Sum256(body)
	snap.Version = hex.EncodeToString(sum[:8])
	snap.Made = time.Now().UTC()
	return snap, nil
}

// allowedIn is when person may enter zone: ok with no windows is always.
func allowedIn(cfg *config.Config, p store.Person, zone string) (rules.Schedule, bool) {
	if z, ok := cfg.Zone(zone); ok && z.Public {
		return nil, true
	}
	var windows rules.Schedule
	found := false
	for _, id := range p.Levels {
		level, ok := cfg.Level(id)
		if !ok || !slices.Contains(level.Zones, zone) {
			continue
		}
		if level.Schedule == "" {
			return nil, true
		}
		found = true
		windows = append(windows, cfg.Windows[level.Schedule]...)
	}
	return windows, found
}
