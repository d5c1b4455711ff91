package cli

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"

	"github.com/sekisho/sekisho/controller/config"
	"github.com/sekisho/sekisho/controller/event"
	"github.com/sekisho/sekisho/controller/sekisho"
	"github.com/sekisho/sekisho/controller/store"
)

func peopleImport(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("people import", stderr)
	cfgPath := fs.String("config", DefaultConfig, "site config: its levels and card formats check the rows")
	dbPath := fs.String("db", "", "database file (default: the config's)")
	dataDir := fs.String("data-dir", "", "data directory (overrides the config's data_dir)")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return fmt.Errorf("%w: people import FILE.csv", errUsage)
	}
	cfg, err := config.Load(*cfgPath)
	if err != nil {
		return err
	}
	f, err := os.Open(pos[0])
	if err != nil {
		return err
	}
	defer f.Close()
	st, _, err := openDB(ctx, *dbPath, *cfgPath, *dataDir)
	if err != nil {
		return err
	}
	defer st.Close()
	sum := sha256.New()
	res, err := st.ImportCSV(ctx, io.TeeReader(f, sum), sekisho.RulesOf(cfg))
	var bad store.ImportErrors
	if errors.As(err, &bad) {
		fmt.Fprintf(stderr, "%s: nothing imported; fix these rows:\n", pos[0])
		for _, r := range bad.Rows {
			fmt.Fprintf(stderr, "  %s:%d: %s\n", pos[0], r.Line, r.Msg)
		}
		if more := bad.Total - len(bad.Rows); more > 0 {
			fmt.Fprintf(stderr, "  … and %d more bad rows\n", more)
		}
		return errFailed
	}
	if err != nil {
		return err
	}
	if err := st.Append(ctx, &event.Event{Type: event.PeopleImported, Actor: cliActor(), Detail: map[string]string{
		"file": filepath.Base(pos[0]), "sha256": hex.EncodeToString(sum.Sum(nil)),
		"people": strconv.Itoa(res.People), "cards": strconv.Itoa(res.Cards)}}); err != nil {
		return fmt.Errorf("imported, but not logged: %w", err)
	}
	fmt.Fprintf(stdout, "imported %d people and %d cards from %s\n", res.People, res.Cards, pos[0])
	return nil
}

func peopleExport(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	return withDB(ctx, "people export", args, stderr, func(st *store.Store) error { return st.ExportCSV(ctx, stdout) })
}
