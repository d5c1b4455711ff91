package cli

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"

	"golang.org/x/mod/sumdb/note"

	"github.com/sekisho/sekisho/controller/hq"
	"github.com/sekisho/sekisho/controller/hq/ledger"
)

// hqCmd is head office's commands: `controller hq run|check-config|key`.
func hqCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return fmt.Errorf("%w: controller hq run|check-config|key|revoke|user add", errUsage)
	}
	switch args[0] {
	case "run":
		return hqRun(ctx, args[1:], stderr)
	case "check-config":
		return hqCheckConfig(args[1:], stdout, stderr)
	case "key":
		return hqKey(args[1:], stdout, stderr)
	case "revoke":
		return hqRevoke(ctx, args[1:], stdout, stderr)
	case "user":
		if len(args) > 1 && args[1] == "add" {
			return hqUserAdd(ctx, args[2:], stdout, stderr)
		}
	}
	return fmt.Errorf("%w: unknown command \"hq %s\"", errUsage, args[0])
}

func hqCheckConfig(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("hq check-config", stderr)
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return fmt.Errorf("%w: hq check-config takes one file", errUsage)
	}
	cfg, err := hq.Load(pos[0])
	if err != nil {
		fmt.Fprintln(stderr, err)
		return errFailed
	}
	fmt.Fprintf(stdout, "%s: ok — head office of %d sites\n", pos[0], len(cfg.Sites))
	return nil
}

// hqKey makes head office's signing key if its file is missing and prints
// its verifier key: what each site's config names as hq.key.
func hqKey(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("hq key", stderr)
	cfgPath := fs.String("config", "hq.yaml", "head office's config file")
	name := fs.String("name", "sekisho-hq", "the key's name in countersignatures (a new key only)")
	if _, err := parse(fs, args); err != nil {
		return err
	}
	cfg, err := hq.Load(*cfgPath)
	if err != nil {
		return err
	}
	if _, err := os.Stat(cfg.KeyFile); errors.Is(err, os.ErrNotExist) {
		skey, _, err := note.GenerateKey(rand.Reader, *name)
		if err != nil {
			return err
		}
		if err := os.MkdirAll(filepath.Dir(cfg.KeyFile), 0o700); err != nil {
			return err
		}
		f, err := os.OpenFile(cfg.KeyFile, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if err != nil {
			return err
		}
		if _, err := fmt.Fprintln(f, skey); err != nil {
			f.Close()
			return err
		}
		if err := f.Close(); err != nil {
			return err
		}
		fmt.Fprintf(stderr, "made head office's signing key in %s (keep it; a new one is trusted by no site)\n", cfg.KeyFile)
	}
	vkey, err := hq.VerifierKey(cfg.KeyFile)
	if err != nil {
		return err
	}
	fmt.Fprintln(stdout, vkey)
	return nil
}

func hqRun(ctx context.Context, args []string, stderr io.Writer) error {
	fs := newFlags("hq run", stderr)
	cfgPath := fs.String("config", "hq.yaml", "head office's config file")
	clientID := fs.String("client-id", "", "head office's MQTT client id (sekisho-hq-<host>; two head offices need two)")
	if _, err := parse(fs, args); err != nil {
		return err
	}
	cfg, err := hq.Load(*cfgPath)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return errFailed
	}
	log := slog.New(slog.NewTextHandler(stderr, nil))
	o := &hq.Office{Config: cfg, Log: log, ClientID: *clientID}
	return o.Run(ctx)
}

// hqRevoke disables an employee at every plant.
func hqRevoke(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("hq revoke", stderr)
	cfgPath := fs.String("config", "hq.yaml", "head office's config file")
	number := fs.String("employee", "", "the employee number to disable at every plant")
	by := fs.String("by", "", "who gives the revocation (logged at each plant as hq:<by>)")
	reason := fs.String("reason", "", "why, for the plants' logs")
	if _, err := parse(fs, args); err != nil {
		return err
	}
	if *number == "" || *by == "" {
		return fmt.Errorf("%w: hq revoke needs --employee and --by", errUsage)
	}
	cfg, err := hq.Load(*cfgPath)
	if err != nil {
		return err
	}
	r, err := hq.RevokeOnce(ctx, cfg, *number, *by, *reason)
	if r.ID != "" {
		fmt.Fprintf(stdout, "%s: employee %s disabled at every plant as each hears it (controller hq run shows who has not yet)\n", r.ID, r.EmployeeNumber)
	}
	return err
}

// hqUserAdd adds one of head office's people and prints their password,
// once.
func hqUserAdd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("hq user add", stderr)
	cfgPath := fs.String("config", "hq.yaml", "head office's config file")
	role := fs.String("role", ledger.RoleAuditor, "hq-admin (reads everything, revokes for all) or hq-auditor (reads everything)")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return fmt.Errorf("%w: hq user add takes one name", errUsage)
	}
	cfg, err := hq.Load(*cfgPath)
	if err != nil {
		return err
	}
	l, err := ledger.Open(ctx, cfg.Postgres)
	if err != nil {
		return err
	}
	defer l.Close()
	password := ledger.NewSecret(12)
	if err := l.AddUser(ctx, pos[0], *role, password); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%s (%s): password %s\n", pos[0], *role, password)
	return nil
}
