package wiegand

import (
	"testing"
)

// FuzzDecode: any string of bits decodes without panicking, and a card that
// comes out of a known format encodes back to exactly the same bits.
func FuzzDecode(f *testing.F) {
	for _, name := range DefaultFormats {
		b, _ := Encode(name, 1, 2)
		f.Add(b.String())
	}
	f.Add("0101")
	f.Add("111111111111111111111111111111111111111111111111111111")
	f.Fuzz(func(t *testing.T, s string) {
		b, err := ParseBits(s)
		if err != nil || len(b) > 128 {
			return
		}
		c, err := Decode(b)
		if err != nil || c.Format == FormatRaw {
			return
		}
		again, err := Encode(c.Format, c.Facility, c.Number)
		if err != nil {
			t.Fatalf("decoded %+v cannot be encoded: %v", c, err)
		}
		if again.String() != b.String() {
			t.Fatalf("%s decoded to %s %d:%d, which encodes to %s", b, c.Format, c.Facility, c.Number, again)
		}
	})
}
