package logtree

import (
	"bytes"
	"context"
	"fmt"

	"golang.org/x/mod/sumdb/tlog"

	"github.com/sekisho/sekisho/controller/store"
)

// TreeCheck is what a walk of the tree found.
type TreeCheck struct {
	Leaves int64 // leaves walked
	// BadSeq is the first event whose leaf, or a hash the tree keeps above
	// it, is not what the events' bytes make (0: none).
	BadSeq  int64
	Problem string
	// Signed is the size of the newest checkpoint, whose root was held to
	// the tree's (0: none signed yet).
	Signed int64
}

// CheckTree makes every hash of the tree again from the events' bytes and
// holds each kept one to it, then the newest checkpoint's root to the
// tree's at its size: what an insider who edited the tree's rows (and not
// the events) would have changed, proofs an auditor would later find do
// not hold. It does not check signatures: the checkpoints' key does that.
func CheckTree(ctx context.Context, st *store.Store, progress func(done, total int64)) (TreeCheck, error) {
	var c TreeCheck
	size, err := st.TreeSize(ctx)
	if err != nil {
		return c, err
	}
	// The hashes made so far that a later leaf may still need: the newest
	// node of each level (tlog reads left siblings, always the newest).
	made := map[int64]tlog.Hash{}
	newest := map[int]int64{} // level → its newest node's index
	r := tlog.HashReaderFunc(func(ids []int64) ([]tlog.Hash, error) {
		out := make([]tlog.Hash, len(ids))
		for i, id := range ids {
			h, ok := made[id]
			if !ok {
				return nil, fmt.Errorf("logtree: check: hash %d asked for out of turn", id)
			}
			out[i] = h
		}
		return out, nil
	})
	// Each batch's events are read and hashed, and its kept hashes read,
	// a batch ahead on a goroutine of their own, while this one makes the
	// hashes above the leaves and holds them to the kept ones.
	const batch = 8192
	type part struct {
		at     int64
		leaves []tlog.Hash
		kept   []tlog.Hash
		err    error
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	ahead := make(chan part, 2)
	go func() {
		defer close(ahead)
		for at := int64(0); at < size; {
			p := part{at: at}
			var bodies [][]byte
			bodies, p.err = st.Bodies(ctx, at, int(min(batch, size-at)))
			end := at + int64(len(bodies))
			if p.err == nil && len(bodies) > 0 {
				p.kept, p.err = st.TreeHashRange(ctx, tlog.StoredHashCount(at), tlog.StoredHashCount(end))
			}
			for _, b := range bodies {
				p.leaves = append(p.leaves, tlog.RecordHash(b))
			}
			select {
			case ahead <- p:
			case <-ctx.Done():
				return
			}
			if p.err != nil || len(bodies) == 0 {
				return
			}
			at = end
		}
	}()
	for p := range ahead {
		if p.err != nil {
			return c, p.err
		}
		if len(p.leaves) == 0 {
			c.BadSeq, c.Problem = p.at+1, fmt.Sprintf("the tree holds %d events, the log %d", size, p.at)
			return c, nil
		}
		k := 0
		for i, leaf := range p.leaves {
			n := p.at + int64(i)
			hs, err := tlog.StoredHashesForRecordHash(n, leaf, r)
			if err != nil {
				return c, err
			}
			for level, h := range hs {
				if p.kept[k] != h {
					c.BadSeq = n + 1
					c.Problem = fmt.Sprintf("the tree's hash %d (level %d, at event %d) is not what the events make", tlog.StoredHashCount(n)+int64(level), level, n+1)
					if level == 0 {
						c.Problem = fmt.Sprintf("event %d's leaf is not the hash of its bytes", n+1)
					}
					return c, nil
				}
				id := tlog.StoredHashCount(n) + int64(level)
				if old, ok := newest[level]; ok {
					delete(made, old)
				}
				made[id], newest[level] = h, id
				k++
			}
		}
		c.Leaves = p.at + int64(len(p.leaves))
		if progress != nil {
			progress(c.Leaves, size)
		}
	}
	if err := ctx.Err(); err != nil {
		return c, err
	}
	if c.Leaves < size {
		return c, fmt.Errorf("logtree: check stopped at %d of %d", c.Leaves, size)
	}
	cp, ok, err := st.LastTreeCheckpoint(ctx)
	if err != nil || !ok {
		return c, err
	}
	text, _, _ := bytes.Cut(cp.Note, []byte("\n\n"))
	signed, err := ParseCheckpoint(string(text) + "\n")
	if err != nil {
		c.Problem = "the newest checkpoint cannot be read: " + err.Error()
		return c, nil
	}
	c.Signed = signed.Size
	if signed.Size > size {
		c.BadSeq, c.Problem = size+1, fmt.Sprintf("the newest checkpoint is of %d events; the tree holds %d", signed.Size, size)
		return c, nil
	}
	root, err := tlog.TreeHash(signed.Size, tlog.HashReaderFunc(func(ids []int64) ([]tlog.Hash, error) { return st.TreeHashes(ctx, ids) }))
	if err != nil {
		return c, err
	}
	if root != signed.Root {
		c.BadSeq, c.Problem = 1, fmt.Sprintf("the newest checkpoint's root (%d events) is not the tree's", signed.Size)
	}
	return c, nil
}
