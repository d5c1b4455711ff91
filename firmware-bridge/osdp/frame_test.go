package osdp

import (
	"bytes"
	"encoding/hex"
	"errors"
	"strings"
	"testing"
)

func unhex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// The specification's Annex E examples of the check characters.
func TestAnnexECheckCharacters(t *testing.T) {
	for _, c := range []struct {
		msg string
		crc uint16
	}{
		{"53 7F 0D 00 04 6E 00 80 25 00 00", 0x386E},
		{"53 00 09 00 04 61 00", 0x66C0},
	} {
		if got := crc16(unhex(t, c.msg)); got != c.crc {
			t.Errorf("crc16(%s) = %04x, want %04x", c.msg, got, c.crc)
		}
	}
	for _, c := range []struct {
		msg string
		sum byte
	}{
		{"53 7F 0C 00 00 6E 00 80 25 00 00", 0x0F},
		{"53 00 08 00 00 61 00", 0x44},
	} {
		if got := checksum(unhex(t, c.msg)); got != c.sum {
			t.Errorf("checksum(%s) = %02x, want %02x", c.msg, got, c.sum)
		}
	}
}

// Every command and reply the panel and the simulated reader use, byte for
// byte. The first two are Annex E's own examples.
func TestGoldenFrames(t *testing.T) {
	card := Card{Format: 1, Bits: 26, Data: []byte{0x02, 0x46, 0x40, 0x40}}
	for _, c := range []struct {
		name string
		p    Packet
		wire string
	}{
		{"COMSET (Annex E)", Packet{Address: Broadcast, Code: CmdComSet, Data: ComSet{0, 9600}.marshal()}, "537f0d00046e0080250000 6e38"},
		{"ID (Annex E)", Packet{Address: 0, Code: CmdID, Data: []byte{0}}, "530009000461 00 c066"},
		{"POLL", Packet{Address: 1, Seq: 1, Code: CmdPoll}, "5301080005 60 " + crcHex(t, "530108000560")},
		{"CAP", Packet{Address: 1, Seq: 2, Code: CmdCap, Data: []byte{0}}, "5301090006 62 00 " + crcHex(t, "53010900066200")},
		{"LSTAT", Packet{Address: 1, Seq: 3, Code: CmdLStat}, "5301080007 64 " + crcHex(t, "530108000764")},
		{"ISTAT", Packet{Address: 1, Seq: 1, Code: CmdIStat}, "5301080005 65 " + crcHex(t, "530108000565")},
		{"OSTAT", Packet{Address: 1, Seq: 1, Code: CmdOStat}, "5301080005 66 " + crcHex(t, "530108000566")},
		{"LED", Packet{Address: 1, Seq: 1, Code: CmdLED, Data: LED{Colour: ColourGreen, Ticks: 30}.marshal()},
			"5301160005 69 0000 02010002021e00 0101000000 " + crcHex(t, "53011600056900000201000202 1e00 0101000000")},
		{"BUZ", Packet{Address: 1, Seq: 1, Code: CmdBuz, Data: Buzzer{On: 1, Off: 1, Count: 2}.marshal()},
			"53010d0005 6a 0002010102 " + crcHex(t, "53010d00056a0002010102")},
		{"KEYSET", Packet{Address: 1, Seq: 1, Code: CmdKeySet, Data: keySet(SCBKD)}, "53011a0005 75 0110 303132333435363738393a3b3c3d3e3f " +
			crcHex(t, "53011a0005750110303132333435363738393a3b3c3d3e3f")},
		{"CHLNG", Packet{Address: 1, Seq: 1, SCB: []byte{3, scsChallenge, 1}, Code: CmdChlng, Data: []byte{0xb0, 0xb1, 0xb2, 0xb3, 0xb4, 0xb5, 0xb6, 0xb7}},
			"530113000d 031101 76 b0b1b2b3b4b5b6b7 " + crcHex(t, "530113000d03110176b0b1b2b3b4b5b6b7")},
		{"ACK", Packet{Address: 1, Reply: true, Seq: 1, Code: ReplyACK}, "5381080005 40 " + crcHex(t, "538108000540")},
		{"NAK", Packet{Address: 1, Reply: true, Seq: 1, Code: ReplyNAK, Data: []byte{NakSCCond}}, "5381090005 41 06 " + crcHex(t, "53810900054106")},
		{"PDID", Packet{Address: 1, Reply: true, Seq: 1, Code: ReplyPDID, Data: ID{Vendor: 0x5C2610, Model: 1, Version: 2, Serial: 0x01020304, Firmware: 0x010203}.marshal()},
			"5381140005 45 10265c 01 02 04030201 010203 " + crcHex(t, "53811400054510265c010204030201010203")},
		{"PDCAP", Packet{Address: 1, Reply: true, Seq: 1, Code: ReplyPDCap, Data: marshalCaps([]Capability{{capCommSecurity, 1, 0}})},
			"53810b0005 46 090100 " + crcHex(t, "53810b000546090100")},
		{"LSTATR", Packet{Address: 1, Reply: true, Seq: 1, Code: ReplyLStat, Data: LocalStatus{Tamper: true}.marshal()},
			"53810a0005 48 0100 " + crcHex(t, "53810a0005480100")},
		{"RAW", Packet{Address: 1, Reply: true, Seq: 1, Code: ReplyRaw, Data: card.marshal()},
			"5381100005 50 00011a00 02464040 " + crcHex(t, "538110000550 00011a00 02464040")},
		{"KEYPAD", Packet{Address: 1, Reply: true, Seq: 1, Code: ReplyKeys, Data: Keys{Keys: "12#"}.marshal()},
			"53810d0005 53 0003 313223 " + crcHex(t, "53810d0005530003313223")},
		{"COM", Packet{Address: 1, Reply: true, Seq: 1, Code: ReplyCom, Data: ComSet{2, 115200}.marshal()},
			"53810d0005 54 02 00c20100 " + crcHex(t, "53810d00055402 00c20100")},
		{"BUSY", Packet{Address: 1, Reply: true, Seq: 0, Code: ReplyBusy, Checksum: true}, "5381070000 79 " + sumHex(t, "538107000079")},
		{"ISTATR", Packet{Address: 1, Reply: true, Seq: 1, Code: ReplyIStat, Data: []byte{0}}, "5381090005 49 00 " + crcHex(t, "53810900054900")},
		{"OSTATR", Packet{Address: 1, Reply: true, Seq: 1, Code: ReplyOStat, Data: []byte{0}}, "5381090005 4a 00 " + crcHex(t, "5381090005 4a 00")},
	} {
		t.Run(c.name, func(t *testing.T) {
			want := unhex(t, c.wire)
			got := c.p.Marshal()
			if !bytes.Equal(got, want) {
				t.Fatalf("marshal:\n got % x\nwant % x", got, want)
			}
			back, n, err := Parse(append([]byte{markByte}, want...))
			if err != nil || n != len(want)+1 {
				t.Fatalf("parse: %v (%d bytes)", err, n)
			}
			if back.Code != c.p.Code || !bytes.Equal(back.Data, c.p.Data) || back.Seq != c.p.Seq || back.Reply != c.p.Reply || back.Address != c.p.Address {
				t.Fatalf("parse gave %+v, want %+v", back, c.p)
			}
		})
	}
}

