package wiegand

import (
	"fmt"
	"math/big"
	"strings"
)

// Bits is one Wiegand frame, first bit sent first. Each element is 0 or 1.
type Bits []uint8

// ParseBits reads a frame written as a string of '0' and '1'.
func ParseBits(s string) (Bits, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, fmt.Errorf("wiegand: empty bit string")
	}
	b := make(Bits, len(s))
	for i, c := range s {
		switch c {
		case '0':
			b[i] = 0
		case '1':
			b[i] = 1
		default:
			return nil, fmt.Errorf("wiegand: bit %d is %q, want 0 or 1", i, c)
		}
	}
	return b, nil
}

func (b Bits) String() string {
	var sb strings.Builder
	sb.Grow(len(b))
	for _, v := range b {
		sb.WriteByte('0' + v)
	}
	return sb.String()
}

// Hex is the frame as one number in hexadecimal, the way reader tools and
// card sheets print the raw value (26-bit H10301 FC 123 CN 4567 is 2F623AE).
func (b Bits) Hex() string {
	n := new(big.Int)
	for _, v := range b {
		n.Lsh(n, 1)
		n.SetBit(n, 0, uint(v))
	}
	return strings.ToUpper(n.Text(16))
}

// field reads bits [from, from+n) as an unsigned number.
func (b Bits) field(from, n int) uint64 {
	var v uint64
	for _, bit := range b[from : from+n] {
		v = v<<1 | uint64(bit)
	}
	return v
}

func (b Bits) putField(from, n int, v uint64) {
	for i := n - 1; i >= 0; i-- {
		b[from+i] = uint8(v & 1)
		v >>= 1
	}
}
