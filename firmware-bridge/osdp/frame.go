package osdp

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// Framing bytes and control bits (OSDP v2.2 §5).
const (
	som      = 0x53
	markByte = 0xFF

	ctrlSeq = 0x03
	ctrlCRC = 0x04
	ctrlSCB = 0x08

	// Broadcast is the address every reader on a bus answers.
	Broadcast = 0x7F

	headerLen = 5
	// maxPacket bounds a packet; a length beyond it is a garbled header,
	// not a reason to wait for more bytes.
	maxPacket = 1024
)

// Packet is one OSDP message, command or reply.
type Packet struct {
	Address  byte // 0–0x7E, or Broadcast
	Reply    bool // sent by a reader (the address's top bit)
	Seq      byte // 0–3
	Checksum bool // the one-byte checksum instead of CRC-16
	SCB      []byte
	Code     byte
	Data     []byte
	MAC      []byte // the first 4 bytes of the MAC, when SCB is 0x15–0x18

	// raw is the packet as received, from SOM to before the MAC: what the
	// MAC covers.
	raw []byte
}

// FrameError is a run of bytes that is no packet: a bad length, CRC or
// checksum. The bus reports it and carries on from the next SOM.
type FrameError struct {
	Reason string
	Bytes  []byte
}

func (e *FrameError) Error() string {
	return fmt.Sprintf("osdp: bad frame: %s (% x)", e.Reason, e.Bytes)
}

// ErrShort says more bytes are needed to finish the packet.
var ErrShort = errors.New("osdp: packet incomplete")

// crc16 is OSDP's CRC: CRC-16/AUG-CCITT (polynomial 0x1021, seed 0x1D0F).
func crc16(b []byte) uint16 {
	crc := uint16(0x1D0F)
	for _, c := range b {
		crc ^= uint16(c) << 8
		for range 8 {
			if crc&0x8000 != 0 {
				crc = crc<<1 ^ 0x1021
			} else {
				crc <<= 1
			}
		}
	}
	return crc
}

// checksum is the two's complement of the byte sum.
func checksum(b []byte) byte {
	var s byte
	for _, c := range b {
		s += c
	}
	return -s
}

// macFunc computes a packet's MAC over its bytes from SOM to the MAC.
type macFunc func(covered []byte) []byte

// Marshal encodes p with its check bytes. mac, when p has a MAC-bearing
// security block, computes the MAC over the packet as it will be sent.
func (p *Packet) marshal(mac macFunc) []byte {
	check := 2
	if p.Checksum {
		check = 1
	}
	macLen := 0
	if mac != nil {
		macLen = 4
	}
	n := headerLen + len(p.SCB) + 1 + len(p.Data) + macLen + check
	b := make([]byte, 0, n+1)
	addr := p.Address & 0x7F
	if p.Reply {
		addr |= 0x80
	}
	ctrl := p.Seq & ctrlSeq
	if !p.Checksum {
		ctrl |= ctrlCRC
	}
	if len(p.SCB) > 0 {
		ctrl |= ctrlSCB
	}
	b = append(b, som, addr, byte(n), byte(n>>8), ctrl)
	b = append(b, p.SCB...)
	b = append(b, p.Code)
	b = append(b, p.Data...)
	if mac != nil {
		p.MAC = mac(b)[:4]
		b = append(b, p.MAC...)
	}
	if p.Checksum {
		return append(b, checksum(b))
	}
	return binary.LittleEndian.AppendUint16(b, crc16(b))
}

// Marshal encodes a packet that carries no MAC.
func (p *Packet) Marshal() []byte { return p.marshal(nil) }

