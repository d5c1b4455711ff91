package broker

import (
	"testing"

	mqtt "github.com/mochi-mqtt/server/v2"
)

func TestLedger(t *testing.T) {
	a := Access{Prefix: "sekisho/s", Controller: User{Username: "sekisho-controller", Password: "x"},
		Users: []User{{Username: "door-pi-1", Password: "p1", Bridge: true}, {Username: "hass", Password: "h"}, {Username: "frigate", Password: "f", Writes: []string{"frigate/#"}},
			{Username: "ha", Password: "a", Commands: true}}}
	l := a.ledger()
	client := func(user string) *mqtt.Client {
		cl := &mqtt.Client{}
		cl.Properties.Username = []byte(user)
		return cl
	}
	tests := []struct {
		user, topic string
		write, want bool
	}{
		{"sekisho-controller", "sekisho/s/events", true, true},
		{"sekisho-controller", "sekisho/s/bridges/door-pi-2/cards", true, true},
		{"door-pi-1", "sekisho/s/bridges/door-pi-1/signals", true, true},
		{"door-pi-1", "sekisho/s/bridges/door-pi-1/cards", false, true},
		{"door-pi-1", "sekisho/s/bridges/door-pi-1/cards", true, false}, // its own cards are the controller's to write
		{"door-pi-1", "sekisho/s/bridges/door-pi-1/held", true, true},
		{"door-pi-1", "sekisho/s/bridges/door-pi-2/held", true, false},
		{"door-pi-1", "sekisho/s/bridges/door-pi-1/commands", true, false},
		{"door-pi-1", "sekisho/s/bridges/door-pi-1/commands", false, true},
		{"door-pi-1", "sekisho/s/bridges/door-pi-1/status", true, true},
		{"door-pi-1", "sekisho/s/bridges/door-pi-1/link", true, false},
		{"door-pi-1", "frigate/events", true, false},
		{"door-pi-1", "sekisho/s/bridges/door-pi-2/cards", false, false},
		{"door-pi-1", "sekisho/s/bridges/door-pi-2/signals", true, false},
		{"door-pi-1", "sekisho/s/events", true, false},
		{"hass", "sekisho/s/events", false, true},
		{"hass", "sekisho/s/doors/press-door/state", false, true},
		{"hass", "sekisho/s/events", true, false},
		{"hass", "sekisho/s/bridges/door-pi-1/cards", false, false},
		{"hass", "#", false, false},
		{"hass", "frigate/events", true, false},
		{"frigate", "frigate/events", true, true},
		{"frigate", "frigate/press_1/person", true, true},
		{"frigate", "sekisho/s/events", false, true},
		{"frigate", "sekisho/s/events", true, false},
		{"frigate", "sekisho/s/bridges/door-pi-1/signals", true, false},
		{"ha", "sekisho/s/doors/press-door/command", true, true},
		{"ha", "homeassistant/status", true, true},
		{"ha", "sekisho/s/alarms/open", false, true},
		{"ha", "sekisho/s/doors/press-door/swipe", false, true},
		{"ha", "sekisho/s/doors/press-door/state", true, false},
		{"ha", "sekisho/s/bridges/door-pi-1/commands", true, false},
		{"hass", "sekisho/s/doors/press-door/command", true, false}, // a login without home_assistant
		{"hass", "homeassistant/status", true, false},
		{"frigate", "sekisho/s/doors/press-door/command", true, false},
	}
	for _, tt := range tests {
		if _, got := l.ACLOk(client(tt.user), tt.topic, tt.write); got != tt.want {
			t.Errorf("%s write=%v %s: %v, want %v", tt.user, tt.write, tt.topic, got, tt.want)
		}
	}
}
