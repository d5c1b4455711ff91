package remote

import (
	"context"
	"encoding/json"
	"errors"
	"strconv"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"

	"github.com/sekisho/sekisho/firmware-bridge/bridge"
	"github.com/sekisho/sekisho/firmware-bridge/mqttlink"
	"github.com/sekisho/sekisho/firmware-bridge/wiegand"
)

// A door Pi takes its cards from the controller in order: each snapshot or
// delta on its cards topic is checked (signature, door Pi, a seq above the
// last applied, the version it starts from), applied whole or not at all,
// kept on disk, and only then acknowledged on its held topic. A delta that
// arrives before the one it follows waits briefly for it; a gap that does
// not close asks the controller for the way forward.

// gapWait is how long a delta that starts from a version not yet held
// waits for the one before it (paho hands messages over unordered) before
// the door Pi asks again.
const gapWait = time.Second

// maxWaiting bounds the deltas kept waiting for their predecessor.
const maxWaiting = 64

// cardsLoop applies what arrives on the cards topic, one message at a
// time, so versions chain in order whatever order paho hands them over in.
func (d *Daemon) cardsLoop(ctx context.Context) {
	waiting := map[string]waitingDelta{} // from version → the delta
	gap := time.NewTimer(time.Hour)
	gap.Stop()
	defer gap.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case raw := <-d.cardsIn:
			d.takeCards(raw, waiting)
			if len(waiting) > 0 {
				gap.Reset(gapWait)
			}
		case <-gap.C:
			if len(waiting) > 0 {
				d.Log.Warn("a delta's predecessor never came; asking the controller", "waiting", len(waiting))
				clear(waiting)
				d.askHeld("catchup")
			}
		}
	}
}

type waitingDelta struct {
	seq   int64
	delta *Delta
}

func (d *Daemon) takeCards(raw []byte, waiting map[string]waitingDelta) {
	seq, sealed, err := d.verifier.VerifyCards(raw)
	if err != nil {
		d.refuse(KindCards, err)
		return
	}
	cur := d.current()
	if cur != nil && seq <= cur.Seq {
		// Signed by the controller, and older than what is held: its own
		// resend to a Pi it thought behind, or someone replaying it. Either
		// way nothing changes; saying again what is held stops a resend.
		d.Log.Debug("cards already held", "seq", seq, "applied", cur.Seq)
		select {
		case d.connectedAgain <- struct{}{}:
		default:
		}
		return
	}
	body, err := d.Enrolment.OpenCards(sealed)
	if err != nil {
		d.refuse(KindCards, err)
		return
	}
	if s := body.Snapshot; s != nil {
		next, err := FromSnapshot(s, seq)
		if err != nil {
			d.refuse(KindCards, err)
			return
		}
		d.Log.Info("credential snapshot", "version", next.Version(), "rev", s.Rev, "cards", len(next.Index))
		d.install(next)
	} else {
		if cur == nil {
			d.askHeld("snapshot")
			return
		}
		next, err := cur.Apply(body.Delta, seq)
		switch {
		case errors.Is(err, ErrGap):
			if len(waiting) >= maxWaiting {
				clear(waiting)
				d.askHeld("catchup")
				return
			}
			waiting[body.Delta.From] = waitingDelta{seq, body.Delta}
			return
		case err != nil:
			d.refuse(KindCards, err)
			d.askHeld("snapshot")
			return
		}
		d.install(next)
	}
	// Deltas that waited for this one follow it now.
	for {
		cur = d.current()
		w, ok := waiting[cur.Version()]
		if !ok {
			break
		}
		delete(waiting, cur.Version())
		if w.seq <= cur.Seq {
			continue
		}
		next, err := cur.Apply(w.delta, w.seq)
		if err != nil {
			d.refuse(KindCards, err)
			d.askHeld("snapshot")
			break
		}
		d.install(next)
	}
	for from, w := range waiting {
		if w.seq <= d.current().Seq {
			delete(waiting, from) // overtaken by a snapshot
		}
	}
}

// install makes c the cards decided from, then has them kept and
// acknowledged.
func (d *Daemon) install(c *Cards) {
	d.mu.Lock()
	old := d.cards
	d.cards = c
	d.mu.Unlock()
	if old != nil && !sameLayout(old.Header, c.Header) && d.doors() != nil {
		d.Log.Warn("the controller changed this bridge's doors; restart the bridge to rewire them")
	}
	d.Log.Debug("cards", "version", c.Version(), "cards", len(c.Index))
	select {
	case d.snapshotArrive <- struct{}{}:
	default:
	}
	d.keepCards()
}

// keepCards wakes the keeper for the newest cards.
func (d *Daemon) keepCards() {
	select {
	case d.keepWake <- struct{}{}:
	default:
	}
}

// askHeld says what the door Pi holds, asking for more (want: catchup or
// snapshot). Said from the keeper's goroutine, in order with the acks.
func (d *Daemon) askHeld(want string) {
	d.mu.Lock()
	d.want = want
	d.mu.Unlock()
	d.keepCards()
}

// keeper is the one goroutine that writes what the door Pi keeps — the
// cards, the last command obeyed — so writes land in the order they were
// made, and acknowledges cards only once they are on disk: a kill -9
// between the two leaves the older cards whole and acknowledged.
func (d *Daemon) keeper(ctx context.Context) {
	var keptCommand int64
	kept := d.onDisk // what is on disk now
	var told Held
	for {
		select {
		case <-ctx.Done():
			return
		case <-d.keepWake:
		case <-d.connectedAgain:
			told = Held{} // a new connection: say it again
		}
		if seq := d.verifier.Obeyed(KindCommand); seq > keptCommand {
			if err := d.outbox.Keep(ctx, "command_seq", strconv.FormatInt(seq, 10)); err != nil {
				d.Log.Warn("command seq not kept", "err", err)
			} else {
				keptCommand = seq
			}
		}
		cur := d.current()
		if cur != nil && (kept == nil || cur.Seq > kept.Seq) {
			if err := d.writeCards(ctx, cur, kept); err != nil {
				d.Log.Warn("cards not kept; not acknowledged", "err", err)
				kept = nil // unknown now: the next write is whole
				continue
			}
			kept = cur
		}
		d.mu.Lock()
		h := Held{Want: d.want}
		d.want = ""
		d.mu.Unlock()
		if cur != nil && kept != nil && cur.Seq <= kept.Seq {
			h.Version = cur.Version()
		} else if cur == nil {
			h.Want = "snapshot"
		}
		if h == told && h.Want == "" {
			continue
		}
		body, _ := json.Marshal(h)
		// Retained, so a controller that subscribes later learns it; the Pi
		// also says it again on each connect and whenever the controller's
		// link comes up.
		t := d.client.Publish(d.topic(mqttlink.LeafHeld), 1, true, body)
		if t.WaitTimeout(5*time.Second) && t.Error() == nil {
			told = h
		}
	}
}

func (d *Daemon) onCards(_ paho.Client, m paho.Message) {
	select {
	case d.cardsIn <- m.Payload():
	default:
		// A flood: what is lost is asked for again by the gap it leaves.
		d.Log.Warn("cards message dropped: too many at once")
	}
}

// Decide is what this door Pi would decide alone for a card at reader now,
// from the cards it holds: what an installer's check, and the fleet's
// tests, ask of it. A Pi with no cards refuses.
func (d *Daemon) Decide(reader string, card wiegand.Card, at time.Time) bridge.Decision {
	c := d.current()
	if c == nil {
		return bridge.Decision{Type: denied, Reason: "no_cards"}
	}
	return c.decide(reader, card, "", true, at)
}
