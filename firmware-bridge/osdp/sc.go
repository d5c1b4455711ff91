package osdp

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/subtle"
	"errors"
	"fmt"
)

// Security block types (OSDP v2.2 Annex D).
const (
	scsChallenge  = 0x11 // CP→PD osdp_CHLNG
	scsCCrypt     = 0x12 // PD→CP osdp_CCRYPT
	scsSCrypt     = 0x13 // CP→PD osdp_SCRYPT
	scsRMACI      = 0x14 // PD→CP osdp_RMAC_I
	scsCmdMAC     = 0x15 // CP→PD, MAC, data in clear (none)
	scsReplyMAC   = 0x16 // PD→CP, MAC, data in clear (none)
	scsCmdEnc     = 0x17 // CP→PD, MAC, data encrypted
	scsReplyEnc   = 0x18 // PD→CP, MAC, data encrypted
	keyTypeSCBKD  = 0x00
	keyTypeSCBK   = 0x01
	eomMarker     = 0x80
	cryptogramLen = 16
)

// SCBKD is the specification's default key, which every reader has from
// the factory: it is used only in install mode, to send the reader its own.
var SCBKD = []byte{0x30, 0x31, 0x32, 0x33, 0x34, 0x35, 0x36, 0x37, 0x38, 0x39, 0x3A, 0x3B, 0x3C, 0x3D, 0x3E, 0x3F}

// Why a Secure Channel message is refused.
var (
	ErrMAC        = errors.New("osdp: MAC does not verify")
	ErrCryptogram = errors.New("osdp: cryptogram does not verify (wrong key)")
	ErrPadding    = errors.New("osdp: encrypted data is malformed")
	ErrClear      = errors.New("osdp: message in clear on a secure channel")
)

// session is one Secure Channel: its keys and the MAC chain.
type session struct {
	enc, mac1, mac2 cipher.Block
	rndA, rndB      [8]byte
	cmac, rmac      [16]byte
}

// newSession derives the session keys from a reader's SCBK and the CP's
// random challenge (Annex D.3).
func newSession(scbk []byte, rndA, rndB [8]byte) (*session, error) {
	base, err := aes.NewCipher(scbk)
	if err != nil {
		return nil, fmt.Errorf("osdp: key: %w", err)
	}
	derive := func(a, b byte) (cipher.Block, error) {
		var in, out [16]byte
		in[0], in[1] = a, b
		copy(in[2:8], rndA[:6])
		base.Encrypt(out[:], in[:])
		return aes.NewCipher(out[:])
	}
	s := &session{rndA: rndA, rndB: rndB}
	if s.enc, err = derive(0x01, 0x82); err != nil {
		return nil, err
	}
	if s.mac1, err = derive(0x01, 0x01); err != nil {
		return nil, err
	}
	if s.mac2, err = derive(0x01, 0x02); err != nil {
		return nil, err
	}
	return s, nil
}

// clientCryptogram is the reader's proof that it holds the key:
// AES(S-ENC, RND.A ‖ RND.B).
func (s *session) clientCryptogram() []byte { return s.ecb(s.rndA[:], s.rndB[:]) }

// serverCryptogram is the CP's: AES(S-ENC, RND.B ‖ RND.A).
func (s *session) serverCryptogram() []byte { return s.ecb(s.rndB[:], s.rndA[:]) }

func (s *session) ecb(a, b []byte) []byte {
	in := append(append([]byte(nil), a...), b...)
	out := make([]byte, 16)
	s.enc.Encrypt(out, in)
	return out
}

// initialRMAC starts the MAC chain from the server cryptogram.
func (s *session) initialRMAC() []byte {
	out := make([]byte, 16)
	s.mac1.Encrypt(out, s.serverCryptogram())
	s.mac2.Encrypt(out, out)
	return out
}

