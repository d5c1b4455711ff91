package broker

import (
	"github.com/mochi-mqtt/server/v2/hooks/auth"

	"github.com/sekisho/sekisho/firmware-bridge/mqttlink"
)

// User is a login on the embedded broker.
type User struct {
	Username, Password string
	// Bridge users may write their own door Pi's topics; others only read
	// the site's public ones.
	Bridge bool
	// Writes are topic filters the user may also read and write (a Frigate
	// NVR's own frigate/#).
	Writes []string
	// Commands: Home Assistant's login, which may send doors' lock
	// commands and its own online status.
	Commands bool
}

// Access says who may connect and what each may touch.
type Access struct {
	Prefix string
	// Controller is the controller's own login: everything.
	Controller User
	Users      []User
	// DiscoveryPrefix is Home Assistant's (homeassistant).
	DiscoveryPrefix string
	// Command hears a door command from a user with Commands: who sent
	// it, the door, the payload. It must not block long.
	Command func(user, door, payload string)
}

func (a Access) discoveryPrefix() string {
	if a.DiscoveryPrefix == "" {
		return "homeassistant"
	}
	return a.DiscoveryPrefix
}

// ledger turns Access into mochi's rules: named users first, then rules in
// order, the first match deciding.
func (a Access) ledger() *auth.Ledger {
	l := &auth.Ledger{Users: auth.Users{}}
	l.Users[a.Controller.Username] = auth.UserRule{Username: auth.RString(a.Controller.Username), Password: auth.RString(a.Controller.Password)}
	public := auth.Filters{
		auth.RString(a.Prefix + "/events"):       auth.ReadOnly,
		auth.RString(a.Prefix + "/alarms"):       auth.ReadOnly,
		auth.RString(a.Prefix + "/alarms/open"):  auth.ReadOnly,
		auth.RString(a.Prefix + "/status"):       auth.ReadOnly,
		auth.RString(a.Prefix + "/doors/#"):      auth.ReadOnly,
		auth.RString(a.Prefix + "/zones/#"):      auth.ReadOnly,
		auth.RString(a.discoveryPrefix() + "/#"): auth.ReadOnly,
	}
	for _, u := range a.Users {
		rule := auth.UserRule{Username: auth.RString(u.Username), Password: auth.RString(u.Password)}
		rule.ACL = auth.Filters{}
		if u.Bridge {
			// A door Pi speaks on its own signals, status and held cards'
			// version, and only hears the controller: it cannot write its own
			// commands or cards, nor touch another door Pi's topics.
			t := mqttlink.Topics{Prefix: a.Prefix}
			rule.ACL[auth.RString(t.Bridge(u.Username, mqttlink.LeafSignals))] = auth.WriteOnly
			rule.ACL[auth.RString(t.Bridge(u.Username, mqttlink.LeafStatus))] = auth.WriteOnly
			rule.ACL[auth.RString(t.Bridge(u.Username, mqttlink.LeafHeld))] = auth.WriteOnly
			for _, leaf := range []string{mqttlink.LeafCommands, mqttlink.LeafCards, mqttlink.LeafLink} {
				rule.ACL[auth.RString(t.Bridge(u.Username, leaf))] = auth.ReadOnly
			}
		}
		if u.Commands {
			rule.ACL[auth.RString(mqttlink.Topics{Prefix: a.Prefix}.DoorCommand("+"))] = auth.WriteOnly
			rule.ACL[auth.RString(a.discoveryPrefix()+"/status")] = auth.ReadWrite
		}
		for _, f := range u.Writes {
			rule.ACL[auth.RString(f)] = auth.ReadWrite
		}
		l.Users[u.Username] = rule
	}
	l.ACL = auth.ACLRules{
		{Username: auth.RString(a.Controller.Username)}, // no filters: all topics
		{Filters: public},                       // everyone else: read the public topics
		{Filters: auth.Filters{"#": auth.Deny}}, // and nothing more: mochi allows what no rule names
	}
	// No Auth rules: a login not in Users is refused.
	return l
}
