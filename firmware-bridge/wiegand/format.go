package wiegand

import (
	"errors"
	"fmt"
	"strings"
)

// Card is a decoded credential as a guard reads it off the card's sticker.
type Card struct {
	Format   string `json:"format"`
	Facility uint64 `json:"facility"`
	Number   uint64 `json:"number"`
	Bits     string `json:"bits,omitempty"`
	Hex      string `json:"hex,omitempty"`
}

// Printed is the card the way it is printed on it: FC:CN, the number alone
// for formats without a facility code, or the raw hex for frames of no
// known format.
func (c Card) Printed() string {
	switch {
	case c.Format == FormatRaw:
		return "raw:" + c.Hex
	case c.Facility == 0 && !hasFacility(c.Format):
		return fmt.Sprint(c.Number)
	}
	return fmt.Sprintf("%d:%d", c.Facility, c.Number)
}

func hasFacility(format string) bool {
	f, ok := Builtin[format]
	return !ok || f.Facility.Bits > 0
}

// Format names.
const (
	FormatH10301 = "H10301" // 26-bit, FC 8 / CN 16
	FormatH10306 = "H10306" // 34-bit, FC 16 / CN 16
	FormatH10304 = "H10304" // 37-bit, FC 16 / CN 19
	FormatH10302 = "H10302" // 37-bit, CN 35, no facility
	FormatC1k35  = "C1k35"  // HID Corporate 1000 35-bit, company 12 / CN 20
	FormatC1k48  = "C1k48"  // HID Corporate 1000 48-bit, company 22 / CN 23
	FormatRaw    = "raw"
)

// Why a frame is rejected; each becomes a bad_frame event, never a card.
var (
	ErrParity   = errors.New("parity error")
	ErrTooShort = errors.New("frame too short for any card format")
	ErrRange    = errors.New("facility or number out of range for format")
	ErrFormat   = errors.New("unknown card format")
)

// Field is a run of bits holding a number, MSB first.
type Field struct {
	From int `yaml:"from" json:"from"`
	Bits int `yaml:"bits" json:"bits"`
}

func (f Field) max() uint64 {
	if f.Bits == 0 {
		return 0
	}
	return 1<<f.Bits - 1
}

// Parity is one parity bit: Bit holds the even (or odd) parity of the bits
// at the positions in Over. Rules are applied in order when encoding, so a
// rule may cover parity bits set by an earlier one (Corporate 1000's does).
type Parity struct {
	Bit  int   `yaml:"bit" json:"bit"`
	Odd  bool  `yaml:"odd" json:"odd"`
	Over []int `yaml:"over" json:"over"`
}

// Format is a card layout: its length, where the facility code and card
// number sit, and its parity rules.
type Format struct {
	Name     string   `yaml:"name" json:"name"`
	Length   int      `yaml:"length" json:"length"`
	Facility Field    `yaml:"facility" json:"facility"` // Bits 0: no facility code
	Number   Field    `yaml:"number" json:"number"`
	Parity   []Parity `yaml:"parity" json:"parity"`
}

// span lists positions from..to inclusive whose index mod 3 is in keep.
func span(from, to int, keep ...int) []int {
	var out []int
	for p := from; p <= to; p++ {
		if len(keep) == 0 {
			out = append(out, p)
			continue
		}
		for _, k := range keep {
			if p%3 == k {
				out = append(out, p)
				break
			}
		}
	}
	return out
}

// Builtin formats. Layouts as HID publishes them (and as proxmark3's
// wiegand_formats.c implements them); bit 0 is the first bit sent.
var Builtin = map[string]Format{
	FormatH10301: {Name: FormatH10301, Length: 26, Facility: Field{1, 8}, Number: Field{9, 16},
		Parity: []Parity{{Bit: 0, Over: span(1, 12)}, {Bit: 25, Odd: true, Over: span(13, 24)}}},
	FormatH10306: {Name: FormatH10306, Length: 34, Facility: Field{1, 16}, Number: Field{17, 16},
		Parity: []Parity{{Bit: 0, Over: span(1, 16)}, {Bit: 33, Odd: true, Over: span(17, 32)}}},
	FormatH10304: {Name: FormatH10304, Length: 37, Facility: Field{1, 16}, Number: Field{17, 19},
		Parity: []Parity{{Bit: 0, Over: span(1, 18)}, {Bit: 36, Odd: true, Over: span(18, 35)}}},
	FormatH10302: {Name: FormatH10302, Length: 37, Number: Field{1, 35},
		Parity: []Parity{{Bit: 0, Over: span(1, 18)}, {Bit: 36, Odd: true, Over: span(18, 35)}}},
	FormatC1k35: {Name: FormatC1k35, Length: 35, Facility: Field{2, 12}, Number: Field{14, 20},
		Parity: []Parity{
			{Bit: 1, Over: span(2, 33, 0, 2)},
			{Bit: 34, Odd: true, Over: span(1, 32, 1, 2)},
			{Bit: 0, Odd: true, Over: span(1, 34)},
		}},
	FormatC1k48: {Name: FormatC1k48, Length: 48, Facility: Field{2, 22}, Number: Field{24, 23},
		Parity: []Parity{
			{Bit: 1, Over: span(3, 46, 0, 1)},
			{Bit: 47, Odd: true, Over: span(2, 45, 0, 2)},
			{Bit: 0, Odd: true, Over: span(1, 47)},
		}},
}

