// Command controller is Sekisho's site controller: `controller run` runs a
// site; the other subcommands check configs, verify the log and manage
// accounts. See `controller help`.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/sekisho/sekisho/controller/cli"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(cli.Run(ctx, os.Args[1:], os.Stdout, os.Stderr))
}
