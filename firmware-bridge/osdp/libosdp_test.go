package osdp

import (
	"bufio"
	"context"
	"encoding/hex"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// These tests hold the panel to libosdp's reader, built from the source in
// testdata/libosdp: an implementation the panel did not write. A machine
// that cannot build it fails them; it never skips them.

var peer struct {
	once sync.Once
	path string
	err  error
}

// peerBinary builds libosdp and the test reader once per run.
func peerBinary(t *testing.T) string {
	t.Helper()
	peer.once.Do(func() {
		dir, err := os.MkdirTemp("", "sekisho-libosdp-")
		if err != nil {
			peer.err = err
			return
		}
		src, _ := filepath.Abs("testdata")
		run := func(wd string, name string, args ...string) error {
			cmd := exec.Command(name, args...)
			cmd.Dir = wd
			if out, err := cmd.CombinedOutput(); err != nil {
				return errors.Join(err, errors.New(string(out)))
			}
			return nil
		}
		lib := filepath.Join(dir, "libosdp")
		if peer.err = run(dir, "cp", "-r", filepath.Join(src, "libosdp"), lib); peer.err != nil {
			return
		}
		if peer.err = run(lib, "./configure.sh", "--crypto", "openssl", "--lib-only"); peer.err != nil {
			return
		}
		if peer.err = run(lib, "make", "-j2"); peer.err != nil {
			return
		}
		peer.path = filepath.Join(dir, "pdpeer")
		peer.err = run(dir, "gcc", "-O2", "-o", peer.path, filepath.Join(src, "pdpeer.c"),
			"-I"+filepath.Join(lib, "include"), "-I"+filepath.Join(lib, "build", "include"),
			filepath.Join(lib, "build", "libosdp.a"), "-lcrypto")
	})
	if peer.err != nil {
		t.Fatalf("building libosdp's reader (make test installs gcc and libssl-dev): %v", peer.err)
	}
	return peer.path
}

// libReader is a running libosdp reader on a pseudo-terminal.
type libReader struct {
	port  *os.File // the panel's end
	stdin io.WriteCloser
	lines chan string
}

// startLibReader runs the reader at address with key (nil: fresh from the
// factory, in install mode).
func startLibReader(t *testing.T, address byte, key []byte) *libReader {
	t.Helper()
	bin := peerBinary(t)
	ptmx, tty, err := OpenPseudoLine()
	if err != nil {
		t.Fatal(err)
	}
	k := "install"
	if key != nil {
		k = hex.EncodeToString(key)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, bin, tty.Name(), string('0'+rune(address)), k)
	if address > 9 {
		t.Fatal("test readers use addresses 0–9")
	}
	stdin, _ := cmd.StdinPipe()
	stdout, _ := cmd.StdoutPipe()
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	r := &libReader{port: ptmx, stdin: stdin, lines: make(chan string, 64)}
	go func() {
		s := bufio.NewScanner(stdout)
		for s.Scan() {
			r.lines <- s.Text()
		}
		close(r.lines)
	}()
	t.Cleanup(func() {
		stdin.Close()
		cancel()
		cmd.Wait()
		tty.Close()
	})
	r.expect(t, "ready")
	return r
}

func (r *libReader) send(t *testing.T, line string) {
	t.Helper()
	if _, err := io.WriteString(r.stdin, line+"\n"); err != nil {
		t.Fatal(err)
	}
}

// expect waits for a line from the reader that starts with prefix.
func (r *libReader) expect(t *testing.T, prefix string) string {
	t.Helper()
	deadline := time.NewTimer(10 * time.Second)
	defer deadline.Stop()
	for {
		select {
		case l, ok := <-r.lines:
			if !ok {
				t.Fatalf("libosdp's reader ended before %q", prefix)
			}
			if strings.HasPrefix(l, prefix) {
				return l
			}
		case <-deadline.C:
			t.Fatalf("libosdp's reader never said %q", prefix)
		}
	}
}

// A keyed libosdp reader: Secure Channel is set up, a card and keys come
// through, the LED is set, and a tamper is reported.
func TestLibOSDPReaderSecureChannel(t *testing.T) {
	r := startLibReader(t, 1, key(0x40))
	b, ev := startBus(t, r.port, ReaderConfig{Address: 1, Key: key(0x40)})
	if on := ev.wait(t, 1, EventOnline); on.ID.Vendor != 0xA1B2C3 || on.ID.Serial != 0x5EC15E0 {
		t.Fatalf("online as %+v", on.ID)
	}
	r.send(t, "card 02464040 26")
	c := ev.wait(t, 1, EventCard)
	if c.Card.Bits != 26 || hex.EncodeToString(c.Card.Data) != "02464040" {
		t.Fatalf("card %+v", c.Card)
	}
	r.send(t, "keys 1234#")
	if k := ev.wait(t, 1, EventKeys); k.Keys != "1234#" {
		t.Fatalf("keys %q", k.Keys)
	}
	if err := b.Show(1, true, 2*time.Second); err != nil {
		t.Fatal(err)
	}
	if l := r.expect(t, "led "); l != "led 2" {
		t.Fatalf("the reader's LED: %q, want green (2)", l)
	}
	r.expect(t, "buzzer")
	r.send(t, "tamper 1")
	if e := ev.wait(t, 1, EventTamper); !e.On {
		t.Fatal("tamper reported closed")
	}
}

// Install mode gives a factory-fresh libosdp reader its own key; the
// reader then refuses SCBK-D.
func TestLibOSDPReaderInstallMode(t *testing.T) {
	r := startLibReader(t, 2, nil)
	var kept []byte
	_, ev := startBus(t, r.port, ReaderConfig{Address: 2, Install: true, Keyed: func(k []byte) error { kept = append([]byte(nil), k...); return nil }})
	ev.wait(t, 2, EventKeyed)
	got := strings.TrimPrefix(r.expect(t, "keyset "), "keyset ")
	if got != hex.EncodeToString(kept) {
		t.Fatalf("the reader took %s, the panel kept %x", got, kept)
	}
	ev.wait(t, 2, EventOnline) // with its new key
	r.send(t, "card 02464040 26")
	ev.wait(t, 2, EventCard)
}

func TestLibOSDPReaderRefusesDefaultKeyOnceKeyed(t *testing.T) {
	r := startLibReader(t, 3, key(0x10))
	_, ev := startBus(t, r.port, ReaderConfig{Address: 3, Install: true})
	if e := ev.wait(t, 3, EventInsecure); !errors.Is(e.Err, ErrCryptogram) {
		t.Fatalf("SCBK-D with a keyed reader: %v", e.Err)
	}
}

func TestLibOSDPReaderWrongKey(t *testing.T) {
	r := startLibReader(t, 4, key(0x10))
	_, ev := startBus(t, r.port, ReaderConfig{Address: 4, Key: key(0x20)})
	if e := ev.wait(t, 4, EventInsecure); !errors.Is(e.Err, ErrCryptogram) {
		t.Fatalf("wrong key: %v", e.Err)
	}
}

// A keyed reader that comes back offering no Secure Channel is insecure,
// and a card it then presents goes nowhere.
func TestLibOSDPReaderForcedToClear(t *testing.T) {
	r := startLibReader(t, 5, key(0x50))
	_, ev := startBus(t, r.port, ReaderConfig{Address: 5, Key: key(0x50)})
	ev.wait(t, 5, EventOnline)
	r.send(t, "clear")
	r.expect(t, "cleared")
	e := ev.wait(t, 5, EventInsecure)
	var ie *InsecureError
	if !errors.As(e.Err, &ie) {
		t.Fatalf("insecure for %v", e.Err)
	}
	r.send(t, "card 02464040 26")
	r.send(t, "tamper 1") // a later report, to know the card had its chance
	for _, k := range ev.snapshot() {
		if k == "card" {
			t.Fatal("a card from the reader in clear was passed on")
		}
	}
}
