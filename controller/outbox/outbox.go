// Package outbox publishes the event log over MQTT. It reads the log in seq
// order from the last seq the broker acknowledged, so after an outage
// subscribers get every event, in order, possibly twice (consumers dedupe on
// id). Nothing on a door's path waits on it.
package outbox

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync/atomic"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"

	"github.com/sekisho/sekisho/controller/doors"
	"github.com/sekisho/sekisho/controller/store"
	"github.com/sekisho/sekisho/firmware-bridge/mqttlink"
)

// Name is the outbox's row in the store's delivery table.
const Name = "mqtt"

// batch is how many events one read of the log publishes.
const batch = 200

// gather is the least time between two reads of the log. A busy site logs
// thousands of events a second; reading each one as it lands would wake
// the outbox for every append and crowd the doors' cores. After a quiet
// spell the next event still goes out at once.
const gather = 20 * time.Millisecond

// Broker is where to publish.
type Broker = mqttlink.Broker

// Outbox follows the log and publishes it.
type Outbox struct {
	Store  *store.Store
	Doors  *doors.Tracker
	Prefix string // e.g. sekisho/hamamatsu-press
	Site   string
	Broker Broker
	Log    *slog.Logger

	// DoorNames and ZoneNames are the site's doors and zones, named: each
	// zone gets a retained head count, and both go to Home Assistant.
	DoorNames, ZoneNames []Named
	// Occupancy counts people per zone now.
	Occupancy func() map[string]int
	// HomeAssistant, when set, announces the site to Home Assistant.
	HomeAssistant *Discovery
	// Replay is how many events before the delivered mark are sent again
	// at start: a broker may acknowledge an event before it has stored it
	// for its subscribers (mochi does), and a kill in between must not lose
	// it. Subscribers dedupe on id.
	Replay int64
	// Notices are published at once, not read from the log: a storage
	// alarm while the log cannot be written, the log's signed checkpoints.
	Notices <-chan Notice
	// Delivery names the outbox's mark in the store's delivery table
	// (Name when empty): each broker it publishes to resumes from its own.
	Delivery string
	// Uplink publishes the log, its alarms and its checkpoints only, not
	// the doors' states and head counts: head office's copy.
	Uplink bool

	lastStorage []byte         // for the next connect (Run's goroutine only)
	fresh       int64          // the delivered mark at start: swipes after it are news, before it replays
	lastAlarms  map[string]int // open alarms by kind, as last read
	connected   atomic.Bool    // the broker holds our session now
}

// Connected says whether the outbox is connected to its broker.
func (o *Outbox) Connected() bool { return o.connected.Load() }

// Notice is one message that does not come from the log. One field is set.
type Notice struct {
	Alarm      []byte // an alarm event, on the alarms topic (no seq: not logged yet)
	Storage    []byte // the log's health, retained
	Checkpoint []byte // a signed checkpoint, retained
}

func (o *Outbox) delivery() string {
	if o.Delivery == "" {
		return Name
	}
	return o.Delivery
}

// Topics.
func (o *Outbox) topics() mqttlink.Topics         { return mqttlink.Topics{Prefix: o.Prefix} }
func (o *Outbox) eventsTopic() string             { return o.topics().Events() }
func (o *Outbox) alarmsTopic() string             { return o.topics().Alarms() }
func (o *Outbox) statusTopic() string             { return o.topics().Status() }
func (o *Outbox) doorTopic(id string) string      { return o.topics().Door(id) }
func (o *Outbox) zoneTopic(id string) string      { return o.topics().Zone(id) }
func (o *Outbox) commandTopic(door string) string { return o.topics().DoorCommand(door) }
func (o *Outbox) swipeTopic(door string) string   { return o.topics().DoorSwipe(door) }
func (o *Outbox) openAlarmsTopic() string         { return o.topics().OpenAlarms() }

// Run publishes until ctx ends, then says offline and disconnects.
func (o *Outbox) Run(ctx context.Context) error {
	opts, err := o.clientOptions()
	if err != nil {
		return err
	}
	connected, rediscover := make(chan struct{}, 1), make(chan struct{}, 1)
	opts.SetOnConnectHandler(func(c paho.Client) {
		o.connected.Store(true)
		if o.HomeAssistant != nil {
			o.watchHomeAssistant(c, rediscover)
		}
		select {
		case connected <- struct{}{}:
		default:
		}
	})
	opts.SetConnectionLostHandler(func(_ paho.Client, err error) {
		o.connected.Store(false)
		o.Log.Warn("mqtt connection lost; events wait in the log", "broker", o.Broker.URL, "err", err)
	})
	client := paho.NewClient(opts)
	defer o.connected.Store(false)
	client.Connect() // with ConnectRetry it keeps trying; the loop waits for connected

	last, err := o.Store.Delivered(ctx, o.delivery())
	if err != nil {
		if ctx.Err() != nil {
			return nil // the site stopped as it started: nothing was left undone
		}
		return err
	}
	o.fresh = last
	last = max(0, last-o.Replay)
	retry := time.NewTicker(time.Second)
	defer retry.Stop()
	var lastRead time.Time
	for {
		changed := o.Store.Changed() // taken before reading, so no append is missed
		if client.IsConnectionOpen() {
			lastRead = time.Now()
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
			if !sleep(ctx, gather-time.Since(lastRead)) {
				o.goOffline(client)
				return nil
			}
		case n := <-o.Notices:
			o.publishNotice(client, n)
		case <-rediscover:
			// Home Assistant restarted and lost what it knew: tell it again.
			for topic, payload := range o.discovery() {
				client.Publish(topic, 1, true, payload)
			}
		case <-retry.C:
		}
	}
}

