package fleet

import (
	"testing"

	"github.com/sekisho/sekisho/controller/config"
	"github.com/sekisho/sekisho/firmware-bridge/bridge"
	"github.com/sekisho/sekisho/firmware-bridge/remote"
)

// A door Pi holds a card's PIN hash only where one of its own readers
// wants a PIN, and of its holder only the id and kind.
func TestAPiHoldsOnlyWhatItsDoorsNeed(t *testing.T) {
	cfg := plantConfig(t, 2)
	pinDoor := cfg.Doors[0]
	pinDoor.CardAndPIN = []config.Side{config.Outside}
	withPIN := newPi(cfg, "pi-0", []config.Door{pinDoor}, nil)
	without := newPi(cfg, "pi-1", []config.Door{cfg.Doors[1]}, nil)
	h := &Holder{Key: remote.CardKey{Format: "H10301", Facility: 7, Number: 1}, Enabled: true, PINHash: "$argon2id$…",
		Person: bridge.Person{ID: "p-1", Name: "佐藤 健二", Kind: "employee", Company: "Hamamatsu Press"}, Levels: []string{"g-all"}}
	a, ok := withPIN.view(cfg, h)
	if !ok || a.PINHash != h.PINHash {
		t.Fatalf("at a card-and-PIN door: %+v", a)
	}
	b, ok := without.view(cfg, h)
	if !ok || b.PINHash != "" {
		t.Fatalf("at a card-only door, the PIN hash went along: %+v", b)
	}
	if a.Person.Name != "" || a.Person.Company != "" || a.Person.ID != "p-1" || a.Person.Kind != "employee" {
		t.Fatalf("the Pi holds of the person: %+v", a.Person)
	}
	if _, ok := without.view(cfg, &Holder{Key: h.Key, Levels: []string{"g-0"}}); ok {
		t.Fatal("a card that passes none of pi-1's doors is in its cards")
	}
}
