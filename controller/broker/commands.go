package broker

import (
	"bytes"
	"strings"

	mqtt "github.com/mochi-mqtt/server/v2"
	"github.com/mochi-mqtt/server/v2/packets"
)

// commandHook hands door commands to the controller with the login that
// sent them. The broker has checked the login and its right to write the
// command topic already (the ledger); this names who did it, which MQTT
// 3.1.1 does not carry to a subscriber.
type commandHook struct {
	mqtt.HookBase
	prefix  string          // <site prefix>/doors/
	allowed map[string]bool // logins with Commands
	command func(user, door, payload string)
}

func (h *commandHook) ID() string { return "door-commands" }

func (h *commandHook) Provides(b byte) bool { return b == mqtt.OnPublish }

// OnPublish passes every message on unchanged; a door command from a login
// allowed to send one is also handed to the controller.
func (h *commandHook) OnPublish(cl *mqtt.Client, pk packets.Packet) (packets.Packet, error) {
	rest, ok := strings.CutPrefix(pk.TopicName, h.prefix)
	if !ok {
		return pk, nil
	}
	door, leaf, ok := strings.Cut(rest, "/")
	user := string(cl.Properties.Username)
	if !ok || leaf != "command" || door == "" || !h.allowed[user] || cl.Net.Inline {
		return pk, nil
	}
	h.command(user, door, string(bytes.TrimSpace(pk.Payload)))
	return pk, nil
}
