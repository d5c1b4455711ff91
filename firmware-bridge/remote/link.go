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
// at the other end of the broker. It only carries signals and commands; the
// door Pi's cards travel apart (the controller's fleet), so a card is never
// kept waiting behind a snapshot being made.
type Link struct {
	ID     string
	Prefix string
	Broker Broker
	// Readers and Doors are the door Pi's own, from the site config: it is
	// believed about nothing else.
	Readers map[string]string // reader → door
	Doors   map[string]bool
	// Key signs every command.
	Key ed25519.PrivateKey
	// DecisionTimeout is how long the door Pi waits for an answer before it
	// decides alone.
	DecisionTimeout time.Duration
	// Vouch says why a grant the door Pi decided alone is not backed by the
	// newest cards it had acknowledged by then ("" when it is).
	Vouch func(sig bridge.Signal, d *bridge.Decision, at time.Time) string
	// Skew is how far a door Pi's clock may be from the controller's
	// (DefaultSkew when zero); see Check.
	Skew time.Duration
	// Rejected hears of every message from the door Pi that was not acted
	// on; it is called from the link's goroutine and must not block long.
	Rejected func(Rejection)
	// Answered, when set, hears how long the controller took over each live
	// card, from its arrival here to the answer sent; it is called from the
	// door loop and must not block.
	Answered func(took time.Duration)
	Log      *slog.Logger

	mu      sync.Mutex
	arrived map[string]time.Time // live cards not yet answered, by envelope id
	client  paho.Client
	check   *Check
	signer  *Signer
	status  string // what the door Pi last said of itself: online, offline
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

// Run receives the bridge's signals until ctx ends.
func (l *Link) Run(ctx context.Context, emit func(bridge.Signal)) error {
	log := l.Log
	if log == nil {
		log = slog.Default()
	}
	log = log.With("bridge", l.ID)
	check := &Check{Bridge: l.ID, Readers: l.Readers, Doors: l.Doors, Window: l.decisionTimeout(), Skew: l.Skew, Vouch: l.Vouch}
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
	overwritten := make(chan string, 1)
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
		// The link's retained "up" is the controller's own: its echo is
		// recognised by content. Anything else arriving live is someone
		// writing in the controller's name (a door Pi told "down" decides
		// alone); what was retained before this connection (the last one's
		// will) is simply replaced by the "up" below.
		c.Subscribe(l.topic(mqttlink.LeafLink), 1, func(_ paho.Client, m paho.Message) {
			if p := string(m.Payload()); p != "up" && !m.Retained() {
				select {
				case overwritten <- p:
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

	var answeredOverwrite time.Time
	for {
		select {
		case <-ctx.Done():
			return nil
		case p := <-overwritten:
			// Answered once a minute at most, so two writers cannot make a
			// storm of it; each is reported.
			if time.Since(answeredOverwrite) > time.Minute {
				answeredOverwrite = time.Now()
				client.Publish(l.topic(mqttlink.LeafLink), 1, true, "up")
			}
			if l.Rejected != nil {
				l.Rejected(Rejection{Bridge: l.ID, Reason: "overwritten", Detail: fmt.Sprintf("the controller's link status was overwritten with %q", clip(p))})
			}
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
				if sig.Kind == bridge.SignalCard && sig.Decided == nil && l.Answered != nil {
					l.mu.Lock()
					if l.arrived == nil {
						l.arrived = map[string]time.Time{}
					}
					for id, at := range l.arrived {
						if time.Since(at) > time.Minute {
							delete(l.arrived, id) // answered nowhere (the loop stopped on it)
						}
					}
					l.arrived[sig.ID] = time.Now()
					l.mu.Unlock()
				}
				emit(sig)
			}
		}
	}
}

// clip keeps what someone else wrote short enough for the log.
func clip(s string) string {
	if len(s) > 40 {
		return s[:40] + "…"
	}
	return s
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
	err := l.send(Command{Op: OpFeedback, Reader: reader, About: about, Granted: granted, PulseMS: ledFor.Milliseconds()})
	if l.Answered != nil {
		l.mu.Lock()
		at, ok := l.arrived[about]
		delete(l.arrived, about)
		l.mu.Unlock()
		if ok {
			l.Answered(time.Since(at))
		}
	}
	return err
}
