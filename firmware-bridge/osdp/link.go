package osdp

import (
	"context"
	"crypto/rand"
	"errors"
	"time"
)

// linkState is where a reader's session stands.
type linkState int

const (
	stReset     linkState = iota // restart: osdp_ID with sequence 0
	stCap                        // read its capabilities
	stChallenge                  // osdp_CHLNG
	stSCrypt                     // osdp_SCRYPT
	stKeySet                     // install mode: send its own key
	stStatus                     // learn its tamper and power state
	stInputs                     // its inputs' state (osdp_ISTAT), when it has any
	stOutputs                    // its outputs' state (osdp_OSTAT)
	stOnline                     // poll
	stInsecure                   // refused until retryAt
)

// link is the panel's state for one reader.
type link struct {
	cfg   ReaderConfig
	state linkState
	seq   byte

	sess    *session // the Secure Channel in use
	pend    *session // the one being set up
	rndA    [8]byte
	keyType byte

	id          ID
	lastHeard   time.Time
	online      bool // reported online
	offline     bool // reported offline
	insecure    bool // reported insecure
	retryAt     time.Time
	status      LocalStatus
	statusKnown bool
	outputs     []output
}

var errNoReply = errors.New("osdp: no reply")

// exchanger sends one command at a time and waits for its reply.
type exchanger struct {
	bus     *Bus
	rx      <-chan []byte
	scan    Scanner
	started time.Time
	badAt   time.Time
}

// serve gives one reader its turn: one command and its reply.
func (x *exchanger) serve(ctx context.Context, l *link) error {
	b := x.bus
	now := b.now()
	if x.started.IsZero() {
		x.started = now
	}
	if l.lastHeard.IsZero() {
		l.lastHeard = now
	}
	if l.state == stInsecure {
		if now.Before(l.retryAt) {
			return nil
		}
		l.state = stReset
	}
	code, data, scb, popOutput := x.next(l)
	if code == 0 {
		return nil
	}
	if l.state == stReset {
		l.seq = 0
	} else {
		l.seq = l.seq%3 + 1
	}
	p := Packet{Address: l.cfg.Address, Seq: l.seq, SCB: scb, Code: code, Data: data}
	var wire []byte
	if l.sess != nil && scb == nil {
		wire = l.sess.sealCommand(&p)
	} else {
		wire = p.Marshal()
	}
	reply, err := x.roundTrip(ctx, l, append([]byte{markByte}, wire...))
	if err != nil {
		if errors.Is(err, errNoReply) {
			x.missed(l)
			return nil
		}
		return err
	}
	l.lastHeard = b.now()
	if l.offline {
		l.offline = false
	}
	if popOutput && reply.Code != ReplyBusy && len(l.outputs) > 0 {
		b.mu.Lock()
		l.outputs = l.outputs[1:]
		b.mu.Unlock()
	}
	x.handle(l, reply)
	return nil
}

// next is the command a reader gets on its turn.
func (x *exchanger) next(l *link) (code byte, data, scb []byte, isOutput bool) {
	switch l.state {
	case stReset:
		return CmdID, []byte{0}, nil, false
	case stCap:
		return CmdCap, []byte{0}, nil, false
	case stChallenge:
		key := l.cfg.Key
		l.keyType = keyTypeSCBK
		if l.cfg.Install {
			key, l.keyType = SCBKD, keyTypeSCBKD
		}
		if key == nil {
			x.insecure(l, "it has no key of its own here: key it in install mode", nil)
			return 0, nil, nil, false
		}
		if _, err := rand.Read(l.rndA[:]); err != nil {
			x.insecure(l, "no randomness for the challenge", err)
			return 0, nil, nil, false
		}
		return CmdChlng, l.rndA[:], []byte{3, scsChallenge, l.keyType}, false
	case stSCrypt:
		return CmdSCrypt, l.pend.serverCryptogram(), []byte{3, scsSCrypt, l.keyType}, false
	case stKeySet:
		return CmdKeySet, keySet(l.cfg.NewKey), nil, false
	case stStatus:
		return CmdLStat, nil, nil, false
	case stInputs:
		return CmdIStat, nil, nil, false
	case stOutputs:
		return CmdOStat, nil, nil, false
	}
	x.bus.mu.Lock()
	defer x.bus.mu.Unlock()
	if len(l.outputs) > 0 {
		o := l.outputs[0]
		return o.code, o.data, nil, true
	}
	return CmdPoll, nil, nil, false
}

