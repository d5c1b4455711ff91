package wiegand

import (
	"testing"
	"time"
)

func BenchmarkDecodeH10301(b *testing.B) {
	bits, _ := Encode(FormatH10301, 123, 4567)
	for b.Loop() {
		if _, err := Decode(bits); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkFrame is the whole cost of one 48-bit frame: every edge through
// the framer, then the decode.
func BenchmarkFrame(b *testing.B) {
	bits, _ := Encode(FormatC1k48, 42069, 42069)
	f := &Framer{}
	at := t0
	for b.Loop() {
		for _, bit := range bits {
			at = at.Add(2 * time.Millisecond)
			f.Fall(bit, at, false)
		}
		at = at.Add(time.Second)
		for _, r := range f.Poll(at) {
			if _, err := Decode(r.Bits); err != nil {
				b.Fatal(err)
			}
		}
	}
}
