package fleet

import (
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/sekisho/sekisho/controller/testtool"
)

// The benchmark runs the door Pis in a process of their own, so what it
// measures of memory and CPU is the controller's side alone: this test
// binary, started again with SEKISHO_PLANT_PIS naming a folder of
// enrolments, runs them until its standard input closes.
func TestMain(m *testing.M) {
	if dir := os.Getenv("SEKISHO_PLANT_PIS"); dir != "" {
		if err := runPis(dir, os.Getenv("SEKISHO_PLANT_BROKER")); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// runPis runs a door Pi for each enrolment in dir until stdin closes.
func runPis(dir, brokerURL string) error {
	pis, err := testtool.StartDoorPis(dir, brokerURL, "../../hardware/pi-reference.yaml", nil)
	if err != nil {
		return err
	}
	_, _ = io.Copy(io.Discard, os.Stdin) // until the benchmark is done
	return pis.Stop()
}

// startPisProcess runs the plant's door Pis in a process of their own.
func (p *plant) startPisProcess(t testing.TB) {
	t.Helper()
	dir := t.TempDir()
	for _, pi := range p.pis {
		if err := pi.enrol.Write(filepath.Join(dir, pi.id+".enrollment")); err != nil {
			t.Fatal(err)
		}
	}
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "SEKISHO_PLANT_PIS="+dir, "SEKISHO_PLANT_BROKER="+p.broker.URL())
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		stdin.Close()
		if err := cmd.Wait(); err != nil {
			t.Errorf("the door Pis' process: %v", err)
		}
	})
}
