package remote

import (
	"context"
	"crypto/ed25519"
	"encoding/json"
	"fmt"
	"log/slog"
	"sync"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"

	"github.com/sekisho/sekisho/firmware-bridge/bridge"
	"github.com/sekisho/sekisho/firmware-bridge/mqttlink"
)

// Broker is the MQTT broker both sides meet on.
type Broker = mqttlink.Broker

// Link is the controller's side of a door Pi: a bridge.Link whose pins are
// at the other end of the broker.
type Link struct {
	ID     string
	Prefix string
	Broker Broker
	// Readers and Doors are the door Pi's own, from the site config: it is
	// believed about nothing else.
	Readers map[string]string // reader → door
	Doors   map[string]bool
	// Key signs every command and snapshot. EnrolledKey is the door Pi's
	// public key, which its snapshots are sealed to, read afresh for each
	// snapshot so an enrolment takes effect without a restart; nil means
	// not enrolled, and the door Pi is sent no snapshot.
	Key         ed25519.PrivateKey
	EnrolledKey func() ([]byte, error)
	// DecisionTimeout is how long the door Pi waits for an answer before it
	// decides alone; it goes to the door Pi in its snapshot.
	DecisionTimeout time.Duration
	// Snapshot makes the bridge's current credential snapshot; Link
	// publishes it retained whenever its version changes.
	Snapshot func(ctx context.Context) (*Snapshot, error)
	// Changed, when set, says when cards changed, so the snapshot is remade
	// at once; it is also remade every SnapshotEvery (1 min when zero), as
	// schedules and validity dates move with the clock.
	Changed       func() <-chan struct{}
	SnapshotEvery time.Duration
	// Rejected hears of every message from the door Pi that was not acted
	// on; it is called from the link's goroutine and must not block long.
	Rejected func(Rejection)
	Log      *slog.Logger

	mu       sync.Mutex
	client   paho.Client
	check    *Check
	signer   *Signer
	sealedTo string // the enrolled key the last snapshot was sealed to
	sent     []byte // the snapshot message last published
	status   string // what the door Pi last said of itself: online, offline
}

// Status is what the door Pi last said of itself on its status topic
// (online, offline), or "" before it has said anything.
func (l *Link) Status() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.status
}

var _ bridge.Link = (*Link)(nil)

func (l *Link) topic(leaf string) string { return mqttlink.Topics{Prefix: l.Prefix}.Bridge(l.ID, leaf) }

func (l *Link) decisionTimeout() time.Duration {
	if l.DecisionTimeout <= 0 {
		return DefaultDecisionTimeout
	}
	return l.DecisionTimeout
}

// Run receives the bridge's signals and keeps its snapshot fresh.
func (l *Link) Run(ctx context.Context, emit func(bridge.Signal)) error {
	log := l.Log
	if log == nil {
		log = slog.Default()
	}
	log = log.With("bridge", l.ID)
	check := &Check{Bridge: l.ID, Readers: l.Readers, Doors: l.Doors, Window: l.decisionTimeout()}
	l.mu.Lock()
	l.check = check
	l.signer = &Signer{Key: l.Key, Bridge: l.ID}
	l.mu.Unlock()
	// Messages are handed to a goroutine: paho's handler must not block.
	inbox := make(chan []byte, 1024)
	opts, err := l.Broker.ClientOptions("sekisho-link-"+l.ID, mqttlink.RetryDoor)
	if err != nil {
		return fmt.Errorf("remote: bridge %s: %w", l.ID, err)
	}
	opts.SetWill(l.topic(mqttlink.LeafLink), "down", 1, true)
	published := make(chan struct{}, 1)
	opts.SetOnConnectHandler(func(c paho.Client) {
		c.Subscribe(l.topic(mqttlink.LeafSignals), 1, func(_ paho.Client, m paho.Message) {
			select {
			case inbox <- m.Payload():
			case <-ctx.Done():
			}
		})
		st := c.Subscribe(l.topic(mqttlink.LeafStatus), 1, func(_ paho.Client, m paho.Message) {
			log.Info("bridge status", "status", string(m.Payload()))
			l.mu.Lock()
			l.status = string(m.Payload())
			l.mu.Unlock()
		})
		// Someone else's retained snapshot would greet a restarting door Pi
		// (which refuses it): put the controller's own back.
		c.Subscribe(l.topic(mqttlink.LeafSnapshot), 1, func(_ paho.Client, m paho.Message) {
			l.mu.Lock()
			ours := l.sent == nil || string(m.Payload()) == string(l.sent)
			l.mu.Unlock()
			if !ours {
				log.Warn("the door Pi's retained snapshot was overwritten by someone else; publishing it again")
				select {
				case published <- struct{}{}:
				default:
				}
			}
		})
		// Only once subscribed may the bridge replay: a restarted broker
		// keeps no subscriptions, and what it gets before is lost.
		// (OnConnect runs on its own goroutine, so it may wait here.)
		if st.WaitTimeout(5*time.Second) && st.Error() == nil {
			c.Publish(l.topic(mqttlink.LeafLink), 1, true, "up")
		}
		select {
		case published <- struct{}{}: // republish the snapshot on every connect
		default:
		}
	})
	client := paho.NewClient(opts)
	l.mu.Lock()
	l.client = client
	l.mu.Unlock()
	client.Connect()
	defer func() {
		if client.IsConnectionOpen() {
			client.Publish(l.topic(mqttlink.LeafLink), 1, true, "down").WaitTimeout(time.Second)
		}
		client.Disconnect(250)
	}()

	every := l.SnapshotEvery
	if every <= 0 {
		every = time.Minute
	}
	tick := time.NewTicker(every)
	defer tick.Stop()
	last := ""
	// The change channel is taken before each snapshot is made, so a change
	// while one is being made is never missed.
	changes := func() <-chan struct{} {
		if l.Changed == nil {
			return nil
		}
		return l.Changed()
	}
	changed := changes()
	for {
		select {
		case <-ctx.Done():
			return nil
		case raw := <-inbox:
			sig, late, rej := check.Accept(raw, time.Now())
			switch {
			case rej != nil:
				log.Warn("message from door Pi rejected", "reason", rej.Reason, "detail", rej.Detail)
				if l.Rejected != nil {
					l.Rejected(*rej)
				}
			case late:
				// The door Pi has stopped waiting and decides alone; its
				// decision follows under the same id.
				log.Warn("late card from a door Pi left to it", "reader", sig.Reader, "at", sig.At)
			default:
				emit(sig)
			}
		case <-changed:
			changed = changes()
			last = l.publishSnapshot(ctx, client, last, log)
		case <-published:
			changed = changes()
			last = l.publishSnapshot(ctx, client, "", log) // a new connection: send it again
		case <-tick.C:
			changed = changes()
			last = l.publishSnapshot(ctx, client, last, log)
		}
	}
}

