package site_test

import (
	"context"
	"net"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"periph.io/x/conn/v3/gpio"

	"github.com/sekisho/sekisho/controller/config"
	"github.com/sekisho/sekisho/controller/event"
)

// notifySocket is systemd's end of NOTIFY_SOCKET, played by the test.
type notifySocket struct {
	t    *testing.T
	conn *net.UnixConn
}

func fakeSystemd(t *testing.T, watchdog time.Duration) *notifySocket {
	t.Helper()
	path := filepath.Join(t.TempDir(), "notify")
	conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: path, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	t.Setenv("NOTIFY_SOCKET", path)
	t.Setenv("WATCHDOG_USEC", strconv.FormatInt(watchdog.Microseconds(), 10))
	return &notifySocket{t: t, conn: conn}
}

// next waits for the next message that has want in it.
func (n *notifySocket) next(want string) {
	n.t.Helper()
	buf := make([]byte, 4096)
	n.conn.SetReadDeadline(time.Now().Add(30 * time.Second))
	for {
		k, err := n.conn.Read(buf)
		if err != nil {
			n.t.Fatalf("waiting for %s from the controller: %v", want, err)
		}
		if strings.Contains(string(buf[:k]), want) {
			return
		}
	}
}

// drain returns what has been sent and not read yet.
func (n *notifySocket) drain() string {
	var out []string
	buf := make([]byte, 4096)
	for {
		n.conn.SetReadDeadline(time.Now().Add(10 * time.Millisecond))
		k, err := n.conn.Read(buf)
		if err != nil {
			return strings.Join(out, "|")
		}
		out = append(out, string(buf[:k]))
	}
}

// Under systemd with a watchdog: the controller says READY once its doors
// are up and feeds the watchdog only while the door loop answers. A hung
// loop stops the feeding, and every strike is locked around it first, the
// fault in the log; once the loop answers again the feeding resumes.
func TestWatchdogIsFedByTheDoorLoop(t *testing.T) {
	systemd := fakeSystemd(t, 600*time.Millisecond)
	ts := startSite(t, "", func(cfg *config.Config) {
		for i := range cfg.Doors {
			if cfg.Doors[i].ID == "floor-door" {
				cfg.Doors[i].Strike.Pulse = time.Minute // held open by a grant when the loop hangs
			}
		}
	})
	systemd.next("READY=1")
	systemd.next("WATCHDOG=1")
	live := ts.stream()
	strike := ts.Sim.Door("floor-door").Strike
	ts.swipe("r-floor-out", 12, 345)
	waitFor(t, "the floor strike to open", func() bool { return strike.Read() == gpio.High })

	release := ts.StallLoop(context.Background())
	systemd.drain() // fed before the loop stalled
	waitFor(t, "every strike locked around the hung loop", func() bool { return strike.Read() == gpio.Low })
	ev := await(t, live, "the fault in the log", func(ev event.Event) bool { return ev.Type == event.SystemFault })
	if ev.Detail["while"] != "watchdog" {
		t.Fatalf("fault: %v", ev.Detail)
	}
	if sent := systemd.drain(); strings.Contains(sent, "WATCHDOG=1") || !strings.Contains(sent, "STATUS=door loop hung") {
		t.Fatalf("told systemd while the loop hung: %q", sent)
	}
	release()
	systemd.next("WATCHDOG=1")
}