func crcHex(t *testing.T, s string) string {
	c := crc16(unhex(t, s))
	return hex.EncodeToString([]byte{byte(c), byte(c >> 8)})
}

func sumHex(t *testing.T, s string) string { return hex.EncodeToString([]byte{checksum(unhex(t, s))}) }

// The specification's Annex E Secure Channel example, with SCBK-D.
func TestAnnexESecureChannel(t *testing.T) {
	rndA := [8]byte{0xB0, 0xB1, 0xB2, 0xB3, 0xB4, 0xB5, 0xB6, 0xB7}
	rndB := [8]byte{0xA0, 0xA1, 0xA2, 0xA3, 0xA4, 0xA5, 0xA6, 0xA7}
	s, err := newSession(SCBKD, rndA, rndB)
	if err != nil {
		t.Fatal(err)
	}
	key := func(b interface{ Encrypt(dst, src []byte) }) string {
		// A session key is recovered by what it does to a known block.
		out := make([]byte, 16)
		b.Encrypt(out, make([]byte, 16))
		return hex.EncodeToString(out)
	}
	for _, c := range []struct {
		name      string
		got, want string
	}{
		{"S-MAC1", key(s.mac1), aesZero(t, "5E86C676603BDEE2D8BEAFE178637332")},
		{"S-MAC2", key(s.mac2), aesZero(t, "6FDA86E857777E8113203575823917 2E")},
		{"S-ENC", key(s.enc), aesZero(t, "BF8DC2A8329ACB8C67C6D0CD9A451682")},
		{"server cryptogram", hex.EncodeToString(s.serverCryptogram()), "26d3356e07762d262801fc8e6665a891"},
		{"client cryptogram", hex.EncodeToString(s.clientCryptogram()), "fde5d2f428ec16312471ea3c02bd7796"},
		{"initial R-MAC", hex.EncodeToString(s.initialRMAC()), "b2a30057eb98ba2229ec1f875662b524"},
	} {
		if c.got != c.want {
			t.Errorf("%s = %s, want %s", c.name, c.got, c.want)
		}
	}
}

// aesZero is AES-128 of the zero block under the given key, to compare
// derived keys without exporting them.
func aesZero(t *testing.T, key string) string {
	b := mustCipher(t, unhex(t, key))
	out := make([]byte, 16)
	b.Encrypt(out, make([]byte, 16))
	return hex.EncodeToString(out)
}

