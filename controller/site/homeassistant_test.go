package site_test

import (
	"encoding/json"
	"strings"
	"sync"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"
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
