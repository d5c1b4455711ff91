package site

import (
	"context"
	"crypto/ed25519"
	"log/slog"
	"time"

	"github.com/sekisho/sekisho/controller/config"
	"github.com/sekisho/sekisho/controller/event"
	"github.com/sekisho/sekisho/controller/fleet"
	"github.com/sekisho/sekisho/controller/outbox"
	"github.com/sekisho/sekisho/controller/sekisho"
	"github.com/sekisho/sekisho/controller/sitekeys"
	"github.com/sekisho/sekisho/controller/store"
	"github.com/sekisho/sekisho/firmware-bridge/bridge"
	"github.com/sekisho/sekisho/firmware-bridge/remote"
)

// holders reads the site's cards as the fleet keeps them: from the doors'
// own index in memory when it is loaded, so the fleet never holds a
// database connection the doors may be waiting for.
func holders(st *store.Store) func(ctx context.Context) ([]fleet.Holder, error) {
	return func(ctx context.Context) ([]fleet.Holder, error) {
		hs, ok := st.LoadedCardholders()
		if !ok {
			var err error
			if hs, err = st.Cardholders(ctx); err != nil {
				return nil, err
			}
		}
		out := make([]fleet.Holder, len(hs))
		for i, h := range hs {
			out[i] = fleet.Holder{
				Key:     remote.CardKey{Format: h.Format, Facility: h.Facility, Number: h.Number, RawHex: h.RawHex},
				Enabled: h.Enabled && !h.Person.Disabled, ValidFrom: h.ValidFrom, ValidUntil: h.ValidUntil, PINHash: h.PINHash,
				Person: bridge.Person{ID: h.Person.ID, Name: h.Person.Name, Kind: h.Person.Kind, Company: h.Person.Company},
				Levels: h.Person.Levels,
			}
		}
		return out, nil
	}
}

// newFleet is the site's door Pis' cards, kept in step off the door loop.
func newFleet(cfg *config.Config, st *store.Store, b remote.Broker, key []byte, log *slog.Logger) *fleet.Fleet {
	return fleet.New(&fleet.Fleet{
		Config: cfg, Broker: b, Key: key, Log: log,
		EnrolledKey: func(id string) ([]byte, error) { return sitekeys.Bridge(cfg.DataDir, id) },
		Holders:     holders(st),
		// After the doors' index is loaded again: the controller already
		// refuses a revoked card from the database meanwhile.
		Changed: st.CardsReloaded,
	})
}

// unvouched logs a grant a door Pi made alone from cards it should no
// longer have used: the door opened, so it is a grant, flagged, with an
// alarm; never dropped and never passed off as a good one.
func (s *Site) unvouched(ctx context.Context, sig bridge.Signal, ev *event.Event) {
	ev.Detail["unvouched"] = sig.Unvouched
	s.journal.Record(ev)
	s.alarms.Raise(sekisho.Alarm{Kind: sekisho.AlarmBridgeUnvouched, Door: ev.Door, Reader: ev.Reader, PersonID: personID(ev),
		Detail: "a door Pi opened " + ev.Door + " alone on a card its newest cards did not admit: " + sig.Unvouched})
}

func personID(ev *event.Event) string {
	if ev.Person != nil {
		return ev.Person.ID
	}
	return ""
}

// claimed notes a door Pi's own time for a signal logged at the
// controller's.
func claimed(ev *event.Event, sig bridge.Signal) {
	if sig.Claimed.IsZero() {
		return
	}
	if ev.Detail == nil {
		ev.Detail = map[string]string{}
	}
	ev.Detail["bridge_at"] = sig.Claimed.UTC().Format(time.RFC3339Nano)
}

// holderOf is the holder of the signal's card as the fleet knows it.
func holderOf(f *fleet.Fleet, sig bridge.Signal) (*fleet.Holder, bool) {
	if f == nil || sig.Card == nil {
		return nil, false
	}
	h, ok := f.Holder(*sig.Card)
	return h, ok && h != nil
}

// linkRemotes adds a remote link for each door Pi the config names; key
// signs what they are sent. Their cards travel apart, through the fleet.
func (s *Site) linkRemotes(b outbox.Broker, key ed25519.PrivateKey) error {
	s.fleet = newFleet(s.Config, s.Store, b, key, s.log)
	answered := func(took time.Duration) {
		s.meters.bridgeAnswer.Observe(took.Seconds())
		if s.onBridgeAnswer != nil {
			s.onBridgeAnswer(took)
		}
	}
	for id, doors := range s.Config.Bridges() {
		link := &remote.Link{
			ID: id, Prefix: s.Config.MQTT.TopicPrefix, Log: s.log, Broker: b,
			Readers: map[string]string{}, Doors: map[string]bool{},
			Key: key, DecisionTimeout: s.Config.Access.DecisionTimeout,
			Vouch: func(sig bridge.Signal, d *bridge.Decision, at time.Time) string {
				return s.fleet.Vouch(id, sig, d, at)
			},
			Rejected: s.rejected,
			Answered: answered,
		}
		var ids, readers []string
		for _, d := range doors {
			ids = append(ids, d.ID)
			link.Doors[d.ID] = true
			for _, r := range []string{d.Readers.Outside, d.Readers.Inside} {
				if r != "" {
					readers = append(readers, r)
					link.Readers[r] = d.ID
				}
			}
		}
		s.multi.Add(link, ids, readers)
		s.remotes = append(s.remotes, link)
	}
	return nil
}
