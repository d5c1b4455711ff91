package logtree_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"database/sql"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	_ "github.com/mattn/go-sqlite3"
	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"

	tnote "github.com/transparency-dev/formats/note"

	"github.com/sekisho/sekisho/controller/event"
	"github.com/sekisho/sekisho/controller/logtree"
	"github.com/sekisho/sekisho/controller/store"
)

const origin = "sekisho/test-site"

type fixture struct {
	t    *testing.T
	path string
	key  ed25519.PrivateKey
	st   *store.Store
	tree *logtree.Tree
	wit  []string // witnesses' verifier keys
}

func newFixture(t *testing.T, witnesses ...string) *fixture {
	t.Helper()
	_, key, _ := ed25519.GenerateKey(rand.Reader)
	f := &fixture{t: t, path: filepath.Join(t.TempDir(), "sekisho.db"), key: key, wit: witnesses}
	f.open()
	return f
}

func (f *fixture) open() {
	f.t.Helper()
	st, err := store.Open(context.Background(), f.path, "test-site")
	if err != nil {
		f.t.Fatal(err)
	}
	f.t.Cleanup(func() { st.Close() })
	tree, err := logtree.New(st, origin, f.key, f.wit, slog.New(slog.DiscardHandler))
	if err != nil {
		f.t.Fatal(err)
	}
	f.st, f.tree = st, tree
}

func (f *fixture) add(n int, door string) {
	f.t.Helper()
	for i := range n {
		ev := &event.Event{Type: event.AccessGranted, Door: door, ZoneTo: "die-press",
			Person: &event.Person{ID: fmt.Sprintf("p-%d", i%7), Name: "Sato", Kind: "employee"}}
		if err := f.st.Append(context.Background(), ev); err != nil {
			f.t.Fatal(err)
		}
	}
}

func (f *fixture) sign() []byte {
	f.t.Helper()
	cp, _, err := f.tree.Sign(context.Background(), time.Now())
	if err != nil {
		f.t.Fatal(err)
	}
	return logtree.WithCosignatures(cp)
}

// tamper changes the database behind the site's back, as an insider with
// the file would: the append-only triggers dropped first.
func (f *fixture) tamper(stmts ...string) {
	f.t.Helper()
	f.st.Close()
	db, err := sql.Open("sqlite3", f.path)
	if err != nil {
		f.t.Fatal(err)
	}
	defer db.Close()
	for _, s := range append([]string{
		`DROP TRIGGER IF EXISTS events_append_only_update`, `DROP TRIGGER IF EXISTS events_append_only_delete`,
		`DROP TRIGGER IF EXISTS tree_hashes_append_only_delete`, `DROP TRIGGER IF EXISTS tree_checkpoints_append_only_delete`,
		`DROP TRIGGER IF EXISTS tree_cosignatures_append_only_delete`}, stmts...) {
		if _, err := db.Exec(s); err != nil {
			f.t.Fatalf("%s: %v", s, err)
		}
	}
	f.open()
}

// cut removes every event after seq, and the tree with them, as an
// insider hiding an entry would.
func (f *fixture) cut(seq int64, forgetCheckpoints bool) {
	f.cutTree(seq, forgetCheckpoints, fmt.Sprintf(`DELETE FROM events WHERE seq > %d`, seq))
}

// cutTree removes the tree after seq leaves, so that it is built again
// from the events as they are now.
func (f *fixture) cutTree(seq int64, forgetCheckpoints bool, more ...string) {
	stmts := []string{
		fmt.Sprintf(`DELETE FROM tree_hashes WHERE id >= %d`, tlog.StoredHashCount(seq)),
		fmt.Sprintf(`UPDATE tree_size SET size = %d`, seq),
	}
	if forgetCheckpoints {
		stmts = append(stmts, `DELETE FROM tree_cosignatures`, fmt.Sprintf(`DELETE FROM tree_checkpoints WHERE size > %d`, seq))
	}
	f.tamper(append(more, stmts...)...)
}

