package fleet

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"

	"github.com/sekisho/sekisho/firmware-bridge/board"
	"github.com/sekisho/sekisho/firmware-bridge/remote"
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
	files, err := filepath.Glob(filepath.Join(dir, "*.enrollment"))
	if err != nil || len(files) == 0 {
		return fmt.Errorf("no enrolments in %s: %v", dir, err)
	}
	f, err := board.Load("../../hardware/pi-reference.yaml")
	if err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	errs := make(chan error, len(files))
	for _, file := range files {
		e, err := remote.ReadEnrolment(file)
		if err != nil {
			cancel()
			return err
		}
		data := filepath.Join(dir, e.Bridge)
		if err := os.MkdirAll(data, 0o700); err != nil {
			cancel()
			return err
		}
		d := &remote.Daemon{ID: e.Bridge, Prefix: e.Prefix, Broker: remote.Broker{URL: brokerURL}, Enrolment: e,
			Board: f, Open: board.NewSimPins(f).Open, DataDir: data, Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := d.Run(ctx); err != nil {
				errs <- fmt.Errorf("%s: %w", e.Bridge, err)
			}
		}()
	}
	_, _ = io.Copy(io.Discard, os.Stdin) // until the benchmark is done
	cancel()
	wg.Wait()
	close(errs)
	return <-errs
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
