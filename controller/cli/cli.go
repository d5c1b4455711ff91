// Package cli is the controller's command line.
package cli

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/user"
	"slices"
	"strings"

	"github.com/sekisho/sekisho/controller/config"
	"github.com/sekisho/sekisho/controller/site"
	"github.com/sekisho/sekisho/controller/sitetime"
	"github.com/sekisho/sekisho/controller/store"
	"github.com/sekisho/sekisho/firmware-bridge/release"
)

// DefaultConfig is the demo factory, so `controller run` works in a checkout.
const DefaultConfig = "configs/demo-factory.yaml"

const usage = `Sekisho controller — door and camera event controller for factory floors.

Usage:
  controller run [--config F] [--data-dir D] [--http ADDR] [--mqtt-listen ADDR] [--log-format text|json] [--log-level info]
  controller version                                        (also --version: the build, its commit, Go and platform)
  controller check-config F
  controller verify [--config F | --db F] [--incremental] [--checkpoints FILE [--key HEX]]
                                                            (walks the chain; --incremental from the last signed
                                                            checkpoint; --checkpoints: ones kept elsewhere, which
                                                            catch a cut or re-hashed log)
  controller checkpoints key [--config F | --data-dir D [--origin O]]  (the key that signs the checkpoints: hex, then the note verifier key)
  controller checkpoints export [--config F | --db F]       (every checkpoint, JSON lines, for keeping elsewhere)
  controller hq run [--config hq.yaml] [--client-id ID]     (head office: hears every site, keeps their logs in PostgreSQL)
  controller hq check-config F                              (every mistake of hq.yaml at once)
  controller hq key [--config hq.yaml] [--name N]           (makes head office's signing key if missing; prints its verifier key)
  controller hq revoke --employee N --by USER [--reason R] [--config hq.yaml]  (disables employee N at every plant)
  controller hq user add [--config hq.yaml] [--role hq-admin|hq-auditor] NAME   (prints the new user's password once)
  controller proof --seq N [--seq M …] --out FILE [--config F | --db F --data-dir D --origin O]
                                                            (C2SP tlog-proof files a customer verifies offline;
                                                            a .zip for more than one event)
  controller backup FILE [--config F | --db F]              (an online copy of the database, while the site runs)
  controller fill --events N --days D [--config F] [--data-dir D]
                                                            (a synthetic history for capacity tests; never into
                                                            a real site's database)
  controller user add NAME --role guard|manager|admin [--zones a,b] [--password P] [--config F | --db F]
  controller user list [--config F | --db F]
  controller user password NAME [--password P] [--config F | --db F]
                                                            (a new password; their sessions are ended)
  controller user revoke NAME [--config F | --db F]         (ends a dashboard user and their sessions at once)
  controller token create --role guard|manager|admin|auditor [--zones a,b] [--label L] [--expires 8760h] [--config F | --db F]
  controller token list [--config F | --db F]               (every token: role, zones, expiry, last use, revoked)
  controller token revoke ID [--config F | --db F]          (ends a token at once)
  controller people import FILE.csv [--config F] [--db F]   (all rows or none; bad rows listed by line)
  controller people export [--config F] [--db F]            (CSV on stdout)
  controller export [--zone Z] [--door D] [--type T] [--since T] [--until T] [--config F | --url URL] [--token T]
                                                            (the log as CSV on stdout, through the running
                                                            controller, which logs the export; token also
                                                            from $SEKISHO_TOKEN; times RFC 3339 or YYYY-MM-DD)
  controller bridge enroll ID --out FILE [--config F] [--data-dir D]
                                                            (what door Pi ID needs to trust this controller:
                                                            copy FILE to the Pi, run firmware-bridge --enrollment FILE)
  controller sim swipe --reader R (--facility F --number N | --bits 0101…) [--config F | --url URL]
  controller sim shift [--config F | --url URL]                (the controller found at the config's http.listen)
`

// errUsage marks a command line mistake (exit 2).
var errUsage = errors.New("usage")

// errFailed marks a check that ran and found a problem (exit 1), already reported.
var errFailed = errors.New("failed")

// Run runs one command and returns the process exit code.
func Run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	err := dispatch(ctx, args, stdout, stderr)
	switch {
	case err == nil:
		return 0
	case errors.Is(err, errFailed):
		return 1
	case errors.Is(err, flag.ErrHelp):
		// Asked for: the command's own lines of the usage (its flags were
		// listed by the flag set), and no error.
		fmt.Fprint(stdout, commandUsage(args))
		return 0
	case errors.Is(err, errUsage):
		fmt.Fprintln(stderr, err)
		fmt.Fprint(stderr, usage)
		return 2
	default:
		fmt.Fprintln(stderr, "controller:", err)
		return 1
	}
}

