package osdp

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"errors"
	"io"
	"sync"
)

// Device is a reader (a Peripheral Device) in Go: the simulator puts one on
// a pseudo-terminal so the demo has an OSDP reader, and the tests drive the
// panel with it. It behaves as a keyed reader should: once it has its own
// key it speaks only over Secure Channel.
type Device struct {
	Address byte
	// Key is its SCBK; nil is a reader fresh from the factory, which takes
	// SCBK-D for one session, to be given its own key.
	Key []byte
	ID  ID
	// Clear makes it a reader that offers no Secure Channel (a downgrade).
	Clear bool
	// Keyed is told the key a panel gave it.
	Keyed func(key []byte)
	// Shown is told each LED and buzzer command.
	Shown func(LED)
	Beep  func(Buzzer)
	// Polled is told each poll (for the poll cycle's benchmark).
	Polled func()

	mu      sync.Mutex
	queue   [][]byte // replies waiting for a poll: code then data
	status  LocalStatus
	sess    *session
	pend    *session
	last    []byte // the last reply, sent again for a repeated command
	lastSeq byte
	lastCmd byte
	after   []func() // callbacks, run once the lock is released
	chlngs  int
}

// Challenges is how many times a panel has begun Secure Channel with it.
func (d *Device) Challenges() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.chlngs
}

// PresentCard queues a card read: bits, MSB first, as Wiegand sends them.
func (d *Device) PresentCard(data []byte, bits int) {
	d.push(ReplyRaw, Card{Format: 1, Bits: bits, Data: data}.marshal())
}

// PackBits packs bits (0 or 1 each, MSB first) into bytes as osdp_RAW
// carries them.
func PackBits(bits []uint8) ([]byte, int) {
	data := make([]byte, (len(bits)+7)/8)
	for i, b := range bits {
		data[i/8] |= (b & 1) << (7 - i%8)
	}
	return data, len(bits)
}

// SetClear makes it drop its session and offer no Secure Channel: a
// reader swapped or tampered with, speaking in clear.
func (d *Device) SetClear(clear bool) {
	d.mu.Lock()
	d.Clear, d.sess, d.pend = clear, nil, nil
	d.mu.Unlock()
}

// PressKeys queues key presses.
func (d *Device) PressKeys(keys string) { d.push(ReplyKeys, Keys{Keys: keys}.marshal()) }

// SetTamper opens or closes its tamper switch.
func (d *Device) SetTamper(on bool) {
	d.mu.Lock()
	d.status.Tamper = on
	s := d.status
	d.mu.Unlock()
	d.push(ReplyLStat, s.marshal())
}

// SetPowerFault reports a power fault or its end.
func (d *Device) SetPowerFault(on bool) {
	d.mu.Lock()
	d.status.PowerFault = on
	s := d.status
	d.mu.Unlock()
	d.push(ReplyLStat, s.marshal())
}

func (d *Device) push(code byte, data []byte) {
	d.mu.Lock()
	d.queue = append(d.queue, append([]byte{code}, data...))
	d.mu.Unlock()
}

func (d *Device) caps() []Capability {
	sec := byte(1)
	if d.Clear {
		sec = 0
	}
	return []Capability{{capCheckCharacter, 1, 0}, {capCommSecurity, sec, 0}, {capReaders, 0, 1},
		{4, 1, 1}, {5, 1, 1}} // reader LED control, audible output
}

// Serve answers the panel on port until ctx ends or the port closes.
func (d *Device) Serve(ctx context.Context, port io.ReadWriter) error {
	return ServeDevices(ctx, port, d)
}

// ServeDevices answers the panel for several readers on one line, each at
// its own address, as on a multi-drop bus.
func ServeDevices(ctx context.Context, port io.ReadWriter, devs ...*Device) error {
	var scan Scanner
	buf := make([]byte, 512)
	for ctx.Err() == nil {
		n, err := port.Read(buf)
		if n > 0 {
			scan.Write(buf[:n])
			for {
				p, perr := scan.Next()
				if errors.Is(perr, ErrShort) {
					break
				}
				if perr != nil || p.Reply {
					continue
				}
				var d *Device
				for _, c := range devs {
					if c.Address == p.Address {
						d = c
					}
				}
				if d == nil {
					continue
				}
				out, after := d.answer(p)
				for _, f := range after {
					f()
				}
				if out != nil {
					if _, werr := port.Write(append([]byte{markByte}, out...)); werr != nil {
						return werr
					}
				}
			}
		}
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
	}
	return nil
}

// answer is the reply to one command, sealed when a session is up.
func (d *Device) answer(p Packet) ([]byte, []func()) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if p.Seq == 0 {
		d.sess, d.pend, d.last = nil, nil, nil
	} else if p.Seq == d.lastSeq && p.Code == d.lastCmd && d.last != nil {
		return d.last, nil
	}
	d.after = nil
	out := d.reply(p)
	d.last, d.lastSeq, d.lastCmd = out, p.Seq, p.Code
	return out, d.after
}

