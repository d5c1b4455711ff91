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
	URL  string
	Port int
	cmd  *exec.Cmd
	conf string
	log  string
}

// StartMosquitto runs a private Mosquitto on a free loopback port (anonymous,
// no persistence) and stops it when the test ends.
func StartMosquitto(t testing.TB) *Mosquitto {
	t.Helper()
	bin := Need(t, "mosquitto", "/usr/sbin/mosquitto")
	dir := t.TempDir()
	m := &Mosquitto{Port: FreePort(t), conf: filepath.Join(dir, "mosquitto.conf"), log: filepath.Join(dir, "mosquitto.log")}
	m.URL = fmt.Sprintf("tcp://127.0.0.1:%d", m.Port)
	conf := fmt.Sprintf("listener %d 127.0.0.1\nallow_anonymous true\npersistence false\nlog_dest file %s\n", m.Port, m.log)
	if err := os.WriteFile(m.conf, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
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

	m := &Mosquitto{Port: FreePort(t), conf: filepath.Join(dir, "mosquitto.conf"), log: filepath.Join(dir, "mosquitto.log")}
	m.URL = fmt.Sprintf("tcp://127.0.0.1:%d", m.Port)
	conf := ""
	if os.Geteuid() == 0 {
		// Started as root, Mosquitto would drop to its own user, which may
		// not read the test's private temp dir.
		conf = "user root\n"
	}
	conf += fmt.Sprintf("per_listener_settings false\nallow_anonymous false\npassword_file %s\nacl_file %s\n"+
		"listener %d 127.0.0.1\npersistence false\nlog_dest file %s\n", pwFile, acl, m.Port, m.log)
	if err := os.WriteFile(m.conf, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	m.Start(t, bin)
	t.Cleanup(m.Stop)
	return m
}

// Start starts (or restarts) the broker on its port.
func (m *Mosquitto) Start(t testing.TB, bin string) {
	t.Helper()
	m.cmd = exec.Command(bin, "-c", m.conf)
	if err := m.cmd.Start(); err != nil {
		t.Fatalf("start mosquitto: %v", err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		if c, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", m.Port)); err == nil {
			c.Close()
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	log, _ := os.ReadFile(m.log)
	t.Fatalf("mosquitto did not listen on %d:\n%s", m.Port, log)
}

// Stop stops the broker.
func (m *Mosquitto) Stop() {
	if m.cmd != nil && m.cmd.Process != nil {
		_ = m.cmd.Process.Kill()
		_ = m.cmd.Wait()
		m.cmd = nil
	}
}
