// Command firmware-bridge runs a door Pi: it drives the doors wired to the
// Pi's pins and links them to the site controller over MQTT, deciding from
// the controller's last snapshot when the link is down.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/sekisho/sekisho/firmware-bridge/remote"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(remote.Main(ctx, os.Args[1:], os.Stderr))
}