func (d *Device) nak(p Packet, code byte) []byte {
	r := Packet{Address: d.Address, Reply: true, Seq: p.Seq, Code: ReplyNAK, Data: []byte{code}}
	return r.Marshal()
}

func (d *Device) reply(p Packet) []byte {
	switch t := p.secType(); {
	case t == scsChallenge:
		return d.challenge(p)
	case t == scsSCrypt:
		return d.scrypt(p)
	case d.sess != nil && p.hasMAC():
		if err := d.sess.openCommand(&p); err != nil {
			d.sess = nil
			return d.nak(p, NakSCCond)
		}
	case d.sess != nil:
		d.sess = nil // a command in clear ends the session
		return d.nak(p, NakSCCond)
	case d.Key != nil && !d.Clear && p.Code != CmdID && p.Code != CmdCap:
		return d.nak(p, NakSCCond)
	}
	code, data := d.command(p)
	r := Packet{Address: d.Address, Reply: true, Seq: p.Seq, Code: code, Data: data}
	if d.sess == nil {
		return r.Marshal()
	}
	out := d.sess.sealReply(&r)
	if p.Code == CmdKeySet && code == ReplyACK {
		d.sess = nil // the next session uses the new key
	}
	return out
}

func (d *Device) challenge(p Packet) []byte {
	d.chlngs++
	if d.Clear || len(p.SCB) < 3 || len(p.Data) != 8 {
		return d.nak(p, NakSCUnsup)
	}
	key := d.Key
	if p.SCB[2] == keyTypeSCBKD {
		if d.Key != nil {
			key = d.Key // a keyed reader never falls back to the default
		} else {
			key = SCBKD
		}
	} else if key == nil {
		key = SCBKD
	}
	var rndA, rndB [8]byte
	copy(rndA[:], p.Data)
	if _, err := rand.Read(rndB[:]); err != nil {
		return d.nak(p, NakRecordData)
	}
	s, err := newSession(key, rndA, rndB)
	if err != nil {
		return d.nak(p, NakRecordData)
	}
	d.sess, d.pend = nil, s
	uid := d.ID.marshal()[:8]
	data := append(append(append([]byte(nil), uid...), rndB[:]...), s.clientCryptogram()...)
	r := Packet{Address: d.Address, Reply: true, Seq: p.Seq, SCB: []byte{3, scsCCrypt, p.SCB[2]}, Code: ReplyCCryp, Data: data}
	return r.Marshal()
}

func (d *Device) scrypt(p Packet) []byte {
	s := d.pend
	if s == nil || subtle.ConstantTimeCompare(p.Data, s.serverCryptogram()) != 1 {
		d.pend = nil
		r := Packet{Address: d.Address, Reply: true, Seq: p.Seq, SCB: []byte{3, scsRMACI, 0xFF}, Code: ReplyRMACI, Data: make([]byte, 16)}
		return r.Marshal()
	}
	rmac := s.initialRMAC()
	copy(s.rmac[:], rmac)
	d.sess, d.pend = s, nil
	r := Packet{Address: d.Address, Reply: true, Seq: p.Seq, SCB: []byte{3, scsRMACI, 0x01}, Code: ReplyRMACI, Data: rmac}
	return r.Marshal()
}

// command carries out a command and gives its reply.
func (d *Device) command(p Packet) (byte, []byte) {
	switch p.Code {
	case CmdPoll:
		if d.Polled != nil {
			d.after = append(d.after, d.Polled)
		}
		if len(d.queue) > 0 {
			r := d.queue[0]
			d.queue = d.queue[1:]
			return r[0], r[1:]
		}
		return ReplyACK, nil
	case CmdID:
		return ReplyPDID, d.ID.marshal()
	case CmdCap:
		return ReplyPDCap, marshalCaps(d.caps())
	case CmdLStat:
		return ReplyLStat, d.status.marshal()
	case CmdIStat:
		return ReplyIStat, nil
	case CmdOStat:
		return ReplyOStat, nil
	case CmdLED:
		l, err := parseLED(p.Data)
		if err != nil {
			return ReplyNAK, []byte{NakLength}
		}
		if d.Shown != nil {
			d.after = append(d.after, func() { d.Shown(l) })
		}
		return ReplyACK, nil
	case CmdBuz:
		z, err := parseBuzzer(p.Data)
		if err != nil {
			return ReplyNAK, []byte{NakLength}
		}
		if d.Beep != nil {
			d.after = append(d.after, func() { d.Beep(z) })
		}
		return ReplyACK, nil
	case CmdComSet:
		c, err := parseComSet(p.Data)
		if err != nil {
			return ReplyNAK, []byte{NakLength}
		}
		return ReplyCom, c.marshal()
	case CmdKeySet:
		if d.sess == nil {
			return ReplyNAK, []byte{NakSCCond}
		}
		k, err := parseKeySet(p.Data)
		if err != nil {
			return ReplyNAK, []byte{NakRecordData}
		}
		d.Key = k
		if d.Keyed != nil {
			d.after = append(d.after, func() { d.Keyed(k) })
		}
		return ReplyACK, nil
	}
	return ReplyNAK, []byte{NakUnknown}
}
