package site_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"
	"periph.io/x/conn/v3/gpio"

	"github.com/sekisho/sekisho/controller/config"
	"github.com/sekisho/sekisho/controller/demo"
	"github.com/sekisho/sekisho/controller/event"
	"github.com/sekisho/sekisho/controller/store"
	"github.com/sekisho/sekisho/controller/testtool"
	"github.com/sekisho/sekisho/firmware-bridge/simhw"
)

func TestBadgeToRelayLogMQTTAndStream(t *testing.T) {
	t.Parallel()
	ts := startSite(t, "")
	badgePath(t, ts, ts.MQTTURL())
}

func TestBadgeToMosquitto(t *testing.T) {
	t.Parallel()
	m := testtool.StartMosquitto(t)
	ts := startSite(t, m.URL)
	badgePath(t, ts, m.URL)
}

// badgePath is the walking skeleton: a card known in SQLite opens the
// press door; an unknown one does not; both reach SQLite, MQTT and the stream.
func badgePath(t *testing.T, ts *testSite, brokerURL string) {
	mqttEvents := subscribe(t, brokerURL, "sekisho/hamamatsu-press/events")
	live := ts.stream()
	pid := ts.addCardholder("Test Operator", []string{"press-operators"}, 42, 4242)
	strike := ts.Sim.Door("press-door").Strike

	ts.swipe("r-press-out", 42, 4242)
	isGrant := func(ev event.Event) bool {
		return ev.Type == event.AccessGranted && ev.Person != nil && ev.Person.ID == pid
	}
	fromMQTT := await(t, mqttEvents, "access.granted on MQTT", isGrant)
	fromStream := await(t, live, "access.granted on the stream", isGrant)
	if fromMQTT.ID != fromStream.ID || fromMQTT.Seq != fromStream.Seq || fromMQTT.Hash == "" {
		t.Fatalf("MQTT %s/%d and stream %s/%d differ", fromMQTT.ID, fromMQTT.Seq, fromStream.ID, fromStream.Seq)
	}
	if fromMQTT.Door != "press-door" || fromMQTT.ZoneTo != "die-press" || fromMQTT.Credential.Number != 4242 {
		t.Fatalf("granted event %+v", fromMQTT)
	}
	assertLogged(t, ts, fromMQTT)

	// The strike went High for its pulse, then Low by itself.
	waitFor(t, "strike relock", func() bool { return len(strike.History()) >= 3 })
	h := strike.History()
	if len(h) != 3 || h[0].Level != gpio.Low || h[1].Level != gpio.High || h[2].Level != gpio.Low {
		t.Fatalf("strike history %v, want Low (boot) High Low", levels(h))
	}
	if held := h[2].At.Sub(h[1].At); held < 400*time.Millisecond || held > 2*time.Second {
		t.Fatalf("strike held %v for a 400ms pulse", held)
	}

	// An unknown card: denied, logged, published, and the strike never moves.
	ts.swipe("r-press-out", 99, 9999)
	isDenial := func(ev event.Event) bool {
		return ev.Type == event.AccessDenied && ev.Credential != nil && ev.Credential.Number == 9999
	}
	denied := await(t, mqttEvents, "access.denied on MQTT", isDenial)
	streamed := await(t, live, "access.denied on the stream", isDenial)
	if denied.Reason != event.ReasonUnknownCredential || denied.ID != streamed.ID || denied.Seq != streamed.Seq {
		t.Fatalf("denial %+v / stream %+v", denied, streamed)
	}
	assertLogged(t, ts, denied)
	if got := len(strike.History()); got != 3 {
		t.Fatalf("strike moved for an unknown card: %v", levels(strike.History()))
	}
}

