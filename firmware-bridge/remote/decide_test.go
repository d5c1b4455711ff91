package remote

import (
	"testing"
	"time"

	"github.com/sekisho/sekisho/firmware-bridge/bridge"
	"github.com/sekisho/sekisho/firmware-bridge/rules"
	"github.com/sekisho/sekisho/firmware-bridge/wiegand"
)

// A door Pi cut off from the controller refuses a card switched off by an
// admin with the controller's own word for it.
func TestDecideAloneRefusesSwitchedOffCards(t *testing.T) {
	card := func(n uint64, enabled bool, kind string) SnapshotCard {
		return SnapshotCard{CardKey: CardKey{Format: wiegand.FormatH10301, Facility: 12, Number: n}, Enabled: enabled,
			Person: bridge.Person{ID: kind, Kind: kind}, Readers: map[string]rules.Schedule{"r-out": nil}}
	}
	snap := &Snapshot{Timezone: "Asia/Tokyo",
		Doors: []SnapshotDoor{{ID: "d", OutsideReader: "r-out", InsideReader: "r-in"}},
		Cards: []SnapshotCard{card(1, true, "employee"), card(2, false, "employee"), card(3, false, "visitor")}}
	snap.Version = SumOf(snap).Version()
	cards, err := FromSnapshot(snap, 1)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		number      uint64
		typ, reason string
	}{
		{1, granted, ""},
		{2, denied, "disabled"},
		{3, denied, "expired"}, // a visitor's badge handed back
		{4, denied, "unknown_credential"},
	} {
		d := cards.decide("r-out", wiegand.Card{Format: wiegand.FormatH10301, Facility: 12, Number: tc.number}, "", false, time.Now())
		if d.Type != tc.typ || d.Reason != tc.reason {
			t.Errorf("card %d: %s %s, want %s %s", tc.number, d.Type, d.Reason, tc.typ, tc.reason)
		}
	}
}
