package site_test

import (
	"encoding/json"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"
	"periph.io/x/conn/v3/gpio"

	"github.com/sekisho/sekisho/controller/config"
	"github.com/sekisho/sekisho/controller/event"
	"github.com/sekisho/sekisho/controller/sekisho"
	"github.com/sekisho/sekisho/controller/testtool"
)

// retained collects the last message of every topic under filter.
type retained struct {
	mu   sync.Mutex
	msgs map[string][]byte
}

func watchTopics(t *testing.T, brokerURL, filter string) *retained {
	t.Helper()
	r := &retained{msgs: map[string][]byte{}}
	c := paho.NewClient(paho.NewClientOptions().AddBroker(brokerURL).SetClientID("test-" + t.Name() + "-" + strings.NewReplacer("/", "_", "#", "all").Replace(filter)))
	if tok := c.Connect(); !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
		t.Fatalf("mqtt connect: %v", tok.Error())
	}
	t.Cleanup(func() { c.Disconnect(100) })
	tok := c.Subscribe(filter, 1, func(_ paho.Client, m paho.Message) {
		r.mu.Lock()
		r.msgs[m.Topic()] = m.Payload()
		r.mu.Unlock()
	})
	if !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
		t.Fatalf("mqtt subscribe: %v", tok.Error())
	}
	return r
}

// await decodes the topic's message into v once one arrives that ok accepts.
func (r *retained) await(t *testing.T, topic string, v any, ok func() bool) {
	t.Helper()
	waitFor(t, topic, func() bool {
		r.mu.Lock()
		payload, seen := r.msgs[topic]
		r.mu.Unlock()
		return seen && json.Unmarshal(payload, v) == nil && ok()
	})
}

// Home Assistant finds the site's doors and zones by itself, and each
// zone's head count follows the people going in and out.
func TestHomeAssistantDiscoveryAndZoneCounts(t *testing.T) {
	t.Parallel()
	ts := startSite(t, "")
	ha := watchTopics(t, ts.MQTTURL(), "homeassistant/#")
	zones := watchTopics(t, ts.MQTTURL(), "sekisho/hamamatsu-press/zones/#")

	var lock struct {
		Name              string `json:"name"`
		UniqueID          string `json:"unique_id"`
		StateTopic        string `json:"state_topic"`
		DeviceClass       string `json:"device_class"`
		AvailabilityTopic string `json:"availability_topic"`
		Device            struct{ Identifiers []string }
	}
	ha.await(t, "homeassistant/binary_sensor/sekisho_hamamatsu-press/press-door_lock/config", &lock, func() bool { return true })
	if lock.StateTopic != "sekisho/hamamatsu-press/doors/press-door/state" || lock.DeviceClass != "lock" ||
		lock.AvailabilityTopic != "sekisho/hamamatsu-press/status" || lock.Name != "プレスエリア扉 lock" || lock.UniqueID != "sekisho_hamamatsu-press_press-door_lock" ||
		len(lock.Device.Identifiers) != 1 || lock.Device.Identifiers[0] != "sekisho_hamamatsu-press" {
		t.Fatalf("press door's lock for Home Assistant: %+v", lock)
	}
	var sensor struct {
		StateTopic    string `json:"state_topic"`
		ValueTemplate string `json:"value_template"`
	}
	ha.await(t, "homeassistant/sensor/sekisho_hamamatsu-press/die-press_occupancy/config", &sensor, func() bool { return true })
	if sensor.StateTopic != "sekisho/hamamatsu-press/zones/die-press/occupancy" || sensor.ValueTemplate != "{{ value_json.count }}" {
		t.Fatalf("die-press head count for Home Assistant: %+v", sensor)
	}

	var count struct {
		Count   int
		Updated time.Time
	}
	zone := "sekisho/hamamatsu-press/zones/die-press/occupancy"
	zones.await(t, zone, &count, func() bool { return count.Count == 0 && !count.Updated.IsZero() })
	ts.addCardholder("鈴木 一郎", []string{"press-operators"}, 12, 811)
	ts.swipe("r-press-out", 12, 811)
	zones.await(t, zone, &count, func() bool { return count.Count == 1 })
	ts.swipe("r-press-in", 12, 811)
	zones.await(t, zone, &count, func() bool { return count.Count == 0 })

	// The street is public: nobody is counted there, so it has no count.
	zones.mu.Lock()
	_, street := zones.msgs["sekisho/hamamatsu-press/zones/outside/occupancy"]
	zones.mu.Unlock()
	if street {
		t.Fatal("a head count for the street")
	}
}

// haRules are Home Assistant's documented requirements for each platform
// Sekisho announces (MQTT lock, event, binary_sensor, sensor).
var haRules = map[string][]string{
	"lock":          {"command_topic", "state_topic", "payload_lock", "payload_unlock", "state_locked", "state_unlocked"},
	"event":         {"state_topic", "event_types"},
	"binary_sensor": {"state_topic", "payload_on", "payload_off"},
	"sensor":        {"state_topic"},
}

