package cli

import (
	"bufio"
	"context"
	"crypto/ed25519"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"golang.org/x/mod/sumdb/note"

	"github.com/sekisho/sekisho/controller/camera"
	"github.com/sekisho/sekisho/controller/config"
	"github.com/sekisho/sekisho/controller/event"
	"github.com/sekisho/sekisho/controller/logtree"
	"github.com/sekisho/sekisho/controller/site"
	"github.com/sekisho/sekisho/controller/sitekeys"
	"github.com/sekisho/sekisho/controller/store"
)

// The log's own commands: verify, checkpoints, backup, fill.

func verify(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("verify", stderr)
	db := addDBFlags(fs)
	incremental := fs.Bool("incremental", false, "walk only what follows the last signed checkpoint")
	kept := fs.String("checkpoints", "", "checkpoints kept elsewhere (JSON lines, from `checkpoints export` or <prefix>/checkpoints)")
	keyHex := fs.String("key", "", "the log's public key, hex (default: the data dir's)")
	if _, err := parse(fs, args); err != nil {
		return err
	}
	st, path, err := db.openPath(ctx)
	if err != nil {
		return err
	}
	defer st.Close()
	dataDir := filepath.Dir(path)
	pub, err := logPublicKey(dataDir, *keyHex)
	if err != nil && (*kept != "" || *incremental) {
		return err
	}

	opts := store.VerifyOptions{Progress: progressBar(stderr, "verify")}
	if *incremental {
		if opts.From, err = lastGoodCheckpoint(ctx, st, pub); err != nil {
			return err
		}
	}
	started := time.Now()
	v, err := st.VerifyWith(ctx, opts)
	if err != nil {
		return err
	}
	took := time.Since(started)
	if !v.OK {
		fmt.Fprintf(stdout, "TAMPERED: first bad seq %d: %s (%d events before it are intact)\n", v.BadSeq, v.Problem, v.Count)
		return errFailed
	}
	if v.From != nil {
		fmt.Fprintf(stdout, "ok: events 1 to %d vouched for by the checkpoint signed %s; %d after it walked, chain intact, head %s\n",
			v.From.Seq, v.From.Time.Format(time.RFC3339), v.Count, v.Head)
	} else {
		fmt.Fprintf(stdout, "ok: %d events, chain intact, head %s (%s, %.0f events/s)\n", v.Count, v.Head, took.Round(time.Millisecond), float64(v.Count)/max(took.Seconds(), 1e-9))
	}
	if !*incremental {
		// The Merkle tree beside the chain, made again from the events: what
		// the proofs an auditor checks rest on.
		tc, err := logtree.CheckTree(ctx, st, progressBar(stderr, "tree"))
		if err != nil {
			return err
		}
		if tc.BadSeq != 0 || tc.Problem != "" {
			fmt.Fprintf(stdout, "TREE TAMPERED: from seq %d: %s\n", tc.BadSeq, tc.Problem)
			return errFailed
		}
		if tc.Leaves > 0 {
			fmt.Fprintf(stdout, "ok: the Merkle tree's %d leaves and every hash above them are the events' own", tc.Leaves)
			if tc.Signed > 0 {
				fmt.Fprintf(stdout, "; the newest checkpoint's root (%d events) is the tree's", tc.Signed)
			}
			fmt.Fprintln(stdout)
		}
	}
	if *kept != "" {
		cps, err := readCheckpoints(*kept)
		if err != nil {
			return err
		}
		vouch, err := st.Vouch(ctx, cps, pub)
		if err != nil {
			return err
		}
		if vouch.Unvouched > 0 {
			fmt.Fprintf(stdout, "UNVOUCHED: from seq %d on, the log is not what was signed: %s\n", vouch.Unvouched, vouch.Problem)
			return errFailed
		}
		fmt.Fprintf(stdout, "ok: %d kept checkpoints match the log, through seq %d\n", vouch.Checked, vouch.Through)
	}
	// The stills live beside the database, as the site keeps them.
	stills, err := camera.VerifyStills(ctx, st, camera.StillsDir(dataDir))
	if err != nil {
		return err
	}
	for _, p := range stills.Problems {
		fmt.Fprintf(stdout, "STILL TAMPERED: seq %d %s: %s\n", p.Seq, p.File, p.Problem)
	}
	if len(stills.Problems) > 0 {
		return errFailed
	}
	if stills.Checked > 0 {
		fmt.Fprintf(stdout, "ok: %d camera stills match their logged SHA-256\n", stills.Checked)
	}
	if stills.Pruned > 0 {
		fmt.Fprintf(stdout, "ok: %d older stills removed by the retention policy, as the log records\n", stills.Pruned)
	}
	return nil
}

