package outbox

import (
	"encoding/json"
	"strings"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"
)

// Named is a door or a zone with the name people call it by.
type Named struct{ ID, Name string }

// Discovery announces the site to Home Assistant's MQTT discovery, so its
// doors and zones appear there with no Home Assistant config: each door's
// open/closed, locked/unlocked and alarm, and each zone's head count.
type Discovery struct {
	Prefix   string // Home Assistant's discovery prefix: homeassistant
	SiteName string
}

type haEntity struct {
	Name                string   `json:"name"`
	UniqueID            string   `json:"unique_id"`
	StateTopic          string   `json:"state_topic"`
	ValueTemplate       string   `json:"value_template"`
	DeviceClass         string   `json:"device_class,omitempty"`
	StateClass          string   `json:"state_class,omitempty"`
	Unit                string   `json:"unit_of_measurement,omitempty"`
	Icon                string   `json:"icon,omitempty"`
	AvailabilityTopic   string   `json:"availability_topic"`
	PayloadAvailable    string   `json:"payload_available"`
	PayloadNotAvailable string   `json:"payload_not_available"`
	Device              haDevice `json:"device"`
}

type haDevice struct {
	Identifiers  []string `json:"identifiers"`
	Name         string   `json:"name"`
	Manufacturer string   `json:"manufacturer"`
	Model        string   `json:"model"`
}

// discovery is every retained config message: topic → payload.
func (o *Outbox) discovery() map[string][]byte {
	d := o.HomeAssistant
	if d == nil {
		return nil
	}
	node := "sekisho_" + haID(o.Site)
	device := haDevice{Identifiers: []string{node}, Name: "Sekisho " + d.SiteName, Manufacturer: "Sekisho", Model: "door and camera controller"}
	entity := func(name, id, topic, template string) haEntity {
		return haEntity{Name: name, UniqueID: node + "_" + id, StateTopic: topic, ValueTemplate: template,
			AvailabilityTopic: o.statusTopic(), PayloadAvailable: "online", PayloadNotAvailable: "offline", Device: device}
	}
	out := map[string][]byte{}
	add := func(component, id string, e haEntity) {
		payload, _ := json.Marshal(e)
		out[d.Prefix+"/"+component+"/"+node+"/"+id+"/config"] = payload
	}
	for _, door := range o.DoorNames {
		id, state := haID(door.ID), o.doorTopic(door.ID)
		open := entity(door.Name, id+"_open", state, "{{ 'ON' if value_json.open else 'OFF' }}")
		open.DeviceClass = "door"
		add("binary_sensor", id+"_open", open)
		// Home Assistant's lock class is on when unlocked.
		lock := entity(door.Name+" lock", id+"_lock", state, "{{ 'OFF' if value_json.locked else 'ON' }}")
		lock.DeviceClass = "lock"
		add("binary_sensor", id+"_lock", lock)
		alarm := entity(door.Name+" alarm", id+"_alarm", state, "{{ 'ON' if value_json.alarm else 'OFF' }}")
		alarm.DeviceClass = "problem"
		add("binary_sensor", id+"_alarm", alarm)
	}
	for _, z := range o.ZoneNames {
		id := haID(z.ID)
		count := entity(z.Name, id+"_occupancy", o.zoneTopic(z.ID), "{{ value_json.count }}")
		count.StateClass, count.Unit, count.Icon = "measurement", "people", "mdi:account-group"
		add("sensor", id+"_occupancy", count)
	}
	return out
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