func dispatch(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return fmt.Errorf("%w: no command", errUsage)
	}
	cmd, rest := args[0], args[1:]
	sub := func() (string, []string) {
		if len(rest) == 0 {
			return "", nil
		}
		return rest[0], rest[1:]
	}
	switch cmd {
	case "run":
		return runCmd(ctx, rest, stdout, stderr)
	case "check-config":
		return checkConfig(rest, stdout, stderr)
	case "verify":
		return verify(ctx, rest, stdout, stderr)
	case "fill":
		return fill(ctx, rest, stdout, stderr)
	case "backup":
		return backup(ctx, rest, stdout, stderr)
	case "hq":
		return hqCmd(ctx, rest, stdout, stderr)
	case "checkpoints":
		switch s, r := sub(); s {
		case "key":
			return checkpointsKey(r, stdout, stderr)
		case "export":
			return checkpointsExport(ctx, r, stdout, stderr)
		}
	case "user":
		switch s, r := sub(); s {
		case "add":
			return userAdd(ctx, r, stdout, stderr)
		case "list":
			return userList(ctx, r, stdout, stderr)
		case "revoke":
			return userRevoke(ctx, r, stdout, stderr)
		case "password":
			return userPassword(ctx, r, stdout, stderr)
		}
	case "token":
		switch s, r := sub(); s {
		case "create":
			return tokenCreate(ctx, r, stdout, stderr)
		case "list":
			return tokenList(ctx, r, stdout, stderr)
		case "revoke":
			return tokenRevoke(ctx, r, stdout, stderr)
		}
	case "people":
		switch s, r := sub(); s {
		case "import":
			return peopleImport(ctx, r, stdout, stderr)
		case "export":
			return peopleExport(ctx, r, stdout, stderr)
		}
	case "export":
		return exportLog(ctx, rest, stdout, stderr)
	case "proof":
		return proofCmd(ctx, rest, stdout, stderr)
	case "bridge":
		if s, r := sub(); s == "enroll" {
			return bridgeEnroll(r, stdout, stderr)
		}
	case "sim":
		switch s, r := sub(); s {
		case "swipe":
			return simSwipe(ctx, r, stdout, stderr)
		case "shift":
			return simShift(ctx, r, stdout, stderr)
		}
	case "version", "--version", "-version":
		fmt.Fprintln(stdout, "sekisho controller", release.Running())
		return nil
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	}
	if slices.ContainsFunc(args, func(a string) bool { return a == "-h" || a == "--help" || a == "-help" }) {
		return flag.ErrHelp // `controller user -h`: the user commands' lines
	}
	return fmt.Errorf("%w: unknown command %q", errUsage, strings.Join(args[:min(2, len(args))], " "))
}

// commandUsage is the usage's lines for the command args name (all of it
// when none match).
func commandUsage(args []string) string {
	var words []string
	for _, a := range args {
		if strings.HasPrefix(a, "-") {
			break
		}
		words = append(words, a)
	}
	prefix := "  controller " + strings.Join(words, " ")
	var out []string
	taking := false
	for _, line := range strings.Split(usage, "\n") {
		switch {
		case strings.HasPrefix(line, prefix+" ") || line == prefix:
			out, taking = append(out, line), true
		case taking && strings.HasPrefix(line, "      "):
			out = append(out, line) // a command's explanation, under it
		default:
			taking = false
		}
	}
	if len(words) == 0 || len(out) == 0 {
		return usage
	}
	return "Usage:\n" + strings.Join(out, "\n") + "\n"
}

func newFlags(name string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	return fs
}

// parse parses flags that may come before or after positional arguments.
func parse(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); errors.Is(err, flag.ErrHelp) {
			return nil, err
		} else if err != nil {
			return nil, fmt.Errorf("%w: %v", errUsage, err)
		}
		args = fs.Args()
		if len(args) == 0 {
			return pos, nil
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
}

func runCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("run", stderr)
	cfgPath := fs.String("config", DefaultConfig, "site config file")
	var opts site.Options
	fs.StringVar(&opts.DataDir, "data-dir", "", "directory for the database (overrides data_dir)")
	fs.StringVar(&opts.HTTPListen, "http", "", "dashboard and API address (overrides http.listen)")
	fs.StringVar(&opts.MQTTListen, "mqtt-listen", "", "embedded broker address (overrides mqtt.embedded.listen)")
	logFormat := fs.String("log-format", "text", "the process log: text, or json for a log collector")
	logLevel := fs.String("log-level", "info", "debug, info, warn or error")
	if _, err := parse(fs, args); err != nil {
		return err
	}
	log, err := release.Logger(stderr, *logFormat, *logLevel)
	if err != nil {
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	cfg, err := config.Load(*cfgPath)
	if err != nil {
		return err
	}
	opts.Out = stdout
	opts.Log = log
	return site.Run(ctx, cfg, opts)
}

