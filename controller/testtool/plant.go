package testtool

import (
	"fmt"
	"strings"
)

// PlantGroups is how many groups of rooms a plant's cardholders are spread
// over: each door Pi holds about 1/PlantGroups of the cards.
const PlantGroups = 20

// PlantConfig is a site of pis door Pis for the fleet's tests and
// benchmarks: door d-i (door Pi pi-i, slot door-1, reader r-i) leads from
// the shop floor into room-i; access level g-k opens the rooms i with
// i % PlantGroups == k, and g-all opens every room. boardFile is the
// reference board's path as the caller sees it.
func PlantConfig(pis int, dataDir, boardFile string) string {
	var b strings.Builder
	b.WriteString("site: plant\ntimezone: Asia/Tokyo\nhardware: sim\nboard: " + boardFile + "\n")
	b.WriteString("data_dir: " + dataDir + "\nhttp: { listen: \"127.0.0.1:0\" }\n")
	b.WriteString("mqtt: { embedded: { listen: \"127.0.0.1:0\" }, topic_prefix: sekisho/plant }\n")
	b.WriteString("access: { decision_timeout: 1s }\n")
	b.WriteString("zones:\n  - { id: outside, public: true }\n  - { id: floor }\n")
	for i := range pis {
		fmt.Fprintf(&b, "  - { id: room-%d }\n", i)
	}
	b.WriteString("doors:\n")
	for i := range pis {
		fmt.Fprintf(&b, "  - { id: d-%d, from: floor, to: room-%d, bridge: pi-%d, slot: door-1, readers: { outside: r-%d }, strike: { pulse: 3s, fail: secure } }\n", i, i, i, i)
	}
	b.WriteString("access_levels:\n")
	var all []string
	for i := range pis {
		all = append(all, fmt.Sprintf("room-%d", i))
	}
	for g := range PlantGroups {
		var zones []string
		for i := g; i < pis; i += PlantGroups {
			zones = append(zones, fmt.Sprintf("room-%d", i))
		}
		if len(zones) == 0 {
			zones = []string{"floor"}
		}
		fmt.Fprintf(&b, "  - { id: g-%d, zones: [floor, %s] }\n", g, strings.Join(zones, ", "))
	}
	fmt.Fprintf(&b, "  - { id: g-all, zones: [floor, %s] }\n", strings.Join(all, ", "))
	return b.String()
}
