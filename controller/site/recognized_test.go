package site_test

import (
	"fmt"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"

	"github.com/sekisho/sekisho/controller/config"
	"github.com/sekisho/sekisho/controller/event"
)

// Frigate 0.16+ names the faces it knows; the site puts the name beside the
// badge grant at that door, and, where the site turned it on, a face that
// is someone else's than the card's holder is an alarm — never a denial.
// Both of Frigate's ways are heard: sub_label on frigate/events and a face
// on frigate/tracked_object_update.
func TestRecognisedFacesBesideTheBadges(t *testing.T) {
	t.Parallel()
	frigate := newFakeFrigate(t)
	ts := startSite(t, "", withCameras(t, frigate), func(cfg *config.Config) {
		cfg.Frigate.Recognition = config.RecognitionRule{Window: 2 * time.Second, Threshold: 0.8, MismatchAlarm: true}
	})
	ts.addCardholder("Operator One", []string{"press-operators"}, 50, 1)
	ts.addCardholder("Operator Two", []string{"press-operators"}, 50, 2)
	live := ts.stream()
	publish := publisher(t, ts.MQTTURL())
	awaitSubscriber(t, live, publish)
	c := paho.NewClient(paho.NewClientOptions().AddBroker(ts.MQTTURL()).SetClientID("frigate-faces-" + t.Name()))
	if tok := c.Connect(); !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
		t.Fatalf("connect: %v", tok.Error())
	}
	defer c.Disconnect(100)
	granted := func(name string) event.Event {
		t.Helper()
		return await(t, live, "grant to "+name, isType(event.AccessGranted, func(ev event.Event) bool {
			return ev.Person != nil && ev.Person.Name == name && ev.Door == "press-door"
		}))
	}
	recognized := func(grant event.Event) event.Event {
		t.Helper()
		return await(t, live, "the names beside "+grant.Person.Name+"'s entry", isType(event.CameraRecognized, func(ev event.Event) bool {
			return ev.Detail["for"] == grant.ID
		}))
	}

	// Operator One badges; Frigate's person on the press camera gets her
	// name as its sub_label: the same person, no alarm.
	ts.swipe("r-press-out", 50, 1)
	one := granted("Operator One")
	withName := func(id, sub string) string {
		return fmt.Sprintf(`{"type":"update","after":{"id":%q,"camera":"press_1","label":"person","sub_label":%s,"start_time":%f,"current_zones":["press_floor"],"false_positive":false}}`,
			id, sub, float64(time.Now().UnixMilli())/1000)
	}
	publish(withName("1.1-one", `["operator_one", 0.93]`))
	ev := recognized(one)
	if ev.Detail["name"] != "operator_one" || ev.Detail["score"] != "0.93" || ev.Detail["holder_seen"] != "true" || ev.Detail["other"] != "" ||
		ev.Door != "press-door" || ev.Camera == nil || ev.Camera.ID != "cam-press-1" || ev.ZoneTo != "die-press" || ev.Detail["for_seq"] != fmt.Sprint(one.Seq) {
		t.Fatalf("the names beside a matching entry: %+v %v", ev.Detail, ev.Camera)
	}

	// Operator Two's card, but the camera knows the face as Tanaka.
	ts.swipe("r-press-out", 50, 2)
	two := granted("Operator Two")
	face := fmt.Sprintf(`{"type":"face","id":"1.2-two","name":"Tanaka Jiro","score":0.91,"camera":"press_1","timestamp":%f}`,
		float64(time.Now().UnixMilli())/1000)
	if tok := c.Publish("frigate/tracked_object_update", 0, false, face); !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
		t.Fatalf("publish: %v", tok.Error())
	}
	ev = recognized(two)
	if ev.Detail["name"] != "Tanaka Jiro" || ev.Detail["holder_seen"] != "false" || ev.Detail["other"] != "Tanaka Jiro" || ev.Detail["holder"] != "Operator Two" {
		t.Fatalf("the names beside a mismatched entry: %+v", ev.Detail)
	}
	// The first mismatch alarm is this entry's: the matching one raised none.
	alarm := await(t, live, "the mismatch alarm", isType(event.AlarmRaised, func(ev event.Event) bool { return ev.Detail["kind"] == "badge_face_mismatch" }))
	if alarm.Detail["for"] != two.ID || alarm.Door != "press-door" || alarm.Alarm == nil || alarm.Alarm.Severity != "high" {
		t.Fatalf("mismatch alarm: %+v %+v", alarm.Detail, alarm.Alarm)
	}
	// Never a denial: the door opened for the card as it was.
	if two.Type != event.AccessGranted {
		t.Fatalf("the entry was %s", two.Type)
	}
}

// publishFace says, as Frigate 0.16+ does on frigate/tracked_object_update,
// that press_1 recognised name at at.
func publishFace(t *testing.T, brokerURL, name string, score float64, at time.Time) {
	t.Helper()
	c := paho.NewClient(paho.NewClientOptions().AddBroker(brokerURL).SetClientID("frigate-faces-" + t.Name()))
	if tok := c.Connect(); !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
		t.Fatalf("connect: %v", tok.Error())
	}
	defer c.Disconnect(100)
	face := fmt.Sprintf(`{"type":"face","id":"%d.5-x","name":%q,"score":%v,"camera":"press_1","timestamp":%f}`,
		at.Unix(), name, score, float64(at.UnixMilli())/1000)
	if tok := c.Publish("frigate/tracked_object_update", 0, false, face); !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
		t.Fatalf("publish: %v", tok.Error())
	}
}
