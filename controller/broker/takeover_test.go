package broker

import (
	"bytes"
	"log/slog"
	"net"
	"testing"
	"time"

	mqtt "github.com/mochi-mqtt/server/v2"
	"github.com/mochi-mqtt/server/v2/packets"
)

// A subscriber reconnects while events are published: one that reaches the
// old session after its queue was copied, and one that reaches it after the
// new session is up, both go on to the new connection, once each.
func TestReconnectingSubscriberKeepsWhatArrivesDuringTakeover(t *testing.T) {
	server := mqtt.New(&mqtt.Options{Logger: slog.New(slog.DiscardHandler)})
	h := &sessionTakeover{server: server, taking: map[string]*mqtt.Client{},
		successor: map[*mqtt.Client]handOff{}, handed: map[*mqtt.Client]map[uint16]bool{}}
	if err := server.AddHook(h, nil); err != nil {
		t.Fatal(err)
	}
	old := server.NewClient(nil, "tcp", "keeper", false)
	server.Clients.Add(old)

	mine, theirs := net.Pipe()
	defer mine.Close()
	wire := make(chan []byte, 64) // what the new connection sends, as it is read
	go func() {
		defer close(wire)
		for {
			buf := make([]byte, 4096)
			n, err := theirs.Read(buf)
			if n > 0 {
				wire <- buf[:n]
			}
			if err != nil {
				return
			}
		}
	}()
	cl := server.NewClient(mine, "tcp", "keeper", false)
	cl.Properties.ProtocolVersion = 4
	publish := func(id uint16, payload string) packets.Packet {
		return packets.Packet{FixedHeader: packets.FixedHeader{Type: packets.Publish, Qos: 1}, PacketID: id,
			TopicName: "sekisho/s/events", Payload: []byte(payload), Created: time.Now().Unix()}
	}
	queued := publish(1, "queued before the reconnect")
	old.State.Inflight.Set(queued)
	connect := packets.Packet{Connect: packets.ConnectParams{ClientIdentifier: "keeper"}}
	h.OnSessionEstablish(cl, connect)
	cl.State.Inflight = old.State.Inflight.Clone() // what mochi copies
	old.State.Inflight.Set(publish(2, "in the gap"))
	server.Clients.Add(cl)
	h.OnSessionEstablished(cl, connect)
	late := publish(3, "after the new session")
	old.State.Inflight.Set(late)
	h.OnQosPublish(old, late, late.Created, 0)
	h.OnQosPublish(old, late, late.Created, 0) // told twice: handed once

	payloads := map[string]int{}
	for _, pk := range cl.State.Inflight.GetAll(false) {
		payloads[string(pk.Payload)]++
	}
	for _, want := range []string{"queued before the reconnect", "in the gap", "after the new session"} {
		if payloads[want] != 1 {
			t.Errorf("%q queued %d times on the new session: %v", want, payloads[want], payloads)
		}
	}
	var got []byte
	deadline := time.After(10 * time.Second)
	for !(bytes.Count(got, []byte("in the gap")) == 1 && bytes.Count(got, []byte("after the new session")) == 1) {
		select {
		case chunk := <-wire:
			got = append(got, chunk...)
		case <-deadline:
			t.Fatalf("sent on the new connection: %q", got)
		}
	}
}