func assertLogged(t *testing.T, ts *testSite, want event.Event) {
	t.Helper()
	evs, err := ts.Store.Events(context.Background(), store.Filter{Type: want.Type, Limit: 50})
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, ev := range evs {
		if ev.ID == want.ID {
			found = ev.Seq == want.Seq && ev.Hash == want.Hash && ev.PrevHash == want.PrevHash
		}
	}
	if !found {
		t.Fatalf("event %s seq %d not in SQLite as published", want.ID, want.Seq)
	}
	v, err := ts.Store.Verify(context.Background())
	if err != nil || !v.OK {
		t.Fatalf("chain: %+v %v", v, err)
	}
}

func TestDoorRelocksWhenItClosesBehindThePerson(t *testing.T) {
	t.Parallel()
	// A long pulse, so only the door closing can explain a quick relock.
	ts := startSite(t, "", func(cfg *config.Config) { cfg.Doors[1].Strike.Pulse = time.Minute })
	ts.addCardholder("Walker", []string{"staff"}, 42, 1)
	live := ts.stream()
	door := ts.Sim.Door("floor-door")
	ctx := context.Background()

	ts.swipe("r-floor-out", 42, 1)
	await(t, live, "door.unlocked", func(ev event.Event) bool { return ev.Type == event.DoorUnlocked && ev.Door == "floor-door" })
	if err := door.SetOpen(ctx, true); err != nil {
		t.Fatal(err)
	}
	await(t, live, "door.opened", func(ev event.Event) bool { return ev.Type == event.DoorOpened && ev.Door == "floor-door" })
	if err := door.SetOpen(ctx, false); err != nil {
		t.Fatal(err)
	}
	await(t, live, "door.closed", func(ev event.Event) bool { return ev.Type == event.DoorClosed })
	locked := await(t, live, "door.locked", func(ev event.Event) bool { return ev.Type == event.DoorLocked && ev.Door == "floor-door" })
	if h := door.Strike.History(); h[len(h)-1].Level != gpio.Low {
		t.Fatalf("strike %v", levels(h))
	}
	if st, _ := ts.Doors.Get("floor-door"); !st.Locked || st.Open || st.Alarm != "" {
		t.Fatalf("door state %+v after %s", st, locked.Type)
	}
}

func TestForcedDoorAndREX(t *testing.T) {
	t.Parallel()
	ts := startSite(t, "")
	live := ts.stream()
	door := ts.Sim.Door("dev-door")
	ctx := context.Background()

	// Opened with nothing letting it open: forced, an alarm.
	if err := door.SetOpen(ctx, true); err != nil {
		t.Fatal(err)
	}
	forced := await(t, live, "door.forced", func(ev event.Event) bool { return ev.Type == event.DoorForced })
	if forced.Alarm == nil || forced.Door != "dev-door" {
		t.Fatalf("forced %+v", forced)
	}
	if st, _ := ts.Doors.Get("dev-door"); st.Alarm != "forced" {
		t.Fatalf("state %+v", st)
	}
	door.SetOpen(ctx, false)
	await(t, live, "door.closed", func(ev event.Event) bool { return ev.Type == event.DoorClosed })

	// The exit button unlocks for egress and never raises forced.
	if err := door.PressREX(ctx); err != nil {
		t.Fatal(err)
	}
	await(t, live, "door.rex", func(ev event.Event) bool { return ev.Type == event.DoorREX })
	await(t, live, "door.unlocked", func(ev event.Event) bool { return ev.Type == event.DoorUnlocked && ev.Door == "dev-door" })
	door.SetOpen(ctx, true)
	ev := await(t, live, "door.opened", func(ev event.Event) bool { return ev.Type == event.DoorOpened || ev.Type == event.DoorForced })
	if ev.Type != event.DoorOpened {
		t.Fatalf("REX exit raised %s", ev.Type)
	}
}

