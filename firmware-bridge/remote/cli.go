package remote

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/sekisho/sekisho/firmware-bridge/board"
	"github.com/sekisho/sekisho/firmware-bridge/release"
	"github.com/sekisho/sekisho/firmware-bridge/simctl"
)

const usage = `firmware-bridge runs a door Pi: the doors on its board, linked to the
site controller over MQTT.

Usage:
  firmware-bridge --enrollment /etc/sekisho/door-pi-3.enrollment --board hardware/pi-reference.yaml \
      --mqtt tls://controller:8883 --username door-pi-3      (password from $SEKISHO_MQTT_PASSWORD)

The enrolment file comes from the controller (controller bridge enroll door-pi-3 …);
it names this door Pi and its site, and holds the keys that tell the
controller's commands and cards from anyone else's.
  firmware-bridge osdp install --reader R --port /dev/ttyAMA0 --address 0 --baud 9600
      (keys a factory-fresh OSDP reader, once; stop the service first)
  firmware-bridge … --sim --sim-http 127.0.0.1:8090    (simulated doors, worked over HTTP:
      POST /sim/slots/<slot>/wiegand[?side=inside] {"format":"H10301","facility":F,"number":N},
      POST /sim/slots/<slot>/contact {"open":true}, POST /sim/slots/<slot>/rex, GET /sim/slots/<slot>/strike)
`

// Main is the firmware-bridge command line; it returns the exit code.
func Main(ctx context.Context, args []string, stderr io.Writer) int {
	if len(args) >= 2 && args[0] == "osdp" && args[1] == "install" {
		return osdpInstall(ctx, args[2:], stderr)
	}
	fs := flag.NewFlagSet("firmware-bridge", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, usage); fs.PrintDefaults() }
	boardPath := fs.String("board", "hardware/pi-reference.yaml", "the board's pin map")
	url := fs.String("mqtt", "tcp://localhost:1883", "the site's broker")
	enrolment := fs.String("enrollment", "", "the enrolment file made by controller bridge enroll (required)")
	caFile := fs.String("ca-file", "", "PEM of the broker's CA, when it is not in the enrolment file")
	user := fs.String("username", "", "broker user (the password comes from $SEKISHO_MQTT_PASSWORD)")
	dataDir := fs.String("data-dir", "/var/lib/sekisho", "where the outbox and the cards it decides from are kept")
	sim := fs.Bool("sim", false, "simulated pins from the board file instead of the Pi's")
	simHTTP := fs.String("sim-http", "", "with --sim: serve controls for the simulated doors here, e.g. 127.0.0.1:8090")
	offline := fs.Duration("offline-after", DefaultOfflineAfter, "decide alone after the link is down this long")
	logFormat := fs.String("log-format", "text", "the process log: text, or json for a log collector")
	logLevel := fs.String("log-level", "info", "debug, info, warn or error")
	showVersion := fs.Bool("version", false, "print the build and exit")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *showVersion {
		fmt.Fprintln(stderr, "sekisho firmware-bridge", release.Running())
		return 0
	}
	log, err := release.Logger(stderr, *logFormat, *logLevel)
	if err != nil {
		fmt.Fprintln(stderr, "firmware-bridge:", err)
		return 2
	}
	if *enrolment == "" {
		fmt.Fprintln(stderr, "firmware-bridge: --enrollment is required (controller bridge enroll <id> … --out FILE)")
		fs.Usage()
		return 2
	}
	enrolled, err := ReadEnrolment(*enrolment)
	if err != nil {
		fmt.Fprintln(stderr, "firmware-bridge:", err)
		return 1
	}
	f, err := board.Load(*boardPath)
	if err != nil {
		fmt.Fprintln(stderr, "firmware-bridge:", err)
		return 1
	}
	var open board.Opener
	if *simHTTP != "" && !*sim {
		fmt.Fprintln(stderr, "firmware-bridge: --sim-http needs --sim: real doors are not worked over HTTP")
		return 2
	}
	if *sim {
		pins := board.NewSimPins(f)
		open = pins.Open
		if *simHTTP != "" {
			stop, err := serveSim(ctx, *simHTTP, simctl.Handler(f, pins), log)
			if err != nil {
				fmt.Fprintln(stderr, "firmware-bridge:", err)
				return 1
			}
			defer stop()
		}
	} else if open, err = board.Periph(log); err != nil {
		fmt.Fprintln(stderr, "firmware-bridge:", err)
		return 1
	}
	if err := os.MkdirAll(*dataDir, 0o750); err != nil {
		fmt.Fprintln(stderr, "firmware-bridge:", err)
		return 1
	}
	d := &Daemon{
		ID: enrolled.Bridge, Prefix: enrolled.Prefix, Enrolment: enrolled, Board: f, Open: open, DataDir: *dataDir, Log: log,
		Broker:       Broker{URL: *url, Username: *user, Password: os.Getenv("SEKISHO_MQTT_PASSWORD"), CAFile: *caFile},
		OfflineAfter: *offline,
	}
	if err := d.Run(ctx); err != nil {
		fmt.Fprintln(stderr, "firmware-bridge:", err)
		return 1
	}
	return 0
}

// serveSim serves the simulated doors' controls until stop is called.
func serveSim(ctx context.Context, addr string, h http.Handler, log *slog.Logger) (stop func(), err error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("sim controls: %w", err)
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second}
	go srv.Serve(ln)
	log.Info("simulated door controls", "addr", ln.Addr().String())
	return func() { srv.Close() }, nil
}
