package site_test

import (
	"context"
	"crypto/ed25519"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"
	"periph.io/x/conn/v3/gpio"

	"github.com/sekisho/sekisho/controller/config"
	"github.com/sekisho/sekisho/controller/event"
	"github.com/sekisho/sekisho/controller/site"
	"github.com/sekisho/sekisho/controller/sitekeys"
	"github.com/sekisho/sekisho/controller/store"
	"github.com/sekisho/sekisho/controller/testtool"
	"github.com/sekisho/sekisho/firmware-bridge/board"
	"github.com/sekisho/sekisho/firmware-bridge/remote"
	"github.com/sekisho/sekisho/firmware-bridge/simhw"
	"github.com/sekisho/sekisho/firmware-bridge/wiegand"
)

// The press door and the development room are on a door Pi that talks to
// the controller only through a real Mosquitto: once as a daemon in this
// test's process, once as the firmware-bridge binary in its own. The broker
// goes away for a while; the door Pi keeps granting from its snapshot and
// denying the rest, and when the broker is back every event reaches the
// controller's log once and in order, marked as the bridge's decisions.
func TestDoorPiRidesOutABrokerOutage(t *testing.T) {
	t.Parallel()
	t.Run("in-process", func(t *testing.T) {
		m := testtool.StartMosquitto(t)
		ts, e := startSiteWithDoorPi(t, m.URL, onDoorPi)
		ts.addCardholder("Remote Operator", []string{"press-operators"}, 50, 1)
		rideOutOutage(t, ts, m, startDaemon(t, ts, e, m.URL))
	})
	t.Run("own-process", func(t *testing.T) {
		m := testtool.StartMosquitto(t)
		ts, e := startSiteWithDoorPi(t, m.URL, onDoorPi)
		ts.addCardholder("Remote Operator", []string{"press-operators"}, 50, 1)
		rideOutOutage(t, ts, m, startBridgeProcess(t, ts, e, m.URL))
	})
}

// startSiteWithDoorPi starts the site with door-pi-1 enrolled, as
// `controller bridge enroll` would before the controller's first start.
func startSiteWithDoorPi(t *testing.T, brokerURL string, tweaks ...func(*config.Config)) (*testSite, *remote.Enrolment) {
	t.Helper()
	var e *remote.Enrolment
	first := []func(*config.Config){func(cfg *config.Config) { cfg.Access.DecisionTimeout = 500 * time.Millisecond }}
	if brokerURL != "" {
		first = append(first, func(cfg *config.Config) {
			cfg.MQTT.Embedded = nil
			cfg.MQTT.External = &config.ExternalBroker{URL: brokerURL}
		})
	}
	tweaks = append(first, tweaks...)
	ts := startSiteWith(t, func(o *site.Options) { e = enrol(t, o.DataDir, "door-pi-1") }, tweaks...)
	e.Prefix = ts.Config.MQTT.TopicPrefix
	return ts, e
}

// enrol makes door Pi id's keys and records them in dataDir.
func enrol(t *testing.T, dataDir, id string) *remote.Enrolment {
	t.Helper()
	key, err := sitekeys.Controller(dataDir)
	if err != nil {
		t.Fatal(err)
	}
	e, err := remote.NewEnrolment(id, "hamamatsu-press", "sekisho/hamamatsu-press", key.Public().(ed25519.PublicKey))
	if err != nil {
		t.Fatal(err)
	}
	if err := sitekeys.SaveBridge(dataDir, id, e.BoxPublic); err != nil {
		t.Fatal(err)
	}
	return e
}

// onDoorPi moves the press and development doors onto door-pi-1.
func onDoorPi(cfg *config.Config) {
	for i, d := range cfg.Doors {
		switch d.ID {
		case "press-door":
			cfg.Doors[i].Bridge, cfg.Doors[i].Slot = "door-pi-1", "door-1"
			cfg.Doors[i].Strike.Pulse = 3 * time.Second // only the door closing relocks it
			cfg.Doors[i].Readers.Inside = ""            // the reference board wires one reader per door
		case "dev-door":
			cfg.Doors[i].Bridge, cfg.Doors[i].Slot = "door-pi-1", "door-2"
			cfg.Doors[i].Readers.Inside = ""
		}
	}
}

