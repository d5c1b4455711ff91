package wiegand

import (
	"errors"
	"fmt"
)

// Card is a decoded credential as a guard reads it off the card's sticker.
type Card struct {
	Format   string `json:"format"`
	Facility uint64 `json:"facility"`
	Number   uint64 `json:"number"`
	Bits     string `json:"bits,omitempty"`
	Hex      string `json:"hex,omitempty"`
}

// Printed is the card the way it is printed on it: FC:CN, or the raw hex for
// frames of no known format.
func (c Card) Printed() string {
	if c.Format == FormatRaw {
		return "raw:" + c.Hex
	}
	return fmt.Sprintf("%d:%d", c.Facility, c.Number)
}

// Format names.
const (
	FormatH10301 = "H10301"
	FormatRaw    = "raw"
)

// Why a frame is rejected; each becomes a bad_frame event, never a card.
var (
	ErrParity   = errors.New("parity error")
	ErrTooShort = errors.New("frame too short for any card format")
	ErrRange    = errors.New("facility or number out of range for format")
)

// minRawBits is the shortest frame kept as a raw card. Shorter bursts are
// keypad keys or line noise, never a card number.
const minRawBits = 24

// Decode turns a frame into a card. A frame whose length matches a known
// format but fails its parity is rejected rather than guessed at.
func Decode(b Bits) (Card, error) {
	switch {
	case len(b) == 26:
		return decodeH10301(b)
	case len(b) < minRawBits:
		return Card{}, fmt.Errorf("%w: %d bits", ErrTooShort, len(b))
	default:
		return Card{Format: FormatRaw, Bits: b.String(), Hex: b.Hex()}, nil
	}
}

// H10301: P0 even parity over bits 1–12; facility bits 1–8; number bits
// 9–24; P25 odd parity over bits 13–24.
func decodeH10301(b Bits) (Card, error) {
	if (b.ones(1, 12)+int(b[0]))%2 != 0 || (b.ones(13, 24)+int(b[25]))%2 != 1 {
		return Card{}, fmt.Errorf("%w: H10301 frame %s", ErrParity, b)
	}
	return Card{
		Format:   FormatH10301,
		Facility: b.field(1, 8),
		Number:   b.field(9, 16),
		Bits:     b.String(),
		Hex:      b.Hex(),
	}, nil
}

// Encode builds the frame a reader sends for a card.
func Encode(format string, facility, number uint64) (Bits, error) {
	switch format {
	case FormatH10301:
		if facility > 0xFF || number > 0xFFFF {
			return nil, fmt.Errorf("wiegand: %w: H10301 facility %d (max 255), number %d (max 65535)", ErrRange, facility, number)
		}
		b := make(Bits, 26)
		b.putField(1, 8, facility)
		b.putField(9, 16, number)
		b[0] = uint8(b.ones(1, 12) % 2)
		b[25] = uint8((b.ones(13, 24) + 1) % 2)
		return b, nil
	default:
		return nil, fmt.Errorf("wiegand: cannot encode format %q", format)
	}
}