func TestGarbledFrameIsAnEvent(t *testing.T) {
	t.Parallel()
	ts := startSite(t, "")
	live := ts.stream()
	if code := ts.call("POST", "/api/sim/readers/r-dev-out/wiegand", map[string]any{"bits": "10101010101010101010101011"}, nil); code != http.StatusAccepted {
		t.Fatalf("swipe %d", code)
	}
	ev := await(t, live, "bad_frame", func(ev event.Event) bool { return ev.Reason == event.ReasonBadFrame })
	if ev.Type != event.AccessDenied || ev.Detail["bits"] != "10101010101010101010101011" || ev.Door != "dev-door" {
		t.Fatalf("bad frame %+v", ev)
	}
	if got := len(ts.Sim.Door("dev-door").Strike.History()); got != 1 {
		t.Fatal("strike moved for a garbled frame")
	}
}

// waitFor waits until ok holds. The deadline is generous: a race-checked
// run beside other packages' tests on two cores is slow, and a passing
// condition returns at once.
func waitFor(t *testing.T, what string, ok func() bool) {
	t.Helper()
	waitForUpTo(t, 30*time.Second, what, ok)
}

// waitForUpTo is waitFor with a deadline of the caller's.
func waitForUpTo(t *testing.T, limit time.Duration, what string, ok func() bool) {
	t.Helper()
	testtool.WaitFor(t, limit, what, ok)
}

func levels(h []simhw.Change) []string {
	out := make([]string, len(h))
	for i, c := range h {
		out[i] = c.Level.String()
	}
	return out
}

func TestStatusAndRetainedDoorState(t *testing.T) {
	t.Parallel()
	m := testtool.StartMosquitto(t)
	ts := startSite(t, m.URL)
	retained := func(topic string) string {
		t.Helper()
		got := make(chan string, 1)
		opts := paho.NewClientOptions().AddBroker(m.URL).SetClientID("probe-" + store.NewSecret(4))
		c := paho.NewClient(opts)
		if tok := c.Connect(); !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
			t.Fatalf("connect: %v", tok.Error())
		}
		defer c.Disconnect(50)
		c.Subscribe(topic, 1, func(_ paho.Client, msg paho.Message) {
			select {
			case got <- string(msg.Payload()):
			default:
			}
		})
		select {
		case v := <-got:
			return v
		case <-time.After(5 * time.Second):
			t.Fatalf("nothing retained on %s", topic)
			return ""
		}
	}
	waitFor(t, "status online", func() bool { return retained("sekisho/hamamatsu-press/status") == "online" })
	var door struct{ Locked, Open bool }
	if err := json.Unmarshal([]byte(retained("sekisho/hamamatsu-press/doors/press-door/state")), &door); err != nil || !door.Locked || door.Open {
		t.Fatalf("press door state %+v %v", door, err)
	}
	if err := ts.Stop(); err != nil {
		t.Fatal(err)
	}
	if got := retained("sekisho/hamamatsu-press/status"); got != "offline" {
		t.Fatalf("status after stop: %q", got)
	}
}

