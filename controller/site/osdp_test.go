package site_test

import (
	"testing"

	"github.com/sekisho/sekisho/controller/event"
	"github.com/sekisho/sekisho/firmware-bridge/bridge"
)

// The demo's OSDP reader (the development room's inside one, on a
// simulated RS-485 line): a card there is decided by the controller and
// opens the strike, and the log says it came over Secure Channel. When the
// reader starts speaking in clear it is an alarm, and its cards open
// nothing.
func TestOSDPReaderFullPath(t *testing.T) {
	t.Parallel()
	ts := startSite(t, "")
	live := ts.stream()
	dev, ok := ts.Sim.OSDPReader("r-dev-in")
	if !ok {
		t.Fatal("the demo has no simulated OSDP reader at r-dev-in")
	}
	// A card presented before the reader is online waits in the reader
	// for its first poll, as a real reader's does.
	ts.addCardholder("OSDP Tester", []string{"developers"}, 41, 4100)
	strike := ts.Sim.Door("dev-door").Strike
	before := len(strike.History())
	ts.swipe("r-dev-in", 41, 4100)
	ev := await(t, live, "the OSDP card's decision", func(ev event.Event) bool {
		return ev.Reader == "r-dev-in" && (ev.Type == event.AccessGranted || ev.Type == event.AccessDenied)
	})
	if ev.Type != event.AccessGranted || ev.Detail["channel"] != bridge.ChannelOSDPSC || ev.Credential == nil || ev.Credential.Number != 4100 {
		t.Fatalf("the OSDP card: %+v", ev)
	}
	waitFor(t, "the strike to open for the OSDP card", func() bool { return len(strike.History()) > before })
	// The manager's log keeps to the cards of one kind of reader.
	var page []event.Event
	waitFor(t, "the OSDP card in the log", func() bool {
		return ts.call("GET", "/api/events?channel=osdp-sc", nil, &page) == 200 && len(page) > 0
	})
	for _, e := range page {
		if e.Detail["channel"] != bridge.ChannelOSDPSC {
			t.Fatalf("channel=osdp-sc gave %+v", e)
		}
	}
	if code := ts.call("GET", "/api/events?channel=carrier-pigeon", nil, nil); code != 400 {
		t.Fatalf("an unknown channel: %d, want 400", code)
	}

	dev.SetClear(true)
	a := await(t, live, "reader_insecure", func(ev event.Event) bool {
		return ev.Type == event.AlarmRaised && ev.Detail["kind"] == "reader_insecure"
	})
	if a.Reader != "r-dev-in" || a.Door != "dev-door" {
		t.Fatalf("alarm %+v", a)
	}
	opened := len(strike.History())
	ts.swipe("r-dev-in", 41, 4100)
	ts.swipe("r-main-out", 41, 4100) // a later card elsewhere: the first had its chance
	await(t, live, "the card at the main door", func(ev event.Event) bool { return ev.Reader == "r-main-out" })
	if len(strike.History()) != opened {
		t.Fatal("the strike moved for a reader in clear")
	}
}
