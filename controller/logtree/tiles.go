package logtree

import (
	"context"
	"encoding/binary"
	"fmt"
	"strings"

	"golang.org/x/mod/sumdb/tlog"

	"github.com/sekisho/sekisho/controller/sekisho"
)

// TileHeight is C2SP tlog-tiles' fixed height: 256 hashes a tile.
const TileHeight = 8

// ErrBadTile marks a tile path that C2SP tlog-tiles does not name.
var ErrBadTile = fmt.Errorf("not a tile path: want tile/<L>/<N>[.p/<W>] or tile/entries/<N>[.p/<W>]")

// Tile answers a C2SP tlog-tiles path under the log's prefix
// ("tile/0/x001/234", "tile/entries/000.p/17"): the tile's bytes, and
// whether they are final (a full tile never changes). Only tiles within
// the newest checkpoint are served: what an auditor reads is always what
// a signed checkpoint vouches for.
func (t *Tree) Tile(ctx context.Context, path string) ([]byte, bool, error) {
	rest, ok := strings.CutPrefix(path, "tile/")
	if !ok {
		return nil, false, ErrBadTile
	}
	// The tiles' layout is sumdb's with the height left out of the path;
	// tlog's parser reads it once the height is put back.
	if e, isData := strings.CutPrefix(rest, "entries/"); isData {
		rest = "data/" + e
	}
	tile, err := tlog.ParseTilePath(fmt.Sprintf("tile/%d/%s", TileHeight, rest))
	if err != nil || tile.H != TileHeight {
		return nil, false, ErrBadTile
	}
	cp, ok, err := t.Store.LastTreeCheckpoint(ctx)
	if err != nil {
		return nil, false, err
	}
	level := max(tile.L, 0)
	end := (tile.N*(1<<TileHeight) + int64(tile.W)) << (TileHeight * level)
	if !ok || end > cp.Size {
		return nil, false, fmt.Errorf("tile %s reaches past the newest checkpoint: %w", path, sekisho.ErrNotFound)
	}
	full := tile.W == 1<<TileHeight
	if tile.L >= 0 {
		b, err := tlog.ReadTileData(tile, t.hashes(ctx))
		return b, full, err
	}
	// An entry bundle: each event's stored bytes after its length, two
	// bytes big-endian.
	first := tile.N << TileHeight
	bodies, err := t.Store.Bodies(ctx, first, tile.W)
	if err != nil {
		return nil, false, err
	}
	if len(bodies) != tile.W {
		return nil, false, fmt.Errorf("entries %d to %d: the log holds %d of them: %w", first, first+int64(tile.W), len(bodies), sekisho.ErrNotFound)
	}
	var out []byte
	for _, b := range bodies {
		if len(b) > 0xffff {
			return nil, false, fmt.Errorf("event %d is over 64 KiB and cannot be bundled", first+1)
		}
		out = binary.BigEndian.AppendUint16(out, uint16(len(b)))
		out = append(out, b...)
	}
	return out, full, nil
}
