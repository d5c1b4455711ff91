package remote

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	"github.com/coreos/go-systemd/v22/daemon"
	paho "github.com/eclipse/paho.mqtt.golang"

	"github.com/sekisho/sekisho/firmware-bridge/board"
	"github.com/sekisho/sekisho/firmware-bridge/bridge"
	"github.com/sekisho/sekisho/firmware-bridge/mqttlink"
)

// Defaults for a door Pi's patience with the network.
const (
	// DefaultOfflineAfter: a link down this long means decide alone; a
	// shorter blip only delays a card until the link is back.
	DefaultOfflineAfter = 3 * time.Second
	// DefaultDecisionTimeout: how long a card waits for the controller's
	// answer over a live link before the bridge decides alone, until a
	// snapshot says otherwise (the site's access.decision_timeout).
	DefaultDecisionTimeout = time.Second
)

// Daemon runs a door Pi: its board's doors, and the link to the controller.
type Daemon struct {
	ID     string // this bridge's id, e.g. door-pi-3
	Prefix string // the site's topic prefix, e.g. sekisho/hamamatsu-press
	Broker Broker
	// Enrolment holds the controller's key, which every command and
	// snapshot must be signed with, and this door Pi's own keys.
	Enrolment *Enrolment
	Board     *board.File
	Open      board.Opener // the Pi's pins, or simulated ones
	// DataDir keeps the outbox and the last snapshot.
	DataDir      string
	OfflineAfter time.Duration
	Log          *slog.Logger
	// Asked, when set, hears how long each card asked of the controller
	// waited for its answer (answered false: it was decided alone after
	// the decision timeout). It is called from the card's goroutine.
	Asked func(reader string, took time.Duration, answered bool)

	// ready is closed once the doors run (tests wait on it).
	ready     chan struct{}
	readyOnce sync.Once

	outbox   *Outbox
	client   paho.Client
	local    *bridge.Local
	verifier *Verifier

	mu             sync.Mutex
	cards          *Cards
	onDisk         *Cards // the cards read from disk at start
	want           string // what the next held message asks for
	connected      bool
	controllerUp   bool
	downSince      time.Time
	waiting        map[string]chan struct{} // envelope id → the controller answered that card
	refused        map[string]*Refused      // reported at most once a refusalEvery per kind and reason
	changed        chan struct{}            // wakes the publisher
	linkChanged    chan struct{}            // closed and replaced when the link goes up or down
	snapshotArrive chan struct{}
	cardsIn        chan []byte   // the cards topic, in the order paho hands it over
	keepWake       chan struct{} // something to keep or acknowledge
	connectedAgain chan struct{} // a new broker session: say what is held again

	// Every goroutine the daemon starts is owned by Run: started through
	// spawn, waited for before the outbox closes.
	ctx      context.Context
	ownMu    sync.Mutex
	stopping bool
	owned    sync.WaitGroup
}

// spawn runs f on a goroutine Run waits for; none starts once Run stops.
func (d *Daemon) spawn(f func(ctx context.Context)) {
	d.ownMu.Lock()
	defer d.ownMu.Unlock()
	if d.stopping {
		return
	}
	d.owned.Add(1)
	go func() {
		defer d.owned.Done()
		f(d.ctx)
	}()
}

// stopOwned waits for every goroutine spawn started.
func (d *Daemon) stopOwned() {
	d.ownMu.Lock()
	d.stopping = true
	d.ownMu.Unlock()
	d.owned.Wait()
}

// Ready is closed once the doors are locked and listened to.
func (d *Daemon) Ready() <-chan struct{} {
	d.readyOnce.Do(func() { d.ready = make(chan struct{}) })
	return d.ready
}

func (d *Daemon) topic(leaf string) string {
	return mqttlink.Topics{Prefix: d.Prefix}.Bridge(d.ID, leaf)
}

