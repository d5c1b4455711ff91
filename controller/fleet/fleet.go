// Package fleet keeps every door Pi's cards in step with the site's. One
// index of the site's cards serves all door Pis: a change is worked out once,
// and each Pi whose doors the card can pass (or could, for a revoke) is sent
// a signed, sealed delta of that one card. A Pi says which version it holds
// on its held topic; one that is new, too far behind, or asks, gets its
// whole snapshot. The fleet runs on its own goroutine and its own MQTT
// client: building, sealing and sending never share a loop with answering
// cards.
package fleet

import (
	"context"
	"crypto/ed25519"
	"fmt"
	"log/slog"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"

	"github.com/sekisho/sekisho/controller/config"
	"github.com/sekisho/sekisho/firmware-bridge/bridge"
	"github.com/sekisho/sekisho/firmware-bridge/mqttlink"
	"github.com/sekisho/sekisho/firmware-bridge/remote"
	"github.com/sekisho/sekisho/firmware-bridge/rules"
)

// Holder is one card and its holder, as the site's store has them.
type Holder struct {
	Key        remote.CardKey
	Enabled    bool // the card is on and its holder not disabled
	ValidFrom  string
	ValidUntil string
	PINHash    string
	Person     bridge.Person
	Levels     []string
}

func (h *Holder) same(o *Holder) bool {
	return h.Key == o.Key && h.Enabled == o.Enabled && h.ValidFrom == o.ValidFrom && h.ValidUntil == o.ValidUntil &&
		h.PINHash == o.PINHash && h.Person == o.Person && slices.Equal(h.Levels, o.Levels)
}

// Fleet is the site's door Pis and what each holds.
type Fleet struct {
	Config *config.Config
	Broker mqttlink.Broker
	// Key signs every message to a door Pi; EnrolledKey is a Pi's public
	// box key, read afresh so an enrolment takes effect without a restart
	// (nil: not enrolled, and it is sent nothing).
	Key         ed25519.PrivateKey
	EnrolledKey func(id string) ([]byte, error)
	// Holders reads every card with its holder; Changed says when they
	// may have changed (taken before each read, so none is missed).
	Holders func(ctx context.Context) ([]Holder, error)
	Changed func() <-chan struct{}
	Log     *slog.Logger
	// Now is the controller's clock (time.Now when nil).
	Now func() time.Time

	mu    sync.RWMutex // guards what Vouch and States read; the fleet's goroutine is the only writer
	rev   int64
	cards map[remote.CardKey]*entry
	pis   map[string]*pi
	ready chan struct{} // closed once the index is built

	client paho.Client
	inbox  chan heard
}

// entry is one card: its holder now (nil once gone) and what it was at
// recent revisions, so a door Pi's offline grant is judged against the
// cards it held then.
type entry struct {
	history []version // oldest first; the last is now
}

type version struct {
	rev    int64
	holder *Holder // nil: not a card at that revision
}

// historyKept bounds each card's remembered versions.
const historyKept = 16

func (e *entry) now() *Holder { return e.history[len(e.history)-1].holder }

// at is the card as it was at rev, and whether the history reaches back.
func (e *entry) at(rev int64) (*Holder, bool) {
	for i := len(e.history) - 1; i >= 0; i-- {
		if e.history[i].rev <= rev {
			return e.history[i].holder, true
		}
	}
	// Older than every version kept: not a card then if the first kept is
	// where it began, otherwise unknown.
	if len(e.history) < historyKept && e.history[0].rev > 0 {
		return nil, true
	}
	return nil, false
}

func (f *Fleet) now() time.Time {
	if f.Now != nil {
		return f.Now()
	}
	return time.Now()
}

func (f *Fleet) log() *slog.Logger {
	if f.Log == nil {
		return slog.Default()
	}
	return f.Log
}

// New makes the fleet of the config's door Pis.
func New(f *Fleet) *Fleet {
	f.cards = map[remote.CardKey]*entry{}
	f.pis = map[string]*pi{}
	f.ready = make(chan struct{})
	f.inbox = make(chan heard, 1024)
	for id, doors := range f.Config.Bridges() {
		f.pis[id] = newPi(f.Config, id, doors, f.Key)
	}
	return f
}

// nextRev is the controller's change counter: it follows the clock in
// nanoseconds so it still grows across a restart, and always grows.
func (f *Fleet) nextRev() int64 { return max(f.now().UnixNano(), f.rev+1) }

