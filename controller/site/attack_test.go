package site_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"net/http"
	"strings"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"
	"github.com/google/uuid"

	"github.com/sekisho/sekisho/controller/config"
	"github.com/sekisho/sekisho/controller/event"
	"github.com/sekisho/sekisho/controller/store"
	"github.com/sekisho/sekisho/controller/testtool"
	"github.com/sekisho/sekisho/firmware-bridge/remote"
)

// Logins of the attack tests: the door Pi's own (as if its SD card were
// stolen), Home Assistant's, and Frigate's.
var attackLogins = map[string]string{
	"door-pi-1":     "door-pi-1 password",
	"homeassistant": "home assistant password",
	"frigate":       "frigate nvr password",
}

// Someone holding a door Pi's broker login sends what that door Pi never
// would: broken signals, other doors' readers and exit buttons, grants for
// people who don't exist, replays. Nothing of it moves a strike or crashes
// the controller; each is a bridge.rejected event, repeats raise an alarm,
// and the real door Pi still works. Once on the embedded broker with its
// users, once on a real Mosquitto with the shipped ACL.
func TestForgedDoorPiMessagesMoveNoStrike(t *testing.T) {
	t.Parallel()
	t.Run("embedded", func(t *testing.T) {
		ts, e := startSiteWithDoorPi(t, "", onDoorPi, func(cfg *config.Config) {
			for user, pass := range attackLogins {
				cfg.MQTT.Embedded.Users = append(cfg.MQTT.Embedded.Users, config.BrokerUser{Username: user, Password: pass, Frigate: user == "frigate"})
			}
		})
		forgedSignals(t, ts, e, ts.MQTTURL())
	})
	t.Run("mosquitto-acl", func(t *testing.T) {
		users := map[string]string{"sekisho-controller": "controller password"}
		for u, p := range attackLogins {
			users[u] = p
		}
		m := testtool.StartMosquittoSecured(t, users, "../../configs/mosquitto/sekisho.acl")
		ts, e := startSiteWithDoorPi(t, m.URL, onDoorPi, func(cfg *config.Config) {
			cfg.MQTT.External.Username, cfg.MQTT.External.Password = "sekisho-controller", "controller password"
		})
		forgedSignals(t, ts, e, m.URL)
	})
}