// Run runs the door Pi until ctx ends.
func (d *Daemon) Run(ctx context.Context) error {
	d.Ready()
	if d.OfflineAfter <= 0 {
		d.OfflineAfter = DefaultOfflineAfter
	}
	if d.Enrolment == nil {
		return errors.New("remote: no enrolment: this door Pi cannot tell its controller from anyone else on the broker")
	}
	if d.Log == nil {
		d.Log = slog.Default()
	}
	d.Log = d.Log.With("bridge", d.ID)
	d.waiting = map[string]chan struct{}{}
	d.refused = map[string]*Refused{}
	d.verifier = &Verifier{Key: d.Enrolment.ControllerKey, Bridge: d.ID}
	d.changed = make(chan struct{}, 1)
	d.linkChanged = make(chan struct{})
	d.snapshotArrive = make(chan struct{}, 1)
	d.cardsIn = make(chan []byte, 256)
	d.keepWake = make(chan struct{}, 1)
	d.connectedAgain = make(chan struct{}, 1)
	d.downSince = time.Now()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	d.ctx = ctx

	ob, err := OpenOutbox(ctx, filepath.Join(d.DataDir, "bridge-"+d.ID+".db"))
	if err != nil {
		return err
	}
	defer ob.Close()
	d.outbox = ob
	defer d.stopOwned() // before the outbox closes: nothing writes to a closed one
	// What was kept is checked like what arrives: a file swapped onto the
	// Pi's SD card is no set of cards.
	fromDisk := false
	if c, err := d.readKept(ctx); err != nil {
		d.Log.Warn("kept cards refused", "err", err)
	} else if c != nil {
		d.mu.Lock()
		d.cards, d.onDisk, fromDisk = c, c, true
		d.mu.Unlock()
		d.Log.Info("using the kept cards until the controller sends newer", "version", c.Version())
	}
	if kept, err := ob.Kept(ctx, "command_seq"); err == nil && kept != "" {
		if seq, err := strconv.ParseInt(kept, 10, 64); err == nil {
			d.verifier.Resume(KindCommand, seq)
		}
	}

	opts, err := d.clientOptions()
	if err != nil {
		return err
	}
	d.client = paho.NewClient(opts)
	d.spawn(d.keeper)
	d.spawn(d.cardsLoop)
	d.spawn(d.flushRefusals)
	d.client.Connect()
	defer func() {
		if d.client.IsConnectionOpen() {
			d.client.Publish(d.topic("status"), 1, true, "offline").WaitTimeout(time.Second)
		}
		d.client.Disconnect(250)
	}()
	defer cancel() // first of all: every owned goroutine winds down

	// The doors are built from the snapshot: until one arrives, the pins stay
	// as the hardware holds them (strikes off, so fail-secure doors locked).
	snap, err := d.awaitSnapshot(ctx)
	if err != nil || snap == nil {
		return err
	}
	local, err := bridge.NewLocal(snap.layout(), &board.Hardware{File: d.Board, Open: d.Open, Binding: snap.binding()})
	if err != nil && fromDisk {
		// Kept for another board, or before the doors moved: the
		// controller's cards say how this board is wired now.
		d.setAside(ctx, err)
		if snap, err = d.awaitSnapshot(ctx); err != nil || snap == nil {
			return err
		}
		local, err = bridge.NewLocal(snap.layout(), &board.Hardware{File: d.Board, Open: d.Open, Binding: snap.binding()})
	}
	if err != nil {
		return fmt.Errorf("remote: %w", err)
	}
	local.Log = d.Log
	d.mu.Lock()
	d.local = local // read by paho's goroutines (commands, cards) from now on
	d.mu.Unlock()

	var wg sync.WaitGroup
	errs := make(chan error, 2)
	wg.Add(2)
	go func() {
		defer wg.Done()
		if err := local.Run(ctx, func(s bridge.Signal) { d.sensed(ctx, s) }); err != nil {
			errs <- err
			cancel()
		}
	}()
	go func() {
		defer wg.Done()
		d.publishLoop(ctx)
	}()
	select {
	case <-local.Ready():
		close(d.ready)
		wg.Add(1)
		go func() {
			defer wg.Done()
			d.watchSignals(ctx)
		}()
	case <-ctx.Done():
	}
	wg.Wait()
	_, _ = daemon.SdNotify(false, daemon.SdNotifyStopping)
	close(errs)
	return <-errs
}

// watchSignals tells systemd (Type=notify) the doors are up, and feeds its
// watchdog only while the doors' signals reach the daemon: stuck on one
// with others waiting, it locks every door and stops feeding, and systemd
// restarts the door Pi's service. Outside systemd it does nothing.
func (d *Daemon) watchSignals(ctx context.Context) {
	if _, err := daemon.SdNotify(false, daemon.SdNotifyReady); err != nil {
		d.Log.Warn("systemd notification failed", "err", err)
	}
	limit, err := daemon.SdWatchdogEnabled(false)
	if err != nil || limit <= 0 {
		return
	}
	tick := time.NewTicker(limit / 3)
	defer tick.Stop()
	hung := false
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		if d.local.Progressing() {
			hung = false
			_, _ = daemon.SdNotify(false, daemon.SdNotifyWatchdog)
			continue
		}
		if !hung {
			hung = true
			d.Log.Error("the doors' signals are not handled; every door locked; systemd's watchdog will restart the door Pi")
			for _, door := range d.current().Header.Doors {
				if err := d.local.Lock(door.ID); err != nil {
					d.Log.Error("lock with signals stuck", "door", door.ID, "err", err)
				}
			}
		}
	}
}