// mac is the CBC-MAC of msg under S-MAC1, its last block under S-MAC2,
// chained from iv; msg is padded with 0x80 and zeros unless it fills its
// last block.
func (s *session) mac(iv []byte, msg []byte) [16]byte {
	var chain [16]byte
	copy(chain[:], iv)
	n := (len(msg) + 15) / 16
	if n == 0 {
		n = 1
	}
	for i := 0; i < n; i++ {
		var block [16]byte
		part := msg[i*16 : min((i+1)*16, len(msg))]
		copy(block[:], part)
		if len(part) < 16 {
			block[len(part)] = eomMarker
		}
		subtle.XORBytes(block[:], block[:], chain[:])
		if i == n-1 {
			s.mac2.Encrypt(chain[:], block[:])
		} else {
			s.mac1.Encrypt(chain[:], block[:])
		}
	}
	return chain
}

// encrypt pads data (0x80, zeros) and encrypts it with S-ENC in CBC mode,
// the IV the complement of the other side's last MAC.
func (s *session) encrypt(lastMAC [16]byte, data []byte) []byte {
	n := (len(data) + 1 + 15) / 16 * 16
	out := make([]byte, n)
	copy(out, data)
	out[len(data)] = eomMarker
	iv := complement(lastMAC)
	cipher.NewCBCEncrypter(s.enc, iv[:]).CryptBlocks(out, out)
	return out
}

func (s *session) decrypt(lastMAC [16]byte, data []byte) ([]byte, error) {
	if len(data) == 0 || len(data)%16 != 0 {
		return nil, ErrPadding
	}
	out := make([]byte, len(data))
	iv := complement(lastMAC)
	cipher.NewCBCDecrypter(s.enc, iv[:]).CryptBlocks(out, data)
	i := len(out) - 1
	for i > 0 && out[i] == 0 {
		i--
	}
	if out[i] != eomMarker {
		return nil, ErrPadding
	}
	return out[:i], nil
}

func complement(b [16]byte) [16]byte {
	for i := range b {
		b[i] = ^b[i]
	}
	return b
}

// sealCommand protects a CP's command: data encrypted when there is any,
// the MAC chained from the reader's last R-MAC.
func (s *session) sealCommand(p *Packet) []byte {
	return s.seal(p, scsCmdMAC, scsCmdEnc, s.rmac, &s.cmac)
}

// sealReply protects a reader's reply, chained from the CP's last C-MAC.
func (s *session) sealReply(p *Packet) []byte {
	return s.seal(p, scsReplyMAC, scsReplyEnc, s.cmac, &s.rmac)
}

func (s *session) seal(p *Packet, plain, enc byte, chain [16]byte, keep *[16]byte) []byte {
	p.SCB = []byte{2, plain}
	p.Checksum = false // Secure Channel is always CRC-16
	if len(p.Data) > 0 {
		p.SCB[1] = enc
		p.Data = s.encrypt(chain, p.Data)
	}
	return p.marshal(func(covered []byte) []byte {
		*keep = s.mac(chain[:], covered)
		return keep[:]
	})
}

// openReply checks a reply's MAC and decrypts its data.
func (s *session) openReply(p *Packet) error {
	return s.open(p, scsReplyMAC, scsReplyEnc, s.cmac, &s.rmac)
}

// openCommand checks a command's MAC and decrypts its data.
func (s *session) openCommand(p *Packet) error {
	return s.open(p, scsCmdMAC, scsCmdEnc, s.rmac, &s.cmac)
}

func (s *session) open(p *Packet, plain, enc byte, chain [16]byte, keep *[16]byte) error {
	t := p.secType()
	if plain == scsReplyMAC && t == scsCmdMAC {
		// libosdp's reader labels its prebuilt status replies (LSTATR)
		// 0x15, the command's type, though they carry the reply's MAC:
		// the MAC is still checked, and such a reply has no encrypted data.
		t = plain
	}
	if t != plain && t != enc {
		return ErrClear
	}
	m := s.mac(chain[:], p.raw)
	if subtle.ConstantTimeCompare(m[:4], p.MAC) != 1 {
		return ErrMAC
	}
	*keep = m
	if t == enc {
		d, err := s.decrypt(chain, p.Data)
		if err != nil {
			return err
		}
		p.Data = d
	}
	return nil
}
