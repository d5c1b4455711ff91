package wiegand

import "fmt"

// minRawBits is the shortest frame kept as a raw card. Shorter bursts are
// keypad keys or line noise, never a card number.
const minRawBits = 24

// Decoder turns frames into cards with a site's formats, tried in order.
type Decoder struct {
	Formats []Format
}

// NewDecoder uses the named built-in formats and the custom ones, in that
// order.
func NewDecoder(names []string, custom []Format) (*Decoder, error) {
	if len(names) == 0 && len(custom) == 0 {
		names = DefaultFormats
	}
	d := &Decoder{}
	for _, n := range names {
		f, ok := Builtin[n]
		if !ok {
			return nil, fmt.Errorf("wiegand: %w %q", ErrFormat, n)
		}
		d.Formats = append(d.Formats, f)
	}
	for _, f := range custom {
		if err := f.Check(); err != nil {
			return nil, err
		}
		d.Formats = append(d.Formats, f)
	}
	return d, nil
}

var defaultDecoder, _ = NewDecoder(DefaultFormats, nil)

// Decode uses the default formats.
func Decode(b Bits) (Card, error) { return defaultDecoder.Decode(b) }

// Decode turns a frame into a card. A frame whose length matches a format
// but whose parity fails every such format is rejected, never guessed at; a
// frame of a length no format has is kept raw (bits and hex) when it is long
// enough to be a card.
func (d *Decoder) Decode(b Bits) (Card, error) {
	var firstErr error
	for _, f := range d.Formats {
		if f.Length != len(b) {
			continue
		}
		c, err := f.Decode(b)
		if err == nil {
			return c, nil
		}
		if firstErr == nil {
			firstErr = err
		}
	}
	switch {
	case firstErr != nil:
		return Card{}, firstErr
	case len(b) < minRawBits:
		return Card{}, fmt.Errorf("%w: %d bits", ErrTooShort, len(b))
	}
	return Card{Format: FormatRaw, Bits: b.String(), Hex: b.Hex()}, nil
}

// Longest is the length of the longest frame the decoder reads, 0 when it
// reads none.
func (d *Decoder) Longest() int {
	n := 0
	for _, f := range d.Formats {
		n = max(n, f.Length)
	}
	return n
}