// lastGoodCheckpoint is the newest kept checkpoint signed by the log's key.
func lastGoodCheckpoint(ctx context.Context, st *store.Store, pub ed25519.PublicKey) (*event.Checkpoint, error) {
	cps, err := st.Checkpoints(ctx)
	if err != nil {
		return nil, err
	}
	for i := len(cps) - 1; i >= 0; i-- {
		if cps[i].Check(pub) == nil {
			return &cps[i], nil
		}
	}
	return nil, nil // none yet: the whole log is walked
}

// logPublicKey is the key given in hex, or the data dir's.
func logPublicKey(dataDir, keyHex string) (ed25519.PublicKey, error) {
	if keyHex != "" {
		b, err := hex.DecodeString(keyHex)
		if err != nil || len(b) != ed25519.PublicKeySize {
			return nil, fmt.Errorf("%w: --key: not an ed25519 public key in hex", errUsage)
		}
		return b, nil
	}
	if _, err := os.Stat(sitekeys.LogKeyPath(dataDir)); err != nil {
		return nil, fmt.Errorf("the log's key %s: %w (give --key)", sitekeys.LogKeyPath(dataDir), err)
	}
	key, _, err := sitekeys.Log(dataDir)
	if err != nil {
		return nil, err
	}
	return key.Public().(ed25519.PublicKey), nil
}

func readCheckpoints(path string) ([]event.Checkpoint, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("checkpoints: %w", err)
	}
	defer f.Close()
	var out []event.Checkpoint
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" {
			continue
		}
		var c event.Checkpoint
		if err := json.Unmarshal([]byte(line), &c); err != nil {
			return nil, fmt.Errorf("checkpoints %s line %d: %w", path, n, err)
		}
		out = append(out, c)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("checkpoints %s: %w", path, err)
	}
	return out, nil
}

func checkpointsKey(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("checkpoints key", stderr)
	cfgPath := fs.String("config", DefaultConfig, "site config file")
	dataDir := fs.String("data-dir", "", "data directory (overrides the config's data_dir)")
	originFlag := fs.String("origin", "", "the log's name in its checkpoints (storage.origin; sekisho/<site>)")
	if _, err := parse(fs, args); err != nil {
		return err
	}
	dir := *dataDir
	if dir == "" {
		cfg, err := config.Load(*cfgPath)
		if err != nil {
			return err
		}
		dir = cfg.DataDir
	}
	pub, err := logPublicKey(dir, "")
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%x\n", []byte(pub))
	// The same key in the note format the C2SP checkpoints are checked
	// with, under the log's name.
	origin := *originFlag
	if cfg, err := config.Load(*cfgPath); origin == "" && err == nil {
		origin = cfg.Storage.Origin
	}
	if origin == "" {
		fmt.Fprintf(stderr, "(give --origin or --config for the verifier key of the C2SP checkpoints)\n")
	} else if vkey, err := note.NewEd25519VerifierKey(origin, pub); err != nil {
		return fmt.Errorf("%w: --origin %q: %v", errUsage, origin, err)
	} else {
		fmt.Fprintln(stdout, vkey)
	}
	fmt.Fprintf(stderr, "fingerprint %s (%s)\n", sitekeys.Fingerprint(pub), sitekeys.LogKeyPath(dir))
	return nil
}

