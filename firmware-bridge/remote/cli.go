package remote

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"time"

	"github.com/sekisho/sekisho/firmware-bridge/board"
)

const usage = `firmware-bridge runs a door Pi: the doors on its board, linked to the
site controller over MQTT.

Usage:
  firmware-bridge --board hardware/pi-reference.yaml --mqtt tcp://controller:1883 --id door-pi-3 --prefix sekisho/<site>
`

// Main is the firmware-bridge command line; it returns the exit code.
func Main(ctx context.Context, args []string, stderr io.Writer) int {
	fs := flag.NewFlagSet("firmware-bridge", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, usage); fs.PrintDefaults() }
	boardPath := fs.String("board", "hardware/pi-reference.yaml", "the board's pin map")
	url := fs.String("mqtt", "tcp://localhost:1883", "the site's broker")
	id := fs.String("id", "", "this bridge's id, as the site config's doors name it (bridge: …)")
	prefix := fs.String("prefix", "", "the site's topic prefix, e.g. sekisho/hamamatsu-press")
	user := fs.String("username", "", "broker user (the password comes from $SEKISHO_MQTT_PASSWORD)")
	dataDir := fs.String("data-dir", "/var/lib/sekisho", "where the outbox and the last snapshot are kept")
	sim := fs.Bool("sim", false, "simulated pins from the board file instead of the Pi's")
	offline := fs.Duration("offline-after", DefaultOfflineAfter, "decide alone after the link is down this long")
	timeout := fs.Duration("decision-timeout", DefaultDecisionTimeout, "decide alone when the controller takes longer than this")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *id == "" || *prefix == "" {
		fmt.Fprintln(stderr, "firmware-bridge: --id and --prefix are required")
		fs.Usage()
		return 2
	}
	log := slog.New(slog.NewTextHandler(stderr, nil))
	f, err := board.Load(*boardPath)
	if err != nil {
		fmt.Fprintln(stderr, "firmware-bridge:", err)
		return 1
	}
	var open board.Opener
	if *sim {
		open = board.NewSimPins(f).Open
	} else if open, err = board.Periph(log); err != nil {
		fmt.Fprintln(stderr, "firmware-bridge:", err)
		return 1
	}
	if err := os.MkdirAll(*dataDir, 0o750); err != nil {
		fmt.Fprintln(stderr, "firmware-bridge:", err)
		return 1
	}
	d := &Daemon{
		ID: *id, Prefix: *prefix, Board: f, Open: open, DataDir: *dataDir, Log: log,
		Broker:       Broker{URL: *url, Username: *user, Password: os.Getenv("SEKISHO_MQTT_PASSWORD")},
		OfflineAfter: *offline, DecisionTimeout: max(*timeout, 100*time.Millisecond),
	}
	if err := d.Run(ctx); err != nil {
		fmt.Fprintln(stderr, "firmware-bridge:", err)
		return 1
	}
	return 0
}
