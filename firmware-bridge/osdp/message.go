package osdp

import (
	"encoding/binary"
	"fmt"
)

// Commands (CP→PD).
const (
	CmdPoll    = 0x60
	CmdID      = 0x61
	CmdCap     = 0x62
	CmdLStat   = 0x64
	CmdIStat   = 0x65
	CmdOStat   = 0x66
	CmdLED     = 0x69
	CmdBuz     = 0x6A
	CmdComSet  = 0x6E
	CmdKeySet  = 0x75
	CmdChlng   = 0x76
	CmdSCrypt  = 0x77
	ReplyACK   = 0x40
	ReplyNAK   = 0x41
	ReplyPDID  = 0x45
	ReplyPDCap = 0x46
	ReplyLStat = 0x48
	ReplyIStat = 0x49
	ReplyOStat = 0x4A
	ReplyRaw   = 0x50
	ReplyKeys  = 0x53
	ReplyCom   = 0x54
	ReplyCCryp = 0x76
	ReplyRMACI = 0x78
	ReplyBusy  = 0x79
)

// NAK codes a reader gives (Table 46).
const (
	NakCheck      = 0x01 // message check character(s) error
	NakLength     = 0x02
	NakUnknown    = 0x03 // unknown command code
	NakSeq        = 0x04 // unexpected sequence number
	NakSCUnsup    = 0x05 // Secure Channel not supported
	NakSCCond     = 0x06 // Secure Channel conditions not met
	NakBioType    = 0x07
	NakBioFormat  = 0x08
	NakRecordData = 0x09 // cannot process the command
)

// Capability function codes (Table 27) the CP reads.
const (
	capCheckCharacter = 8
	capCommSecurity   = 9
	capReaders        = 14
)

// ID is a reader's osdp_PDID.
type ID struct {
	Vendor   uint32 // 3 bytes, IEEE OUI
	Model    byte
	Version  byte
	Serial   uint32
	Firmware uint32 // major.minor.build, 3 bytes
}

func (id ID) marshal() []byte {
	b := make([]byte, 12)
	b[0], b[1], b[2] = byte(id.Vendor), byte(id.Vendor>>8), byte(id.Vendor>>16)
	b[3], b[4] = id.Model, id.Version
	binary.LittleEndian.PutUint32(b[5:], id.Serial)
	b[9], b[10], b[11] = byte(id.Firmware>>16), byte(id.Firmware>>8), byte(id.Firmware)
	return b
}

func parseID(b []byte) (ID, error) {
	if len(b) != 12 {
		return ID{}, fmt.Errorf("osdp: PDID of %d bytes, want 12", len(b))
	}
	return ID{Vendor: uint32(b[0]) | uint32(b[1])<<8 | uint32(b[2])<<16, Model: b[3], Version: b[4],
		Serial: binary.LittleEndian.Uint32(b[5:9]), Firmware: uint32(b[9])<<16 | uint32(b[10])<<8 | uint32(b[11])}, nil
}

// Capability is one osdp_PDCAP entry.
type Capability struct{ Function, Compliance, Items byte }

func parseCaps(b []byte) ([]Capability, error) {
	if len(b)%3 != 0 {
		return nil, fmt.Errorf("osdp: PDCAP of %d bytes, not whole entries", len(b))
	}
	var caps []Capability
	for i := 0; i < len(b); i += 3 {
		caps = append(caps, Capability{b[i], b[i+1], b[i+2]})
	}
	return caps, nil
}

func marshalCaps(caps []Capability) []byte {
	var b []byte
	for _, c := range caps {
		b = append(b, c.Function, c.Compliance, c.Items)
	}
	return b
}

// secureCapable says whether the reader offers AES-128 Secure Channel.
func secureCapable(caps []Capability) bool {
	for _, c := range caps {
		if c.Function == capCommSecurity && c.Compliance&0x01 != 0 {
			return true
		}
	}
	return false
}

// Card is a card as a reader's osdp_RAW gives it: its bits, MSB first.
type Card struct {
	Reader byte
	Format byte // 0 raw, 1 Wiegand
	Bits   int
	Data   []byte
}

func (c Card) marshal() []byte {
	b := []byte{c.Reader, c.Format, byte(c.Bits), byte(c.Bits >> 8)}
	return append(b, c.Data...)
}

func parseCard(b []byte) (Card, error) {
	if len(b) < 4 {
		return Card{}, fmt.Errorf("osdp: RAW of %d bytes", len(b))
	}
	c := Card{Reader: b[0], Format: b[1], Bits: int(binary.LittleEndian.Uint16(b[2:4]))}
	if c.Bits == 0 || (c.Bits+7)/8 != len(b)-4 {
		return Card{}, fmt.Errorf("osdp: RAW says %d bits in %d bytes", c.Bits, len(b)-4)
	}
	c.Data = append([]byte(nil), b[4:]...)
	return c, nil
}

