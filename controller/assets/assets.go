// Package assets is the register of customers' assets — dies, moulds,
// drawings, samples — and where each has been, zone by zone. Every
// registration and move is an event in the chained log, with who made it
// and when: the history a customer's report rests on. The config's list
// seeds the register; a zone changed in the config becomes a move, logged
// as such. The cover check asks the register where assets are now, from
// memory.
package assets

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sekisho/sekisho/controller/config"
	"github.com/sekisho/sekisho/controller/event"
	"github.com/sekisho/sekisho/controller/sekisho"
)

// Sources of a registration or a move.
const (
	SourceConfig = "config" // the site's config said so at a start
	SourceAdmin  = "admin"  // an admin at /assets or the API
)

// Journal logs the register's changes: Logged says when one is on record,
// Record hands it over without waiting.
type Journal interface {
	Logged(ctx context.Context, ev *event.Event) error
	Record(ev *event.Event) <-chan error
}

// History reads the log's events of some types.
type History interface {
	OfTypes(ctx context.Context, types ...string) ([]event.Event, error)
}

// Register is where every asset is now.
type Register struct {
	cfg     *config.Config
	journal Journal

	mu  sync.Mutex // one change at a time, in the log's order
	now atomic.Pointer[[]config.Asset]
}

// Step is one asset's registration or move, as the log holds it.
type Step struct {
	Seq    int64     `json:"seq"`
	Time   time.Time `json:"time"`
	Asset  string    `json:"asset"`
	Owner  string    `json:"owner"`
	From   string    `json:"from,omitempty"` // empty for a registration
	To     string    `json:"to"`
	By     string    `json:"by"`
	Source string    `json:"source"`
}

// Steps reads every registration and move from the log, oldest first.
func Steps(ctx context.Context, h History) ([]Step, error) {
	evs, err := h.OfTypes(ctx, event.AssetRegistered, event.AssetMoved)
	if err != nil {
		return nil, fmt.Errorf("assets: history: %w", err)
	}
	steps := make([]Step, 0, len(evs))
	for _, ev := range evs {
		if s, ok := stepOf(ev); ok {
			steps = append(steps, s)
		}
	}
	slices.SortFunc(steps, func(a, b Step) int { return cmp.Compare(a.Seq, b.Seq) })
	return steps, nil
}

func stepOf(ev event.Event) (Step, bool) {
	if ev.Type != event.AssetRegistered && ev.Type != event.AssetMoved {
		return Step{}, false
	}
	return Step{Seq: ev.Seq, Time: ev.Time, Asset: ev.Detail["asset"], Owner: ev.Detail["owner"],
		From: ev.ZoneFrom, To: ev.ZoneTo, By: ev.Actor, Source: ev.Detail["source"]}, true
}

// Load reads the register from the log and brings it level with the
// config: an asset the log has never seen is registered, and one whose
// zone in the config differs from the config's zone at the last start is
// moved there. A move an admin made since stands until the config's zone
// changes again. Both are handed to the journal without waiting for the
// disk: a site starting on a full card still opens its doors, and the
// events follow in order once the card takes writes.
func Load(ctx context.Context, cfg *config.Config, h History, j Journal) (*Register, error) {
	r := &Register{cfg: cfg, journal: j}
	steps, err := Steps(ctx, h)
	if err != nil {
		return nil, err
	}
	places := map[string]config.Asset{}
	var order []string
	configZone := map[string]string{} // asset → its zone in the config, as last seen
	for _, s := range steps {
		a, known := places[s.Asset]
		if !known {
			order = append(order, s.Asset)
			a = config.Asset{ID: s.Asset, Owner: s.Owner}
		}
		a.Zone = s.To
		places[s.Asset] = a
		if s.Source == SourceConfig {
			configZone[s.Asset] = s.To
		}
	}
	for _, c := range cfg.Assets {
		a, known := places[c.ID]
		switch {
		case !known:
			r.journal.Record(change(event.AssetRegistered, c, "", c.Zone, "config", SourceConfig))
			order = append(order, c.ID)
		case configZone[c.ID] != c.Zone:
			if a.Zone != c.Zone {
				r.journal.Record(change(event.AssetMoved, c, a.Zone, c.Zone, "config", SourceConfig))
			}
		default:
			c.Zone = a.Zone // an admin's move stands
		}
		places[c.ID] = c // the config's owner and description are the latest word
	}
	now := make([]config.Asset, 0, len(order))
	for _, id := range order {
		now = append(now, places[id])
	}
	r.now.Store(&now)
	return r, nil
}

