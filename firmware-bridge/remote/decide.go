package remote

import (
	"slices"
	"time"

	"github.com/sekisho/sekisho/firmware-bridge/bridge"
	"github.com/sekisho/sekisho/firmware-bridge/rules"
	"github.com/sekisho/sekisho/firmware-bridge/wiegand"
)

// Decision types and reasons, the controller's stable words.
const (
	granted   = "access.granted"
	denied    = "access.denied"
	requested = "access.requested"
)

// decide judges a card at a reader from the cards alone: the same rules
// the controller applies, with the zones worked out in advance per reader.
func (c *Cards) decide(reader string, card wiegand.Card, pin string, pinMissing bool, at time.Time) bridge.Decision {
	s := c.Header
	d := bridge.Decision{Snapshot: c.Version()}
	door, inside := s.doorOf(reader)
	sc := c.Lookup(card)
	if sc == nil {
		d.Type, d.Reason = denied, "unknown_credential"
		return d
	}
	p := sc.Person
	d.Person = &p
	stamp := at.UTC().Format(time.RFC3339)
	if rules.Disabled(false, sc.Enabled, p.Kind) {
		d.Type, d.Reason = denied, "disabled"
		return d
	}
	if !sc.Enabled || (sc.ValidFrom != "" && stamp < sc.ValidFrom) || (sc.ValidUntil != "" && stamp >= sc.ValidUntil) {
		d.Type, d.Reason = denied, "expired"
		return d
	}
	if door != nil && slices.Contains(door.PINAt, reader) {
		switch {
		case pinMissing || pin == "" || sc.PINHash == "":
			d.Type, d.Reason = denied, "pin_required"
			return d
		case !rules.CheckPIN(sc.PINHash, pin):
			d.Type, d.Reason = denied, "bad_pin"
			return d
		}
	}
	if door != nil && door.InsideOnly && !inside {
		d.Type, d.Reason = requested, "inside_only"
		return d
	}
	windows, ok := sc.Readers[reader]
	if !ok {
		d.Type, d.Reason = denied, "not_authorized"
		return d
	}
	local := at.In(s.location())
	if len(windows) > 0 && !rules.Schedule(windows).AllowsOn(local, slices.Contains(s.Holidays, local.Format("2006-01-02"))) {
		d.Type, d.Reason = denied, "outside_schedule"
		return d
	}
	d.Type = granted
	return d
}

func (s *Snapshot) doorOf(reader string) (*SnapshotDoor, bool) {
	for i := range s.Doors {
		switch reader {
		case s.Doors[i].OutsideReader:
			return &s.Doors[i], false
		case s.Doors[i].InsideReader:
			return &s.Doors[i], true
		}
	}
	return nil, false
}

func (s *Snapshot) location() *time.Location {
	if loc, err := time.LoadLocation(s.Timezone); err == nil {
		return loc
	}
	return time.UTC
}
