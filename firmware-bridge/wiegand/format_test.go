package wiegand

import (
	"errors"
	"testing"
)

func TestH10301KnownVector(t *testing.T) {
	b, err := Encode(FormatH10301, 123, 4567)
	if err != nil {
		t.Fatal(err)
	}
	if got := b.Hex(); got != "2F623AE" {
		t.Fatalf("H10301 123:4567 = %s, want 2F623AE", got)
	}
	c, err := Decode(b)
	if err != nil {
		t.Fatal(err)
	}
	if c.Format != FormatH10301 || c.Facility != 123 || c.Number != 4567 || c.Printed() != "123:4567" {
		t.Fatalf("decoded %+v", c)
	}
}

func TestDecodeRejects(t *testing.T) {
	good, _ := Encode(FormatH10301, 12, 345)
	tests := []struct {
		name string
		bits func() Bits
		want error
	}{
		{"first parity flipped", func() Bits { b := append(Bits(nil), good...); b[0] ^= 1; return b }, ErrParity},
		{"last parity flipped", func() Bits { b := append(Bits(nil), good...); b[25] ^= 1; return b }, ErrParity},
		{"data bit flipped", func() Bits { b := append(Bits(nil), good...); b[10] ^= 1; return b }, ErrParity},
		{"too short", func() Bits { return good[:10] }, ErrTooShort},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := Decode(tt.bits()); !errors.Is(err, tt.want) {
				t.Fatalf("Decode = %v, want %v", err, tt.want)
			}
		})
	}
}

func TestRawFallbackKeepsBits(t *testing.T) {
	b, _ := ParseBits("1011000011110000111100001111")
	c, err := Decode(b)
	if err != nil {
		t.Fatal(err)
	}
	if c.Format != FormatRaw || c.Bits != b.String() || c.Hex != "B0F0F0F" {
		t.Fatalf("raw card %+v", c)
	}
}

func TestParseBitsRejectsOtherCharacters(t *testing.T) {
	for _, s := range []string{"", "0102", "abc"} {
		if _, err := ParseBits(s); err == nil {
			t.Errorf("ParseBits(%q) accepted", s)
		}
	}
}

func TestEncodeRange(t *testing.T) {
	if _, err := Encode(FormatH10301, 256, 1); !errors.Is(err, ErrRange) {
		t.Fatalf("facility 256: %v", err)
	}
	if _, err := Encode(FormatH10301, 1, 70000); !errors.Is(err, ErrRange) {
		t.Fatalf("number 70000: %v", err)
	}
}
