package cli

import (
	"archive/zip"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/sekisho/sekisho/controller/config"
	"github.com/sekisho/sekisho/controller/logtree"
	"github.com/sekisho/sekisho/controller/sitekeys"
)

// seqList is --seq given more than once.
type seqList []int64

func (s *seqList) String() string { return fmt.Sprint(*s) }
func (s *seqList) Set(v string) error {
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < 1 {
		return fmt.Errorf("%q: want an event's seq, 1 or more", v)
	}
	*s = append(*s, n)
	return nil
}

// logKeys are what the log's proofs are signed under: the data dir's key
// and the config's origin, or --origin.
type logKeys struct {
	db      dbFlags
	origin  *string
	dataDir string
}

func addLogKeyFlags(fs *flag.FlagSet) *logKeys {
	return &logKeys{db: addDBFlags(fs), origin: fs.String("origin", "", "the log's name in its checkpoints (storage.origin; sekisho/<site>)")}
}

// resolve reads the config, where there is one, for what the flags left out.
func (k *logKeys) resolve() error {
	k.dataDir = *k.db.dataDir
	cfg, err := config.Load(*k.db.config)
	if err != nil && (*k.origin == "" || k.dataDir == "") {
		return fmt.Errorf("%w (or give --origin and --data-dir)", err)
	}
	if err == nil {
		if *k.origin == "" {
			*k.origin = cfg.Storage.Origin
		}
		if k.dataDir == "" {
			k.dataDir = cfg.DataDir
		}
	}
	if !config.ValidOrigin(*k.origin) {
		return fmt.Errorf("%w: --origin %q is not a log's name", errUsage, *k.origin)
	}
	return nil
}

// tree opens the site's log with its tree.
func (k *logKeys) tree(ctx context.Context) (*logtree.Tree, func(), error) {
	if err := k.resolve(); err != nil {
		return nil, nil, err
	}
	if _, err := os.Stat(sitekeys.LogKeyPath(k.dataDir)); err != nil {
		return nil, nil, fmt.Errorf("the log's key %s: %w", sitekeys.LogKeyPath(k.dataDir), err)
	}
	key, _, err := sitekeys.Log(k.dataDir)
	if err != nil {
		return nil, nil, err
	}
	st, err := k.db.open(ctx)
	if err != nil {
		return nil, nil, err
	}
	t, err := logtree.New(st, *k.origin, key, nil, nil)
	if err != nil {
		st.Close()
		return nil, nil, err
	}
	return t, func() { st.Close() }, nil
}

// proofCmd writes tlog-proof files a customer verifies offline.
func proofCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("proof", stderr)
	var seqs seqList
	fs.Var(&seqs, "seq", "an event's seq (again for more)")
	out := fs.String("out", "", "the file to write: a .tlog-proof for one event, a .zip of them for more")
	keys := addLogKeyFlags(fs)
	if _, err := parse(fs, args); err != nil {
		return err
	}
	if len(seqs) == 0 || *out == "" {
		return fmt.Errorf("%w: proof --seq N [--seq M …] --out FILE", errUsage)
	}
	if len(seqs) > 1 && !strings.HasSuffix(*out, ".zip") {
		return fmt.Errorf("%w: proofs of %d events go in a .zip (--out %s.zip)", errUsage, len(seqs), strings.TrimSuffix(*out, filepath.Ext(*out)))
	}
	tree, done, err := keys.tree(ctx)
	if err != nil {
		return err
	}
	defer done()
	// One checkpoint under every proof: signed now if the newest does not
	// cover them all. The site may be growing the tree beside this
	// command; a growth it made first is taken, and this one tries again.
	var proofs [][]byte
	for _, seq := range seqs {
		var p []byte
		for try := 0; ; try++ {
			if p, err = tree.Proof(ctx, seq, time.Now()); err == nil || try == 3 || errors.Is(err, logtree.ErrEdited) {
				break
			}
		}
		if err != nil {
			return fmt.Errorf("event %d: %w", seq, err)
		}
		proofs = append(proofs, p)
	}
	if len(seqs) == 1 {
		if err := os.WriteFile(*out, proofs[0], 0o644); err != nil {
			return err
		}
	} else if err := writeProofZip(*out, seqs, proofs); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%s: %d proof(s); verify with the key `controller checkpoints key` prints (%s)\n", *out, len(seqs), tree.VerifierKey())
	return nil
}

func writeProofZip(path string, seqs []int64, proofs [][]byte) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	z := zip.NewWriter(f)
	for i, seq := range seqs {
		w, err := z.Create(fmt.Sprintf("event-%d.tlog-proof", seq))
		if err == nil {
			_, err = w.Write(proofs[i])
		}
		if err != nil {
			f.Close()
			return err
		}
	}
	if err := z.Close(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