// Home Assistant sees each door as a lock it can operate, an event entity
// for its swipes, and alarm sensors, announced by Home Assistant's rules
// with ASCII entity ids (the doors' names are Japanese). UNLOCK pulses a
// normal door's strike, logged under Home Assistant's login; at the main
// entrance, which opens only from inside, it is refused and the refusal
// reaches Home Assistant as a swipe. Home Assistant coming back online is
// told everything again.
func TestHomeAssistantLocksAndSwipes(t *testing.T) {
	t.Parallel()
	const hass, pass = "homeassistant", "home assistant pw 2026"
	ts := startSite(t, "", func(cfg *config.Config) {
		cfg.MQTT.Embedded.Users = []config.BrokerUser{{Username: hass, Password: pass, HomeAssistant: true}}
	})
	live := ts.stream()
	var mu sync.Mutex
	configs := map[string]map[string]any{}
	announced := 0
	swipes := make(chan map[string]any, 16)
	opts := paho.NewClientOptions().AddBroker(ts.MQTTURL()).SetClientID("ha-" + t.Name()).SetUsername(hass).SetPassword(pass)
	ha := paho.NewClient(opts)
	if tok := ha.Connect(); !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
		t.Fatalf("connect: %v", tok.Error())
	}
	defer ha.Disconnect(100)
	for filter, handle := range map[string]paho.MessageHandler{
		"homeassistant/+/sekisho_hamamatsu-press/+/config": func(_ paho.Client, m paho.Message) {
			var c map[string]any
			if json.Unmarshal(m.Payload(), &c) == nil {
				mu.Lock()
				configs[m.Topic()] = c
				announced++
				mu.Unlock()
			}
		},
		"sekisho/hamamatsu-press/doors/+/swipe": func(_ paho.Client, m paho.Message) {
			var sw map[string]any
			if json.Unmarshal(m.Payload(), &sw) == nil {
				swipes <- sw
			}
		},
	} {
		tok := ha.Subscribe(filter, 1, handle)
		if !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
			t.Fatalf("subscribe %s: %v", filter, tok.Error())
		}
		// MQTT 3.1.1 says a refusal in the SUBACK's codes, not as an error.
		if code := tok.(*paho.SubscribeToken).Result()[filter]; code >= 0x80 {
			t.Fatalf("subscribe %s: refused, 0x%x", filter, code)
		}
	}
	// 4 doors × (open, lock, alarm, swipe), every alarm kind, 4 counted zones.
	want := 4*4 + len(sekisho.Kinds) + 4
	count := func() (int, int) { mu.Lock(); defer mu.Unlock(); return len(configs), announced }
	waitFor(t, "every discovery config", func() bool { n, _ := count(); return n >= want })

	entityID := regexp.MustCompile(`^[a-z_]+\.[a-z0-9_]+$`)
	mu.Lock()
	ids := map[string]bool{}
	platforms := map[string]int{}
	for topic, c := range configs {
		platform := strings.Split(topic, "/")[1]
		platforms[platform]++
		rules, ok := haRules[platform]
		if !ok {
			t.Errorf("%s: a platform with no rules here", topic)
		}
		for _, key := range append(rules, "name", "unique_id", "default_entity_id", "availability_topic", "device", "origin") {
			if v, ok := c[key]; !ok || v == "" || v == nil {
				t.Errorf("%s: no %s", topic, key)
			}
		}
		uid, _ := c["unique_id"].(string)
		if ids[uid] {
			t.Errorf("%s: unique_id %s twice", topic, uid)
		}
		ids[uid] = true
		if id, _ := c["default_entity_id"].(string); !entityID.MatchString(id) || !strings.HasPrefix(id, platform+".") {
			t.Errorf("%s: default_entity_id %q", topic, id)
		}
		// Home Assistant before 2025.10 reads object_id: the same ASCII id.
		if obj, _ := c["object_id"].(string); platform+"."+obj != c["default_entity_id"] {
			t.Errorf("%s: object_id %q beside %v", topic, obj, c["default_entity_id"])
		}
		dev, _ := c["device"].(map[string]any)
		if ident, _ := dev["identifiers"].([]any); len(ident) == 0 || dev["name"] == "" || dev["sw_version"] == "" {
			t.Errorf("%s: device %v", topic, dev)
		}
		if origin, _ := c["origin"].(map[string]any); origin["name"] != "Sekisho" {
			t.Errorf("%s: origin %v", topic, origin)
		}
	}
	// Every alarm kind has its sensor, named in the site's language.
	for _, k := range sekisho.Kinds {
		c := configs["homeassistant/binary_sensor/sekisho_hamamatsu-press/alarm_"+string(k.Kind)+"/config"]
		if c == nil || c["name"] != k.Ja {
			t.Errorf("the %s sensor: %v", k.Kind, c["name"])
		}
	}
	mu.Unlock()
	if platforms["lock"] != 4 || platforms["event"] != 4 {
		t.Fatalf("platforms announced: %v", platforms)
	}

	// UNLOCK at the floor door: the strike pulses, under Home Assistant's login.
	strike := ts.Sim.Door("floor-door").Strike
	send := func(door, cmd string) {
		t.Helper()
		if tok := ha.Publish("sekisho/hamamatsu-press/doors/"+door+"/command", 1, false, cmd); !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
			t.Fatalf("publish: %v", tok.Error())
		}
	}
	send("floor-door", "UNLOCK")
	ev := await(t, live, "Home Assistant's unlock", isType(event.AccessGranted, func(ev event.Event) bool { return ev.Door == "floor-door" }))
	if ev.Actor != "homeassistant:"+hass || ev.Detail["by"] != "home_assistant" {
		t.Fatalf("unlock logged as %q by %q", ev.Actor, ev.Detail["by"])
	}
	waitFor(t, "the floor strike to open", func() bool { return strike.Read() == gpio.High })
	if sw := nextSwipe(t, swipes); sw["event_type"] != "granted" || sw["door"] != "floor-door" || sw["actor"] != "homeassistant:"+hass {
		t.Fatalf("swipe: %v", sw)
	}

	// UNLOCK at the main entrance: refused, and Home Assistant hears so.
	main := ts.Sim.Door("main-entrance").Strike
	before := main.Changes()
	send("main-entrance", "UNLOCK")
	ev = await(t, live, "the refusal", isType(event.AccessDenied, func(ev event.Event) bool { return ev.Door == "main-entrance" }))
	if ev.Reason != event.ReasonInsideOnly || ev.Actor != "homeassistant:"+hass {
		t.Fatalf("main entrance: %s by %s", ev.Reason, ev.Actor)
	}
	if main.Changes() != before || main.Read() != gpio.Low {
		t.Fatal("the main entrance's strike moved on Home Assistant's word")
	}
	if sw := nextSwipe(t, swipes); sw["event_type"] != "denied" || sw["reason"] != "inside_only" {
		t.Fatalf("swipe: %v", sw)
	}
	// A card's swipe names the card as it is printed on it.
	ts.swipe("r-floor-out", 12, 345)
	if sw := nextSwipe(t, swipes); sw["event_type"] != "granted" || sw["card"] != "12:345" {
		t.Fatalf("a card's swipe: %v", sw)
	}

	// Home Assistant restarts: it is told everything again.
	_, before2 := count()
	if tok := ha.Publish("homeassistant/status", 1, false, "online"); !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
		t.Fatalf("publish: %v", tok.Error())
	}
	waitFor(t, "discovery again after Home Assistant's birth", func() bool { _, n := count(); return n >= before2+want })
}