// build reads every card and works out each Pi's version from scratch.
func (f *Fleet) build(ctx context.Context) error {
	holders, err := f.Holders(ctx)
	if err != nil {
		return err
	}
	rev := f.nextRev()
	cards := make(map[remote.CardKey]*entry, len(holders))
	for i := range holders {
		h := &holders[i]
		cards[h.Key] = &entry{history: []version{{rev: 0, holder: h}}}
	}
	sums := map[string]remote.Sum{}
	for id, p := range f.pis {
		sum := p.headerSum()
		for _, e := range cards {
			if c, ok := p.view(f.Config, e.now()); ok {
				sum.Add(&c)
			}
		}
		sums[id] = sum
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.rev, f.cards = rev, cards
	for id, p := range f.pis {
		p.setVersion(sums[id], rev)
	}
	return nil
}

// change re-reads the cards and sends each door Pi the delta it needs.
func (f *Fleet) change(ctx context.Context) error {
	holders, err := f.Holders(ctx)
	if err != nil {
		return err
	}
	type changed struct{ old, new *Holder }
	var diff []changed
	seen := make(map[remote.CardKey]bool, len(holders))
	for i := range holders {
		h := &holders[i]
		seen[h.Key] = true
		e, ok := f.cards[h.Key]
		switch {
		case !ok:
			diff = append(diff, changed{nil, h})
		case e.now() == nil || !e.now().same(h):
			diff = append(diff, changed{e.now(), h})
		}
	}
	for k, e := range f.cards {
		if !seen[k] && e.now() != nil {
			diff = append(diff, changed{e.now(), nil})
		}
	}
	if len(diff) == 0 {
		return nil
	}
	rev := f.nextRev()
	deltas := map[string]*remote.Delta{}
	sums := map[string]remote.Sum{}
	for id, p := range f.pis {
		sum := p.sum
		d := &remote.Delta{From: p.version}
		for _, c := range diff {
			ov, had := p.view(f.Config, c.old)
			nv, has := p.view(f.Config, c.new)
			switch {
			case !had && !has:
				continue
			case had && has && remote.CardHash(&ov) == remote.CardHash(&nv):
				continue
			}
			if had {
				sum.Remove(&ov)
			}
			if has {
				sum.Add(&nv)
				d.Put = append(d.Put, nv)
			} else {
				d.Drop = append(d.Drop, ov.Key())
			}
		}
		if len(d.Put)+len(d.Drop) > 0 {
			d.To = sum.Version()
			deltas[id], sums[id] = d, sum
		}
	}
	f.mu.Lock()
	f.rev = rev
	for _, c := range diff {
		k := c.new
		if k == nil {
			k = c.old
		}
		e, ok := f.cards[k.Key]
		if !ok {
			e = &entry{}
			f.cards[k.Key] = e
		}
		var now *Holder
		if c.new != nil {
			// A copy of its own: a pointer into holders would keep all
			// 10,000 of this read alive for as long as the history holds it.
			h := *c.new
			now = &h
		}
		e.history = append(e.history, version{rev: rev, holder: now})
		if len(e.history) > historyKept {
			e.history = e.history[len(e.history)-historyKept:]
		}
	}
	for id, sum := range sums {
		f.pis[id].setVersion(sum, rev)
	}
	f.mu.Unlock()
	for id, d := range deltas {
		f.sendDelta(f.pis[id], d)
		// Sealing and signing for 200 Pis is tens of milliseconds of CPU:
		// let a card waiting for its answer go first between Pis.
		runtime.Gosched()
	}
	f.log().Info("cards changed", "cards", len(diff), "door_pis", len(deltas), "rev", rev)
	return nil
}

// Run keeps the fleet in step until ctx ends.
func (f *Fleet) Run(ctx context.Context) error {
	if len(f.pis) == 0 {
		return nil
	}
	changed := f.Changed()
	if err := f.build(ctx); err != nil {
		return fmt.Errorf("fleet: %w", err)
	}
	close(f.ready)
	if err := f.connect(ctx); err != nil {
		return err
	}
	defer f.client.Disconnect(250)
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-changed:
			changed = f.Changed()
			if err := f.change(ctx); err != nil {
				f.log().Warn("cards not read; door Pis keep what they hold until the next change", "err", err)
			}
		case h := <-f.inbox:
			f.heard(h)
		case <-tick.C:
			f.retry()
		}
	}
}

// Ready is closed once the fleet knows every Pi's version.
func (f *Fleet) Ready() <-chan struct{} { return f.ready }

// State is one door Pi as the fleet sees it.
type State struct {
	ID      string    `json:"id"`
	Status  string    `json:"status"`  // what the Pi last said of itself: online, offline
	Version string    `json:"version"` // the version it should hold
	Rev     int64     `json:"rev"`
	Held    string    `json:"held"` // the version it last acknowledged
	HeldRev int64     `json:"held_rev"`
	HeldAt  time.Time `json:"held_at,omitzero"`
	InStep  bool      `json:"in_step"`
}

// States lists the door Pis, by id.
func (f *Fleet) States() []State {
	f.mu.RLock()
	defer f.mu.RUnlock()
	out := make([]State, 0, len(f.pis))
	for id, p := range f.pis {
		st := State{ID: id, Status: p.status, Version: p.version, Rev: p.rev}
		if n := len(p.acks); n > 0 {
			a := p.acks[n-1]
			st.Held, st.HeldRev, st.HeldAt = a.version, a.rev, a.at
		}
		st.InStep = st.Held != "" && st.Held == st.Version
		out = append(out, st)
	}
	slices.SortFunc(out, func(a, b State) int { return strings.Compare(a.ID, b.ID) })
	return out
}

// allowedIn is when a holder of levels may enter zone: ok with no windows
// is always.
func allowedIn(cfg *config.Config, levels []string, zone string) (rules.Schedule, bool) {
	if z, ok := cfg.Zone(zone); ok && z.Public {
		return nil, true
	}
	var windows rules.Schedule
	found := false
	for _, id := range levels {
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
