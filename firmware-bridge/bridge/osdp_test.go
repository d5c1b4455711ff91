package bridge_test

import (
	"context"
	"testing"

	"github.com/sekisho/sekisho/firmware-bridge/bridge"
	"github.com/sekisho/sekisho/firmware-bridge/osdp"
	"github.com/sekisho/sekisho/firmware-bridge/simhw"
	"github.com/sekisho/sekisho/firmware-bridge/wiegand"
)

// An OSDP reader on a simulated serial line: a card comes through the
// same decoder as Wiegand's and says it came over Secure Channel; its
// tamper switch is a reader signal; a reader with no key kept for it is
// insecure and passes nothing on.
func TestOSDPReaderThroughTheBridge(t *testing.T) {
	dir := t.TempDir()
	key := []byte("0123456789abcdef")
	if err := (osdp.KeyStore{Dir: dir}).Save("r1", key); err != nil {
		t.Fatal(err)
	}
	board := simhw.NewBoard()
	dev := board.AddOSDPReader("r1", "/dev/ttySIM0", 1, key)
	stranger := board.AddOSDPReader("r2", "/dev/ttySIM0", 2, []byte("fedcba9876543210"))
	layout := bridge.Layout{
		KeyDir: dir,
		Readers: []bridge.ReaderLayout{
			{ID: "r1", Door: "d1", OSDP: &bridge.OSDPPlace{Port: "/dev/ttySIM0", Address: 1, Baud: 115200}},
			{ID: "r2", Door: "d1", OSDP: &bridge.OSDPPlace{Port: "/dev/ttySIM0", Address: 2, Baud: 115200}},
		},
		Doors: []bridge.DoorLayout{{ID: "d1"}},
	}
	l, err := bridge.NewLocal(layout, board)
	if err != nil {
		t.Fatal(err)
	}
	signals := make(chan bridge.Signal, 64)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- l.Run(ctx, func(s bridge.Signal) { signals <- s }) }()
	t.Cleanup(func() {
		cancel()
		if err := recv(t, done, "the bridge to stop"); err != nil {
			t.Error(err)
		}
	})
	var seen []bridge.Signal
	wait := func(what string, ok func(bridge.Signal) bool) bridge.Signal {
		t.Helper()
		for _, s := range seen {
			if ok(s) {
				return s
			}
		}
		for {
			s := recv(t, signals, what)
			seen = append(seen, s)
			if ok(s) {
				return s
			}
		}
	}
	wait("r1 online", func(s bridge.Signal) bool { return s.Reader == "r1" && s.State == bridge.ReaderOnline })
	wait("r2 insecure", func(s bridge.Signal) bool { return s.Reader == "r2" && s.State == bridge.ReaderInsecure })
	// H10301 facility 35, card 8200: the same frame a Wiegand reader sends.
	bits, err := wiegand.Encode(wiegand.FormatH10301, 35, 8200)
	if err != nil {
		t.Fatal(err)
	}
	data, n := osdp.PackBits(bits)
	stranger.PresentCard(data, n)
	dev.PresentCard(data, n)
	c := wait("r1's card", func(s bridge.Signal) bool { return s.Kind == bridge.SignalCard })
	if c.Reader != "r1" || c.Channel != bridge.ChannelOSDPSC || c.Card == nil || c.Card.Printed() != "35:8200" {
		t.Fatalf("card signal %+v", c)
	}
	dev.SetTamper(true)
	wait("r1's tamper", func(s bridge.Signal) bool { return s.Reader == "r1" && s.State == bridge.ReaderTamper })
	for _, s := range seen {
		if s.Kind == bridge.SignalCard && s.Reader == "r2" {
			t.Fatal("the insecure reader's card was passed on")
		}
	}
}