// doorPi is the press door's hardware on a door Pi, however it runs.
type doorPi interface {
	swipe(t *testing.T, facility, number uint64)
	strike(t *testing.T) (high bool, changes int)
	setOpen(t *testing.T, open bool)
}

// daemonPi is the door-Pi daemon run inside the test, on simulated pins.
type daemonPi struct{ pins *board.SimPins }

func startDaemon(t *testing.T, ts *testSite, e *remote.Enrolment, brokerURL string, tweaks ...func(*remote.Daemon)) doorPi {
	f, err := board.Load("../../hardware/pi-reference.yaml")
	if err != nil {
		t.Fatal(err)
	}
	pins := board.NewSimPins(f)
	d := &remote.Daemon{
		ID: "door-pi-1", Prefix: ts.Config.MQTT.TopicPrefix, Broker: remote.Broker{URL: brokerURL}, Enrolment: e,
		Board: f, Open: pins.Open, DataDir: t.TempDir(),
		OfflineAfter: 500 * time.Millisecond,
		Log:          slog.New(slog.NewTextHandler(os.Stderr, nil)),
	}
	for _, tweak := range tweaks {
		tweak(d)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	})
	select {
	case <-d.Ready():
	case <-time.After(30 * time.Second):
		t.Fatal("the door Pi never got its snapshot")
	}
	waitFor(t, "the cardholder in the door Pi's snapshot", func() bool {
		s := d.Snapshot()
		if s == nil {
			return false
		}
		for _, c := range s.Cards {
			if c.Facility == 50 && c.Number == 1 {
				return true
			}
		}
		return false
	})
	return daemonPi{pins}
}

func (p daemonPi) swipe(t *testing.T, fc, cn uint64) {
	t.Helper()
	reader := &simhw.Reader{ID: "r-press-out", D0: p.pins.Pin("GPIO5"), D1: p.pins.Pin("GPIO6")}
	b, _ := wiegand.Encode(wiegand.FormatH10301, fc, cn)
	if err := reader.Send(context.Background(), b); err != nil {
		t.Fatal(err)
	}
}

func (p daemonPi) strike(*testing.T) (bool, int) {
	s := p.pins.Pin("GPIO17")
	return s.Read() == gpio.High, s.Changes()
}

func (p daemonPi) setOpen(t *testing.T, open bool) {
	if err := (&simhw.Door{Contact: p.pins.Pin("GPIO22")}).SetOpen(context.Background(), open); err != nil {
		t.Fatal(err)
	}
}

// processPi is the firmware-bridge binary, built as an installer builds it
// and run with --sim, its doors worked over its --sim-http controls.
type processPi struct{ base string }

func startBridgeProcess(t *testing.T, ts *testSite, e *remote.Enrolment, brokerURL string) doorPi {
	bin := testtool.Build(t, "github.com/sekisho/sekisho/firmware-bridge")
	addr := fmt.Sprintf("127.0.0.1:%d", testtool.FreePort(t))
	enrolment := filepath.Join(t.TempDir(), "door-pi-1.enrollment")
	if err := e.Write(enrolment); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "--board", "../../hardware/pi-reference.yaml", "--mqtt", brokerURL, "--enrollment", enrolment,
		"--data-dir", t.TempDir(), "--sim", "--sim-http", addr,
		"--offline-after", "500ms")
	logs := &testtool.SyncBuffer{}
	cmd.Stderr = logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		cmd.Process.Signal(os.Interrupt) // a clean stop: the strike locks, the outbox closes
		select {
		case err := <-exited:
			if err != nil {
				t.Errorf("firmware-bridge exited: %v\n%s", err, logs)
			}
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			t.Errorf("firmware-bridge did not stop on SIGINT\n%s", logs)
		}
	})
	// Its snapshot carries the cardholder, who was on file before it started.
	waitFor(t, "the door Pi's snapshot", func() bool { return strings.Contains(logs.String(), `msg="credential snapshot"`) })
	return processPi{base: "http://" + addr}
}

func (p processPi) post(t *testing.T, path, body string) {
	t.Helper()
	res, err := http.Post(p.base+path, "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusAccepted {
		t.Fatalf("%s: %d", path, res.StatusCode)
	}
}