func forgedSignals(t *testing.T, ts *testSite, e *remote.Enrolment, brokerURL string) {
	ts.addCardholder("Remote Operator", []string{"press-operators"}, 50, 1)
	ts.addCardholder("Second Operator", []string{"press-operators"}, 50, 2)
	pi := startDaemonAs(t, ts, e, brokerURL, "door-pi-1", attackLogins["door-pi-1"])
	live := ts.stream()
	mainStrike := ts.Sim.Door("main-door").Strike
	mainBefore := mainStrike.Changes()

	// The real door Pi first: a card the controller grants.
	pi.swipe(t, 50, 1)
	real := await(t, live, "the real grant", func(ev event.Event) bool { return ev.Type == event.AccessGranted && ev.Door == "press-door" })
	waitFor(t, "the press strike to pulse and relock", func() bool { h, n := pi.strike(t); return n >= 2 && !h })
	await(t, live, "the relock in the log", func(ev event.Event) bool { return ev.Type == event.DoorLocked && ev.Door == "press-door" })
	_, pressBefore := pi.strike(t)

	mallory := mqttClient(t, brokerURL, "door-pi-1", attackLogins["door-pi-1"])
	signals := ts.Config.MQTT.TopicPrefix + "/bridges/door-pi-1/signals"
	now := time.Now().UTC().Format(time.RFC3339Nano)
	live7 := func() string { return uuid.Must(uuid.NewV7()).String() }
	attacks := []struct {
		name, body, reason string
	}{
		{"a card signal without a card", `{"id":"` + live7() + `","signal":{"kind":"card","reader":"r-press-out","at":"` + now + `"}}`, "malformed"},
		{"a retained card from the future", `{"id":"` + live7() + `","signal":{"kind":"card","reader":"r-press-out","at":"2099-01-01T00:00:00Z"}}`, "malformed"},
		{"the main entrance's reader", `{"id":"` + live7() + `","signal":{"kind":"card","reader":"r-main-out","card":{"format":"H10301","facility":12,"number":345},"at":"` + now + `"}}`, "not_this_bridge"},
		{"the main entrance's exit button", `{"id":"` + live7() + `","signal":{"kind":"rex","door":"main-door","on":true,"at":"` + now + `"}}`, "not_this_bridge"},
		{"garbage", "\x00\x01{{{", "malformed"},
		// Replayed: within the door Pi's wait it is refused, past it left to
		// the door Pi; either way nothing moves.
		{"the real card's id again", `{"id":"` + real.ID + `","signal":{"kind":"card","reader":"r-press-out","card":{"format":"H10301","facility":50,"number":1},"at":"` + now + `"}}`, ""},
	}
	for _, a := range attacks {
		publish(t, mallory, signals, false, []byte(a.body))
		if a.reason == "" {
			continue
		}
		ev := await(t, live, "bridge.rejected for "+a.name, func(ev event.Event) bool { return ev.Type == event.BridgeRejected })
		if ev.Reason != a.reason || ev.Detail["bridge"] != "door-pi-1" {
			t.Errorf("%s: rejected as %q %v, want %q", a.name, ev.Reason, ev.Detail, a.reason)
		}
		if ev.Door != "" || ev.Reader != "" {
			t.Errorf("%s: the rejection sits on a door's history: %s %s", a.name, ev.Door, ev.Reader)
		}
	}
	// A grant the door Pi says it made alone, from cards it never held: the
	// door may have opened, so it is logged as a grant, flagged, with an
	// alarm — never passed off as a good one, never dropped.
	publish(t, mallory, signals, false, []byte(`{"id":"`+live7()+`","signal":{"kind":"card","reader":"r-press-out","card":{"format":"H10301","facility":77,"number":7},"at":"`+now+`"},"decision":{"type":"access.granted","person":{"id":"p-ghost","name":"Ghost"},"snapshot":"attacker-0001"}}`))
	ghost := await(t, live, "the ghost's grant, flagged", func(ev event.Event) bool {
		return ev.Type == event.AccessGranted && ev.DecidedBy == "bridge" && ev.Credential != nil && ev.Credential.Number == 7
	})
	if !strings.Contains(ghost.Detail["unvouched"], "attacker-0001") {
		t.Errorf("the ghost's grant is not flagged: %v", ghost.Detail)
	}
	await(t, live, "the unvouched grant's alarm", func(ev event.Event) bool {
		return ev.Type == event.AlarmRaised && ev.Detail["kind"] == "bridge_unvouched"
	})
	waitFor(t, "the alarm after repeated rejections", func() bool {
		alarms, _ := ts.Store.Events(context.Background(), store.Filter{Type: event.AlarmRaised})
		for _, a := range alarms {
			if a.Detail["kind"] == "bridge_rejected" && strings.Contains(a.Detail["detail"], "door-pi-1") {
				return true
			}
		}
		return false
	})

	// Still alive, nothing moved, and no grant but the real one.
	res, err := http.Get(ts.base + "/api/health")
	if err != nil || res.StatusCode != http.StatusOK {
		t.Fatalf("controller after the attacks: %v %v", res, err)
	}
	res.Body.Close()
	if n := mainStrike.Changes(); n != mainBefore {
		t.Errorf("the main entrance's strike moved %d times", n-mainBefore)
	}
	if _, n := pi.strike(t); n != pressBefore {
		t.Errorf("the press strike moved %d times", n-pressBefore)
	}
	grants, _ := ts.Store.Events(context.Background(), store.Filter{Type: event.AccessGranted})
	for _, g := range grants {
		if g.ID != real.ID && g.Detail["unvouched"] == "" && (g.Door == "press-door" || g.Door == "main-door" || g.Person != nil && g.Person.ID == "p-ghost") {
			t.Errorf("a forged grant was logged as a good one: %+v", g)
		}
	}

	// Logins that are not Frigate's cannot speak for it, and nobody but the
	// controller rewrites a door's retained state or Home Assistant's view.
	nvr := mqttClient(t, brokerURL, "frigate", attackLogins["frigate"])
	heard := make(chan string, 16)
	if tok := nvr.Subscribe("frigate/events", 1, func(_ paho.Client, m paho.Message) { heard <- string(m.Payload()) }); !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
		t.Fatal(tok.Error())
	}
	for _, user := range []string{"homeassistant", "door-pi-1"} {
		tryPublish(mqttClient(t, brokerURL, user, attackLogins[user]), "frigate/events", false, []byte("forged by "+user))
	}
	publish(t, nvr, "frigate/events", false, []byte("sentinel"))
	if got := <-heard; got != "sentinel" {
		t.Errorf("frigate/events carried %q from a login that is not Frigate's", got)
	}
	doorState := ts.Config.MQTT.TopicPrefix + "/doors/press-door/state"
	discovery, _ := keptOn(t, brokerURL, "homeassistant/#")
	if discovery == "" {
		t.Fatal("no Home Assistant discovery kept on the broker")
	}
	hass := mqttClient(t, brokerURL, "homeassistant", attackLogins["homeassistant"])
	for _, topic := range []string{doorState, discovery} {
		tryPublish(hass, topic, true, []byte(`{"forged":true}`))
		if _, got := keptOn(t, brokerURL, topic); strings.Contains(got, "forged") {
			t.Errorf("%s was overwritten by Home Assistant's login: %s", topic, got)
		}
	}

	// The real door Pi still works: the next operator is let in.
	pi.swipe(t, 50, 2)
	await(t, live, "the real door Pi's next grant", func(ev event.Event) bool {
		return ev.Type == event.AccessGranted && ev.Door == "press-door" && ev.Credential.Number == 2
	})
}