func (d *Daemon) clientOptions() (*paho.ClientOptions, error) {
	b := d.Broker
	if len(b.CAPEM) == 0 && b.CAFile == "" && d.Enrolment.BrokerCA != "" {
		b.CAPEM = []byte(d.Enrolment.BrokerCA)
	}
	opts, err := b.ClientOptions("sekisho-bridge-"+d.ID, mqttlink.RetryDoor)
	if err != nil {
		return nil, fmt.Errorf("remote: %w", err)
	}
	opts.SetOrderMatters(false). // handlers only hand over; see below
					SetWill(d.topic(mqttlink.LeafStatus), "offline", 1, true)
	opts.SetOnConnectHandler(func(c paho.Client) {
		// Subscriptions are made again on each connect (clean session).
		c.Subscribe(d.topic(mqttlink.LeafCommands), 1, d.onCommand)
		c.Subscribe(d.topic(mqttlink.LeafCards), 1, d.onCards)
		c.Subscribe(d.topic(mqttlink.LeafLink), 1, d.onControllerLink)
		c.Publish(d.topic(mqttlink.LeafStatus), 1, true, "online")
		select {
		case d.connectedAgain <- struct{}{}:
		default:
		}
		d.setLink(true, nil)
	})
	opts.SetConnectionLostHandler(func(_ paho.Client, err error) {
		d.Log.Warn("broker lost; deciding from the snapshot if it stays away", "err", err)
		d.setLink(false, nil)
	})
	return opts, nil
}

// setLink records the broker connection or the controller's status.
func (d *Daemon) setLink(connected bool, controllerUp *bool) {
	d.mu.Lock()
	wasUp := d.connected && d.controllerUp
	if controllerUp != nil {
		d.controllerUp = *controllerUp
	} else {
		d.connected = connected
		if !connected {
			d.controllerUp = false // unknown until its status comes again
		}
	}
	up := d.connected && d.controllerUp
	if wasUp && !up {
		d.downSince = time.Now()
	}
	if wasUp != up {
		close(d.linkChanged)
		d.linkChanged = make(chan struct{})
	}
	d.mu.Unlock()
	d.poke()
}

func (d *Daemon) poke() {
	select {
	case d.changed <- struct{}{}:
	default:
	}
}

func (d *Daemon) linkUp() (up bool, downFor time.Duration, changed <-chan struct{}) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.connected && d.controllerUp {
		return true, 0, d.linkChanged
	}
	return false, time.Since(d.downSince), d.linkChanged
}

// onControllerLink hears whether the controller is subscribed to this
// bridge (retained "up", last will "down").
func (d *Daemon) onControllerLink(_ paho.Client, m paho.Message) {
	up := string(m.Payload()) == "up"
	d.setLink(true, &up)
	if up {
		// A controller (re)started behind a broker that stayed up has not
		// heard what this Pi holds.
		select {
		case d.connectedAgain <- struct{}{}:
		default:
		}
	}
}

func (d *Daemon) awaitSnapshot(ctx context.Context) (*Snapshot, error) {
	for {
		if c := d.current(); c != nil {
			return c.Header, nil
		}
		d.Log.Info("waiting for the controller's snapshot before driving any door")
		select {
		case <-ctx.Done():
			return nil, nil
		case <-d.snapshotArrive:
		}
	}
}

// Snapshot is the cards the bridge decides from, as one snapshot, if any.
func (d *Daemon) Snapshot() *Snapshot {
	if c := d.current(); c != nil {
		return c.Snapshot()
	}
	return nil
}

// Held is the version of the cards the bridge decides from ("" for none).
func (d *Daemon) Held() string { return d.current().Version() }

// doors is the door Pi's running doors, nil until they run.
func (d *Daemon) doors() *bridge.Local {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.local
}

func (d *Daemon) current() *Cards {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.cards
}

// onCommand runs on paho's goroutine: it only touches pins and channels,
// never publishes or waits (the classic ping-timeout deadlock).
func (d *Daemon) onCommand(_ paho.Client, m paho.Message) {
	signed, err := d.verifier.Open(m.Payload(), KindCommand, time.Now())
	if err != nil {
		d.refuse(KindCommand, err)
		return
	}
	d.keepCards() // the keeper keeps the seq obeyed, so a restart does not obey it again
	var c Command
	if err := json.Unmarshal(signed.Body, &c); err != nil {
		d.refuse(KindCommand, fmt.Errorf("signed but not a command: %w", err))
		return
	}
	local := d.doors()
	if local == nil {
		return
	}
	switch c.Op {
	case OpUnlock:
		door := d.current().door(c.Door)
		if door == nil {
			err = fmt.Errorf("door %q is not this door Pi's", c.Door)
			break
		}
		// No command holds a strike longer than the door's own pulse.
		pulse := time.Duration(min(max(c.PulseMS, 0), door.PulseMS)) * time.Millisecond
		err = local.Unlock(c.Door, pulse)
	case OpLock:
		err = local.Lock(c.Door)
	case OpFeedback:
		err = local.Feedback(c.Reader, "", c.Granted, time.Duration(min(max(c.PulseMS, 0), 10_000))*time.Millisecond)
		d.answered(c.About)
	default:
		err = fmt.Errorf("unknown op %q", c.Op)
	}
	if err != nil {
		d.Log.Warn("command failed", "op", c.Op, "err", err)
	}
}
