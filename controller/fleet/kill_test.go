package fleet

import (
	"math/rand/v2"
	"os/exec"
	"path/filepath"
	"regexp"
	"syscall"
	"testing"
	"time"

	"github.com/sekisho/sekisho/controller/testtool"
)

// A door Pi killed with -9 while deltas pour in comes back with cards the
// controller made, whole — the old version or a newer one, never half of
// one — decides from them before the controller is heard, and catches up.
func TestDoorPiKilledMidApplyKeepsWholeCards(t *testing.T) {
	p := startFleet(t, 1, 400)
	bin := testtool.Build(t, "github.com/sekisho/sekisho/firmware-bridge")
	pi := p.pis[0]
	enrolment := filepath.Join(t.TempDir(), "pi-0.enrollment")
	if err := pi.enrol.Write(enrolment); err != nil {
		t.Fatal(err)
	}
	dataDir := t.TempDir()
	start := func() (*exec.Cmd, *testtool.SyncBuffer) {
		cmd := exec.Command(bin, "--board", "../../hardware/pi-reference.yaml", "--mqtt", p.broker.URL(),
			"--enrollment", enrolment, "--data-dir", dataDir, "--sim")
		logs := &testtool.SyncBuffer{}
		cmd.Stderr = logs
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		return cmd, logs
	}
	kept := regexp.MustCompile(`using the kept cards until the controller sends newer.* version=([A-Za-z0-9_-]+)`)
	rng := rand.New(rand.NewPCG(20, 26))
	inStep := func() bool { st := p.fleet.States(); return st[0].InStep }
	for round := range 4 {
		cmd, logs := start()
		if round > 0 {
			// What it kept is one of the controller's versions, whole.
			testtool.WaitFor(t, 30*time.Second, "the kept cards in use", func() bool { return kept.MatchString(logs.String()) })
			v := kept.FindStringSubmatch(logs.String())[1]
			p.fleet.mu.RLock()
			made := p.fleet.pis[pi.id].revOf(v) != 0
			p.fleet.mu.RUnlock()
			if !made {
				t.Fatalf("round %d: kept version %s is none the controller made\n%s", round, v, logs)
			}
		}
		testtool.WaitFor(t, 30*time.Second, "the door Pi in step", inStep)
		// A burst of changes to the cards of its room; killed part-way.
		kill := 5 + rng.IntN(40)
		for i := range 50 {
			p.change(func(hs []Holder) {
				n := groups * (1 + i%10)
				hs[n].Enabled = !hs[n].Enabled
			})
			if i == kill {
				if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
					t.Fatal(err)
				}
			}
		}
		_ = cmd.Wait()
		if refused := regexp.MustCompile(`kept cards refused`); refused.MatchString(logs.String()) {
			t.Fatalf("round %d: %s", round, logs)
		}
	}
	cmd, logs := start()
	defer func() {
		_ = cmd.Process.Signal(syscall.SIGINT)
		_ = cmd.Wait()
	}()
	testtool.WaitFor(t, 30*time.Second, "the door Pi back in step", inStep)
	if regexp.MustCompile(`kept cards refused`).MatchString(logs.String()) {
		t.Fatalf("the kept cards were refused after a kill -9:\n%s", logs)
	}
}