// checkpointOf opens a signed checkpoint with the site's verifier key
// alone, as an outsider does.
func checkpointOf(t *testing.T, vkey string, signed []byte) (int64, tlog.Hash) {
	t.Helper()
	v, err := note.NewVerifier(vkey)
	if err != nil {
		t.Fatal(err)
	}
	n, err := note.Open(signed, note.VerifierList(v))
	if err != nil {
		t.Fatalf("checkpoint does not open: %v\n%s", err, signed)
	}
	lines := strings.Split(n.Text, "\n")
	if len(lines) != 4 || lines[0] != origin || lines[3] != "" {
		t.Fatalf("not a C2SP checkpoint: %q", n.Text)
	}
	var size int64
	fmt.Sscan(lines[1], &size)
	root, err := base64.StdEncoding.DecodeString(lines[2])
	if err != nil || len(root) != 32 {
		t.Fatalf("root %q", lines[2])
	}
	return size, tlog.Hash(root)
}

// tiles is an outsider's view of the log: tlog's own tile reader over the
// site's tiles, checked against a checkpoint.
type tiles struct {
	t    *testing.T
	tree *logtree.Tree
}

func (r tiles) Height() int { return logtree.TileHeight }
func (r tiles) ReadTiles(ts []tlog.Tile) ([][]byte, error) {
	var out [][]byte
	for _, tile := range ts {
		// C2SP's path is sumdb's without the height.
		p := strings.Replace(tile.Path(), fmt.Sprintf("tile/%d/", logtree.TileHeight), "tile/", 1)
		b, _, err := r.tree.Tile(context.Background(), p)
		if err != nil {
			return nil, err
		}
		out = append(out, b)
	}
	return out, nil
}
func (tiles) SaveTiles([]tlog.Tile, [][]byte) {}