// Parse reads one packet from the start of b (an optional mark byte, then
// SOM). It returns the bytes used; ErrShort when b holds only its start,
// or a *FrameError for bytes that are no packet.
func Parse(b []byte) (Packet, int, error) {
	start := 0
	if len(b) > 0 && b[0] == markByte {
		start = 1
	}
	if len(b) <= start {
		return Packet{}, 0, ErrShort
	}
	if b[start] != som {
		return Packet{}, 0, &FrameError{Reason: "no start of message", Bytes: clip(b)}
	}
	if len(b) < start+headerLen {
		return Packet{}, 0, ErrShort
	}
	h := b[start:]
	n := int(binary.LittleEndian.Uint16(h[2:4]))
	if n < headerLen+2 || n > maxPacket {
		return Packet{}, 0, &FrameError{Reason: fmt.Sprintf("length %d", n), Bytes: clip(h)}
	}
	if len(h) < n {
		return Packet{}, 0, ErrShort
	}
	h = h[:n]
	p := Packet{Address: h[1] & 0x7F, Reply: h[1]&0x80 != 0, Seq: h[4] & ctrlSeq, Checksum: h[4]&ctrlCRC == 0}
	body := h
	if p.Checksum {
		body = h[:n-1]
		if checksum(body) != h[n-1] {
			return Packet{}, 0, &FrameError{Reason: "checksum", Bytes: clip(h)}
		}
	} else {
		if n < headerLen+3 {
			return Packet{}, 0, &FrameError{Reason: fmt.Sprintf("length %d", n), Bytes: clip(h)}
		}
		body = h[:n-2]
		if crc16(body) != binary.LittleEndian.Uint16(h[n-2:]) {
			return Packet{}, 0, &FrameError{Reason: "CRC", Bytes: clip(h)}
		}
	}
	rest := body[headerLen:]
	if h[4]&ctrlSCB != 0 {
		if len(rest) < 2 || int(rest[0]) < 2 || int(rest[0]) >= len(rest) {
			return Packet{}, 0, &FrameError{Reason: "security block", Bytes: clip(h)}
		}
		p.SCB = append([]byte(nil), rest[:rest[0]]...)
		rest = rest[rest[0]:]
	}
	if len(rest) < 1 {
		return Packet{}, 0, &FrameError{Reason: "no command or reply code", Bytes: clip(h)}
	}
	covered := len(body)
	if p.hasMAC() {
		if len(rest) < 5 {
			return Packet{}, 0, &FrameError{Reason: "MAC missing", Bytes: clip(h)}
		}
		p.MAC = append([]byte(nil), rest[len(rest)-4:]...)
		rest = rest[:len(rest)-4]
		covered -= 4
	}
	p.Code = rest[0]
	p.Data = append([]byte(nil), rest[1:]...)
	p.raw = append([]byte(nil), h[:covered]...)
	return p, start + n, nil
}

// hasMAC says whether the security block is one that carries a MAC.
func (p *Packet) hasMAC() bool {
	return len(p.SCB) >= 2 && p.SCB[1] >= scsCmdMAC && p.SCB[1] <= scsReplyEnc
}

// secType is the security block's type, 0 without one.
func (p *Packet) secType() byte {
	if len(p.SCB) < 2 {
		return 0
	}
	return p.SCB[1]
}

func clip(b []byte) []byte {
	if len(b) > 32 {
		b = b[:32]
	}
	return append([]byte(nil), b...)
}

// Scanner splits a byte stream into packets: garbage before a SOM, and a
// packet that fails its check, are reported and skipped.
type Scanner struct {
	buf []byte
}

// Write adds received bytes.
func (s *Scanner) Write(b []byte) { s.buf = append(s.buf, b...) }

// Next returns the next whole packet, ErrShort when it has none yet, or a
// *FrameError for bytes it skipped.
func (s *Scanner) Next() (Packet, error) {
	// Skip to a SOM (or a mark before one).
	i := 0
	for i < len(s.buf) && s.buf[i] != som && !(s.buf[i] == markByte && i+1 < len(s.buf) && s.buf[i+1] == som) {
		i++
	}
	if i > 0 {
		// A lone mark byte at the end may start the next packet.
		if i == len(s.buf) && s.buf[i-1] == markByte {
			i--
		}
		if i > 0 {
			junk := s.buf[:i]
			s.buf = s.buf[i:]
			if allMarks(junk) {
				return s.Next()
			}
			return Packet{}, &FrameError{Reason: "bytes outside a packet", Bytes: clip(junk)}
		}
	}
	p, n, err := Parse(s.buf)
	if err == ErrShort {
		return Packet{}, err
	}
	if err != nil {
		// Resynchronise after this SOM: the next one may start a packet.
		skip := 1
		if s.buf[0] == markByte {
			skip = 2
		}
		s.buf = s.buf[skip:]
		return Packet{}, err
	}
	s.buf = s.buf[n:]
	if len(s.buf) == 0 {
		s.buf = nil
	}
	return p, nil
}

// Reset drops whatever was buffered.
func (s *Scanner) Reset() { s.buf = nil }

func allMarks(b []byte) bool {
	for _, c := range b {
		if c != markByte {
			return false
		}
	}
	return true
}
