package broker

import (
	"strconv"
	"strings"

	mqtt "github.com/mochi-mqtt/server/v2"
	"github.com/mochi-mqtt/server/v2/hooks/storage"
	"github.com/mochi-mqtt/server/v2/hooks/storage/bolt"
	"github.com/mochi-mqtt/server/v2/packets"

	"github.com/sekisho/sekisho/firmware-bridge/mqttlink"
)

// sessionStore is mochi's bolt hook with one mend. Its v2.7.9 stores a message
// queued for a subscriber without the message's packet id (the id is only
// in the record's key, "if_<client>:<id>"; the pebble and badger hooks keep
// it). A restored session's resend then fails with "missing packet id" on
// every reconnect, and that subscriber never gets another message. The id
// is read back from the key.
type sessionStore struct {
	bolt.Hook
}

// StoredInflightMessages returns the queued messages with their ids.
func (h *sessionStore) StoredInflightMessages() ([]storage.Message, error) {
	msgs, err := h.Hook.StoredInflightMessages()
	kept := msgs[:0]
	for _, m := range msgs {
		if m.PacketID == 0 {
			i := strings.LastIndexByte(m.ID, ':')
			id, perr := strconv.ParseUint(m.ID[i+1:], 10, 16)
			if i < 0 || perr != nil || id == 0 {
				continue // not resendable: the outbox sends again what it may have lost
			}
			m.PacketID = uint16(id)
		}
		kept = append(kept, m)
	}
	return kept, err
}

// StoredSysInfo restores no $SYS counters: Sekisho does not need them
// across restarts, and the bolt hook logs an ERROR at every start before
// its first minute's counters were written.
func (h *sessionStore) StoredSysInfo() (storage.SystemInfo, error) {
	return storage.SystemInfo{}, nil
}

// A client with a clean session has nothing to come back to: its session
// ends with its connection (MQTT 3.1.1 §3.1.2.4). The bolt hook would
// still write every message in flight to it, and delete it at the ack —
// two disk transactions a message for each door Pi, link and the fleet —
// so only persistent sessions' messages are kept.

// OnQosPublish keeps a message in flight to a persistent session.
func (h *sessionStore) OnQosPublish(cl *mqtt.Client, pk packets.Packet, sent int64, resends int) {
	if cl.Properties.Clean {
		return
	}
	h.Hook.OnQosPublish(cl, pk, sent, resends)
}

// OnQosComplete forgets a message a persistent session acknowledged.
func (h *sessionStore) OnQosComplete(cl *mqtt.Client, pk packets.Packet) {
	if cl.Properties.Clean {
		return
	}
	h.Hook.OnQosComplete(cl, pk)
}

// OnQosDropped forgets a message dropped for a persistent session.
func (h *sessionStore) OnQosDropped(cl *mqtt.Client, pk packets.Packet) {
	if cl.Properties.Clean {
		return
	}
	h.Hook.OnQosDropped(cl, pk)
}

// OnRetainMessage keeps a retained message on disk, except a door Pi's
// held version: 200 Pis acknowledge every change of cards, and each says it
// again when it reconnects to a restarted broker, so a disk write for each
// acknowledgement buys nothing and held the broker up.
func (h *sessionStore) OnRetainMessage(cl *mqtt.Client, pk packets.Packet, r int64) {
	if strings.HasSuffix(pk.TopicName, "/"+mqttlink.LeafHeld) && strings.Contains(pk.TopicName, "/bridges/") {
		return
	}
	h.Hook.OnRetainMessage(cl, pk, r)
}
