package broker

import (
	"bytes"
	"sync"

	mqtt "github.com/mochi-mqtt/server/v2"
	"github.com/mochi-mqtt/server/v2/packets"
)

// packetIDs closes another gap in mochi v2.7.9. A client and the broker
// number their packets independently (MQTT 3.1.1 §2.3.1), but mochi refuses
// a SUBSCRIBE or UNSUBSCRIBE whose id matches one of its own QoS 1
// messages still in flight to that client (SUBACK 0x91, which MQTT 3.1.1
// clients see as a plain failure). Home Assistant subscribes while the
// site's retained discovery floods in, so now and then a subscription —
// a door's swipes, say — silently never existed. This hook gives such a
// request an id mochi has free while it is processed, and puts the
// client's own id back on the acknowledgement.
type packetIDs struct {
	mqtt.HookBase

	mu    sync.Mutex
	moved map[*mqtt.Client]map[uint16]uint16 // stand-in id → the client's
}

func (h *packetIDs) ID() string { return "packet-ids" }

func (h *packetIDs) Provides(b byte) bool {
	return bytes.Contains([]byte{mqtt.OnSubscribe, mqtt.OnUnsubscribe, mqtt.OnPacketEncode, mqtt.OnDisconnect}, []byte{b})
}

func (h *packetIDs) OnSubscribe(cl *mqtt.Client, pk packets.Packet) packets.Packet {
	return h.standIn(cl, pk)
}

func (h *packetIDs) OnUnsubscribe(cl *mqtt.Client, pk packets.Packet) packets.Packet {
	return h.standIn(cl, pk)
}

// standIn swaps the request's id for a free one when it clashes with a
// message the broker is sending.
func (h *packetIDs) standIn(cl *mqtt.Client, pk packets.Packet) packets.Packet {
	mine, ok := cl.State.Inflight.Get(pk.PacketID)
	if !ok || mine.FixedHeader.Type != packets.Publish {
		return pk // no clash, or the client's own (a QoS 2 publish): mochi's check stands
	}
	for id := uint16(65535); id > 0; id-- {
		if _, used := cl.State.Inflight.Get(id); used {
			continue
		}
		h.mu.Lock()
		if h.moved == nil {
			h.moved = map[*mqtt.Client]map[uint16]uint16{}
		}
		if h.moved[cl] == nil {
			h.moved[cl] = map[uint16]uint16{}
		}
		if _, taken := h.moved[cl][id]; taken {
			h.mu.Unlock()
			continue
		}
		h.moved[cl][id] = pk.PacketID
		h.mu.Unlock()
		pk.PacketID = id
		return pk
	}
	return pk
}

// OnPacketEncode puts the client's own id back on the acknowledgement.
func (h *packetIDs) OnPacketEncode(cl *mqtt.Client, pk packets.Packet) packets.Packet {
	if pk.FixedHeader.Type != packets.Suback && pk.FixedHeader.Type != packets.Unsuback {
		return pk
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if orig, ok := h.moved[cl][pk.PacketID]; ok {
		delete(h.moved[cl], pk.PacketID)
		pk.PacketID = orig
	}
	return pk
}

func (h *packetIDs) OnDisconnect(cl *mqtt.Client, _ error, _ bool) {
	h.mu.Lock()
	delete(h.moved, cl)
	h.mu.Unlock()
}
