package outbox

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"strings"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"
	"github.com/sekisho/sekisho/controller/event"
	"github.com/sekisho/sekisho/controller/sekisho"
)

// Named is a door or a zone with the name people call it by.
type Named struct{ ID, Name string }

// Discovery announces the site to Home Assistant's MQTT discovery, so its
// doors, alarms and zones appear there with no Home Assistant config: per
// door a lock (operable when Locks), its open/closed and alarm, and an
// event entity for its swipes; per alarm kind a problem sensor; per zone
// its head count.
type Discovery struct {
	Prefix   string // Home Assistant's discovery prefix: homeassistant
	SiteName string
	// Locks: the broker hands Home Assistant's lock commands to the
	// controller (the embedded broker with a home_assistant login).
	// Without, a door's lock is a read-only sensor.
	Locks   bool
	Version string // sw_version, shown on the device page
	URL     string // the dashboard, linked from the device page
	// Language names the alarm sensors: ja or en, the site's.
	Language string
}

// haEntity is one discovery config: the keys every platform here needs,
// and each platform's own.
type haEntity struct {
	Name            string `json:"name"`
	UniqueID        string `json:"unique_id"`
	DefaultEntityID string `json:"default_entity_id"`
	// ObjectID is the same id for Home Assistant before 2025.10, which
	// reads only this (and would otherwise make one from a Japanese name);
	// later versions take default_entity_id and ignore it.
	ObjectID            string   `json:"object_id"`
	StateTopic          string   `json:"state_topic"`
	ValueTemplate       string   `json:"value_template,omitempty"`
	DeviceClass         string   `json:"device_class,omitempty"`
	StateClass          string   `json:"state_class,omitempty"`
	Unit                string   `json:"unit_of_measurement,omitempty"`
	Icon                string   `json:"icon,omitempty"`
	AvailabilityTopic   string   `json:"availability_topic"`
	PayloadAvailable    string   `json:"payload_available"`
	PayloadNotAvailable string   `json:"payload_not_available"`
	Device              haDevice `json:"device"`
	Origin              haOrigin `json:"origin"`
	// lock
	CommandTopic  string `json:"command_topic,omitempty"`
	PayloadLock   string `json:"payload_lock,omitempty"`
	PayloadUnlock string `json:"payload_unlock,omitempty"`
	StateLocked   string `json:"state_locked,omitempty"`
	StateUnlocked string `json:"state_unlocked,omitempty"`
	// event
	EventTypes []string `json:"event_types,omitempty"`
	// binary_sensor
	PayloadOn  string `json:"payload_on,omitempty"`
	PayloadOff string `json:"payload_off,omitempty"`
}

type haDevice struct {
	Identifiers      []string `json:"identifiers"`
	Name             string   `json:"name"`
	Manufacturer     string   `json:"manufacturer"`
	Model            string   `json:"model"`
	SWVersion        string   `json:"sw_version,omitempty"`
	ConfigurationURL string   `json:"configuration_url,omitempty"`
}

type haOrigin struct {
	Name      string `json:"name"`
	SWVersion string `json:"sw_version,omitempty"`
	URL       string `json:"support_url,omitempty"`
}

// Swipe is what a door's event entity receives for each decision.
type Swipe struct {
	EventType string `json:"event_type"` // granted, denied, requested
	Door      string `json:"door"`
	Person    string `json:"person,omitempty"`
	PersonID  string `json:"person_id,omitempty"`
	Card      string `json:"card,omitempty"`
	Reason    string `json:"reason,omitempty"`
	Actor     string `json:"actor,omitempty"`
	Seq       int64  `json:"seq"`
}

func (o *Outbox) haNode() string { return "sekisho_" + haID(o.Site) }

// discoveryFilter matches every config this site ever announced.
func (o *Outbox) discoveryFilter() string {
	return o.HomeAssistant.Prefix + "/+/" + o.haNode() + "/+/config"
}

// discovery is every retained config message: topic → payload.
func (o *Outbox) discovery() map[string][]byte {
	d := o.HomeAssistant
	if d == nil {
		return nil
	}
	node := o.haNode()
	device := haDevice{Identifiers: []string{node}, Name: "Sekisho " + d.SiteName, Manufacturer: "Sekisho",
		Model: "door and camera controller", SWVersion: d.Version, ConfigurationURL: d.URL}
	origin := haOrigin{Name: "Sekisho", SWVersion: d.Version}
	out := map[string][]byte{}
	add := func(component, id, name, topic string, e haEntity) {
		e.Name, e.UniqueID, e.StateTopic = name, node+"_"+id, topic
		// Entity ids from the ids in the config, which are ASCII: a door
		// named in Japanese would otherwise get a transliterated one.
		e.ObjectID = entitySlug(node + "_" + id)
		e.DefaultEntityID = component + "." + e.ObjectID
		e.AvailabilityTopic, e.PayloadAvailable, e.PayloadNotAvailable = o.statusTopic(), "online", "offline"
		e.Device, e.Origin = device, origin
		payload, _ := json.Marshal(e)
		out[d.Prefix+"/"+component+"/"+node+"/"+id+"/config"] = payload
	}
	for _, door := range o.DoorNames {
		id, state := haID(door.ID), o.doorTopic(door.ID)
		add("binary_sensor", id+"_open", door.Name, state, haEntity{DeviceClass: "door",
			ValueTemplate: "{{ 'ON' if value_json.open else 'OFF' }}", PayloadOn: "ON", PayloadOff: "OFF"})
		if d.Locks {
			add("lock", id+"_lock", door.Name+" lock", state, haEntity{CommandTopic: o.commandTopic(door.ID),
				ValueTemplate: "{{ 'LOCKED' if value_json.locked else 'UNLOCKED' }}",
				PayloadLock:   "LOCK", PayloadUnlock: "UNLOCK", StateLocked: "LOCKED", StateUnlocked: "UNLOCKED"})
		} else {
			// Home Assistant's lock class is on when unlocked.
			add("binary_sensor", id+"_lock", door.Name+" lock", state, haEntity{DeviceClass: "lock",
				ValueTemplate: "{{ 'OFF' if value_json.locked else 'ON' }}", PayloadOn: "ON", PayloadOff: "OFF"})
		}
		add("binary_sensor", id+"_alarm", door.Name+" alarm", state, haEntity{DeviceClass: "problem",
			ValueTemplate: "{{ 'ON' if value_json.alarm else 'OFF' }}", PayloadOn: "ON", PayloadOff: "OFF"})
		add("event", id+"_swipe", door.Name+" swipe", o.swipeTopic(door.ID), haEntity{
			EventTypes: []string{"granted", "denied", "requested"}, Icon: "mdi:badge-account"})
	}
	// A problem sensor for every kind of alarm, named in the site's language.
	for _, k := range sekisho.Kinds {
		kind := string(k.Kind)
		add("binary_sensor", "alarm_"+kind, k.Name(d.Language), o.openAlarmsTopic(), haEntity{DeviceClass: "problem",
			ValueTemplate: "{{ 'ON' if (value_json['" + kind + "'] | default(0)) > 0 else 'OFF' }}", PayloadOn: "ON", PayloadOff: "OFF"})
	}
	for _, z := range o.ZoneNames {
		id := haID(z.ID)
		add("sensor", id+"_occupancy", z.Name, o.zoneTopic(z.ID), haEntity{ValueTemplate: "{{ value_json.count }}",
			StateClass: "measurement", Unit: "people", Icon: "mdi:account-group"})
	}
	return out
}

