package remote

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"sync"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"

	"github.com/sekisho/sekisho/firmware-bridge/bridge"
)

// Link is the controller's side of a door Pi: a bridge.Link whose pins are
// at the other end of the broker.
type Link struct {
	ID     string
	Prefix string
	Broker Broker
	// Snapshot makes the bridge's current credential snapshot; Link
	// publishes it retained whenever its version changes.
	Snapshot func(ctx context.Context) (*Snapshot, error)
	// Changed, when set, says when cards changed, so the snapshot is remade
	// at once; it is also remade every SnapshotEvery (1 min when zero), as
	// schedules and validity dates move with the clock.
	Changed       func() <-chan struct{}
	SnapshotEvery time.Duration
	Log           *slog.Logger

	mu     sync.Mutex
	client paho.Client
}

var _ bridge.Link = (*Link)(nil)

func (l *Link) topic(leaf string) string { return topic(l.Prefix, l.ID, leaf) }

// Run receives the bridge's signals and keeps its snapshot fresh.
func (l *Link) Run(ctx context.Context, emit func(bridge.Signal)) error {
	log := l.Log
	if log == nil {
		log = slog.Default()
	}
	log = log.With("bridge", l.ID)
	// Envelopes are handed to a goroutine: paho's handler must not block.
	inbox := make(chan Envelope, 1024)
	opts := paho.NewClientOptions().
		AddBroker(l.Broker.URL).
		SetClientID("sekisho-link-"+l.ID).
		SetUsername(l.Broker.Username).
		SetPassword(l.Broker.Password).
		SetCleanSession(true).
		SetStore(NoStore{}).
		SetAutoReconnect(true).
		SetConnectRetry(true).
		SetConnectRetryInterval(500*time.Millisecond).
		SetMaxReconnectInterval(2*time.Second).
		SetWill(l.topic("link"), "down", 1, true)
	published := make(chan struct{}, 1)
	opts.SetOnConnectHandler(func(c paho.Client) {
		c.Subscribe(l.topic("signals"), 1, func(_ paho.Client, m paho.Message) {
			var env Envelope
			if err := json.Unmarshal(m.Payload(), &env); err != nil || env.ID == "" {
				log.Warn("bad envelope from bridge ignored", "err", err)
				return
			}
			select {
			case inbox <- env:
			case <-ctx.Done():
			}
		})
		st := c.Subscribe(l.topic("status"), 1, func(_ paho.Client, m paho.Message) {
			log.Info("bridge status", "status", string(m.Payload()))
		})
		// Only once subscribed may the bridge replay: a restarted broker
		// keeps no subscriptions, and what it gets before is lost.
		// (OnConnect runs on its own goroutine, so it may wait here.)
		if st.WaitTimeout(5*time.Second) && st.Error() == nil {
			c.Publish(l.topic("link"), 1, true, "up")
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
			client.Publish(l.topic("link"), 1, true, "down").WaitTimeout(time.Second)
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
		case env := <-inbox:
			s := env.Signal
			s.ID, s.Decided = env.ID, env.Decision
			emit(s)
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
	if l.Snapshot == nil || !client.IsConnectionOpen() {
		return last
	}
	s, err := l.Snapshot(ctx)
	if err != nil {
		log.Warn("snapshot not made", "err", err)
		return last
	}
	if s.Version == last {
		return last
	}
	body, _ := json.Marshal(s)
	t := client.Publish(l.topic("snapshot"), 1, true, body)
	if !t.WaitTimeout(5*time.Second) || t.Error() != nil {
		log.Warn("snapshot not published", "err", t.Error())
		return last
	}
	log.Info("snapshot published", "version", s.Version, "cards", len(s.Cards))
	return s.Version
}

func (l *Link) send(c Command) error {
	l.mu.Lock()
	client := l.client
	l.mu.Unlock()
	if client == nil || !client.IsConnectionOpen() {
		return fmt.Errorf("remote: bridge %s: no broker connection", l.ID)
	}
	body, _ := json.Marshal(c)
	// Not waited on: the door loop must not stall on the broker. The bridge
	// relocks by its own timer whatever happens to this message.
	client.Publish(l.topic("commands"), 1, false, body)
	return nil
}

// Unlock implements bridge.Link.
func (l *Link) Unlock(door string, pulse time.Duration) error {
	return l.send(Command{Op: OpUnlock, Door: door, PulseMS: pulse.Milliseconds()})
}

// Lock implements bridge.Link.
func (l *Link) Lock(door string) error { return l.send(Command{Op: OpLock, Door: door}) }

// Feedback implements bridge.Link; it is also the bridge's sign that the
// controller has decided a card at reader.
func (l *Link) Feedback(reader string, granted bool, ledFor time.Duration) error {
	return l.send(Command{Op: OpFeedback, Reader: reader, Granted: granted, PulseMS: ledFor.Milliseconds()})
}