// roundTrip writes a command and waits for the reply to it, sending the
// same bytes again when none comes (the reader answers a repeat with its
// last reply, so the MAC chain holds).
func (x *exchanger) roundTrip(ctx context.Context, l *link, wire []byte) (Packet, error) {
	b := x.bus
	x.scan.Reset()
	for drained := false; !drained; {
		select {
		case _, ok := <-x.rx:
			if !ok {
				return Packet{}, errBusClosed
			}
		default:
			drained = true
		}
	}
	for try := 0; try <= b.Retries; try++ {
		if _, err := b.Port.Write(wire); err != nil {
			return Packet{}, errors.Join(errBusClosed, err)
		}
		t := time.NewTimer(b.ReplyTimeout)
		p, err := x.await(ctx, l, t.C)
		t.Stop()
		if !errors.Is(err, errNoReply) {
			return p, err
		}
	}
	return Packet{}, errNoReply
}

func (x *exchanger) await(ctx context.Context, l *link, timeout <-chan time.Time) (Packet, error) {
	for {
		select {
		case <-ctx.Done():
			return Packet{}, ctx.Err()
		case <-timeout:
			return Packet{}, errNoReply
		case chunk, ok := <-x.rx:
			if !ok {
				return Packet{}, errBusClosed
			}
			x.scan.Write(chunk)
			for {
				p, err := x.scan.Next()
				if errors.Is(err, ErrShort) {
					break
				}
				var fe *FrameError
				if errors.As(err, &fe) {
					x.badFrame(l, fe)
					continue
				}
				if !p.Reply || (p.Address != l.cfg.Address && p.Address != Broadcast) {
					continue // another reader's, or an echo of our own command
				}
				if p.Checksum && !x.bus.AllowChecksum && p.Code != ReplyBusy {
					// A one-byte checksum misses what CRC-16 catches.
					x.badFrame(l, &FrameError{Reason: "checksum mode refused", Bytes: clip(p.raw)})
					continue
				}
				if p.Seq != l.seq && !(p.Code == ReplyBusy && p.Seq == 0) {
					continue
				}
				return p, nil
			}
		}
	}
}

// badFrame reports garbled bytes, at most once a second: a noisy line must
// not flood the log.
func (x *exchanger) badFrame(l *link, fe *FrameError) {
	now := x.bus.now()
	if now.Sub(x.badAt) < time.Second {
		return
	}
	x.badAt = now
	x.bus.emit(Event{Address: l.cfg.Address, Kind: EventBadFrame, Err: fe})
}

// missed handles a reader that did not answer: its session starts again,
// and it is reported offline once it has been silent for OfflineAfter.
func (x *exchanger) missed(l *link) {
	b := x.bus
	if l.state != stInsecure {
		l.state, l.sess, l.pend = stReset, nil, nil
	}
	if !l.offline && b.now().Sub(l.lastHeard) >= b.OfflineAfter {
		l.offline, l.online = true, false
		b.emit(Event{Address: l.cfg.Address, Kind: EventOffline})
	}
}

// insecure refuses a reader until it proves itself again over Secure
// Channel with its own key.
func (x *exchanger) insecure(l *link, reason string, err error) {
	l.state, l.sess, l.pend = stInsecure, nil, nil
	l.retryAt = x.bus.now().Add(x.bus.InsecureRetry)
	l.online = false
	if !l.insecure {
		l.insecure = true
		x.bus.emit(Event{Address: l.cfg.Address, Kind: EventInsecure, Err: &InsecureError{Address: l.cfg.Address, Reason: reason, Err: err}})
	}
}

// restart begins the session again without blame: the reader lost it
// (a power cycle) and said so.
func (x *exchanger) restart(l *link) { l.state, l.sess, l.pend = stReset, nil, nil }
