package broker

import (
	"log/slog"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"
	mqtt "github.com/mochi-mqtt/server/v2"
	"github.com/mochi-mqtt/server/v2/packets"
)

// A client subscribing with an id the broker happens to be using for a
// message to it gets its subscription, acknowledged under its own id.
func TestSubscribeWithAnIDTheBrokerIsUsing(t *testing.T) {
	server := mqtt.New(&mqtt.Options{Logger: slog.New(slog.DiscardHandler)})
	h := &packetIDs{}
	cl := server.NewClient(nil, "tcp", "home-assistant", false)
	cl.State.Inflight.Set(packets.Packet{FixedHeader: packets.FixedHeader{Type: packets.Publish, Qos: 1}, PacketID: 7,
		TopicName: "homeassistant/lock/x/config", Created: time.Now().Unix()})

	sub := packets.Packet{FixedHeader: packets.FixedHeader{Type: packets.Subscribe}, PacketID: 7,
		Filters: packets.Subscriptions{{Filter: "sekisho/s/doors/+/swipe", Qos: 1}}}
	got := h.OnSubscribe(cl, sub)
	if got.PacketID == 7 || got.PacketID == 0 {
		t.Fatalf("the clashing id was kept: %d", got.PacketID)
	}
	if _, used := cl.State.Inflight.Get(got.PacketID); used {
		t.Fatalf("the stand-in %d is in use too", got.PacketID)
	}
	ack := h.OnPacketEncode(cl, packets.Packet{FixedHeader: packets.FixedHeader{Type: packets.Suback}, PacketID: got.PacketID})
	if ack.PacketID != 7 {
		t.Fatalf("acknowledged as %d, want the client's 7", ack.PacketID)
	}
	// A publish with the stand-in's number later is left alone.
	if pub := h.OnPacketEncode(cl, packets.Packet{FixedHeader: packets.FixedHeader{Type: packets.Publish}, PacketID: got.PacketID}); pub.PacketID != got.PacketID {
		t.Fatal("a publish was renumbered")
	}

	// No clash: untouched. The client's own QoS 2 publish in flight: mochi's
	// refusal stands, as the spec wants.
	if got := h.OnSubscribe(cl, packets.Packet{FixedHeader: packets.FixedHeader{Type: packets.Subscribe}, PacketID: 8}); got.PacketID != 8 {
		t.Fatalf("no clash, renumbered to %d", got.PacketID)
	}
	cl.State.Inflight.Set(packets.Packet{FixedHeader: packets.FixedHeader{Type: packets.Pubrec}, PacketID: 9})
	if got := h.OnUnsubscribe(cl, packets.Packet{FixedHeader: packets.FixedHeader{Type: packets.Unsubscribe}, PacketID: 9}); got.PacketID != 9 {
		t.Fatalf("the client's own id in flight, renumbered to %d", got.PacketID)
	}
}

// Through the broker itself: a real client subscribes with the id of a
// message the broker has in flight to it, and gets the subscription.
func TestBrokerAcceptsSubscriptionsWhoseIDClashes(t *testing.T) {
	b, err := Start("127.0.0.1:0", nil, nil, "", slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	c := paho.NewClient(paho.NewClientOptions().AddBroker(b.URL()).SetClientID("ha"))
	if tok := c.Connect(); !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
		t.Fatal(tok.Error())
	}
	defer c.Disconnect(10)
	cl, ok := b.server.Clients.Get("ha")
	if !ok {
		t.Fatal("no client")
	}
	// The broker's next messages to it would be 1, 2, 3…; so are the
	// client's subscriptions. Hold id 1..3 in flight as the broker's own.
	for id := uint16(1); id <= 3; id++ {
		cl.State.Inflight.Set(packets.Packet{FixedHeader: packets.FixedHeader{Type: packets.Publish, Qos: 1}, PacketID: id,
			TopicName: "x", Created: time.Now().Unix()})
	}
	tok := c.Subscribe("sekisho/s/doors/+/swipe", 1, nil)
	if !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
		t.Fatal(tok.Error())
	}
	if code := tok.(*paho.SubscribeToken).Result()["sekisho/s/doors/+/swipe"]; code >= 0x80 {
		t.Fatalf("subscription refused: 0x%x", code)
	}
}