func (l *Link) publishSnapshot(ctx context.Context, client paho.Client, last string, log *slog.Logger) string {
	if l.Snapshot == nil || l.EnrolledKey == nil || !client.IsConnectionOpen() {
		return last
	}
	to, err := l.EnrolledKey()
	switch {
	case err != nil:
		log.Error("door Pi's enrolled key unreadable", "err", err)
		return last
	case len(to) == 0:
		if l.sealedTo != "none" {
			log.Error("door Pi not enrolled: it gets no snapshot and obeys no command (controller bridge enroll " + l.ID + ")")
			l.sealedTo = "none"
		}
		return last
	case string(to) != l.sealedTo:
		last = "" // enrolled again: its new key needs the snapshot sealed anew
	}
	s, err := l.Snapshot(ctx)
	if err != nil {
		log.Warn("snapshot not made", "err", err)
		return last
	}
	if s.Version == last {
		return last
	}
	s.DecisionTimeoutMS = l.decisionTimeout().Milliseconds()
	sealed, err := SealSnapshot(s, to)
	if err != nil {
		log.Error("snapshot not sealed", "err", err)
		return last
	}
	l.check.Issued(s)
	msg := l.signer.Sign(KindSnapshot, sealed, time.Now())
	l.mu.Lock()
	l.sent = msg
	l.mu.Unlock()
	t := client.Publish(l.topic(mqttlink.LeafSnapshot), 1, true, msg)
	if !t.WaitTimeout(5*time.Second) || t.Error() != nil {
		log.Warn("snapshot not published", "err", t.Error())
		return last
	}
	l.sealedTo = string(to)
	log.Info("snapshot published", "version", s.Version, "cards", len(s.Cards))
	return s.Version
}

func (l *Link) send(c Command) error {
	l.mu.Lock()
	client, signer := l.client, l.signer
	l.mu.Unlock()
	if client == nil || !client.IsConnectionOpen() {
		return fmt.Errorf("remote: bridge %s: no broker connection", l.ID)
	}
	body, _ := json.Marshal(c)
	// Not waited on: the door loop must not stall on the broker. The bridge
	// relocks by its own timer whatever happens to this message.
	client.Publish(l.topic(mqttlink.LeafCommands), 1, false, signer.Sign(KindCommand, body, time.Now()))
	return nil
}

// Unlock implements bridge.Link.
func (l *Link) Unlock(door string, pulse time.Duration) error {
	return l.send(Command{Op: OpUnlock, Door: door, PulseMS: pulse.Milliseconds()})
}

// Lock implements bridge.Link.
func (l *Link) Lock(door string) error { return l.send(Command{Op: OpLock, Door: door}) }

// Feedback implements bridge.Link; it is also the controller's answer to
// the card the door Pi asked about (about, its envelope id).
func (l *Link) Feedback(reader, about string, granted bool, ledFor time.Duration) error {
	return l.send(Command{Op: OpFeedback, Reader: reader, About: about, Granted: granted, PulseMS: ledFor.Milliseconds()})
}