// log records an admin's change and waits until it is on record: the
// admin is told it is done only then.
func (r *Register) log(ctx context.Context, typ string, a config.Asset, from, to, by, source string) error {
	return r.journal.Logged(ctx, change(typ, a, from, to, by, source))
}

func change(typ string, a config.Asset, from, to, by, source string) *event.Event {
	d := map[string]string{"asset": a.ID, "owner": a.Owner, "source": source}
	if a.Description != "" {
		d["description"] = a.Description
	}
	return &event.Event{Type: typ, ZoneFrom: from, ZoneTo: to, Actor: by, Detail: d}
}

// Assets is every asset where it is now (memory only: the door's path
// asks it).
func (r *Register) Assets() []config.Asset {
	if p := r.now.Load(); p != nil {
		return *p
	}
	return nil
}

// Asset is one asset where it is now.
func (r *Register) Asset(id string) (config.Asset, bool) {
	for _, a := range r.Assets() {
		if a.ID == id {
			return a, true
		}
	}
	return config.Asset{}, false
}

// Move takes an asset to zone, on record before the register says so.
func (r *Register) Move(ctx context.Context, id, zone, by string) (config.Asset, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, ok := r.cfg.Zone(zone); !ok {
		return config.Asset{}, fmt.Errorf("assets: zone %q: %w", zone, sekisho.ErrNotFound)
	}
	a, ok := r.Asset(id)
	if !ok {
		return config.Asset{}, fmt.Errorf("assets: asset %q: %w", id, sekisho.ErrNotFound)
	}
	if a.Zone == zone {
		return a, fmt.Errorf("assets: %s is already in %s: %w", id, zone, sekisho.ErrConflict)
	}
	if err := r.log(ctx, event.AssetMoved, a, a.Zone, zone, by, SourceAdmin); err != nil {
		return config.Asset{}, err
	}
	a.Zone = zone
	r.replace(a)
	return a, nil
}

// Add registers a new asset (an admin's, not in the config).
func (r *Register) Add(ctx context.Context, a config.Asset, by string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	a.ID, a.Owner, a.Description = strings.TrimSpace(a.ID), strings.TrimSpace(a.Owner), strings.TrimSpace(a.Description)
	if a.ID == "" || a.Owner == "" || len(a.ID) > 64 || len(a.Owner) > 200 || len(a.Description) > 500 {
		return sekisho.Refuse("bad_asset", "an asset needs an id (64 characters at most), an owner (200) and at most 500 characters of description")
	}
	if _, ok := r.cfg.Zone(a.Zone); !ok {
		return fmt.Errorf("assets: zone %q: %w", a.Zone, sekisho.ErrNotFound)
	}
	if _, ok := r.Asset(a.ID); ok {
		return fmt.Errorf("assets: asset %q is already registered: %w", a.ID, sekisho.ErrDuplicate)
	}
	if err := r.log(ctx, event.AssetRegistered, a, "", a.Zone, by, SourceAdmin); err != nil {
		return err
	}
	r.replace(a)
	return nil
}

// replace puts a in the register (a copy: readers keep the one they hold).
func (r *Register) replace(a config.Asset) {
	now := slices.Clone(r.Assets())
	if i := slices.IndexFunc(now, func(x config.Asset) bool { return x.ID == a.ID }); i >= 0 {
		now[i] = a
	} else {
		now = append(now, a)
	}
	r.now.Store(&now)
}