func TestCardAndPINAtTheDevelopmentRoom(t *testing.T) {
	t.Parallel()
	ts := startSite(t, "", func(cfg *config.Config) {
		for i := range cfg.Doors {
			cfg.Doors[i].PINTimeout = 300 * time.Millisecond
		}
	})
	var p struct{ ID string }
	ts.call("POST", "/api/people", map[string]any{"name": "Dev", "levels": []string{"developers"}}, &p)
	if code := ts.call("POST", "/api/people/"+p.ID+"/credentials", map[string]any{"facility": 30, "number": 1, "pin": "2468"}, nil); code != http.StatusCreated {
		t.Fatalf("card with PIN: %d", code)
	}
	live := ts.stream()
	keys := func(k string) {
		if code := ts.call("POST", "/api/sim/readers/r-dev-out/keys", map[string]any{"keys": k}, nil); code != http.StatusAccepted {
			t.Fatalf("keys: %d", code)
		}
	}
	access := func(ev event.Event) bool { return ev.Door == "dev-door" && strings.HasPrefix(ev.Type, "access.") }

	ts.swipe("r-dev-out", 30, 1)
	keys("1357#")
	if ev := await(t, live, "wrong PIN", access); ev.Type != event.AccessDenied || ev.Reason != event.ReasonBadPIN {
		t.Fatalf("wrong PIN: %s %s", ev.Type, ev.Reason)
	}
	ts.swipe("r-dev-out", 30, 1)
	if ev := await(t, live, "no PIN", access); ev.Reason != event.ReasonPINRequired || ev.Detail["pin"] != "missing" {
		t.Fatalf("no PIN: %s %s %v", ev.Type, ev.Reason, ev.Detail)
	}
	ts.swipe("r-dev-out", 30, 1)
	keys("2468#")
	if ev := await(t, live, "right PIN", access); ev.Type != event.AccessGranted {
		t.Fatalf("right PIN: %s %s", ev.Type, ev.Reason)
	}
	// The PIN never reaches the log.
	evs, _ := ts.Store.Events(context.Background(), store.Filter{Door: "dev-door"})
	for _, ev := range evs {
		b, _ := json.Marshal(ev)
		if strings.Contains(string(b), "2468") || strings.Contains(string(b), "1357") {
			t.Fatalf("PIN in the log: %s", b)
		}
	}
	// Tampering with the reader housing raises an alarm; closing it clears it.
	tamper := func(on bool) {
		if code := ts.call("POST", "/api/sim/doors/dev-door/tamper", map[string]any{"tampered": on}, nil); code != http.StatusAccepted {
			t.Fatalf("tamper: %d", code)
		}
	}
	tamper(true)
	if ev := await(t, live, "door.tamper", func(ev event.Event) bool { return ev.Type == event.DoorTamper }); ev.Alarm == nil {
		t.Fatalf("tamper without alarm: %+v", ev)
	}
	tamper(false)
	await(t, live, "tamper restored", func(ev event.Event) bool { return ev.Type == event.DoorTamper && ev.Detail["state"] == "restored" })
	if st, _ := ts.Doors.Get("dev-door"); st.Alarm != "" {
		t.Fatalf("alarm after restore: %q", st.Alarm)
	}
}

// The demo morning tells the story the README promises.
func TestDemoShift(t *testing.T) {
	t.Parallel()
	ts := startSite(t, "")
	if err := demo.Shift(context.Background(), ts.Config, ts.Sim, 150*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the last exit", func() bool {
		evs, _ := ts.Store.Events(context.Background(), store.Filter{Door: "press-door", Type: event.DoorLocked})
		return len(evs) >= 2
	})
	evs, err := ts.Store.After(context.Background(), 0, 500)
	if err != nil {
		t.Fatal(err)
	}
	var story []string
	for _, ev := range evs {
		if strings.HasPrefix(ev.Type, "access.") {
			story = append(story, fmt.Sprintf("%s %s %s %s", ev.Label(), ev.Door, ev.Type, ev.Reason))
		}
	}
	want := []string{
		"佐藤 健二 (Sato Kenji) main-entrance access.requested inside_only",
		"佐藤 健二 (Sato Kenji) floor-door access.granted ",
		"佐藤 健二 (Sato Kenji) press-door access.granted ",
		"鈴木 由美 (Suzuki Yumi) main-entrance access.requested inside_only",
		"鈴木 由美 (Suzuki Yumi) floor-door access.granted ",
		"鈴木 由美 (Suzuki Yumi) press-door access.denied not_authorized",
		"99:9999 floor-door access.denied unknown_credential",
		" dev-door access.denied bad_frame",
		"田中 浩 (Tanaka Hiroshi) dev-door access.granted ",
		"佐藤 健二 (Sato Kenji) press-door access.granted ",
	}
	if strings.Join(story, "\n") != strings.Join(want, "\n") {
		t.Fatalf("the morning went:\n%s\nwant:\n%s", strings.Join(story, "\n"), strings.Join(want, "\n"))
	}
	if v, _ := ts.Store.Verify(context.Background()); !v.OK {
		t.Fatalf("chain %+v", v)
	}
}
