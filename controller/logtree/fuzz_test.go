package logtree_test

import (
	"errors"
	"testing"
	"time"

	"github.com/sekisho/sekisho/controller/logtree"
)

// A checkpoint's text comes from outside (a cosigner posts it back): no
// text crashes the reader, and what it accepts writes back the same.
func FuzzParseCheckpoint(f *testing.F) {
	f.Add("sekisho/x\n12\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n")
	f.Add("o\n0\n\n")
	f.Add("o\n-1\nAAAA\n")
	f.Add("o\n01\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\nextra\n")
	f.Fuzz(func(t *testing.T, text string) {
		c, err := logtree.ParseCheckpoint(text)
		if err != nil {
			return
		}
		if c.Size < 0 {
			t.Fatalf("negative size from %q", text)
		}
		if again, err := logtree.ParseCheckpoint(c.Body()); err != nil || again != c {
			t.Fatalf("%q → %+v → %q → %+v %v", text, c, c.Body(), again, err)
		}
	})
}

// Tile paths and cosignatures come from the network: none crashes the
// site, a path is a tile or a clear refusal, and nothing but a real
// countersignature is kept.
func FuzzTileAndCosignature(f *testing.F) {
	tr := newFuzzTree(f)
	f.Add("tile/0/000", []byte("sekisho/test-site\n3\nAAAA\n\n— x AAAA\n"))
	f.Add("tile/entries/x001/002.p/5", []byte{})
	f.Add("tile/1/000.p/1", []byte("\n\n\n"))
	f.Add("tile/0/-1", []byte("— "))
	f.Fuzz(func(t *testing.T, path string, note []byte) {
		if _, _, err := tr.Tile(t.Context(), path); err != nil && !errors.Is(err, logtree.ErrBadTile) {
			// Past the checkpoint, or the store's own error: never a panic.
			_ = err
		}
		if names, err := tr.Cosign(t.Context(), note, time.Now()); err == nil {
			t.Fatalf("a countersignature was kept from fuzz input %q: %v", note, names)
		}
	})
}
