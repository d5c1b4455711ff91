package readerstate

import (
	"testing"

	"github.com/sekisho/sekisho/controller/event"
	"github.com/sekisho/sekisho/controller/sekisho"
	"github.com/sekisho/sekisho/firmware-bridge/bridge"
)

func TestOf(t *testing.T) {
	for _, c := range []struct {
		state string
		raise sekisho.AlarmKind
		clear []sekisho.AlarmKind
	}{
		{bridge.ReaderInsecure, sekisho.AlarmReaderInsecure, nil},
		{bridge.ReaderOffline, sekisho.AlarmReaderOffline, nil},
		{bridge.ReaderTamper, sekisho.AlarmReaderTamper, nil},
		{bridge.ReaderPowerFault, sekisho.AlarmReaderPower, nil},
		{bridge.ReaderOnline, "", []sekisho.AlarmKind{sekisho.AlarmReaderOffline, sekisho.AlarmReaderInsecure}},
		{bridge.ReaderIntact, "", []sekisho.AlarmKind{sekisho.AlarmReaderTamper}},
		{bridge.ReaderPowerOK, "", []sekisho.AlarmKind{sekisho.AlarmReaderPower}},
		{bridge.ReaderKeyed, "", nil},
	} {
		o := Of(bridge.Signal{Kind: bridge.SignalReader, State: c.state, Reader: "r1", Door: "d1", Error: "why"})
		if o.Event.Type != event.ReaderStatus || o.Event.Detail["state"] != c.state || o.Event.Reader != "r1" {
			t.Errorf("%s: event %+v", c.state, o.Event)
		}
		if (o.Raise == nil) != (c.raise == "") || (o.Raise != nil && (o.Raise.Kind != c.raise || o.Raise.Door != "d1")) {
			t.Errorf("%s: raises %+v, want %s", c.state, o.Raise, c.raise)
		}
		if len(o.Clear) != len(c.clear) {
			t.Errorf("%s: clears %v, want %v", c.state, o.Clear, c.clear)
		}
		if c.raise != "" && !sekisho.KnownKind(c.raise) {
			t.Errorf("%s: alarm kind %s is not in sekisho.Kinds", c.state, c.raise)
		}
	}
}