// What a door Pi obeys comes signed by its controller. On a broker where
// anyone may publish (an open loopback Mosquitto, as in the demo), commands
// and snapshots from anyone else are refused, and reported.
func TestDoorPiObeysOnlyItsController(t *testing.T) {
	t.Parallel()
	m := testtool.StartMosquitto(t)
	ts, e := startSiteWithDoorPi(t, m.URL, onDoorPi)
	ts.addCardholder("Remote Operator", []string{"press-operators"}, 50, 1)
	pi := startDaemonAs(t, ts, e, m.URL, "", "")
	live := ts.stream()

	spy := mqttClient(t, m.URL, "", "")
	commands := ts.Config.MQTT.TopicPrefix + "/bridges/door-pi-1/commands"
	cards := ts.Config.MQTT.TopicPrefix + "/bridges/door-pi-1/cards"
	captured := make(chan []byte, 16)
	if tok := spy.Subscribe(commands, 1, func(_ paho.Client, msg paho.Message) { captured <- msg.Payload() }); !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
		t.Fatal(tok.Error())
	}
	pi.swipe(t, 50, 1)
	await(t, live, "the real grant", func(ev event.Event) bool { return ev.Type == event.AccessGranted && ev.Door == "press-door" })
	waitFor(t, "the press strike to pulse and relock", func() bool { h, n := pi.strike(t); return n >= 2 && !h })
	await(t, live, "the relock in the log", func(ev event.Event) bool { return ev.Type == event.DoorLocked && ev.Door == "press-door" })
	var unlock []byte
	for unlock == nil {
		select {
		case c := <-captured:
			if strings.Contains(string(c), `"kind":"command"`) {
				unlock = c
			}
		case <-time.After(5 * time.Second):
			t.Fatal("no signed command seen on the broker")
		}
	}
	_, before := pi.strike(t)

	_, otherKey, _ := ed25519.GenerateKey(rand.Reader)
	forger := &remote.Signer{Key: otherKey, Bridge: "door-pi-1"}
	hold := []byte(`{"op":"unlock","door":"press-door","pulse_ms":600000}`)
	attacks := []struct {
		name, topic string
		body        []byte
		reason      string
	}{
		{"an unsigned unlock for ten minutes", commands, hold, "unsigned"},
		{"an unlock signed by another key", commands, forger.Sign(remote.KindCommand, hold, time.Now()), "bad_signature"},
		{"a captured unlock sent again", commands, unlock, "replayed"},
		{"cards with the attacker's card", cards, []byte(`{"snapshot":{"version":"attacker-0001","doors":[{"id":"press-door","active_low":true}],"cards":[{"format":"H10301","facility":66,"number":6,"enabled":true}]}}`), "unsigned"},
		{"cards signed by another key", cards, forger.SignCards([]byte("sealed to nobody"), time.Now()), "bad_signature"},
	}
	for _, a := range attacks {
		publish(t, spy, a.topic, false, a.body)
		ev := await(t, live, "the door Pi's report of "+a.name, func(ev event.Event) bool {
			return ev.Type == event.BridgeRejected && ev.Reason == "refused_by_bridge"
		})
		if !strings.Contains(ev.Detail["detail"], a.reason) {
			t.Errorf("%s: reported %q, want %q", a.name, ev.Detail["detail"], a.reason)
		}
	}
	if _, n := pi.strike(t); n != before {
		t.Errorf("the press strike moved %d times", n-before)
	}
	// The door Pi still decides from the controller's cards.
	pi.swipe(t, 66, 6) // the attacker's card
	ev := await(t, live, "the attacker's card at the press door", func(ev event.Event) bool {
		return ev.Door == "press-door" && ev.Credential != nil && ev.Credential.Number == 6
	})
	if ev.Type == event.AccessGranted {
		t.Fatal("the attacker's card was granted")
	}
}