func checkConfig(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("check-config", stderr)
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return fmt.Errorf("%w: check-config takes one file", errUsage)
	}
	cfg, err := config.Load(pos[0])
	if err != nil {
		fmt.Fprintln(stderr, err)
		return errFailed
	}
	fmt.Fprintf(stdout, "%s: ok — site %s, %d zones, %d doors, %d cameras, %d access levels\n",
		pos[0], cfg.Site, len(cfg.Zones), len(cfg.Doors), len(cfg.Cameras), len(cfg.AccessLevels))
	return nil
}

// openDB opens the database named by --db, or the one of --config's site,
// and returns its path.
func openDB(ctx context.Context, dbPath, cfgPath, dataDir string) (*store.Store, string, error) {
	siteName := ""
	if dbPath == "" {
		cfg, err := config.Load(cfgPath)
		if err != nil {
			return nil, "", err
		}
		if dataDir != "" {
			cfg.DataDir = dataDir
		}
		dbPath, siteName = site.DBPath(cfg.DataDir, cfg.Site), cfg.Site
	}
	if _, err := os.Stat(dbPath); err != nil {
		return nil, "", fmt.Errorf("database %s: %w (start the site once with `controller run` to create it)", dbPath, err)
	}
	st, err := store.Open(ctx, dbPath, siteName)
	return st, dbPath, err
}

type dbFlags struct{ db, config, dataDir *string }

func addDBFlags(fs *flag.FlagSet) dbFlags {
	return dbFlags{
		db:      fs.String("db", "", "database file"),
		config:  fs.String("config", DefaultConfig, "site config, to find the database when --db is not given"),
		dataDir: fs.String("data-dir", "", "data directory (overrides the config's data_dir)"),
	}
}

func (f dbFlags) open(ctx context.Context) (*store.Store, error) {
	st, _, err := f.openPath(ctx)
	return st, err
}

// openPath opens the database and says where it is.
func (f dbFlags) openPath(ctx context.Context) (*store.Store, string, error) {
	return openDB(ctx, *f.db, *f.config, *f.dataDir)
}

// cliActor names who ran a command on the controller's machine, for the log.
func cliActor() string {
	name := "unknown"
	if u, err := user.Current(); err == nil {
		name = u.Username
	}
	return "cli:" + name
}

// withDB parses a command that takes only --config or --db, and runs f on
// that site's database.
func withDB(ctx context.Context, name string, args []string, stderr io.Writer, f func(*store.Store) error) error {
	return withDBArg(ctx, name, "", args, stderr, func(st *store.Store, _ string) error { return f(st) })
}

// withDBArg is withDB for a command that takes one argument besides, which
// the usage error describes as takes (none when takes is empty).
func withDBArg(ctx context.Context, name, takes string, args []string, stderr io.Writer, f func(st *store.Store, arg string) error) error {
	fs := newFlags(name, stderr)
	db := addDBFlags(fs)
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	arg := ""
	if takes != "" {
		if len(pos) != 1 {
			return fmt.Errorf("%w: %s takes %s", errUsage, name, takes)
		}
		arg = pos[0]
	}
	st, err := db.open(ctx)
	if err != nil {
		return err
	}
	defer st.Close()
	return f(st, arg)
}

// exportLog asks the running controller for the log as CSV, so the export
// is logged by the one process that writes the log.
func exportLog(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("export", stderr)
	at := addReachFlags(fs)
	token := fs.String("token", os.Getenv("SEKISHO_TOKEN"), "a manager's or admin's token (controller token create)")
	q := url.Values{}
	for _, key := range []string{"zone", "door", "type", "person"} {
		fs.Func(key, "only events with this "+key, func(v string) error { q.Set(key, v); return nil })
	}
	for _, key := range []string{"since", "until"} {
		// A date is sent as it is: the controller reads it as the site's
		// midnight, whatever zone this terminal is in.
		fs.Func(key, "RFC 3339 time, or YYYY-MM-DD (the site's midnight)", func(v string) error {
			if _, err := (sitetime.Clock{}).ParseTime(v); err != nil {
				return err
			}
			q.Set(key, v)
			return nil
		})
	}
	if _, err := parse(fs, args); err != nil {
		return err
	}
	if *token == "" {
		return fmt.Errorf("%w: export needs --token or $SEKISHO_TOKEN (controller token create --role manager)", errUsage)
	}
	base, client, err := at.reach()
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/api/events.csv?"+q.Encode(), nil)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+*token)
	res, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("is the controller running? %w", err)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		var e struct{ Error, Detail string }
		json.NewDecoder(io.LimitReader(res.Body, 64<<10)).Decode(&e)
		return fmt.Errorf("export: %s: %s %s", res.Status, e.Error, e.Detail)
	}
	if _, err := io.Copy(stdout, res.Body); err != nil {
		return fmt.Errorf("export: %w", err)
	}
	return nil
}
