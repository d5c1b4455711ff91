package osdp

import (
	"context"
	"errors"
	"io"
	"sync"
	"testing"
	"time"
)

// line is one end of a multi-drop RS-485 line in memory: a write never
// waits (a transmitter does not wait for listeners), a read waits for
// bytes, and a closed end hears no more.
type line struct {
	mu     sync.Mutex
	cond   *sync.Cond
	buf    []byte
	closed bool
	send   func([]byte)
}

func newLine() *line {
	l := &line{}
	l.cond = sync.NewCond(&l.mu)
	return l
}

func (l *line) Read(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for len(l.buf) == 0 && !l.closed {
		l.cond.Wait()
	}
	if len(l.buf) == 0 {
		return 0, io.EOF
	}
	n := copy(p, l.buf)
	l.buf = l.buf[n:]
	return n, nil
}

func (l *line) Write(p []byte) (int, error) {
	l.mu.Lock()
	closed := l.closed
	l.mu.Unlock()
	if closed {
		return 0, io.ErrClosedPipe
	}
	l.send(append([]byte(nil), p...))
	return len(p), nil
}

func (l *line) deliver(p []byte) {
	l.mu.Lock()
	if !l.closed {
		l.buf = append(l.buf, p...)
	}
	l.mu.Unlock()
	l.cond.Broadcast()
}

func (l *line) Close() error {
	l.mu.Lock()
	l.closed = true
	l.mu.Unlock()
	l.cond.Broadcast()
	return nil
}

// wire is the panel's end and its devices' ends.
type wire struct {
	mu      sync.Mutex
	panel   *line
	devices []*line
}

func newWire(t *testing.T, n int) (*line, []*line) {
	t.Helper()
	w := emptyWire(t)
	var devs []*line
	for range n {
		devs = append(devs, w.attach())
	}
	return w.panel, devs
}

// emptyWire is a line with the panel's end and no device yet.
func emptyWire(t *testing.T) *wire {
	w := &wire{panel: newLine()}
	w.panel.send = func(p []byte) {
		w.mu.Lock()
		devs := append([]*line(nil), w.devices...)
		w.mu.Unlock()
		for _, d := range devs {
			d.deliver(p)
		}
	}
	t.Cleanup(func() {
		w.panel.Close()
		w.mu.Lock()
		defer w.mu.Unlock()
		for _, d := range w.devices {
			d.Close()
		}
	})
	return w
}

// attach puts another device on the line.
func (w *wire) attach() *line {
	d := newLine()
	d.send = w.panel.deliver
	w.mu.Lock()
	w.devices = append(w.devices, d)
	w.mu.Unlock()
	return d
}

// events collects a bus's reports for the test to wait on.
type events struct {
	mu  sync.Mutex
	got []Event
	ch  chan struct{}
}

func newEvents() *events { return &events{ch: make(chan struct{}, 1)} }

func (e *events) add(ev Event) {
	e.mu.Lock()
	e.got = append(e.got, ev)
	e.mu.Unlock()
	select {
	case e.ch <- struct{}{}:
	default:
	}
}

// wait returns the first report from address of kind, failing after a
// deadline that names it.
func (e *events) wait(t *testing.T, address byte, kind EventKind) Event {
	t.Helper()
	deadline := time.NewTimer(10 * time.Second)
	defer deadline.Stop()
	for {
		e.mu.Lock()
		for i, ev := range e.got {
			if ev.Address == address && ev.Kind == kind {
				e.got = append(e.got[:i:i], e.got[i+1:]...)
				e.mu.Unlock()
				return ev
			}
		}
		e.mu.Unlock()
		select {
		case <-e.ch:
		case <-deadline.C:
			t.Fatalf("no %v report from reader %d; had %v", kind, address, e.snapshot())
		}
	}
}

func (e *events) snapshot() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	var s []string
	for _, ev := range e.got {
		if ev.Err != nil {
			s = append(s, ev.Kind.String()+": "+ev.Err.Error())
			continue
		}
		s = append(s, ev.Kind.String())
	}
	return s
}

func key(b byte) []byte {
	k := make([]byte, 16)
	for i := range k {
		k[i] = b + byte(i)
	}
	return k
}