// DefaultFormats are tried in this order. H10302 shares H10304's length and
// parity, so a site that issues H10302 cards names it instead.
var DefaultFormats = []string{FormatH10301, FormatH10306, FormatC1k35, FormatH10304, FormatC1k48}

// Check reports a format whose fields or parity bits fall outside its length
// or overlap, so a mistyped custom format fails at start, not at a door.
func (f Format) Check() error {
	if f.Name == "" || strings.EqualFold(f.Name, FormatRaw) {
		return fmt.Errorf("wiegand: a format needs a name other than %q", FormatRaw)
	}
	if f.Length < 2 || f.Length > 128 {
		return fmt.Errorf("wiegand: format %s: length %d, want 2 to 128", f.Name, f.Length)
	}
	used := make([]string, f.Length)
	claim := func(p int, what string) error {
		if p < 0 || p >= f.Length {
			return fmt.Errorf("wiegand: format %s: %s at bit %d is outside its %d bits", f.Name, what, p, f.Length)
		}
		if used[p] != "" {
			return fmt.Errorf("wiegand: format %s: bit %d is both %s and %s", f.Name, p, used[p], what)
		}
		used[p] = what
		return nil
	}
	for _, fd := range []struct {
		name string
		f    Field
	}{{"facility", f.Facility}, {"number", f.Number}} {
		if fd.f.Bits > 63 {
			return fmt.Errorf("wiegand: format %s: %s has %d bits, at most 63", f.Name, fd.name, fd.f.Bits)
		}
		for p := fd.f.From; p < fd.f.From+fd.f.Bits; p++ {
			if err := claim(p, fd.name); err != nil {
				return err
			}
		}
	}
	if f.Number.Bits == 0 {
		return fmt.Errorf("wiegand: format %s has no number field", f.Name)
	}
	for _, pr := range f.Parity {
		if err := claim(pr.Bit, "parity"); err != nil {
			return err
		}
		for _, p := range pr.Over {
			if p < 0 || p >= f.Length || p == pr.Bit {
				return fmt.Errorf("wiegand: format %s: parity bit %d covers bit %d", f.Name, pr.Bit, p)
			}
		}
	}
	return nil
}

func (pr Parity) holds(b Bits) bool {
	n := int(b[pr.Bit])
	for _, p := range pr.Over {
		n += int(b[p])
	}
	if pr.Odd {
		return n%2 == 1
	}
	return n%2 == 0
}

// Decode reads a frame of this format; the parity must hold.
func (f Format) Decode(b Bits) (Card, error) {
	if len(b) != f.Length {
		return Card{}, fmt.Errorf("wiegand: %s is %d bits, frame is %d", f.Name, f.Length, len(b))
	}
	for _, pr := range f.Parity {
		if !pr.holds(b) {
			return Card{}, fmt.Errorf("%w: %s bit %d", ErrParity, f.Name, pr.Bit)
		}
	}
	c := Card{Format: f.Name, Number: b.field(f.Number.From, f.Number.Bits), Bits: b.String(), Hex: b.Hex()}
	if f.Facility.Bits > 0 {
		c.Facility = b.field(f.Facility.From, f.Facility.Bits)
	}
	return c, nil
}

// Encode builds the frame of a card in this format.
func (f Format) Encode(facility, number uint64) (Bits, error) {
	if facility > f.Facility.max() || number > f.Number.max() {
		return nil, fmt.Errorf("wiegand: %w: %s takes facility 0–%d and number 0–%d, not %d:%d",
			ErrRange, f.Name, f.Facility.max(), f.Number.max(), facility, number)
	}
	b := make(Bits, f.Length)
	if f.Facility.Bits > 0 {
		b.putField(f.Facility.From, f.Facility.Bits, facility)
	}
	b.putField(f.Number.From, f.Number.Bits, number)
	for _, pr := range f.Parity {
		b[pr.Bit] = 0
		if !pr.holds(b) {
			b[pr.Bit] = 1
		}
	}
	return b, nil
}

// Encode builds the frame of a card in a built-in format.
func Encode(format string, facility, number uint64) (Bits, error) {
	f, ok := Builtin[format]
	if !ok {
		return nil, fmt.Errorf("wiegand: %w %q", ErrFormat, format)
	}
	return f.Encode(facility, number)
}

// MaxFrame is the longest frame Sekisho accepts to play on a reader.
const MaxFrame = 128

// Request turns what a person asks a simulated reader to send — raw bits,
// or a format with facility and number — into the frame, or says what is
// wrong with the request.
func Request(bits, format string, facility, number uint64) (Bits, error) {
	switch {
	case bits != "" && format != "":
		return nil, fmt.Errorf("give bits or format with facility and number, not both")
	case bits != "":
		b, err := ParseBits(bits)
		if err == nil && len(b) > MaxFrame {
			err = fmt.Errorf("a frame is at most %d bits", MaxFrame)
		}
		return b, err
	case format != "":
		return Encode(format, facility, number)
	}
	return nil, fmt.Errorf(`give {"bits":"0101…"} or {"format":"H10301","facility":F,"number":N}`)
}
