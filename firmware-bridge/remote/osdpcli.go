package remote

import (
	"context"
	"flag"
	"fmt"
	"io"
	"path/filepath"

	"github.com/sekisho/sekisho/firmware-bridge/osdp"
	"github.com/sekisho/sekisho/firmware-bridge/release"
)

// osdpInstall is `firmware-bridge osdp install`: it keys one factory-fresh
// OSDP reader with its own random key, kept in <data-dir>/keys, and
// closes install mode. The bridge (or controller) that owns the line must
// be stopped while it runs.
func osdpInstall(ctx context.Context, args []string, stderr io.Writer) int {
	fs := flag.NewFlagSet("firmware-bridge osdp install", flag.ContinueOnError)
	fs.SetOutput(stderr)
	reader := fs.String("reader", "", "the reader's id, as the site config names it (required)")
	port := fs.String("port", "/dev/ttyAMA0", "its RS-485 line")
	address := fs.Int("address", 0, "its OSDP address (0–126)")
	baud := fs.Int("baud", 9600, "the line's speed")
	dataDir := fs.String("data-dir", "/var/lib/sekisho", "where the keys are kept (<data-dir>/keys)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *reader == "" || *address < 0 || *address > 126 {
		fmt.Fprintln(stderr, "firmware-bridge osdp install: --reader and an --address of 0–126 are required")
		return 2
	}
	log, _ := release.Logger(stderr, "text", "info")
	p, err := osdp.OpenSerial(*port, *baud)
	if err != nil {
		fmt.Fprintln(stderr, "firmware-bridge osdp install:", err)
		return 1
	}
	if err := osdp.Install(ctx, p, byte(*address), *baud, osdp.KeyStore{Dir: filepath.Join(*dataDir, "keys")}, *reader, log); err != nil {
		fmt.Fprintln(stderr, "firmware-bridge osdp install:", err)
		return 1
	}
	fmt.Fprintf(stderr, "reader %s keyed; its key is in %s\n", *reader, filepath.Join(*dataDir, "keys"))
	return 0
}
