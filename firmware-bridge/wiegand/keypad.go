package wiegand

import (
	"errors"
	"fmt"
)

// Keypad keys arrive as their own short bursts: 4 bits holding the key, or 8
// bits holding the key in the low nibble and its complement in the high one.
// 0–9 are the digits, 10 is '*' and 11 is '#' (HID's and most readers' mapping).

// ErrKeyComplement is an 8-bit key whose two nibbles disagree: a garbled press.
var ErrKeyComplement = errors.New("keypad: 8-bit key does not match its complement")

// IsKey reports whether a frame has a keypad key's length.
func IsKey(b Bits) bool { return len(b) == 4 || len(b) == 8 }

// Key reads a keypad burst as '0'–'9', '*' or '#'.
func Key(b Bits) (rune, error) {
	var v uint64
	switch len(b) {
	case 4:
		v = b.field(0, 4)
	case 8:
		hi, lo := b.field(0, 4), b.field(4, 4)
		if hi != ^lo&0xF {
			return 0, fmt.Errorf("%w: %s", ErrKeyComplement, b)
		}
		v = lo
	default:
		return 0, fmt.Errorf("keypad: a key is 4 or 8 bits, not %d", len(b))
	}
	switch {
	case v <= 9:
		return rune('0' + v), nil
	case v == 10:
		return '*', nil
	case v == 11:
		return '#', nil
	}
	return 0, fmt.Errorf("keypad: no key has code %d", v)
}

// KeyBits is the burst a keypad sends for key, in 4- or 8-bit mode.
func KeyBits(key rune, eightBit bool) (Bits, error) {
	var v uint64
	switch {
	case key >= '0' && key <= '9':
		v = uint64(key - '0')
	case key == '*':
		v = 10
	case key == '#':
		v = 11
	default:
		return nil, fmt.Errorf("keypad: no key %q", key)
	}
	if !eightBit {
		b := make(Bits, 4)
		b.putField(0, 4, v)
		return b, nil
	}
	b := make(Bits, 8)
	b.putField(0, 4, ^v&0xF)
	b.putField(4, 4, v)
	return b, nil
}