// A door taken out of the config disappears from Home Assistant: the next
// start empties the configs it announced for it, and keeps the others.
func TestHomeAssistantForgetsRemovedDoors(t *testing.T) {
	t.Parallel()
	m := testtool.StartMosquitto(t)
	var mu sync.Mutex
	kept := map[string]string{}
	watcher := paho.NewClient(paho.NewClientOptions().AddBroker(m.URL).SetClientID("ha-watch-" + t.Name()))
	if tok := watcher.Connect(); !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
		t.Fatalf("connect: %v", tok.Error())
	}
	defer watcher.Disconnect(100)
	watcher.Subscribe("homeassistant/+/sekisho_hamamatsu-press/+/config", 1, func(_ paho.Client, msg paho.Message) {
		mu.Lock()
		kept[msg.Topic()] = string(msg.Payload())
		mu.Unlock()
	}).WaitTimeout(10 * time.Second)
	announced := func(topic string) string { mu.Lock(); defer mu.Unlock(); return kept[topic] }
	const devOpen = "homeassistant/binary_sensor/sekisho_hamamatsu-press/dev-door_open/config"
	const floorOpen = "homeassistant/binary_sensor/sekisho_hamamatsu-press/floor-door_open/config"

	first := startSite(t, m.URL)
	waitFor(t, "the development room door announced", func() bool { return announced(devOpen) != "" })
	if err := first.Stop(); err != nil {
		t.Fatal(err)
	}
	startSite(t, m.URL, func(cfg *config.Config) {
		cfg.Doors = slices.DeleteFunc(cfg.Doors, func(d config.Door) bool { return d.ID == "dev-door" })
	})
	waitFor(t, "the removed door's config emptied", func() bool { return announced(devOpen) == "" })
	if announced(floorOpen) == "" {
		t.Fatal("a door still in the config was removed from Home Assistant")
	}
}

// nextSwipe is the next swipe Home Assistant hears, or the test fails.
func nextSwipe(t *testing.T, swipes <-chan map[string]any) map[string]any {
	t.Helper()
	select {
	case sw := <-swipes:
		return sw
	case <-time.After(30 * time.Second):
		t.Fatal("Home Assistant heard no swipe within 30 s")
		return nil
	}
}
