package fleet

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/sekisho/sekisho/controller/broker"
	"github.com/sekisho/sekisho/controller/config"
	"github.com/sekisho/sekisho/controller/testtool"
	"github.com/sekisho/sekisho/firmware-bridge/board"
	"github.com/sekisho/sekisho/firmware-bridge/bridge"
	"github.com/sekisho/sekisho/firmware-bridge/remote"
	"github.com/sekisho/sekisho/firmware-bridge/wiegand"
)

// A plant of door Pis for the fleet's tests and benchmarks: one door each,
// from the shop floor into a room of its own; the cardholders are spread
// over groups of rooms, so each Pi holds a share of the cards, as at a
// real plant. Every Pi runs the door Pi's real code on simulated pins,
// with its own keys, over the real embedded broker.
type plant struct {
	cfg    *config.Config
	broker *broker.Broker
	fleet  *Fleet
	key    ed25519.PrivateKey

	mu      sync.Mutex
	holders []Holder
	changed chan struct{}

	pis        []*plantPi
	board      *board.File
	brokerOnce sync.Once
}

type plantPi struct {
	id      string
	daemon  *remote.Daemon
	enrol   *remote.Enrolment
	dataDir string
	cancel  context.CancelFunc
	done    chan error
}

const groups = testtool.PlantGroups

func plantConfig(t testing.TB, pis int) *config.Config {
	t.Helper()
	cfg, err := config.Parse("plant.yaml", []byte(testtool.PlantConfig(pis, t.TempDir(), "../../hardware/pi-reference.yaml")))
	if err != nil {
		t.Fatalf("plant config: %v", err)
	}
	return cfg
}

// holder is card n: in group n % groups; card 0 is the plant manager's,
// which opens every door.
func holder(n int) Holder {
	h := Holder{Key: remote.CardKey{Format: wiegand.FormatH10301, Facility: 7, Number: uint64(n)}, Enabled: true,
		Person: bridge.Person{ID: fmt.Sprintf("p-%d", n), Name: fmt.Sprintf("Person %d", n), Kind: "employee"},
		Levels: []string{fmt.Sprintf("g-%d", n%groups)}}
	if n == 0 {
		h.Levels = []string{"g-all"}
	}
	return h
}

// startPlant runs the fleet and every door Pi in this process.
func startPlant(t testing.TB, pis, cards int) *plant {
	t.Helper()
	p := startFleet(t, pis, cards)
	for _, pi := range p.pis {
		p.startPi(t, pi)
	}
	return p
}

// startFleet runs the broker and the fleet, with the door Pis enrolled but
// not started.
func startFleet(t testing.TB, pis, cards int) *plant {
	t.Helper()
	p := &plant{cfg: plantConfig(t, pis), changed: make(chan struct{})}
	_, key, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	p.key = key
	for n := range cards {
		p.holders = append(p.holders, holder(n))
	}
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	if p.broker, err = broker.Start("127.0.0.1:0", nil, nil, "", quiet); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.closeBroker)
	if p.board, err = board.Load("../../hardware/pi-reference.yaml"); err != nil {
		t.Fatal(err)
	}
	enrolled := map[string][]byte{}
	for i := range pis {
		id := fmt.Sprintf("pi-%d", i)
		e, err := remote.NewEnrolment(id, "plant", "sekisho/plant", key.Public().(ed25519.PublicKey))
		if err != nil {
			t.Fatal(err)
		}
		enrolled[id] = e.BoxPublic
		p.pis = append(p.pis, &plantPi{id: id, enrol: e, dataDir: t.TempDir()})
	}
	p.fleet = New(&Fleet{Config: p.cfg, Broker: remote.Broker{URL: p.broker.URL()}, Key: key, Log: quiet,
		EnrolledKey: func(id string) ([]byte, error) { return enrolled[id], nil },
		Holders: func(context.Context) ([]Holder, error) {
			p.mu.Lock()
			defer p.mu.Unlock()
			return append([]Holder(nil), p.holders...), nil
		},
		Changed: func() <-chan struct{} {
			p.mu.Lock()
			defer p.mu.Unlock()
			return p.changed
		},
	})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- p.fleet.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("fleet: %v", err)
		}
	})
	return p
}

// closeBroker takes the broker away (once).
func (p *plant) closeBroker() { p.brokerOnce.Do(func() { p.broker.Close() }) }

// startPi runs a door Pi's daemon until the test ends or stopPi.
func (p *plant) startPi(t testing.TB, pi *plantPi) {
	t.Helper()
	pins := board.NewSimPins(p.board)
	pi.daemon = &remote.Daemon{ID: pi.id, Prefix: "sekisho/plant", Broker: remote.Broker{URL: p.broker.URL()},
		Enrolment: pi.enrol, Board: p.board, Open: pins.Open, DataDir: pi.dataDir,
		Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	ctx, cancel := context.WithCancel(context.Background())
	pi.cancel, pi.done = cancel, make(chan error, 1)
	go func(d *remote.Daemon, done chan error) { done <- d.Run(ctx) }(pi.daemon, pi.done)
	t.Cleanup(func() { p.stopPi(t, pi) })
}

func (p *plant) stopPi(t testing.TB, pi *plantPi) {
	if pi.cancel == nil {
		return
	}
	pi.cancel()
	pi.cancel = nil
	select {
	case err := <-pi.done:
		if err != nil {
			t.Errorf("%s: %v", pi.id, err)
		}
	case <-time.After(30 * time.Second):
		t.Errorf("%s did not stop within 30 s", pi.id)
	}
}

// change edits the cards and tells the fleet, as the store does.
func (p *plant) change(edit func(hs []Holder)) {
	p.mu.Lock()
	edit(p.holders)
	close(p.changed)
	p.changed = make(chan struct{})
	p.mu.Unlock()
}

// wholes is how many whole snapshots the fleet sent pi.
func (p *plant) wholes(pi *plantPi) int {
	p.fleet.mu.RLock()
	defer p.fleet.mu.RUnlock()
	return p.fleet.pis[pi.id].wholes
}

// fleetHas says whether the fleet's cards are as ok wants them.
func (p *plant) fleetHas(ok func(hs []Holder) bool) bool {
	var now []Holder
	for i := range p.holders {
		if h, found := p.fleet.Holder(card(i)); found && h != nil {
			now = append(now, *h)
		} else {
			now = append(now, Holder{})
		}
	}
	return ok(now)
}

// versions is what the fleet says each Pi should hold.
func (p *plant) versions() map[string]string {
	out := map[string]string{}
	for _, st := range p.fleet.States() {
		out[st.ID] = st.Version
	}
	return out
}

// inStep says whether every running Pi holds what the fleet says it
// should, and has said so (its cards are on its disk).
func (p *plant) inStep(pis ...*plantPi) bool {
	want := map[string]State{}
	for _, st := range p.fleet.States() {
		want[st.ID] = st
	}
	if len(pis) == 0 {
		pis = p.pis
	}
	for _, pi := range pis {
		st := want[pi.id]
		if pi.daemon.Held() == "" || pi.daemon.Held() != st.Version || !st.InStep {
			return false
		}
	}
	return true
}

// card n as a reader reads it.
func card(n int) wiegand.Card {
	return wiegand.Card{Format: wiegand.FormatH10301, Facility: 7, Number: uint64(n)}
}

// reader is door Pi i's reader.
func reader(i int) string { return fmt.Sprintf("r-%d", i) }