func startBus(t *testing.T, port Port, readers ...ReaderConfig) (*Bus, *events) {
	t.Helper()
	ev := newEvents()
	b := &Bus{Port: port, Readers: readers, Events: ev.add, OfflineAfter: 500 * time.Millisecond, ReplyTimeout: 100 * time.Millisecond, InsecureRetry: 200 * time.Millisecond}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- b.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil && !errors.Is(err, errBusClosed) {
			t.Errorf("bus: %v", err)
		}
	})
	return b, ev
}

func serve(t *testing.T, d *Device, conn io.ReadWriteCloser) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		d.Serve(ctx, conn)
	}()
	t.Cleanup(func() {
		cancel()
		conn.Close()
		<-done
	})
}

// Two keyed readers on one line: each sets up its own Secure Channel; a card,
// keys, a tamper and a power fault come through from the right one, and
// an answer reaches the reader's LED and buzzer.
func TestBusSecureChannelMultiDrop(t *testing.T) {
	port, devs := newWire(t, 2)
	shown := make(chan LED, 4)
	d1 := &Device{Address: 1, Key: key(1), ID: ID{Vendor: 0xA1, Serial: 1}, Shown: func(l LED) { shown <- l }}
	d2 := &Device{Address: 2, Key: key(2), ID: ID{Vendor: 0xA1, Serial: 2}}
	serve(t, d1, devs[0])
	serve(t, d2, devs[1])
	b, ev := startBus(t, port, ReaderConfig{Address: 1, Key: key(1)}, ReaderConfig{Address: 2, Key: key(2)})
	if on := ev.wait(t, 1, EventOnline); on.ID.Serial != 1 {
		t.Fatalf("reader 1 came online as %+v", on.ID)
	}
	ev.wait(t, 2, EventOnline)

	d2.PresentCard([]byte{0x02, 0x46, 0x40, 0x40}, 26)
	c := ev.wait(t, 2, EventCard)
	if c.Card.Bits != 26 || c.Card.Data[1] != 0x46 {
		t.Fatalf("card %+v", c.Card)
	}
	d1.PressKeys("1234#")
	if k := ev.wait(t, 1, EventKeys); k.Keys != "1234#" {
		t.Fatalf("keys %q", k.Keys)
	}
	d1.SetTamper(true)
	if e := ev.wait(t, 1, EventTamper); !e.On {
		t.Fatal("tamper reported closed")
	}
	d2.SetPowerFault(true)
	ev.wait(t, 2, EventPower)
	if err := b.Show(1, true, 3*time.Second); err != nil {
		t.Fatal(err)
	}
	select {
	case l := <-shown:
		if l.Colour != ColourGreen || l.Ticks != 30 {
			t.Fatalf("LED %+v", l)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the LED command never reached the reader")
	}
}

// Install mode keys a reader fresh from the factory; the key is kept before
// it is sent, and the reader takes SCBK-D no more after.
func TestBusInstallMode(t *testing.T) {
	port, devs := newWire(t, 1)
	gotKey := make(chan []byte, 1)
	d := &Device{Address: 3, Keyed: func(k []byte) { gotKey <- k }}
	serve(t, d, devs[0])
	var kept []byte
	_, ev := startBus(t, port, ReaderConfig{Address: 3, Install: true, Keyed: func(k []byte) error { kept = append([]byte(nil), k...); return nil }})
	ev.wait(t, 3, EventKeyed)
	ev.wait(t, 3, EventOnline)
	k := <-gotKey
	if len(k) != 16 || string(k) != string(kept) || string(k) == string(SCBKD) {
		t.Fatalf("reader has key % x, panel kept % x", k, kept)
	}

	// A second panel in install mode is refused: the reader is keyed.
	port2, devs2 := newWire(t, 1)
	serve(t, d, devs2[0])
	_, ev2 := startBus(t, port2, ReaderConfig{Address: 3, Install: true})
	e := ev2.wait(t, 3, EventInsecure)
	if !errors.Is(e.Err, ErrCryptogram) {
		t.Fatalf("SCBK-D after keying: %v", e.Err)
	}
}

// A reader with another key, or one that stops offering Secure Channel,
// is insecure and nothing it sends is passed on.
func TestBusRefusesInsecureReaders(t *testing.T) {
	port, devs := newWire(t, 2)
	wrong := &Device{Address: 1, Key: key(9)}
	clear := &Device{Address: 2, Key: key(2), Clear: true}
	serve(t, wrong, devs[0])
	serve(t, clear, devs[1])
	_, ev := startBus(t, port, ReaderConfig{Address: 1, Key: key(1)}, ReaderConfig{Address: 2, Key: key(2)})
	var ie *InsecureError
	if e := ev.wait(t, 1, EventInsecure); !errors.As(e.Err, &ie) || !errors.Is(e.Err, ErrCryptogram) {
		t.Fatalf("wrong key: %v", e.Err)
	}
	ev.wait(t, 2, EventInsecure)
	clear.PresentCard([]byte{1, 2, 3, 4}, 26)
	wrong.PresentCard([]byte{1, 2, 3, 4}, 26)
	// The panel tries them again, with their keys only: no card may appear.
	testWait(t, "the panel's second handshake with the wrong key", func() bool { return wrong.Challenges() >= 2 })
	if n := clear.Challenges(); n != 0 {
		t.Fatalf("the panel began Secure Channel %d times with a reader that offers none", n)
	}
	for _, k := range ev.snapshot() {
		if k == "card" || k == "online" {
			t.Fatalf("an insecure reader got through: %v", ev.snapshot())
		}
	}
}

// A reader that goes quiet is offline after OfflineAfter, and back online
// over Secure Channel when it answers again.
func TestBusOfflineAndBack(t *testing.T) {
	w := emptyWire(t)
	first := w.attach()
	d := &Device{Address: 4, Key: key(4)}
	ctx, cancel := context.WithCancel(context.Background())
	stopped := make(chan struct{})
	go func() { defer close(stopped); d.Serve(ctx, first) }()
	_, ev := startBus(t, w.panel, ReaderConfig{Address: 4, Key: key(4)})
	ev.wait(t, 4, EventOnline)
	cancel()
	first.Close() // its cable cut
	<-stopped
	ev.wait(t, 4, EventOffline)
	serve(t, d, w.attach())
	ev.wait(t, 4, EventOnline)
}

// testWait polls cond on a ticker until it holds, failing after a deadline
// that names what it waited for.
func testWait(t *testing.T, what string, cond func() bool) {
	t.Helper()
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	deadline := time.NewTimer(10 * time.Second)
	defer deadline.Stop()
	for !cond() {
		select {
		case <-tick.C:
		case <-deadline.C:
			t.Fatalf("waited in vain for %s", what)
		}
	}
}

// Install keys a fresh reader, keeps its key where the bridge finds it,
// and closes; a reader keyed already is refused it.
func TestInstall(t *testing.T) {
	port, devs := newWire(t, 1)
	d := &Device{Address: 6}
	serve(t, d, devs[0])
	keys := KeyStore{Dir: t.TempDir()}
	if err := Install(context.Background(), port, 6, 115200, keys, "r-six", nil); err != nil {
		t.Fatal(err)
	}
	k, err := keys.Load("r-six")
	if err != nil || len(k) != 16 {
		t.Fatalf("kept key: %v", err)
	}
	port2, devs2 := newWire(t, 1)
	serve(t, d, devs2[0])
	if err := Install(context.Background(), port2, 6, 115200, keys, "r-six", nil); !errors.Is(err, ErrCryptogram) {
		t.Fatalf("a second install: %v", err)
	}
}

// A reply checked only by the one-byte checksum is refused unless the bus
// allows it: the reader never comes online on it.
func TestBusRefusesChecksumMode(t *testing.T) {
	port, devs := newWire(t, 1)
	// A reader that answers every command with a checksum-mode PDID.
	go func() {
		var s Scanner
		buf := make([]byte, 256)
		for {
			n, err := devs[0].Read(buf)
			if err != nil {
				return
			}
			s.Write(buf[:n])
			for {
				p, err := s.Next()
				if errors.Is(err, ErrShort) {
					break
				}
				if err != nil || p.Reply {
					continue
				}
				r := Packet{Address: p.Address, Reply: true, Seq: p.Seq, Checksum: true, Code: ReplyPDID, Data: ID{}.marshal()}
				devs[0].Write(r.Marshal())
			}
		}
	}()
	_, ev := startBus(t, port, ReaderConfig{Address: 7, Key: key(7)})
	e := ev.wait(t, 7, EventBadFrame)
	var fe *FrameError
	if !errors.As(e.Err, &fe) || fe.Reason != "checksum mode refused" {
		t.Fatalf("checksum reply: %v", e.Err)
	}
}
