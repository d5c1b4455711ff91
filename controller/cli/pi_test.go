package cli

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"

	"github.com/sekisho/sekisho/controller/event"
	"github.com/sekisho/sekisho/controller/testtool"
)

// `make pi` builds for the Pi; the arm64 programs run under qemu-user on
// the demo config: both say which build they are, the controller's health
// answers with it, and a simulated swipe is granted.
func TestPiBuildRunsUnderQemu(t *testing.T) {
	makeBin := testtool.Need(t, "make")
	qemu := testtool.Need(t, "qemu-aarch64")
	const sysroot = "/usr/aarch64-linux-gnu" // Debian's libc6-arm64-cross, beside the cross compiler
	out := t.TempDir()                       // never over a developer's bin/
	build := exec.Command(makeBin, "-C", "../..", "pi-arm64", "OUT="+out, "VERSION=v0.0.0-qemu", "COMMIT=feedfacecafe")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("make pi-arm64: %v\n%s", err, out)
	}
	bin := func(name string) string { return filepath.Join(out, "linux-arm64", name) }
	for _, prog := range [][]string{{"controller", "version"}, {"firmware-bridge", "--version"}} {
		out, err := exec.Command(qemu, "-L", sysroot, bin(prog[0]), prog[1]).CombinedOutput()
		if err != nil || !strings.Contains(string(out), "v0.0.0-qemu (commit feedfacecafe") || !strings.Contains(string(out), "linux/arm64") {
			t.Fatalf("%s under qemu: %v %q", prog[0], err, out)
		}
	}

	httpAddr := fmt.Sprintf("127.0.0.1:%d", testtool.FreePort(t))
	mqttAddr := fmt.Sprintf("127.0.0.1:%d", testtool.FreePort(t))
	run := exec.Command(qemu, "-L", sysroot, bin("controller"), "run", "--config", "../../configs/demo-factory.yaml",
		"--data-dir", t.TempDir(), "--http", httpAddr, "--mqtt-listen", mqttAddr)
	logFile, _ := os.Create(filepath.Join(t.TempDir(), "controller.log"))
	run.Stdout, run.Stderr = logFile, logFile
	if err := run.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		run.Process.Signal(os.Interrupt)
		run.Wait()
		if t.Failed() {
			b, _ := os.ReadFile(logFile.Name())
			t.Logf("the arm64 controller's log:\n%s", b[max(0, len(b)-4096):])
		}
	})
	var health struct{ Status, Version, Commit string }
	testtool.WaitFor(t, 3*time.Minute, "the arm64 controller's health", func() bool {
		res, err := http.Get("http://" + httpAddr + "/api/health")
		if err != nil {
			return false
		}
		defer res.Body.Close()
		return res.StatusCode == http.StatusOK && json.NewDecoder(res.Body).Decode(&health) == nil
	})
	if health.Status != "ok" || health.Version != "v0.0.0-qemu" || health.Commit != "feedfacecafe" {
		t.Fatalf("health: %+v", health)
	}

	events := make(chan event.Event, 64)
	sub := paho.NewClient(paho.NewClientOptions().AddBroker("tcp://" + mqttAddr).SetClientID("qemu-test"))
	if tok := sub.Connect(); !tok.WaitTimeout(30*time.Second) || tok.Error() != nil {
		t.Fatalf("mqtt: %v", tok.Error())
	}
	defer sub.Disconnect(100)
	if tok := sub.Subscribe("sekisho/hamamatsu-press/events", 1, func(_ paho.Client, m paho.Message) {
		var ev event.Event
		if json.Unmarshal(m.Payload(), &ev) == nil {
			events <- ev
		}
	}); !tok.WaitTimeout(30*time.Second) || tok.Error() != nil {
		t.Fatalf("subscribe: %v", tok.Error())
	}
	res, err := http.Post("http://"+httpAddr+"/api/sim/readers/r-floor-out/wiegand", "application/json",
		strings.NewReader(`{"format":"H10301","facility":12,"number":345}`))
	if err != nil || res.StatusCode != http.StatusAccepted {
		t.Fatalf("swipe: %v %v", err, res)
	}
	res.Body.Close()
	deadline := time.After(2 * time.Minute)
	for {
		select {
		case ev := <-events:
			if ev.Type == event.AccessGranted && ev.Reader == "r-floor-out" {
				return
			}
			if ev.Reader == "r-floor-out" {
				t.Fatalf("the swipe under qemu: %s %s", ev.Type, ev.Reason)
			}
		case <-deadline:
			t.Fatal("no decision for the swipe under qemu")
		}
	}
}
