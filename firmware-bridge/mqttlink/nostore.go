package mqttlink

import (
	paho "github.com/eclipse/paho.mqtt.golang"
	"github.com/eclipse/paho.mqtt.golang/packets"
)

// NoStore keeps nothing of what a paho client sends. Sekisho's outboxes (the
// controller's event log, a door Pi's SQLite outbox) already resend whatever
// a broker did not acknowledge, so paho's own resend after a reconnect only
// doubles the work — and it races with a publish made as the connection
// comes back up (paho.mqtt.golang issue #703: resume() sets DUP on a packet
// the writer is sending). With nothing stored, resume has nothing to touch.
type NoStore struct{}

var _ paho.Store = NoStore{}

func (NoStore) Open()                             {}
func (NoStore) Put(string, packets.ControlPacket) {}
func (NoStore) Get(string) packets.ControlPacket  { return nil }
func (NoStore) All() []string                     { return nil }
func (NoStore) Del(string)                        {}
func (NoStore) Close()                            {}
func (NoStore) Reset()                            {}
