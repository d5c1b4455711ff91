package osdp

import (
	"bytes"
	"crypto/rand"
	"crypto/subtle"
	"fmt"
)

// handle acts on a reader's reply to the command of its state.
func (x *exchanger) handle(l *link, p Packet) {
	b := x.bus
	if l.sess != nil {
		if p.secType() == 0 {
			switch {
			case p.Code == ReplyNAK:
				// The reader dropped the session (it restarted): set it up
				// again, with its own key.
				x.restart(l)
			case l.state == stKeySet && p.Code == ReplyACK:
				// A reader may switch to its new key at once and ACK in
				// clear; the ACK carries nothing, and the session is
				// set up again with the new key.
				x.keyed(l)
			default:
				x.insecure(l, fmt.Sprintf("it answered in clear (reply 0x%02x) on its secure channel", p.Code), ErrClear)
			}
			return
		}
		if err := l.sess.openReply(&p); err != nil {
			x.insecure(l, "its reply failed Secure Channel", err)
			return
		}
	} else if p.hasMAC() {
		x.insecure(l, "it sent a MAC with no session", ErrMAC)
		return
	}
	if p.Code == ReplyBusy {
		return
	}
	switch l.state {
	case stReset:
		if p.Code != ReplyPDID {
			x.restart(l)
			return
		}
		id, err := parseID(p.Data)
		if err != nil {
			x.restart(l)
			return
		}
		l.id, l.state = id, stCap
	case stCap:
		caps, err := parseCaps(p.Data)
		if p.Code != ReplyPDCap || err != nil {
			x.restart(l)
			return
		}
		if !secureCapable(caps) {
			x.insecure(l, "it offers no Secure Channel", nil)
			return
		}
		l.state = stChallenge
	case stChallenge:
		x.challenged(l, p)
	case stSCrypt:
		if p.Code != ReplyRMACI || p.secType() != scsRMACI || len(p.SCB) < 3 || p.SCB[2] != 0x01 || len(p.Data) != 16 {
			x.insecure(l, "it refused the panel's cryptogram", ErrCryptogram)
			return
		}
		if subtle.ConstantTimeCompare(p.Data, l.pend.initialRMAC()) != 1 {
			x.insecure(l, "its initial R-MAC is wrong", ErrMAC)
			return
		}
		copy(l.pend.rmac[:], p.Data)
		l.sess, l.pend = l.pend, nil
		if l.cfg.Install {
			x.install(l)
			return
		}
		l.state = stStatus
	case stKeySet:
		if p.Code != ReplyACK {
			x.insecure(l, "it refused its new key", nil)
			return
		}
		x.keyed(l)
	case stStatus:
		x.report(l, p)
		l.state = stInputs
	case stInputs:
		// A reader without inputs refuses osdp_ISTAT; either answer will do:
		// the door's own contacts are read by the bridge.
		l.state = stOutputs
	case stOutputs:
		x.online(l)
	default:
		x.report(l, p)
	}
	_ = b
}

// challenged checks the reader's answer to the challenge: its cryptogram
// proves it holds the key.
func (x *exchanger) challenged(l *link, p Packet) {
	if p.Code == ReplyNAK {
		x.insecure(l, "it refused Secure Channel", nil)
		return
	}
	if p.Code != ReplyCCryp || p.secType() != scsCCrypt || len(p.Data) != 32 {
		x.insecure(l, fmt.Sprintf("it answered the challenge with reply 0x%02x", p.Code), ErrCryptogram)
		return
	}
	key := l.cfg.Key
	if l.keyType == keyTypeSCBKD {
		key = SCBKD
	}
	var rndB [8]byte
	copy(rndB[:], p.Data[8:16])
	s, err := newSession(key, l.rndA, rndB)
	if err != nil {
		x.insecure(l, "its key is unusable", err)
		return
	}
	if subtle.ConstantTimeCompare(s.clientCryptogram(), p.Data[16:32]) != 1 {
		reason := "it does not hold the key kept for it"
		if l.keyType == keyTypeSCBKD {
			reason = "it refused the default key (SCBK-D): it is keyed already"
		}
		x.insecure(l, reason, ErrCryptogram)
		return
	}
	l.pend, l.state = s, stSCrypt
}

// install sends a reader on SCBK-D its own key, kept first.
func (x *exchanger) install(l *link) {
	if l.cfg.NewKey == nil {
		l.cfg.NewKey = make([]byte, 16)
		if _, err := rand.Read(l.cfg.NewKey); err != nil {
			x.insecure(l, "no randomness for its key", err)
			return
		}
	}
	if l.cfg.Keyed != nil {
		if err := l.cfg.Keyed(l.cfg.NewKey); err != nil {
			x.insecure(l, "its new key could not be kept", err)
			return
		}
	}
	l.state = stKeySet
}

// keyed: the reader took its key; from now on only that key is used.
func (x *exchanger) keyed(l *link) {
	l.cfg.Key, l.cfg.Install = l.cfg.NewKey, false
	x.restart(l)
	x.bus.emit(Event{Address: l.cfg.Address, Kind: EventKeyed, ID: l.id})
}

func (x *exchanger) online(l *link) {
	l.state = stOnline
	if !l.online {
		l.online, l.insecure = true, false
		x.bus.emit(Event{Address: l.cfg.Address, Kind: EventOnline, ID: l.id})
	}
}

// report passes on what an online reader sent.
func (x *exchanger) report(l *link, p Packet) {
	b, a := x.bus, l.cfg.Address
	switch p.Code {
	case ReplyRaw:
		c, err := parseCard(p.Data)
		if err != nil {
			b.emit(Event{Address: a, Kind: EventBadFrame, Err: &FrameError{Reason: err.Error(), Bytes: clip(p.Data)}})
			return
		}
		b.emit(Event{Address: a, Kind: EventCard, Card: c})
	case ReplyKeys:
		k, err := parseKeys(p.Data)
		if err != nil {
			b.emit(Event{Address: a, Kind: EventBadFrame, Err: &FrameError{Reason: err.Error(), Bytes: clip(p.Data)}})
			return
		}
		b.emit(Event{Address: a, Kind: EventKeys, Keys: k.Keys})
	case ReplyLStat:
		s, err := parseLocalStatus(p.Data)
		if err != nil {
			return
		}
		if !l.statusKnown || s.Tamper != l.status.Tamper {
			if l.statusKnown || s.Tamper {
				b.emit(Event{Address: a, Kind: EventTamper, On: s.Tamper})
			}
		}
		if !l.statusKnown || s.PowerFault != l.status.PowerFault {
			if l.statusKnown || s.PowerFault {
				b.emit(Event{Address: a, Kind: EventPower, On: s.PowerFault})
			}
		}
		l.status, l.statusKnown = s, true
	case ReplyNAK:
		if bytes.Equal(p.Data, []byte{NakSCCond}) {
			x.restart(l)
			return
		}
		b.Log.Warn("osdp: reader refused a command", "address", a, "nak", p.Data)
	}
}