// entitySlug is an entity's object id as Home Assistant writes them:
// lower-case ASCII letters, digits and underscores.
func entitySlug(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9', r == '_':
			return r
		case r >= 'A' && r <= 'Z':
			return r + 'a' - 'A'
		}
		return '_'
	}, s)
}

// haID keeps what Home Assistant allows in a discovery id.
func haID(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '_', r == '-':
			return r
		}
		return '_'
	}, s)
}

// publishZone sends a zone's head count now, retained.
func (o *Outbox) publishZone(client paho.Client, id string) paho.Token {
	count := 0
	if o.Occupancy != nil {
		count = o.Occupancy()[id]
	}
	payload, _ := json.Marshal(struct {
		Count   int       `json:"count"`
		Updated time.Time `json:"updated"`
	}{count, time.Now().UTC()})
	return client.Publish(o.zoneTopic(id), 1, true, payload)
}

// watchHomeAssistant, on each connect, listens for Home Assistant's birth
// message (it forgets every discovered entity when it restarts) and for the
// configs this site announced before: one for a door or zone no longer in
// the config is emptied, which removes the entity.
func (o *Outbox) watchHomeAssistant(c paho.Client, rediscover chan<- struct{}) {
	c.Subscribe(o.HomeAssistant.Prefix+"/status", 1, func(_ paho.Client, m paho.Message) {
		if string(m.Payload()) == "online" {
			select {
			case rediscover <- struct{}{}:
			default:
			}
		}
	})
	current := o.discovery()
	c.Subscribe(o.discoveryFilter(), 1, func(c paho.Client, m paho.Message) {
		if _, ok := current[m.Topic()]; !ok && len(m.Payload()) > 0 {
			c.Publish(m.Topic(), 1, true, "") // not waited on: this runs on paho's own goroutine
		}
	})
}

// swipeOf is a decision as a door's event entity takes it.
func swipeOf(body []byte) ([]byte, bool) {
	var ev event.Event
	if json.Unmarshal(body, &ev) != nil {
		return nil, false
	}
	sw := Swipe{EventType: strings.TrimPrefix(ev.Type, "access."), Door: ev.Door, Reason: ev.Reason, Actor: ev.Actor, Seq: ev.Seq}
	if ev.Person != nil {
		sw.Person, sw.PersonID = ev.Person.Name, ev.Person.ID
	}
	if c := ev.Credential; c != nil {
		// As printed on the card (FC:CN); the raw bits only for a card no
		// format reads.
		sw.Card = fmt.Sprintf("%d:%d", c.Facility, c.Number)
		if c.Format == "raw" {
			sw.Card = "raw:" + c.Hex
		}
	}
	b, err := json.Marshal(sw)
	return b, err == nil
}

// publishOpenAlarms sends the count of open alarms by kind, retained, for
// Home Assistant's alarm sensors (Run's goroutine only).
func (o *Outbox) publishOpenAlarms(ctx context.Context, client paho.Client) paho.Token {
	if o.HomeAssistant == nil {
		return nil
	}
	count := map[string]int{}
	for _, k := range sekisho.Kinds {
		count[string(k.Kind)] = 0
	}
	if open, err := o.Store.OpenAlarms(ctx); err == nil {
		for _, a := range open {
			count[string(a.Kind)]++
		}
		o.lastAlarms = count
	} else if o.lastAlarms != nil {
		// A failing store says nothing new: what it said last stands.
		maps.Copy(count, o.lastAlarms)
	}
	if o.storageDown() {
		count["storage"] = max(count["storage"], 1)
	}
	payload, _ := json.Marshal(count)
	return client.Publish(o.openAlarmsTopic(), 1, true, payload)
}

// storageDown says whether the last storage notice said the log fails.
func (o *Outbox) storageDown() bool {
	var st struct {
		OK *bool `json:"ok"`
	}
	return o.lastStorage != nil && json.Unmarshal(o.lastStorage, &st) == nil && st.OK != nil && !*st.OK
}