func checkpointsExport(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	return withDB(ctx, "checkpoints export", args, stderr, func(st *store.Store) error {
		cps, err := st.Checkpoints(ctx)
		if err != nil {
			return err
		}
		enc := json.NewEncoder(stdout)
		for _, c := range cps {
			if err := enc.Encode(c); err != nil {
				return err
			}
		}
		return nil
	})
}

func backup(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	return withDBArg(ctx, "backup", "the file to write", args, stderr, func(st *store.Store, file string) error {
		// A bar on a terminal, as fill and verify draw; nothing into a pipe.
		if err := st.BackupWith(ctx, file, progressBar(stderr, "backup")); err != nil {
			return err
		}
		fi, err := os.Stat(file)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "backed up to %s: %d bytes, through seq %d\n", file, fi.Size(), st.Head())
		return nil
	})
}

func fill(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("fill", stderr)
	cfgPath := fs.String("config", DefaultConfig, "site config file: its doors and zones")
	dataDir := fs.String("data-dir", "", "data directory (overrides the config's data_dir)")
	events := fs.Int64("events", 0, "how many events")
	days := fs.Int("days", 365, "over how many days, ending today")
	people := fs.Int("people", 300, "how many people badge")
	if _, err := parse(fs, args); err != nil {
		return err
	}
	if *events <= 0 || *days <= 0 {
		return fmt.Errorf("%w: fill needs --events and --days above zero", errUsage)
	}
	cfg, err := config.Load(*cfgPath)
	if err != nil {
		return err
	}
	if *dataDir != "" {
		cfg.DataDir = *dataDir
	}
	if err := os.MkdirAll(cfg.DataDir, 0o750); err != nil {
		return err
	}
	path := site.DBPath(cfg.DataDir, cfg.Site)
	st, err := store.Open(ctx, path, cfg.Site)
	if err != nil {
		return err
	}
	defer st.Close()
	spec := store.FillSpec{Events: *events, Days: *days, People: *people, Location: cfg.Location, Seed: uint64(time.Now().UnixNano())}
	for _, d := range cfg.Doors {
		spec.Doors = append(spec.Doors, store.FillDoor{ID: d.ID, ZoneFrom: d.From, ZoneTo: d.To})
	}
	bar := progressBar(stderr, "fill")
	started := time.Now()
	var progress func(int64)
	if bar != nil {
		progress = func(done int64) { bar(done, spec.Events) }
	}
	if err := st.Fill(ctx, spec, progress); err != nil {
		return err
	}
	took := time.Since(started)
	// The database and whatever of it is still in its write-ahead log.
	size := int64(0)
	for _, f := range []string{path, path + "-wal"} {
		if fi, err := os.Stat(f); err == nil {
			size += fi.Size()
		}
	}
	fmt.Fprintf(stdout, "filled %s: %d events over %d days in %s (%.0f events/s); %d bytes, %d bytes an event\n",
		path, spec.Events, spec.Days, took.Round(time.Millisecond), float64(spec.Events)/took.Seconds(), size, size/max(st.Head(), 1))
	return nil
}

// progressBar draws a bar on a terminal (nothing into a pipe or a file);
// the returned func is safe from several goroutines.
func progressBar(w io.Writer, what string) func(done, total int64) {
	f, ok := w.(*os.File)
	if !ok {
		return nil
	}
	if fi, err := f.Stat(); err != nil || fi.Mode()&os.ModeCharDevice == 0 {
		return nil
	}
	var mu sync.Mutex
	last := -1
	return func(done, total int64) {
		if total <= 0 {
			return
		}
		pct := int(100 * done / total)
		mu.Lock()
		defer mu.Unlock()
		if pct == last {
			return
		}
		last = pct
		fmt.Fprintf(f, "\r%s [%-40s] %3d%% %d/%d", what, strings.Repeat("#", pct*40/100), pct, done, total)
		if done >= total {
			fmt.Fprintln(f)
		}
	}
}
