package wiegand

import (
	"errors"
	"testing"
)

func TestKnownVectors(t *testing.T) {
	tests := []struct {
		format  string
		fc, cn  uint64
		hex     string
		printed string
	}{
		{FormatH10301, 123, 4567, "2F623AE", "123:4567"},
		{FormatC1k48, 42069, 42069, "A4550148AB", "42069:42069"},
	}
	for _, tt := range tests {
		b, err := Encode(tt.format, tt.fc, tt.cn)
		if err != nil {
			t.Fatal(err)
		}
		if got := b.Hex(); got != tt.hex {
			t.Errorf("%s %d:%d = %s, want %s", tt.format, tt.fc, tt.cn, got, tt.hex)
		}
		c, err := Decode(b)
		if err != nil || c.Format != tt.format || c.Printed() != tt.printed {
			t.Errorf("decode %s: %+v %v", tt.hex, c, err)
		}
	}
}

func TestEveryFormatRoundTrips(t *testing.T) {
	for name, f := range Builtin {
		t.Run(name, func(t *testing.T) {
			if err := f.Check(); err != nil {
				t.Fatal(err)
			}
			d := &Decoder{Formats: []Format{f}}
			for _, v := range []struct{ fc, cn uint64 }{{0, 0}, {1, 1}, {f.Facility.max(), f.Number.max()}, {f.Facility.max() / 3, f.Number.max() / 7}} {
				if f.Facility.Bits == 0 {
					v.fc = 0
				}
				b, err := f.Encode(v.fc, v.cn)
				if err != nil {
					t.Fatal(err)
				}
				if len(b) != f.Length {
					t.Fatalf("%d bits", len(b))
				}
				c, err := d.Decode(b)
				if err != nil || c.Facility != v.fc || c.Number != v.cn {
					t.Fatalf("%d:%d → %s → %+v %v", v.fc, v.cn, b, c, err)
				}
				// Any single flipped parity bit is caught.
				for _, pr := range f.Parity {
					bad := append(Bits(nil), b...)
					bad[pr.Bit] ^= 1
					if _, err := d.Decode(bad); !errors.Is(err, ErrParity) {
						t.Fatalf("flipped parity bit %d accepted", pr.Bit)
					}
				}
			}
			if _, err := f.Encode(f.Facility.max()+1, 0); f.Facility.Bits > 0 && !errors.Is(err, ErrRange) {
				t.Fatalf("facility over range: %v", err)
			}
		})
	}
}

func TestThirtySevenBitsFollowTheSiteChoice(t *testing.T) {
	b, _ := Encode(FormatH10304, 1000, 300000)
	if c, _ := Decode(b); c.Format != FormatH10304 || c.Printed() != "1000:300000" {
		t.Fatalf("default: %+v", c)
	}
	d, err := NewDecoder([]string{FormatH10302}, nil)
	if err != nil {
		t.Fatal(err)
	}
	c, err := d.Decode(b)
	if err != nil || c.Format != FormatH10302 || c.Number != 1000<<19|300000 || c.Printed() != "524588000" {
		t.Fatalf("H10302 site: %+v %v (printed %s)", c, err, c.Printed())
	}
}

func TestCustomFormat(t *testing.T) {
	acme := Format{Name: "ACME40", Length: 40, Facility: Field{1, 14}, Number: Field{15, 24},
		Parity: []Parity{{Bit: 0, Over: span(1, 19)}, {Bit: 39, Odd: true, Over: span(20, 38)}}}
	d, err := NewDecoder([]string{FormatH10301}, []Format{acme})
	if err != nil {
		t.Fatal(err)
	}
	b, err := acme.Encode(9000, 1234567)
	if err != nil {
		t.Fatal(err)
	}
	if c, err := d.Decode(b); err != nil || c.Format != "ACME40" || c.Printed() != "9000:1234567" {
		t.Fatalf("%+v %v", c, err)
	}
	broken := []Format{
		{Name: "overlap", Length: 30, Facility: Field{0, 10}, Number: Field{5, 10}},
		{Name: "outside", Length: 20, Number: Field{10, 16}},
		{Name: "parity-on-data", Length: 20, Number: Field{1, 10}, Parity: []Parity{{Bit: 5}}},
		{Name: "no-number", Length: 20},
		{Name: "raw", Length: 30, Number: Field{1, 10}},
	}
	for _, f := range broken {
		if _, err := NewDecoder(nil, []Format{f}); err == nil {
			t.Errorf("format %s accepted", f.Name)
		}
	}
}

func TestDecodeRejects(t *testing.T) {
	good, _ := Encode(FormatH10301, 12, 345)
	flip := func(i int) Bits { b := append(Bits(nil), good...); b[i] ^= 1; return b }
	tests := []struct {
		name string
		bits Bits
		want error
	}{
		{"first parity flipped", flip(0), ErrParity},
		{"last parity flipped", flip(25), ErrParity},
		{"data bit flipped", flip(10), ErrParity},
		{"too short", good[:10], ErrTooShort},
	}
	for _, tt := range tests {
		if _, err := Decode(tt.bits); !errors.Is(err, tt.want) {
			t.Errorf("%s: Decode = %v, want %v", tt.name, err, tt.want)
		}
	}
}

func TestRawFallbackKeepsBits(t *testing.T) {
	b, _ := ParseBits("1011000011110000111100001111")
	c, err := Decode(b)
	if err != nil {
		t.Fatal(err)
	}
	if c.Format != FormatRaw || c.Bits != b.String() || c.Hex != "B0F0F0F" || c.Printed() != "raw:B0F0F0F" {
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

func TestKeys(t *testing.T) {
	for _, key := range "0123456789*#" {
		for _, eight := range []bool{false, true} {
			b, err := KeyBits(key, eight)
			if err != nil {
				t.Fatal(err)
			}
			if got, err := Key(b); err != nil || got != key {
				t.Errorf("key %q (8-bit %v): %q %v", key, eight, got, err)
			}
		}
	}
	five, _ := KeyBits('5', true)
	five[0] ^= 1 // complement no longer matches
	if _, err := Key(five); !errors.Is(err, ErrKeyComplement) {
		t.Fatalf("garbled 8-bit key: %v", err)
	}
	if _, err := Key(Bits{1, 1, 1, 1}); err == nil {
		t.Fatal("code 15 accepted as a key")
	}
}
