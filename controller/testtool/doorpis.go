package testtool

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"time"

	"github.com/sekisho/sekisho/firmware-bridge/board"
	"github.com/sekisho/sekisho/firmware-bridge/remote"
	"github.com/sekisho/sekisho/firmware-bridge/simhw"
)

// DoorPis is a fleet of door Pis run from enrolment files, each on the
// reference board's simulated pins, for the benchmarks that put them in a
// process of their own.
type DoorPis struct {
	Daemons []*remote.Daemon
	Readers []*simhw.Reader // each Pi's door-1 reader, by the Pis' order
	cancel  context.CancelFunc
	wg      sync.WaitGroup
	errs    chan error
}

// StartDoorPis runs a door Pi for each *.enrollment in dir (sorted by
// name), keeping its data beside it; boardFile is the reference board's
// path; asked, when set, hears each card's wait for the controller.
func StartDoorPis(dir, brokerURL, boardFile string, asked func(reader string, took time.Duration, answered bool)) (*DoorPis, error) {
	files, err := filepath.Glob(filepath.Join(dir, "*.enrollment"))
	if err != nil || len(files) == 0 {
		return nil, fmt.Errorf("no enrolments in %s: %v", dir, err)
	}
	sort.Strings(files)
	f, err := board.Load(boardFile)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	p := &DoorPis{cancel: cancel, errs: make(chan error, len(files))}
	for _, file := range files {
		e, err := remote.ReadEnrolment(file)
		if err != nil {
			p.Stop()
			return nil, err
		}
		data := filepath.Join(dir, e.Bridge)
		if err := os.MkdirAll(data, 0o700); err != nil {
			p.Stop()
			return nil, err
		}
		pins := board.NewSimPins(f)
		d := &remote.Daemon{ID: e.Bridge, Prefix: e.Prefix, Broker: remote.Broker{URL: brokerURL}, Enrolment: e,
			Board: f, Open: pins.Open, DataDir: data, Log: slog.New(slog.NewTextHandler(io.Discard, nil)), Asked: asked}
		p.Daemons = append(p.Daemons, d)
		p.Readers = append(p.Readers, &simhw.Reader{ID: e.Bridge, D0: pins.Pin("GPIO5"), D1: pins.Pin("GPIO6")})
		p.wg.Add(1)
		go func() {
			defer p.wg.Done()
			if err := d.Run(ctx); err != nil {
				p.errs <- fmt.Errorf("%s: %w", e.Bridge, err)
			}
		}()
	}
	return p, nil
}

// Stop ends every door Pi and says the first that failed.
func (p *DoorPis) Stop() error {
	p.cancel()
	p.wg.Wait()
	close(p.errs)
	return <-p.errs
}
