package wiegand

import "testing"

func BenchmarkDecodeH10301(b *testing.B) {
	bits, _ := Encode(FormatH10301, 123, 4567)
	for b.Loop() {
		if _, err := Decode(bits); err != nil {
			b.Fatal(err)
		}
	}
}
