// Package testtool finds the outside programs that integration tests run
// (Mosquitto, Chromium) and starts a private Mosquitto for a test.
package testtool

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// Need returns the path of an installed program. Under CI a missing program
// fails the test: `make test` installs what the tests need, so a skip there
// would hide a broken install step.
func Need(t testing.TB, names ...string) string {
	t.Helper()
	for _, name := range names {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	msg := fmt.Sprintf("%s not installed; `make test` installs it", strings.Join(names, " or "))
	if os.Getenv("CI") != "" {
		t.Fatal(msg)
	}
	t.Skip(msg)
	return ""
}

// WaitFor asks ok every few milliseconds until it holds, and fails the test
// once limit has passed: tests wait for a condition, never for a fixed time.
func WaitFor(t testing.TB, limit time.Duration, what string, ok func() bool) {
	t.Helper()
	if !Until(limit, ok) {
		t.Fatalf("timed out waiting for %s", what)
	}
}

// Until asks ok every few milliseconds until it holds (true) or limit has
// passed (false): WaitFor for code that has no test to fail, such as a
// benchmark's helper process.
func Until(limit time.Duration, ok func() bool) bool {
	deadline := time.NewTimer(limit)
	defer deadline.Stop()
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for !ok() {
		select {
		case <-deadline.C:
			return ok()
		case <-tick.C:
		}
	}
	return true
}

// FreePort returns a loopback port nobody listens on right now.
func FreePort(t testing.TB) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// Mosquitto is a broker process a test started.
type Mosquitto struct {
	URL    string
	Port   int
	cmd    *exec.Cmd
	exited chan struct{} // closed once the process is gone
	conf   string
	log    string
	// confFor is the config for a port: a first start that finds its port
	// taken (another test's listener got it between FreePort and the
	// bind) moves to another one.
	confFor func(port int) string
	started bool
}

// StartMosquitto runs a private Mosquitto on a free loopback port (anonymous,
// no persistence) and stops it when the test ends.
func StartMosquitto(t testing.TB) *Mosquitto { return StartMosquittoWith(t, "") }

// StartMosquittoWith is StartMosquitto with more lines of Mosquitto's
// config (a head office's queue limits).
func StartMosquittoWith(t testing.TB, extra string) *Mosquitto {
	t.Helper()
	bin := Need(t, "mosquitto", "/usr/sbin/mosquitto")
	dir := t.TempDir()
	m := &Mosquitto{conf: filepath.Join(dir, "mosquitto.conf"), log: filepath.Join(dir, "mosquitto.log")}
	m.confFor = func(port int) string {
		return asRoot() + fmt.Sprintf("listener %d 127.0.0.1\nallow_anonymous true\npersistence false\nlog_dest file %s\n", port, m.log) + extra
	}
	m.Start(t, bin)
	t.Cleanup(m.Stop)
	return m
}

// StartMosquittoSecured runs a private Mosquitto that admits only users
// (made with mosquitto_passwd, as an installer would) under the ACL file.
func StartMosquittoSecured(t testing.TB, users map[string]string, aclFile string) *Mosquitto {
	t.Helper()
	bin := Need(t, "mosquitto", "/usr/sbin/mosquitto")
	passwd := Need(t, "mosquitto_passwd", "/usr/bin/mosquitto_passwd")
	dir := t.TempDir()
	pwFile := filepath.Join(dir, "passwd")
	for user, pass := range users {
		args := []string{"-b", pwFile, user, pass}
		if _, err := os.Stat(pwFile); err != nil {
			args = append([]string{"-c"}, args...)
		}
		if out, err := exec.Command(passwd, args...).CombinedOutput(); err != nil {
			t.Fatalf("mosquitto_passwd %s: %v\n%s", user, err, out)
		}
	}
	acl, err := filepath.Abs(aclFile)
	if err != nil {
		t.Fatal(err)
	}

	m := &Mosquitto{conf: filepath.Join(dir, "mosquitto.conf"), log: filepath.Join(dir, "mosquitto.log")}
	m.confFor = func(port int) string {
		return asRoot() + fmt.Sprintf("per_listener_settings false\nallow_anonymous false\npassword_file %s\nacl_file %s\n"+
			"listener %d 127.0.0.1\npersistence false\nlog_dest file %s\n", pwFile, acl, port, m.log)
	}
	m.Start(t, bin)
	t.Cleanup(m.Stop)
	return m
}

// asRoot keeps a Mosquitto started as root from dropping to its own user,
// which could neither read the test's private temp dir nor write its log.
func asRoot() string {
	if os.Geteuid() == 0 {
		return "user root\n"
	}
	return ""
}

// Start starts (or restarts) the broker on its port. It waits for the
// broker's own word that it is running, not for something to answer on
// the port: with tests in parallel that could be another test's listener.
// A first start whose port was taken meanwhile moves to a free one; a
// restart keeps its port (clients know it) and tries again until it is free.
func (m *Mosquitto) Start(t testing.TB, bin string) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		if !m.started {
			m.Port = FreePort(t)
			m.URL = fmt.Sprintf("tcp://127.0.0.1:%d", m.Port)
			if err := os.WriteFile(m.conf, []byte(m.confFor(m.Port)), 0o600); err != nil {
				t.Fatal(err)
			}
		}
		if m.run(t, bin, deadline) {
			m.started = true
			return
		}
		if time.Now().After(deadline) {
			log, _ := os.ReadFile(m.log)
			t.Fatalf("mosquitto did not start on %d:\n%s", m.Port, log)
		}
		time.Sleep(100 * time.Millisecond) // a restart's port still held: ask again
	}
}

// run starts the process once: true once its log says it runs, false if
// it exits first (its port was taken).
func (m *Mosquitto) run(t testing.TB, bin string, deadline time.Time) bool {
	t.Helper()
	before, _ := os.ReadFile(m.log)
	m.cmd = exec.Command(bin, "-c", m.conf)
	if err := m.cmd.Start(); err != nil {
		t.Fatalf("start mosquitto: %v", err)
	}
	exited, cmd := make(chan struct{}), m.cmd
	m.exited = exited
	go func() { _ = cmd.Wait(); close(exited) }()
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for time.Now().Before(deadline) {
		select {
		case <-exited:
			m.cmd = nil
			return false
		case <-tick.C:
		}
		if log, _ := os.ReadFile(m.log); len(log) > len(before) && strings.Contains(string(log[len(before):]), " running") {
			return true
		}
	}
	m.Stop()
	log, _ := os.ReadFile(m.log)
	t.Fatalf("mosquitto did not start on %d:\n%s", m.Port, log)
	return false
}

// Stop stops the broker.
func (m *Mosquitto) Stop() {
	if m.cmd != nil && m.cmd.Process != nil {
		_ = m.cmd.Process.Kill()
		<-m.exited
		m.cmd = nil
	}
}

// Recv waits for a value on ch and fails the test naming what it waited
// for once limit has passed: no wait in the suite holds it until go test's
// own timeout.
func Recv[T any](t testing.TB, ch <-chan T, limit time.Duration, what string) T {
	t.Helper()
	timer := time.NewTimer(limit)
	defer timer.Stop()
	select {
	case v := <-ch:
		return v
	case <-timer.C:
		t.Fatalf("timed out after %s waiting for %s", limit, what)
	}
	var zero T
	return zero
}