// publishNotice sends a notice if the broker is there; the retained ones
// are kept and sent again on every connect.
func (o *Outbox) publishNotice(client paho.Client, n Notice) {
	switch {
	case n.Storage != nil:
		o.lastStorage = n.Storage
	}
	if !client.IsConnectionOpen() {
		if n.Alarm != nil {
			o.Log.Warn("mqtt down: an alarm outside the log could not be published", "alarm", string(n.Alarm))
		}
		return
	}
	switch {
	case n.Alarm != nil:
		client.Publish(o.alarmsTopic(), 1, false, n.Alarm)
	case n.Storage != nil:
		client.Publish(o.topics().Storage(), 1, true, n.Storage)
		if !o.Uplink {
			o.publishOpenAlarms(context.Background(), client)
		}
	case n.Checkpoint != nil:
		client.Publish(o.topics().Checkpoints(), 1, true, n.Checkpoint)
	}
}

// sleep waits d, or less if ctx ends first; false if it did.
func sleep(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return ctx.Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

func (o *Outbox) clientOptions() (*paho.ClientOptions, error) {
	opts, err := o.Broker.ClientOptions("sekisho-"+o.Site+"-"+store.NewSecret(4), mqttlink.RetryLog)
	if err != nil {
		return nil, err
	}
	return opts.SetOrderMatters(true).SetWill(o.statusTopic(), "offline", 1, true), nil
}

// publishFrom publishes one batch after *last and moves *last to the last
// event the broker acknowledged.
func (o *Outbox) publishFrom(ctx context.Context, client paho.Client, last *int64) (int, error) {
	evs, err := o.Store.PublishedAfter(ctx, *last, batch)
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
	doorsMoved, zonesMoved, alarmsMoved := map[string]bool{}, map[string]bool{}, false
	for _, ev := range evs {
		s := sent{seq: ev.Seq, tokens: []paho.Token{client.Publish(o.eventsTopic(), 1, false, ev.JSON)}}
		if ev.Alarm {
			s.tokens = append(s.tokens, client.Publish(o.alarmsTopic(), 1, false, ev.JSON))
		}
		if strings.HasPrefix(ev.Type, "door.") && ev.Door != "" && !o.Uplink {
			doorsMoved[ev.Door] = true
		}
		if ev.Alarm && !o.Uplink {
			alarmsMoved = true
		}
		if strings.HasPrefix(ev.Type, "access.") && ev.Door != "" && ev.Seq > o.fresh && o.HomeAssistant != nil {
			if swipe, ok := swipeOf(ev.JSON); ok {
				s.tokens = append(s.tokens, client.Publish(o.swipeTopic(ev.Door), 1, false, swipe))
			}
		}
		if strings.HasPrefix(ev.Type, "access.") {
			for _, z := range []string{ev.ZoneFrom, ev.ZoneTo} {
				if o.counted(z) {
					zonesMoved[z] = true
				}
			}
		}
		pending = append(pending, s)
	}
	// A door's state and a zone's count are retained as they are now, so
	// once per batch is enough.
	var stateTokens []paho.Token
	for id := range doorsMoved {
		if t := o.publishDoor(client, id); t != nil {
			stateTokens = append(stateTokens, t)
		}
	}
	for id := range zonesMoved {
		stateTokens = append(stateTokens, o.publishZone(client, id))
	}
	if alarmsMoved {
		if t := o.publishOpenAlarms(ctx, client); t != nil {
			stateTokens = append(stateTokens, t)
		}
	}
	delivered := *last
	var failed error
	for _, s := range pending {
		for _, t := range s.tokens {
			if err := waitAck(t); err != nil {
				failed = fmt.Errorf("outbox: seq %d: %w", s.seq, err)
			}
		}
		if failed != nil {
			break
		}
		delivered = s.seq
	}
	for _, t := range stateTokens {
		if err := waitAck(t); err != nil && failed == nil {
			failed = fmt.Errorf("outbox: door state or zone count: %w", err)
		}
	}
	if delivered > *last {
		if err := o.Store.SetDelivered(ctx, o.delivery(), delivered); err != nil {
			return 0, err
		}
		*last = delivered
	}
	return len(evs), failed
}

// counted says whether zone has a head count to publish.
func (o *Outbox) counted(zone string) bool {
	for _, z := range o.ZoneNames {
		if z.ID == zone {
			return true
		}
	}
	return false
}

func waitAck(t paho.Token) error {
	if !t.WaitTimeout(10 * time.Second) {
		return errors.New("no ack from the broker")
	}
	return t.Error()
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
		if !o.Uplink {
			tokens = append(tokens, o.publishDoor(client, st.ID))
		}
	}
	for _, z := range o.ZoneNames {
		tokens = append(tokens, o.publishZone(client, z.ID))
	}
	for topic, payload := range o.discovery() {
		tokens = append(tokens, client.Publish(topic, 1, true, payload))
	}
	if !o.Uplink {
		if t := o.publishOpenAlarms(context.Background(), client); t != nil {
			tokens = append(tokens, t)
		}
	}
	if o.lastStorage != nil {
		tokens = append(tokens, client.Publish(o.topics().Storage(), 1, true, o.lastStorage))
	}
	if c, ok, err := o.Store.LastCheckpoint(context.Background()); err == nil && ok {
		// The one signed at the last shutdown goes out now.
		b, _ := json.Marshal(c)
		tokens = append(tokens, client.Publish(o.topics().Checkpoints(), 1, true, b))
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