func (p processPi) swipe(t *testing.T, fc, cn uint64) {
	p.post(t, "/sim/slots/door-1/wiegand", fmt.Sprintf(`{"format":"H10301","facility":%d,"number":%d}`, fc, cn))
}

func (p processPi) strike(t *testing.T) (bool, int) {
	res, err := http.Get(p.base + "/sim/slots/door-1/strike")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var s struct {
		Level   string
		Changes int
	}
	if err := json.NewDecoder(res.Body).Decode(&s); err != nil {
		t.Fatal(err)
	}
	return s.Level == "high", s.Changes
}

func (p processPi) setOpen(t *testing.T, open bool) {
	p.post(t, "/sim/slots/door-1/contact", fmt.Sprintf(`{"open":%v}`, open))
}

func rideOutOutage(t *testing.T, ts *testSite, m *testtool.Mosquitto, pi doorPi) {
	live := ts.stream()
	high := func() bool { h, _ := pi.strike(t); return h }

	// Link up: the controller decides.
	pi.swipe(t, 50, 1)
	ev := await(t, live, "live grant", func(ev event.Event) bool { return ev.Type == event.AccessGranted && ev.Door == "press-door" })
	if ev.DecidedBy != "" {
		t.Fatalf("live grant decided by %q", ev.DecidedBy)
	}
	waitFor(t, "the strike to move", func() bool { _, n := pi.strike(t); return n >= 2 })
	waitFor(t, "relock", func() bool { return !high() })
	await(t, live, "the live relock in the log", func(ev event.Event) bool { return ev.Type == event.DoorLocked && ev.Door == "press-door" })

	// The broker goes away.
	head := ts.Store.Head()
	m.Stop()
	time.Sleep(time.Second)
	pi.swipe(t, 50, 1) // granted from the snapshot
	waitFor(t, "the strike to move without the controller", high)
	pi.setOpen(t, true) // walked through...
	time.Sleep(200 * time.Millisecond)
	pi.setOpen(t, false) // ...and closed: relocked at once
	waitFor(t, "relock on close", func() bool { return !high() })
	pi.swipe(t, 99, 9999) // unknown: denied
	time.Sleep(300 * time.Millisecond)

	m.Start(t, testtool.Need(t, "mosquitto", "/usr/sbin/mosquitto"))
	waitFor(t, "the outage's events in the log", func() bool {
		evs, _ := ts.Store.Events(context.Background(), store.Filter{Door: "press-door", Reason: event.ReasonUnknownCredential})
		return len(evs) >= 1
	})
	time.Sleep(500 * time.Millisecond) // let any duplicate deliveries land too

	evs, err := ts.Store.After(context.Background(), 0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	ids := map[string]int{}
	var story []string
	for _, ev := range evs {
		ids[ev.ID]++
		// The door's own story; the press camera's stills ride beside it.
		if ev.Seq > head && ev.Door == "press-door" && !strings.HasPrefix(ev.Type, "camera.") {
			story = append(story, ev.Type+" "+ev.Reason+" "+ev.DecidedBy)
		}
	}
	for id, n := range ids {
		if n != 1 {
			t.Fatalf("event %s logged %d times", id, n)
		}
	}
	want := []string{
		"access.granted  bridge",
		"door.unlocked  ",
		"door.opened  ",
		"door.closed  ",
		"door.locked  ",
		"access.denied unknown_credential bridge",
	}
	if strings.Join(story, "|") != strings.Join(want, "|") {
		for _, ev := range evs {
			if ev.Seq > head-3 {
				t.Logf("seq %d %s %s %s %s by=%q id=%s", ev.Seq, ev.Time.Format("15:04:05.000"), ev.Door, ev.Type, ev.Reason, ev.DecidedBy, ev.ID)
			}
		}
		t.Fatalf("the outage in the log:\n%q\nwant, once each and in this order:\n%q", story, want)
	}
	if v, _ := ts.Store.Verify(context.Background()); !v.OK {
		t.Fatalf("chain %+v", v)
	}
}

// With users on the embedded broker, only they get in, and a door Pi may
// touch only its own topics.
func TestEmbeddedBrokerAuthenticatesDoorPis(t *testing.T) {
	// Not in parallel: its door Pi runs under a systemd of the test's (NOTIFY_SOCKET).
	const secret = "correct horse battery"
	ts, e := startSiteWithDoorPi(t, "", func(cfg *config.Config) {
		cfg.MQTT.Embedded.Users = []config.BrokerUser{{Username: "door-pi-1", Password: secret}, {Username: "hass", Password: "home assistant ok"}}
		for i, d := range cfg.Doors {
			if d.ID == "press-door" {
				cfg.Doors[i].Bridge, cfg.Doors[i].Slot, cfg.Doors[i].Readers.Inside = "door-pi-1", "door-1", ""
			}
		}
	})
	connect := func(user, pass string) (paho.Client, error) {
		c := paho.NewClient(paho.NewClientOptions().AddBroker(ts.MQTTURL()).
			SetClientID("probe-" + store.NewSecret(4)).SetUsername(user).SetPassword(pass))
		tok := c.Connect()
		if !tok.WaitTimeout(5 * time.Second) {
			return nil, context.DeadlineExceeded
		}
		return c, tok.Error()
	}
	for _, cred := range [][2]string{{"", ""}, {"door-pi-1", "wrong password!"}, {"mallory", secret}} {
		if c, err := connect(cred[0], cred[1]); err == nil {
			c.Disconnect(10)
			t.Fatalf("%q with %q got in", cred[0], cred[1])
		}
	}
	pi, err := connect("door-pi-1", secret)
	if err != nil {
		t.Fatalf("door-pi-1: %v", err)
	}
	defer pi.Disconnect(10)
	// Another bridge's cards (PIN hashes) are not for this one.
	sub := pi.Subscribe(ts.Config.MQTT.TopicPrefix+"/bridges/door-pi-2/cards", 1, nil)
	sub.WaitTimeout(5 * time.Second)
	if granted := sub.(*paho.SubscribeToken).Result(); granted[ts.Config.MQTT.TopicPrefix+"/bridges/door-pi-2/cards"] < 0x80 {
		t.Fatalf("door-pi-1 may read door-pi-2's cards: %v", granted)
	}
	pi.Disconnect(10)

	// The door Pi runs under a systemd of the test's.
	systemd := fakeSystemd(t, 600*time.Millisecond)
	f, _ := board.Load("../../hardware/pi-reference.yaml")
	pins := board.NewSimPins(f)
	d := &remote.Daemon{ID: "door-pi-1", Prefix: ts.Config.MQTT.TopicPrefix, Enrolment: e,
		Broker: remote.Broker{URL: ts.MQTTURL(), Username: "door-pi-1", Password: secret},
		Board:  f, Open: pins.Open, DataDir: t.TempDir(), Log: slog.New(slog.NewTextHandler(os.Stderr, nil))}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx) }()
	defer func() { cancel(); <-done }()
	select {
	case <-d.Ready():
	case <-time.After(10 * time.Second):
		t.Fatal("the door Pi with the right password got no snapshot")
	}
	live := ts.stream()
	reader := &simhw.Reader{ID: "r-press-out", D0: pins.Pin("GPIO5"), D1: pins.Pin("GPIO6")}
	b, _ := wiegand.Encode(wiegand.FormatH10301, 12, 345) // Sato, a demo press operator
	if err := reader.Send(context.Background(), b); err != nil {
		t.Fatal(err)
	}
	ev := await(t, live, "grant through the authenticated door Pi", func(ev event.Event) bool { return ev.Door == "press-door" && ev.Type == event.AccessGranted })
	if ev.DecidedBy != "" {
		t.Fatalf("decided by %q with the link up", ev.DecidedBy)
	}
	// systemd heard the door Pi come up and is fed while its signals flow.
	systemd.next("READY=1")
	systemd.next("WATCHDOG=1")
	// Prometheus sees the door Pi online.
	waitFor(t, "the door Pi online in the metrics", func() bool {
		res, err := http.Get(ts.base + "/metrics")
		if err != nil {
			return false
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return strings.Contains(string(b), `sekisho_bridge_online{bridge="door-pi-1"} 1`)
	})
}
