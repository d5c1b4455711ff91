package fleet

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"

	"github.com/sekisho/sekisho/firmware-bridge/mqttlink"
	"github.com/sekisho/sekisho/firmware-bridge/remote"
)

// heard is one message from a door Pi's held or status topic.
type heard struct {
	pi, leaf string
	payload  []byte
	at       time.Time
}

// A Pi that asked for nothing but still holds an old version is sent the
// way forward again after resendAfter; a whole snapshot at most once per
// snapshotEvery unless it asks.
const (
	resendAfter   = 3 * time.Second
	snapshotEvery = 2 * time.Second
)

func (f *Fleet) topic(id, leaf string) string {
	return mqttlink.Topics{Prefix: f.Config.MQTT.TopicPrefix}.Bridge(id, leaf)
}

func (f *Fleet) connect(ctx context.Context) error {
	opts, err := f.Broker.ClientOptions("sekisho-fleet-"+f.Config.Site, mqttlink.RetryDoor)
	if err != nil {
		return fmt.Errorf("fleet: %w", err)
	}
	prefix := mqttlink.Topics{Prefix: f.Config.MQTT.TopicPrefix}.Bridge("", "")
	handle := func(_ paho.Client, m paho.Message) {
		// <prefix>/bridges/<id>/<leaf>
		rest := strings.TrimPrefix(m.Topic(), strings.TrimSuffix(prefix, "/"))
		id, leaf, ok := strings.Cut(rest, "/")
		if !ok {
			return
		}
		// Never blocking paho: a flood (someone writing a Pi's held topic)
		// is dropped; a Pi whose word was lost is sent its cards again and
		// says it once more.
		select {
		case f.inbox <- heard{pi: id, leaf: leaf, payload: m.Payload(), at: f.now()}:
		default:
			f.log().Warn("a door Pi's message dropped: too many at once", "bridge", id)
		}
	}
	opts.SetOnConnectHandler(func(c paho.Client) {
		c.Subscribe(f.topic("+", mqttlink.LeafHeld), 1, handle)
		c.Subscribe(f.topic("+", mqttlink.LeafStatus), 1, handle)
		for id := range f.pis {
			// The whole snapshot was once kept retained here: nobody reads
			// it now, and nobody should find the cards in it.
			c.Publish(f.topic(id, mqttlink.LeafSnapshot), 1, true, "")
		}
		// Door Pis' held versions are retained: they arrive with the
		// subscription.
	})
	f.client = paho.NewClient(opts)
	f.client.Connect()
	return nil
}

// heard takes what a door Pi said.
func (f *Fleet) heard(h heard) {
	p, ok := f.pis[h.pi]
	if !ok {
		return // not one of this site's door Pis
	}
	switch h.leaf {
	case mqttlink.LeafStatus:
		f.mu.Lock()
		p.status = string(h.payload)
		f.mu.Unlock()
		return
	case mqttlink.LeafHeld:
	default:
		return
	}
	var held remote.Held
	if len(h.payload) == 0 {
		return
	}
	if json.Unmarshal(h.payload, &held) != nil {
		f.log().Warn("a door Pi's held message is not one", "bridge", p.id)
		return
	}
	f.mu.Lock()
	p.acked(h.at, held)
	f.mu.Unlock()
	switch {
	case held.Want == "snapshot" || held.Version == "":
		f.sendSnapshot(p, true)
	case held.Version == p.version:
		// In step.
	case held.Want == "catchup":
		f.push(p, held.Version, true)
	case p.sent == p.version && p.onTheWay(held.Version):
		// A version on the way to the one sent: the rest is in flight.
	default:
		f.push(p, held.Version, false)
	}
}

// onTheWay says whether version is one the deltas lately sent pass through.
func (p *pi) onTheWay(version string) bool {
	for _, l := range p.chain {
		if l.to == version {
			return true
		}
	}
	return false
}

// retry sends the way forward again to an online Pi still behind.
func (f *Fleet) retry() {
	now := f.now()
	for _, p := range f.pis {
		n := len(p.acks)
		if n == 0 || p.status != "online" || p.acks[n-1].version == p.version || now.Sub(p.pushed) < resendAfter {
			continue
		}
		f.push(p, p.acks[n-1].version, false)
	}
}

// push sends Pi p from version from to the current one: the deltas it
// missed if they were sent lately, otherwise the whole snapshot.
func (f *Fleet) push(p *pi, from string, asked bool) {
	if msgs, ok := p.chainFrom(from); ok {
		for _, m := range msgs {
			f.client.Publish(f.topic(p.id, mqttlink.LeafCards), 1, false, m)
		}
		p.sent, p.pushed = p.version, f.now()
		return
	}
	f.sendSnapshot(p, asked)
}

// sealFor seals and signs a cards message for p; nil when p is not enrolled.
func (f *Fleet) sealFor(p *pi, body *remote.CardsBody) []byte {
	to, err := f.EnrolledKey(p.id)
	switch {
	case err != nil:
		f.log().Error("door Pi's enrolled key unreadable", "bridge", p.id, "err", err)
		return nil
	case len(to) == 0:
		if p.sealedTo != "none" {
			f.log().Error("door Pi not enrolled: it gets no cards and obeys no command (controller bridge enroll " + p.id + ")")
			p.sealedTo = "none"
		}
		return nil
	}
	if string(to) != p.sealedTo {
		p.chain = nil // enrolled again: nothing sealed to the old key is sent again
		p.sealedTo = string(to)
	}
	sealed, err := remote.SealCards(body, to)
	if err != nil {
		f.log().Error("cards not sealed", "bridge", p.id, "err", err)
		return nil
	}
	return p.signer.SignCards(sealed, f.now())
}

// sendDelta sends a delta to a Pi that has, or is being sent, the version
// it starts from; one that is elsewhere catches up when it next says so.
func (f *Fleet) sendDelta(p *pi, d *remote.Delta) {
	msg := f.sealFor(p, &remote.CardsBody{Delta: d})
	if msg == nil {
		return
	}
	p.chain = append(p.chain, link{from: d.From, to: d.To, msg: msg})
	if len(p.chain) > chainKept {
		p.chain = p.chain[len(p.chain)-chainKept:]
	}
	if p.sent != d.From {
		return
	}
	f.client.Publish(f.topic(p.id, mqttlink.LeafCards), 1, false, msg)
	p.sent, p.pushed = d.To, f.now() // not sent again before resendAfter
}

// sendSnapshot sends p its whole snapshot.
func (f *Fleet) sendSnapshot(p *pi, asked bool) {
	now := f.now()
	if !asked && now.Sub(p.pushed) < snapshotEvery {
		return
	}
	s := p.header
	s.Version, s.Rev, s.Made = p.version, p.rev, now.UTC()
	for _, e := range f.cards {
		if c, ok := p.view(f.Config, e.now()); ok {
			s.Cards = append(s.Cards, c)
		}
	}
	msg := f.sealFor(p, &remote.CardsBody{Snapshot: &s})
	if msg == nil {
		return
	}
	f.client.Publish(f.topic(p.id, mqttlink.LeafCards), 1, false, msg)
	p.sent, p.pushed = p.version, now
	f.mu.Lock()
	p.wholes++ // read by the tests
	f.mu.Unlock()
	p.chain = nil // deltas from before the snapshot are never needed again
	f.log().Info("whole cards sent", "bridge", p.id, "version", p.version, "cards", len(s.Cards), "bytes", len(msg))
}
