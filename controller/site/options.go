package site

import (
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"runtime/debug"
	"time"

	"github.com/sekisho/sekisho/controller/config"
)

// Options override the config for one run, so two sites can run side by side.
type Options struct {
	DataDir    string
	HTTPListen string
	MQTTListen string
	Out        io.Writer // first-start accounts are printed here; os.Stdout when nil
	Log        *slog.Logger
	// OverstayEvery is how often checked-in visitors are checked against
	// the overstay time (30 s when zero).
	OverstayEvery time.Duration
	// EscalateEvery is how often unacknowledged alarms are checked against
	// access.escalate_after (5 s when zero).
	EscalateEvery time.Duration
	// FreeSpace reads the data dir's disk (DiskSpace when nil); tests give
	// a card as full as they need.
	FreeSpace func(dir string) (free, total uint64, err error)
	// FreeSpaceEvery is how often free space is checked (10 s when zero).
	FreeSpaceEvery time.Duration
	// Now is the clock the desk and the day's work read (time.Now when
	// nil); tests move it across the site's midnight.
	Now func() time.Time
	// ClockSynced reads whether the kernel's clock is synchronised (the
	// kernel's NTP state when nil); tests say it for the site's clock.
	ClockSynced func() (bool, error)
	// ClockEvery is how often the clock is looked at (10 s when zero).
	ClockEvery time.Duration
	// BridgeAnswered, when set, also hears how long the controller took
	// over each live card from a door Pi (the fleet benchmark).
	BridgeAnswered func(took time.Duration)
}

// DBPath is where a site keeps its database.
func DBPath(dataDir, site string) string { return filepath.Join(dataDir, site+".db") }

// Run runs a site until ctx ends.
func Run(ctx context.Context, cfg *config.Config, opts Options) error {
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(MemoryLimit)
	}
	s, err := Start(ctx, cfg, opts)
	if err != nil {
		return err
	}
	<-ctx.Done()
	return s.Wait()
}
