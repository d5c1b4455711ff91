package broker

import (
	"bytes"
	"sync"
	"time"

	mqtt "github.com/mochi-mqtt/server/v2"
	"github.com/mochi-mqtt/server/v2/packets"
)

// sessionTakeover closes a gap in mochi v2.7.9. When a subscriber with a
// persistent session reconnects, mochi copies the old session's queue to
// the new connection and only then registers the connection: a message
// published in between is queued on the old session and dropped with it.
// It showed as the last events of a restart never reaching a subscriber
// that reconnected while the outbox was sending them again. This hook hands
// such a message on to the new connection.
type sessionTakeover struct {
	mqtt.HookBase
	server *mqtt.Server
	store  *sessionStore // nil without a sessions file

	mu        sync.Mutex
	taking    map[string]*mqtt.Client          // client id → the session being taken over
	successor map[*mqtt.Client]handOff         // an old session → where its late messages go
	handed    map[*mqtt.Client]map[uint16]bool // what was handed on already, by old packet id
}

type handOff struct {
	to *mqtt.Client
	at time.Time
}

// handOffFor is how long an old session's late messages are still watched
// for: a publish that found the old session just before the new one was
// registered lands within microseconds.
const handOffFor = time.Minute

func (h *sessionTakeover) ID() string { return "session-takeover" }

func (h *sessionTakeover) Provides(b byte) bool {
	return bytes.Contains([]byte{mqtt.OnSessionEstablish, mqtt.OnSessionEstablished, mqtt.OnQosPublish}, []byte{b})
}

// OnSessionEstablish notes the session a reconnecting client takes over.
func (h *sessionTakeover) OnSessionEstablish(cl *mqtt.Client, pk packets.Packet) {
	if pk.Connect.Clean {
		return
	}
	if old, ok := h.server.Clients.Get(cl.ID); ok && old != cl {
		h.mu.Lock()
		h.taking[cl.ID] = old
		h.mu.Unlock()
	}
}

// OnSessionEstablished hands on what reached the old session after its
// queue was copied, and has any later arrival handed on too.
func (h *sessionTakeover) OnSessionEstablished(cl *mqtt.Client, _ packets.Packet) {
	now := time.Now()
	h.mu.Lock()
	old := h.taking[cl.ID]
	delete(h.taking, cl.ID)
	for o, s := range h.successor {
		if now.Sub(s.at) > handOffFor {
			delete(h.successor, o)
			delete(h.handed, o)
		}
	}
	var late []packets.Packet
	if old != nil {
		h.successor[old] = handOff{to: cl, at: now}
		for _, pk := range old.State.Inflight.GetAll(false) {
			if pk.FixedHeader.Type != packets.Publish {
				continue
			}
			if mine, ok := cl.State.Inflight.Get(pk.PacketID); ok && mine.TopicName == pk.TopicName && bytes.Equal(mine.Payload, pk.Payload) {
				continue // copied with the queue
			}
			if h.claim(old, pk.PacketID) {
				late = append(late, pk)
			}
		}
	}
	h.mu.Unlock()
	for _, pk := range late {
		h.hand(old, cl, pk)
	}
}

// OnQosPublish hands on a message that found the old session after the
// new one was up.
func (h *sessionTakeover) OnQosPublish(cl *mqtt.Client, pk packets.Packet, _ int64, resends int) {
	if resends != 0 || pk.FixedHeader.Type != packets.Publish {
		return
	}
	h.mu.Lock()
	s, ok := h.successor[cl]
	ok = ok && h.claim(cl, pk.PacketID)
	h.mu.Unlock()
	if ok {
		h.hand(cl, s.to, pk)
	}
}

// claim marks an old session's packet as handed on; false if it was.
func (h *sessionTakeover) claim(old *mqtt.Client, id uint16) bool {
	if h.handed[old] == nil {
		h.handed[old] = map[uint16]bool{}
	}
	if h.handed[old][id] {
		return false
	}
	h.handed[old][id] = true
	return true
}

// hand queues pk on the new session under a fresh packet id, keeps it on
// disk there in place of the old session's copy, and sends it.
func (h *sessionTakeover) hand(from, to *mqtt.Client, pk packets.Packet) {
	old := pk
	id, err := to.NextPacketID()
	if err != nil {
		h.Log.Warn("a message for a reconnected subscriber could not be queued", "client", to.ID, "error", err)
		return
	}
	pk.PacketID = uint16(id)
	pk.FixedHeader.Dup = false
	to.State.Inflight.Set(pk)
	if h.store != nil {
		h.store.OnQosPublish(to, pk, pk.Created, 0)
		h.store.OnQosComplete(from, old)
	}
	_ = to.WritePacket(pk) // if the connection is gone, the queue sends it at the next
}
