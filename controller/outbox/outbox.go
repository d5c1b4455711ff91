// Package outbox publishes the event log over MQTT. It reads the log in seq
// order from the last seq the broker acknowledged, so after an outage
// subscribers get every event, in order, possibly twice (consumers dedupe on
// id). Nothing on a door's path waits on it.
package outbox

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"

	"github.com/sekisho/sekisho/controller/doors"
	"github.com/sekisho/sekisho/controller/store"
	"github.com/sekisho/sekisho/firmware-bridge/remote"
)

// Name is the outbox's row in the store's delivery table.
const Name = "mqtt"

// batch is how many events one read of the log publishes.
const batch = 200

// Broker is where to publish.
type Broker struct {
	URL      string
	Username string
	Password string
	CAFile   string
}

// Outbox follows the log and publishes it.
type Outbox struct {
	Store  *store.Store
	Doors  *doors.Tracker
	Prefix string // e.g. sekisho/hamamatsu-press
	Site   string
	Broker Broker
	Log    *slog.Logger
}

// Topics.
func (o *Outbox) eventsTopic() string        { return o.Prefix + "/events" }
func (o *Outbox) alarmsTopic() string        { return o.Prefix + "/alarms" }
func (o *Outbox) statusTopic() string        { return o.Prefix + "/status" }
func (o *Outbox) doorTopic(id string) string { return o.Prefix + "/doors/" + id + "/state" }

// Run publishes until ctx ends, then says offline and disconnects.
func (o *Outbox) Run(ctx context.Context) error {
	opts, err := o.clientOptions()
	if err != nil {
		return err
	}
	connected := make(chan struct{}, 1)
	opts.SetOnConnectHandler(func(paho.Client) {
		select {
		case connected <- struct{}{}:
		default:
		}
	})
	opts.SetConnectionLostHandler(func(_ paho.Client, err error) {
		o.Log.Warn("mqtt connection lost; events wait in the log", "broker", o.Broker.URL, "err", err)
	})
	client := paho.NewClient(opts)
	client.Connect() // with ConnectRetry it keeps trying; the loop waits for connected

	last, err := o.Store.Delivered(ctx, Name)
	if err != nil {
		return err
	}
	retry := time.NewTicker(time.Second)
	defer retry.Stop()
	for {
		changed := o.Store.Changed() // taken before reading, so no append is missed
		if client.IsConnectionOpen() {
			n, err := o.publishFrom(ctx, client, &last)
			if err != nil {
				o.Log.Warn("mqtt publish stopped; will resume from the log", "after_seq", last, "err", err)
			} else if n == batch {
				continue
			}
		}
		select {
		case <-ctx.Done():
			o.goOffline(client)
			return nil
		case <-connected:
			o.Log.Info("mqtt connected", "broker", o.Broker.URL, "resume_after_seq", last)
			if err := o.announce(client); err != nil {
				o.Log.Warn("mqtt announce", "err", err)
			}
		case <-changed:
		case <-retry.C:
		}
	}
}

func (o *Outbox) clientOptions() (*paho.ClientOptions, error) {
	opts, err := o.Broker.ClientOptions("sekisho-" + o.Site + "-" + store.NewSecret(4))
	if err != nil {
		return nil, err
	}
	return opts.SetOrderMatters(true).SetWill(o.statusTopic(), "offline", 1, true), nil
}

// ClientOptions are a reconnecting paho client's options for this broker,
// with its login and CA.
func (b Broker) ClientOptions(clientID string) (*paho.ClientOptions, error) {
	opts := paho.NewClientOptions().
		AddBroker(b.URL).
		SetClientID(clientID).
		SetUsername(b.Username).
		SetPassword(b.Password).
		SetCleanSession(true).
		SetStore(remote.NoStore{}). // the log is the delivery record
		SetAutoReconnect(true).
		SetConnectRetry(true).
		SetConnectRetryInterval(time.Second).
		SetMaxReconnectInterval(10 * time.Second)
	if b.CAFile != "" {
		pem, err := os.ReadFile(b.CAFile)
		if err != nil {
			return nil, fmt.Errorf("mqtt: ca_file: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("mqtt: ca_file %s holds no PEM certificate", b.CAFile)
		}
		opts.SetTLSConfig(&tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12})
	}
	return opts, nil
}

// publishFrom publishes one batch after *last and moves *last to the last
// event the broker acknowledged.
func (o *Outbox) publishFrom(ctx context.Context, client paho.Client, last *int64) (int, error) {
	evs, err := o.Store.After(ctx, *last, batch)
	if err != nil || len(evs) == 0 {
		return 0, err
	}
	// Send the whole batch, then wait for the acks in order: a slow broker
	// costs one round trip per batch, not per event.
	type sent struct {
		seq    int64
		tokens []paho.Token
	}
	pending := make([]sent, 0, len(evs))
	for i := range evs {
		ev := &evs[i]
		payload, err := json.Marshal(ev)
		if err != nil {
			return 0, fmt.Errorf("outbox: encode seq %d: %w", ev.Seq, err)
		}
		s := sent{seq: ev.Seq, tokens: []paho.Token{client.Publish(o.eventsTopic(), 1, false, payload)}}
		if ev.Alarm != nil {
			s.tokens = append(s.tokens, client.Publish(o.alarmsTopic(), 1, false, payload))
		}
		if strings.HasPrefix(ev.Type, "door.") {
			if t := o.publishDoor(client, ev.Door); t != nil {
				s.tokens = append(s.tokens, t)
			}
		}
		pending = append(pending, s)
	}
	delivered := *last
	var failed error
	for _, s := range pending {
		for _, t := range s.tokens {
			if !t.WaitTimeout(10 * time.Second) {
				failed = fmt.Errorf("outbox: no ack for seq %d", s.seq)
			} else if err := t.Error(); err != nil {
				failed = fmt.Errorf("outbox: seq %d: %w", s.seq, err)
			}
		}
		if failed != nil {
			break
		}
		delivered = s.seq
	}
	if delivered > *last {
		if err := o.Store.SetDelivered(ctx, Name, delivered); err != nil {
			return 0, err
		}
		*last = delivered
	}
	return len(evs), failed
}

// publishDoor sends a door's current state, retained, for dashboards and
// Home Assistant that join later.
func (o *Outbox) publishDoor(client paho.Client, id string) paho.Token {
	st, ok := o.Doors.Get(id)
	if !ok {
		return nil
	}
	payload, _ := json.Marshal(struct {
		Locked  bool      `json:"locked"`
		Open    bool      `json:"open"`
		Alarm   string    `json:"alarm"`
		Updated time.Time `json:"updated"`
	}{st.Locked, st.Open, st.Alarm, st.Updated})
	return client.Publish(o.doorTopic(id), 1, true, payload)
}

func (o *Outbox) announce(client paho.Client) error {
	tokens := []paho.Token{client.Publish(o.statusTopic(), 1, true, "online")}
	for _, st := range o.Doors.States() {
		tokens = append(tokens, o.publishDoor(client, st.ID))
	}
	for _, t := range tokens {
		if !t.WaitTimeout(5 * time.Second) {
			return fmt.Errorf("outbox: no ack announcing")
		}
		if err := t.Error(); err != nil {
			return fmt.Errorf("outbox: announce: %w", err)
		}
	}
	return nil
}

func (o *Outbox) goOffline(client paho.Client) {
	if client.IsConnectionOpen() {
		client.Publish(o.statusTopic(), 1, true, "offline").WaitTimeout(2 * time.Second)
	}
	client.Disconnect(500)
}
