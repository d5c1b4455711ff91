package site_test

import (
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/sekisho/sekisho/controller/event"
	"github.com/sekisho/sekisho/controller/fleet"
	"github.com/sekisho/sekisho/controller/testtool"
	"github.com/sekisho/sekisho/firmware-bridge/bridge"
	"github.com/sekisho/sekisho/firmware-bridge/remote"
	"github.com/sekisho/sekisho/firmware-bridge/wiegand"
)

// A revoked card opens nothing at a door Pi that can hear about it: a
// swipe right after the API answers is refused by the controller, while
// the delta is still on its way; the door Pi's own cards refuse it as soon
// as it holds them. A grant the door Pi claims to have made alone from the
// cards before the revocation is logged for what it is, with an alarm. And
// its clock is believed only near the controller's.
func TestRevokedCardAtADoorPi(t *testing.T) {
	t.Parallel()
	m := testtool.StartMosquitto(t)
	ts, e := startSiteWithDoorPi(t, m.URL, onDoorPi)
	id := ts.addCardholder("Remote Operator", []string{"press-operators"}, 50, 1)
	var d *remote.Daemon
	pi := startDaemon(t, ts, e, m.URL, func(dd *remote.Daemon) { d = dd })
	live := ts.stream()
	card := wiegand.Card{Format: wiegand.FormatH10301, Facility: 50, Number: 1}
	var bridges []fleet.State
	if code := ts.call("GET", "/api/bridges", nil, &bridges); code != http.StatusOK || len(bridges) != 1 {
		t.Fatalf("GET /api/bridges: %d %+v", code, bridges)
	}
	waitFor(t, "the door Pi in step", func() bool {
		ts.call("GET", "/api/bridges", nil, &bridges)
		return bridges[0].InStep && bridges[0].Held == d.Held() && bridges[0].Status == "online"
	})
	old := d.Held()

	if code := ts.call("POST", "/api/people/"+id+"/disable", nil, nil); code != http.StatusOK {
		t.Fatalf("disable: %d", code)
	}
	pi.swipe(t, 50, 1) // at once: the delta may still be on its way
	ev := await(t, live, "the revoked card at the door Pi", func(ev event.Event) bool {
		return ev.Door == "press-door" && ev.Credential != nil && ev.Credential.Number == 1 && ev.Type != event.DoorUnlocked
	})
	if ev.Type != event.AccessDenied || ev.DecidedBy != "" {
		t.Fatalf("the revoked card: %s %s decided by %q", ev.Type, ev.Reason, ev.DecidedBy)
	}
	waitFor(t, "the door Pi holding the revocation, and saying so", func() bool {
		ts.call("GET", "/api/bridges", nil, &bridges)
		return d.Held() != old && d.Decide("r-press-out", card, time.Now()).Reason == "disabled" &&
			bridges[0].InStep && bridges[0].Held == d.Held()
	})
	if h, _ := pi.strike(t); h {
		t.Fatal("the press strike is open")
	}

	// The old cards' grant, sent in the door Pi's name as if decided alone
	// a moment ago: the door may have opened, and the log says on what.
	spy := mqttClient(t, m.URL, "", "")
	signals := ts.Config.MQTT.TopicPrefix + "/bridges/door-pi-1/signals"
	env := remote.Envelope{ID: uuid.Must(uuid.NewV7()).String(), Bridge: "door-pi-1",
		Signal:   bridge.Signal{Kind: bridge.SignalCard, Reader: "r-press-out", Card: &card, At: time.Now()},
		Decision: &bridge.Decision{Type: "access.granted", Snapshot: old, Person: &bridge.Person{ID: id, Name: "Remote Operator"}}}
	body, _ := json.Marshal(env)
	publish(t, spy, signals, false, body)
	flagged := await(t, live, "the grant from the old cards", func(ev event.Event) bool { return ev.ID == env.ID })
	if flagged.Type != event.AccessGranted || flagged.DecidedBy != "bridge" || flagged.Detail["unvouched"] == "" {
		t.Fatalf("logged as %s by %q: %v", flagged.Type, flagged.DecidedBy, flagged.Detail)
	}
	await(t, live, "its alarm", func(ev event.Event) bool {
		return ev.Type == event.AlarmRaised && ev.Detail["kind"] == "bridge_unvouched"
	})

	// Someone writes the controller's link status in its name (door Pis
	// told "down" decide alone): it is put back, logged and alarmed.
	link := ts.Config.MQTT.TopicPrefix + "/bridges/door-pi-1/link"
	publish(t, spy, link, false, []byte("down"))
	ow := await(t, live, "the overwrite's rejection", func(ev event.Event) bool {
		return ev.Type == event.BridgeRejected && ev.Reason == "overwritten"
	})
	if ow.Detail["bridge"] != "door-pi-1" {
		t.Errorf("overwrite logged as %v", ow.Detail)
	}
	await(t, live, "the overwrite's alarm", func(ev event.Event) bool {
		return ev.Type == event.AlarmRaised && ev.Detail["kind"] == "bridge_rejected"
	})

	// A door report dated 9999 is logged now, with the claim beside it,
	// and leaves the board as the door Pi reported it, not stuck.
	future := remote.Envelope{ID: uuid.Must(uuid.NewV7()).String(), Bridge: "door-pi-1",
		Signal: bridge.Signal{Kind: bridge.SignalContact, Door: "press-door", On: true, At: time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC)}}
	body, _ = json.Marshal(future)
	publish(t, spy, signals, false, body)
	opened := await(t, live, "the future-dated report", func(ev event.Event) bool { return ev.ID == future.ID })
	if opened.Time.Year() == 9999 || opened.Detail["bridge_at"] == "" || time.Since(opened.Time) > time.Minute {
		t.Fatalf("logged at %s with %v", opened.Time, opened.Detail)
	}
	closed := remote.Envelope{ID: uuid.Must(uuid.NewV7()).String(), Bridge: "door-pi-1",
		Signal: bridge.Signal{Kind: bridge.SignalContact, Door: "press-door", On: false, At: time.Now()}}
	body, _ = json.Marshal(closed)
	publish(t, spy, signals, false, body)
	await(t, live, "the door closing after it", func(ev event.Event) bool { return ev.ID == closed.ID })
	waitFor(t, "the board showing the door closed", func() bool {
		st, ok := ts.Doors.Get("press-door")
		return ok && !st.Open
	})
}
