// Package readerstate says what a supervised (OSDP) reader's report means
// for the log and the alarms: an offline or insecure reader, its tamper
// switch, its power. It touches memory only; the door loop records what
// it returns.
package readerstate

import (
	"github.com/sekisho/sekisho/controller/event"
	"github.com/sekisho/sekisho/controller/sekisho"
	"github.com/sekisho/sekisho/firmware-bridge/bridge"
)

// Outcome is a reader report's event, and the alarm it raises or the
// alarms it ends.
type Outcome struct {
	Event event.Event
	Raise *sekisho.Alarm
	Clear []sekisho.AlarmKind
}

// Of reads one SignalReader.
func Of(sig bridge.Signal) Outcome {
	ev := event.Event{Type: event.ReaderStatus, Time: sig.At, Reader: sig.Reader, Door: sig.Door,
		Detail: map[string]string{"state": sig.State}}
	if sig.Error != "" {
		ev.Detail["error"] = sig.Error
	}
	o := Outcome{Event: ev}
	raise := func(kind sekisho.AlarmKind, detail string) {
		o.Raise = &sekisho.Alarm{Kind: kind, Door: sig.Door, Reader: sig.Reader, Detail: detail}
	}
	switch sig.State {
	case bridge.ReaderInsecure:
		raise(sekisho.AlarmReaderInsecure, "reader "+sig.Reader+": "+sig.Error+"; its cards are refused")
	case bridge.ReaderOffline:
		raise(sekisho.AlarmReaderOffline, "reader "+sig.Reader+" has not answered for 8 seconds")
	case bridge.ReaderTamper:
		// A kind of its own: the reader closing its switch must not clear
		// the door's own tamper loop, still open, and its alarm.
		raise(sekisho.AlarmReaderTamper, "reader "+sig.Reader+": its tamper switch opened")
	case bridge.ReaderPowerFault:
		raise(sekisho.AlarmReaderPower, "reader "+sig.Reader+" reports a power fault")
	case bridge.ReaderOnline:
		o.Clear = []sekisho.AlarmKind{sekisho.AlarmReaderOffline, sekisho.AlarmReaderInsecure}
	case bridge.ReaderIntact:
		o.Clear = []sekisho.AlarmKind{sekisho.AlarmReaderTamper}
	case bridge.ReaderPowerOK:
		o.Clear = []sekisho.AlarmKind{sekisho.AlarmReaderPower}
	}
	return o
}