// startDaemonAs runs door-pi-1 in this process with a broker login.
func startDaemonAs(t *testing.T, ts *testSite, e *remote.Enrolment, brokerURL, user, pass string) daemonPi {
	t.Helper()
	return startDaemon(t, ts, e, brokerURL, func(d *remote.Daemon) { d.Broker.Username, d.Broker.Password = user, pass }).(daemonPi)
}

func mqttClient(t *testing.T, url, user, pass string) paho.Client {
	t.Helper()
	c := paho.NewClient(paho.NewClientOptions().AddBroker(url).SetClientID("probe-" + store.NewSecret(4)).
		SetUsername(user).SetPassword(pass))
	if tok := c.Connect(); !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
		t.Fatalf("connect as %q: %v", user, tok.Error())
	}
	t.Cleanup(func() { c.Disconnect(10) })
	return c
}

func publish(t *testing.T, c paho.Client, topic string, retained bool, body []byte) {
	t.Helper()
	if tok := c.Publish(topic, 1, retained, body); !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
		t.Fatalf("publish %s: %v", topic, tok.Error())
	}
}

// tryPublish publishes what a broker may refuse: a refusal is the point.
func tryPublish(c paho.Client, topic string, retained bool, body []byte) {
	c.Publish(topic, 1, retained, body).WaitTimeout(5 * time.Second)
}

// keptOn is the first message a fresh subscriber to filter finds kept
// ("" for none).
func keptOn(t *testing.T, url, filter string) (topic, payload string) {
	t.Helper()
	got := make(chan [2]string, 1)
	c := mqttClient(t, url, "homeassistant", attackLogins["homeassistant"])
	defer c.Disconnect(10)
	c.Subscribe(filter, 1, func(_ paho.Client, m paho.Message) {
		select {
		case got <- [2]string{m.Topic(), string(m.Payload())}:
		default:
		}
	}).WaitTimeout(5 * time.Second)
	select {
	case m := <-got:
		return m[0], m[1]
	case <-time.After(2 * time.Second):
		return "", ""
	}
}