func TestCheckpointAndTilesWithStandardTools(t *testing.T) {
	f := newFixture(t)
	f.add(700, "press-door")
	signed := f.sign()
	size, root := checkpointOf(t, f.tree.VerifierKey(), signed)
	if size != 700 {
		t.Fatalf("size %d", size)
	}
	// The root, computed apart from the site's tree from the events' bytes.
	bodies, err := f.st.Bodies(context.Background(), 0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	var mem []tlog.Hash
	memReader := tlog.HashReaderFunc(func(ids []int64) ([]tlog.Hash, error) {
		out := make([]tlog.Hash, len(ids))
		for i, id := range ids {
			out[i] = mem[id]
		}
		return out, nil
	})
	for i, b := range bodies {
		hs, err := tlog.StoredHashes(int64(i), b, memReader)
		if err != nil {
			t.Fatal(err)
		}
		mem = append(mem, hs...)
	}
	if want, _ := tlog.TreeHash(700, memReader); want != root {
		t.Fatalf("root %x, computed from the events %x", root, want)
	}
	// Through the tiles, checked by tlog against the checkpoint.
	tr := tlog.TileHashReader(tlog.Tree{N: size, Hash: root}, tiles{t, f.tree})
	if got, err := tlog.TreeHash(size, tr); err != nil || got != root {
		t.Fatalf("root through tiles: %x %v", got, err)
	}
	// An entry bundle holds the events' bytes.
	b, full, err := f.tree.Tile(context.Background(), "tile/entries/001.p/188")
	if err != nil || full || !bytes.Contains(b, bodies[256]) || !bytes.HasSuffix(b, bodies[443]) {
		t.Fatalf("entries: full %v err %v", full, err)
	}
	if _, _, err := f.tree.Tile(context.Background(), "tile/entries/002"); err == nil {
		t.Fatal("a tile past the checkpoint was served")
	}
	for _, bad := range []string{"tile/8/0/000", "tile/0/-1", "tile/x", "../tile/0/000", "tile/0/000.p/0", "tile/0/000.p/300"} {
		if _, _, err := f.tree.Tile(context.Background(), bad); !errors.Is(err, logtree.ErrBadTile) {
			t.Errorf("%s: %v, want a bad tile", bad, err)
		}
	}

	// The log grows; the next checkpoint is consistent with the first, as
	// tlog proves from the tiles.
	f.add(333, "main-door")
	signed2 := f.sign()
	size2, root2 := checkpointOf(t, f.tree.VerifierKey(), signed2)
	tr2 := tlog.TileHashReader(tlog.Tree{N: size2, Hash: root2}, tiles{t, f.tree})
	proof, err := tlog.ProveTree(size2, size, tr2)
	if err != nil {
		t.Fatal(err)
	}
	if err := tlog.CheckTree(proof, size2, root2, size, root); err != nil {
		t.Fatalf("consistency: %v", err)
	}
}

func TestProofsVerifyOfflineAndTamperedOnesDoNot(t *testing.T) {
	f := newFixture(t)
	f.add(1000, "press-door")
	for _, seq := range []int64{1, 2, 255, 256, 257, 999, 1000} {
		p, err := f.tree.Proof(context.Background(), seq, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		got, err := verifyProof(p, f.tree.VerifierKey())
		if err != nil {
			t.Fatalf("seq %d: %v\n%s", seq, err, p)
		}
		want, _ := f.st.Body(context.Background(), seq)
		if !bytes.Equal(got, want) || !bytes.Contains(got, fmt.Appendf(nil, `"seq":%d,`, seq)) {
			t.Fatalf("seq %d: proof of %s", seq, got)
		}
		// Tampered copies: another event's bytes, a changed path, another
		// index, a checkpoint under another key.
		lines := strings.Split(string(p), "\n")
		other, _ := f.st.Body(context.Background(), seq%1000+1)
		swap := func(i int, s string) []byte {
			c := append([]string(nil), lines...)
			c[i] = s
			return []byte(strings.Join(c, "\n"))
		}
		h, _ := base64.StdEncoding.DecodeString(lines[3])
		h[0] ^= 1
		_, otherKey, _ := ed25519.GenerateKey(rand.Reader)
		_, _, otherVkey, _ := logtree.NoteKeys(origin, otherKey)
		for name, bad := range map[string][]byte{
			"event":  swap(1, "extra "+base64.StdEncoding.EncodeToString(other)),
			"path":   swap(3, base64.StdEncoding.EncodeToString(h)),
			"index":  swap(2, fmt.Sprintf("index %d", seq%1000)),
			"edited": swap(1, "extra "+base64.StdEncoding.EncodeToString(bytes.Replace(want, []byte("die-press"), []byte("die-prest"), 1))),
		} {
			if _, err := verifyProof(bad, f.tree.VerifierKey()); err == nil {
				t.Errorf("seq %d: a proof with a changed %s verified", seq, name)
			}
		}
		if _, err := verifyProof(p, otherVkey); err == nil {
			t.Errorf("seq %d: verified under another key", seq)
		}
	}
	if _, err := f.tree.Proof(context.Background(), 1001, time.Now()); err == nil {
		t.Fatal("a proof for an event not in the log")
	}
	// An event edited in the file: the site will not hand out a proof that
	// cannot hold.
	f.tamper(`UPDATE events SET body = replace(body, 'Sato', 'Kato') WHERE seq = 17`)
	if _, err := f.tree.Proof(context.Background(), 17, time.Now()); !errors.Is(err, logtree.ErrEdited) {
		t.Fatalf("edited event: %v", err)
	}
}

func witness(t testing.TB, name string) (vkey string, cosign func([]byte) []byte) {
	t.Helper()
	skey, plain, err := note.GenerateKey(rand.Reader, name)
	if err != nil {
		t.Fatal(err)
	}
	signer, err := tnote.NewSignerForCosignatureV1(skey)
	if err != nil {
		t.Fatal(err)
	}
	cvkey, err := tnote.VKeyToCosignatureV1(plain)
	if err != nil {
		t.Fatal(err)
	}
	return cvkey, func(signed []byte) []byte {
		t.Helper()
		v, _ := note.NewVerifier(plain)
		n, err := note.Open(signed, note.VerifierList(v))
		var unverified *note.UnverifiedNoteError
		if errors.As(err, &unverified) {
			n, err = unverified.Note, nil
		}
		if err != nil {
			t.Fatal(err)
		}
		// The witness keeps the site's signature, which it cannot check
		// with its own key alone, and adds its own after it.
		out, err := note.Sign(&note.Note{Text: n.Text, Sigs: append(n.Sigs, n.UnverifiedSigs...)}, signer)
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
}

// The site signs nothing inconsistent with what it signed; an insider who
// also removes the site's own checkpoints is caught by the one a customer
// countersigned and kept.
func TestTamperIsCaughtByACountersignedCheckpoint(t *testing.T) {
	for _, tc := range []struct {
		name   string
		tamper func(f *fixture)
	}{
		{"edit", func(f *fixture) {
			f.tamper(`UPDATE events SET body = replace(body, 'Sato', 'Kato') WHERE seq = 40`)
			// An insider rebuilds the tree from the edited log.
			f.cutTree(39, true)
		}},
		{"delete", func(f *fixture) { f.cut(39, true); f.add(60, "press-door") }},
		{"cut tail", func(f *fixture) { f.cut(90, true) }},
		{"re-chain", func(f *fixture) { f.cut(60, true); f.add(80, "main-door") }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cvkey, cosign := witness(t, "customer.example/witness")
			f := newFixture(t, cvkey)
			f.add(100, "press-door")
			old := cosign(f.sign())
			if names, err := f.tree.Cosign(context.Background(), old, time.Now()); err != nil || len(names) != 1 {
				t.Fatalf("cosign: %v %v", names, err)
			}
			oldSize, oldRoot := checkpointOf(t, f.tree.VerifierKey(), old)
			// The customer's copy verifies with the witness's key too.
			wv, _ := tnote.NewVerifierForCosignatureV1(cvkey)
			sv, _ := note.NewVerifier(f.tree.VerifierKey())
			if n, err := note.Open(old, note.VerifierList(sv, wv)); err != nil || len(n.Sigs) != 2 {
				t.Fatalf("cosigned checkpoint: %v", err)
			}

			// Without forgetting its checkpoints, the site refuses to sign.
			g := newFixture(t)
			g.add(100, "press-door")
			g.sign()
			g.cut(60, false)
			g.add(80, "main-door")
			if _, _, err := g.tree.Sign(context.Background(), time.Now()); !errors.Is(err, logtree.ErrInconsistent) {
				t.Fatalf("signed over a cut log: %v", err)
			}

			tc.tamper(f)
			f.add(30, "main-door") // and life goes on
			signed := f.sign()
			size, root := checkpointOf(t, f.tree.VerifierKey(), signed)
			if size <= oldSize {
				t.Fatalf("size %d", size)
			}
			tr := tlog.TileHashReader(tlog.Tree{N: size, Hash: root}, tiles{t, f.tree})
			proof, err := tlog.ProveTree(size, oldSize, tr)
			if err != nil {
				t.Fatal(err)
			}
			if err := tlog.CheckTree(proof, size, root, oldSize, oldRoot); err == nil {
				t.Fatal("the tampered log proved consistent with the countersigned checkpoint")
			}
		})
	}
}

func TestCosignRefusals(t *testing.T) {
	cvkey, cosign := witness(t, "hq.example/witness")
	_, stranger := witness(t, "stranger.example/witness")
	f := newFixture(t, cvkey)
	f.add(10, "press-door")
	signed := f.sign()
	for name, body := range map[string][]byte{
		"no countersignature":   signed,
		"a stranger's":          stranger(signed),
		"garbage":               []byte("hello\n\n— x y\n"),
		"a checkpoint not ours": cosign(forged(t, origin, 10)),
	} {
		if _, err := f.tree.Cosign(context.Background(), body, time.Now()); !errors.Is(err, logtree.ErrNotCosigned) {
			t.Errorf("%s: %v", name, err)
		}
	}
	if _, err := f.tree.Cosign(context.Background(), cosign(signed), time.Now()); err != nil {
		t.Fatal(err)
	}
	// Kept, and served with the checkpoint.
	cp, _, _ := f.st.LastTreeCheckpoint(context.Background())
	if len(cp.Cosignatures) != 1 || !strings.HasPrefix(cp.Cosignatures[0], "— hq.example/witness ") {
		t.Fatalf("kept %q", cp.Cosignatures)
	}
}

// forged is a checkpoint of size under another key with the site's name.
func forged(t *testing.T, origin string, size int64) []byte {
	_, key, _ := ed25519.GenerateKey(rand.Reader)
	s, _, _, err := logtree.NoteKeys(origin, key)
	if err != nil {
		t.Fatal(err)
	}
	b, err := note.Sign(&note.Note{Text: fmt.Sprintf("%s\n%d\n%s\n", origin, size, base64.StdEncoding.EncodeToString(make([]byte, 32)))}, s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// newFuzzTree is a small signed log for the fuzz targets.
func newFuzzTree(f *testing.F) *logtree.Tree {
	cvkey, _ := witness(f, "fuzz.example/witness")
	_, key, _ := ed25519.GenerateKey(rand.Reader)
	dir := f.TempDir()
	st, err := store.Open(context.Background(), filepath.Join(dir, "f.db"), "test-site")
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { st.Close() })
	tree, err := logtree.New(st, origin, key, []string{cvkey}, slog.New(slog.DiscardHandler))
	if err != nil {
		f.Fatal(err)
	}
	for range 300 {
		if err := st.Append(context.Background(), &event.Event{Type: event.DoorOpened, Door: "press-door"}); err != nil {
			f.Fatal(err)
		}
	}
	if _, _, err := tree.Sign(context.Background(), time.Now()); err != nil {
		f.Fatal(err)
	}
	return tree
}

// Signing while the log is appended to (each append keeping its own leaf)
// never trips over a leaf an append kept first.
func TestSignBesideAppends(t *testing.T) {
	f := newFixture(t)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for range 1500 {
			if err := f.st.Append(context.Background(), &event.Event{Type: event.DoorOpened, Door: "press-door"}); err != nil {
				t.Error(err)
				return
			}
		}
	}()
	signs := 0
	for {
		select {
		case <-done:
			if signs == 0 {
				t.Fatal("nothing was signed beside the appends")
			}
			f.sign()
			size, _ := checkpointOf(t, f.tree.VerifierKey(), f.sign())
			if size != 1500 {
				t.Fatalf("last checkpoint at %d", size)
			}
			return
		default:
		}
		if _, _, err := f.tree.Sign(context.Background(), time.Now()); err != nil {
			t.Fatalf("sign %d: %v", signs, err)
		}
		signs++
	}
}

// The tree's own rows, edited without touching the events, are found by
// the walk that makes them again; so is a checkpoint the tree no longer
// has the root of.
func TestCheckTreeFindsEditedRows(t *testing.T) {
	f := newFixture(t)
	f.add(300, "press-door")
	f.sign()
	c, err := logtree.CheckTree(context.Background(), f.st, nil)
	if err != nil || c.BadSeq != 0 || c.Leaves != 300 || c.Signed != 300 {
		t.Fatalf("an untouched tree: %+v %v", c, err)
	}
	for _, tc := range []struct {
		id   int64
		want int64
	}{
		{tlog.StoredHashIndex(0, 40), 41}, // event 41's leaf
		{tlog.StoredHashIndex(1, 5), 12},  // made at event 12, over 11 and 12
		{tlog.StoredHashIndex(3, 2), 24},  // over events 17 to 24
	} {
		g := newFixture(t)
		g.add(300, "press-door")
		g.sign()
		g.tamper(`DROP TRIGGER IF EXISTS tree_hashes_append_only_update`, fmt.Sprintf(`UPDATE tree_hashes SET hash = zeroblob(32) WHERE id = %d`, tc.id))
		c, err := logtree.CheckTree(context.Background(), g.st, nil)
		if err != nil || c.BadSeq != tc.want {
			t.Errorf("row %d edited: %+v %v, want event %d named", tc.id, c, err, tc.want)
		}
	}
}