// A sealed command opens on the other side, data and all; one flipped bit
// anywhere fails its MAC.
func TestSealAndOpen(t *testing.T) {
	rndA, rndB := [8]byte{1, 2, 3, 4, 5, 6, 7, 8}, [8]byte{9, 10, 11, 12, 13, 14, 15, 16}
	cp, _ := newSession(SCBKD, rndA, rndB)
	pd, _ := newSession(SCBKD, rndA, rndB)
	copy(cp.rmac[:], cp.initialRMAC())
	copy(pd.rmac[:], pd.initialRMAC())
	for i, data := range [][]byte{nil, {1}, bytes.Repeat([]byte{7}, 15), bytes.Repeat([]byte{7}, 16), bytes.Repeat([]byte{7}, 40)} {
		p := Packet{Address: 1, Seq: byte(i%3 + 1), Code: CmdLED, Data: append([]byte(nil), data...)}
		wire := cp.sealCommand(&p)
		if len(data) > 0 && bytes.Contains(wire, data) && len(data) > 8 {
			t.Fatalf("data went in clear")
		}
		for bit := 0; bit < len(wire)*8; bit += 13 {
			bad := append([]byte(nil), wire...)
			bad[bit/8] ^= 1 << (bit % 8)
			q, _, err := Parse(bad)
			if err != nil {
				continue // the CRC caught it
			}
			probe := *pd
			if err := probe.openCommand(&q); err == nil && !bytes.Equal(q.Data, data) {
				t.Fatalf("flipped bit %d opened as % x", bit, q.Data)
			}
		}
		q, _, err := Parse(wire)
		if err != nil {
			t.Fatal(err)
		}
		if err := pd.openCommand(&q); err != nil {
			t.Fatalf("open %d: %v", i, err)
		}
		if !bytes.Equal(q.Data, data) && !(len(data) == 0 && len(q.Data) == 0) {
			t.Fatalf("opened % x, want % x", q.Data, data)
		}
		r := Packet{Address: 1, Reply: true, Seq: p.Seq, Code: ReplyRaw, Data: data}
		rw := pd.sealReply(&r)
		rq, _, _ := Parse(rw)
		if err := cp.openReply(&rq); err != nil {
			t.Fatalf("reply %d: %v", i, err)
		}
	}
	// A reply replayed opens no more: the chain has moved on.
	p := Packet{Address: 1, Seq: 1, Code: CmdPoll}
	cq, _, _ := Parse(cp.sealCommand(&p))
	if err := pd.openCommand(&cq); err != nil {
		t.Fatal(err)
	}
	r := Packet{Address: 1, Reply: true, Seq: 1, Code: ReplyACK}
	old := pd.sealReply(&r)
	q, _, _ := Parse(old)
	if err := cp.openReply(&q); err != nil {
		t.Fatal(err)
	}
	cp.sealCommand(&Packet{Address: 1, Seq: 2, Code: CmdPoll})
	q, _, _ = Parse(old)
	if err := cp.openReply(&q); !errors.Is(err, ErrMAC) {
		t.Fatalf("replayed reply: %v, want ErrMAC", err)
	}
}

func TestScannerResynchronises(t *testing.T) {
	good := (&Packet{Address: 1, Reply: true, Seq: 1, Code: ReplyACK}).Marshal()
	bad := append([]byte(nil), good...)
	bad[len(bad)-1] ^= 0xFF
	var s Scanner
	s.Write([]byte{0x00, 0x12})
	s.Write(bad)
	s.Write([]byte{markByte})
	s.Write(good[:3])
	var errs int
	for {
		_, err := s.Next()
		if errors.Is(err, ErrShort) {
			break
		}
		errs++
	}
	if errs == 0 {
		t.Fatal("garbage and a bad CRC went unreported")
	}
	s.Write(good[3:])
	p, err := s.Next()
	if err != nil || p.Code != ReplyACK {
		t.Fatalf("after the garbage: %v %+v", err, p)
	}
}

// FuzzParse: no bytes on the line crash the panel, and whatever parses
// encodes back to the same packet.
func FuzzParse(f *testing.F) {
	f.Add((&Packet{Address: 1, Code: CmdPoll}).Marshal())
	f.Add((&Packet{Address: 1, Reply: true, Code: ReplyRaw, Data: Card{Format: 1, Bits: 26, Data: []byte{1, 2, 3, 4}}.marshal()}).Marshal())
	f.Add((&Packet{Address: 1, SCB: []byte{2, scsCmdMAC}, Code: CmdPoll, Checksum: true}).Marshal())
	f.Add([]byte{markByte, som, 0, 0xff, 0xff})
	f.Fuzz(func(t *testing.T, b []byte) {
		var s Scanner
		s.Write(b)
		for range len(b) + 1 {
			p, err := s.Next()
			if errors.Is(err, ErrShort) {
				break
			}
			if err != nil {
				continue
			}
			parseCard(p.Data)
			parseKeys(p.Data)
			parseCaps(p.Data)
			parseID(p.Data)
			parseLocalStatus(p.Data)
			parseLED(p.Data)
			if !p.hasMAC() {
				again, _, err := Parse(p.Marshal())
				if err != nil || again.Code != p.Code || !bytes.Equal(again.Data, p.Data) {
					t.Fatalf("round trip of %+v: %v", p, err)
				}
			}
		}
	})
}