// Keys is an osdp_KEYPAD: the keys pressed, as ASCII ('*' may come as
// 0x7F and '#' as 0x0D, as the specification has them).
type Keys struct {
	Reader byte
	Keys   string
}

func (k Keys) marshal() []byte {
	return append([]byte{k.Reader, byte(len(k.Keys))}, k.Keys...)
}

func parseKeys(b []byte) (Keys, error) {
	if len(b) < 2 || int(b[1]) != len(b)-2 {
		return Keys{}, fmt.Errorf("osdp: KEYPAD of %d bytes", len(b))
	}
	k := make([]byte, 0, b[1])
	for _, c := range b[2:] {
		switch {
		case c == 0x7F:
			c = '*'
		case c == 0x0D:
			c = '#'
		case c >= '0' && c <= '9', c == '*', c == '#':
		default:
			return Keys{}, fmt.Errorf("osdp: KEYPAD key 0x%02x", c)
		}
		k = append(k, c)
	}
	return Keys{Reader: b[0], Keys: string(k)}, nil
}

// LocalStatus is osdp_LSTATR: the reader's tamper switch and power.
type LocalStatus struct {
	Tamper, PowerFault bool
}

func (s LocalStatus) marshal() []byte { return []byte{b2u(s.Tamper), b2u(s.PowerFault)} }

func parseLocalStatus(b []byte) (LocalStatus, error) {
	if len(b) != 2 {
		return LocalStatus{}, fmt.Errorf("osdp: LSTATR of %d bytes", len(b))
	}
	return LocalStatus{Tamper: b[0] != 0, PowerFault: b[1] != 0}, nil
}

func b2u(b bool) byte {
	if b {
		return 1
	}
	return 0
}

// LED colours (Table 21).
const (
	ColourBlack = 0
	ColourRed   = 1
	ColourGreen = 2
	ColourAmber = 3
)

// LED is one osdp_LED record: a temporary colour for Ticks×100 ms, then
// the permanent state.
type LED struct {
	Reader, Number byte
	Colour         byte
	Ticks          uint16
	// Permanent is the colour the LED rests at.
	Permanent byte
}

func (l LED) marshal() []byte {
	return []byte{l.Reader, l.Number,
		0x02, 1, 0, l.Colour, l.Colour, byte(l.Ticks), byte(l.Ticks >> 8), // temporary: set
		0x01, 1, 0, l.Permanent, l.Permanent, // permanent: set
	}
}

func parseLED(b []byte) (LED, error) {
	if len(b) != 14 {
		return LED{}, fmt.Errorf("osdp: LED record of %d bytes", len(b))
	}
	return LED{Reader: b[0], Number: b[1], Colour: b[5], Ticks: binary.LittleEndian.Uint16(b[7:9]), Permanent: b[12]}, nil
}

// Buzzer is an osdp_BUZ: tone on and off in 100 ms units, Count times.
type Buzzer struct {
	Reader, On, Off, Count byte
}

func (z Buzzer) marshal() []byte { return []byte{z.Reader, 0x02, z.On, z.Off, z.Count} }

func parseBuzzer(b []byte) (Buzzer, error) {
	if len(b) != 5 {
		return Buzzer{}, fmt.Errorf("osdp: BUZ of %d bytes", len(b))
	}
	return Buzzer{Reader: b[0], On: b[2], Off: b[3], Count: b[4]}, nil
}

// ComSet is osdp_COMSET: a reader's new address and baud rate.
type ComSet struct {
	Address byte
	Baud    uint32
}

func (c ComSet) marshal() []byte {
	return binary.LittleEndian.AppendUint32([]byte{c.Address}, c.Baud)
}

func parseComSet(b []byte) (ComSet, error) {
	if len(b) != 5 {
		return ComSet{}, fmt.Errorf("osdp: COMSET of %d bytes", len(b))
	}
	return ComSet{Address: b[0], Baud: binary.LittleEndian.Uint32(b[1:])}, nil
}

// keySet is osdp_KEYSET with an SCBK.
func keySet(scbk []byte) []byte {
	return append([]byte{keyTypeSCBK, byte(len(scbk))}, scbk...)
}

func parseKeySet(b []byte) ([]byte, error) {
	if len(b) != 18 || b[0] != keyTypeSCBK || b[1] != 16 {
		return nil, fmt.Errorf("osdp: KEYSET of %d bytes", len(b))
	}
	return append([]byte(nil), b[2:]...), nil
}
