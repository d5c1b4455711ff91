// Command controller is Sekisho's site controller: `controller run` runs a
// site; the other subcommands check configs, verify the log and manage
// accounts. See `controller help`.
package main

import (
	"context"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"

	"github.com/sekisho/sekisho/controller/cli"
	"github.com/sekisho/sekisho/controller/site"
)

func main() {
	// A door controller has memory to spare and no patience for GC pauses
	// on a card's path; GOGC in the environment still wins.
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(site.GCPercent)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(cli.Run(ctx, os.Args[1:], os.Stdout, os.Stderr))
}
