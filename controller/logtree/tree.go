// Package logtree makes the site's log provable to someone who does not run
// Sekisho: an RFC 6962 Merkle tree over the events, beside the hash chain,
// signed as C2SP checkpoints with the log's key, served as C2SP tiles, and
// proofs of single events as C2SP tlog-proof files. A customer or a head
// office checks them with golang.org/x/mod/sumdb/note and tlog, and may
// countersign a checkpoint so that the site cannot later cut its log and
// sign again unnoticed.
//
// Each append keeps its own leaf, on the log's writer (store); a log older
// than its tree is caught up here, on a goroutine of its own. Neither is
// on the door's path, which touches memory only.
package logtree

import (
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"

	tnote "github.com/transparency-dev/formats/note"

	"github.com/sekisho/sekisho/controller/sekisho"
	"github.com/sekisho/sekisho/controller/store"
)

// ErrInconsistent marks a tree that does not extend the one the site last
// signed: the log was cut or rewritten. The site signs nothing after it.
var ErrInconsistent = errors.New("the log does not extend its last signed checkpoint")

// ErrEdited marks an event whose stored bytes are not what the tree holds
// for it: it was changed after it was logged.
var ErrEdited = errors.New("the event's bytes differ from what the log's tree holds")

// Tree is one site's Merkle tree and its signer.
type Tree struct {
	Store     *store.Store
	Origin    string
	Log       *slog.Logger
	signer    note.Signer
	verifier  note.Verifier
	vkey      string
	witnesses []note.Verifier

	mu sync.Mutex // one grower and signer at a time
}

// New makes the tree of st, whose checkpoints key signs under origin, and
// whose countersignatures the witnesses' verifier keys check.
func New(st *store.Store, origin string, key ed25519.PrivateKey, witnesses []string, log *slog.Logger) (*Tree, error) {
	signer, verifier, vkey, err := NoteKeys(origin, key)
	if err != nil {
		return nil, err
	}
	t := &Tree{Store: st, Origin: origin, Log: log, signer: signer, verifier: verifier, vkey: vkey}
	for _, w := range witnesses {
		v, err := tnote.NewVerifierForCosignatureV1(w)
		if err != nil {
			return nil, fmt.Errorf("logtree: witness key %q: %w", w, err)
		}
		t.witnesses = append(t.witnesses, v)
	}
	return t, nil
}

// NoteKeys turns the log's Ed25519 key into a signed-note signer and
// verifier named origin, and the verifier key as a person is given it
// (<name>+<hex id>+<base64 key>).
func NoteKeys(origin string, key ed25519.PrivateKey) (note.Signer, note.Verifier, string, error) {
	vkey, err := note.NewEd25519VerifierKey(origin, key.Public().(ed25519.PublicKey))
	if err != nil {
		return nil, nil, "", fmt.Errorf("logtree: verifier key for %q: %w", origin, err)
	}
	// The signer key has the verifier key's name and id; its key is the
	// algorithm byte (1, Ed25519) and the seed, as note.GenerateKey writes.
	parts := strings.SplitN(vkey, "+", 3)
	skey := "PRIVATE+KEY+" + parts[0] + "+" + parts[1] + "+" + base64.StdEncoding.EncodeToString(append([]byte{1}, key.Seed()...))
	signer, err := note.NewSigner(skey)
	if err != nil {
		return nil, nil, "", fmt.Errorf("logtree: signer for %q: %w", origin, err)
	}
	verifier, err := note.NewVerifier(vkey)
	if err != nil {
		return nil, nil, "", fmt.Errorf("logtree: verifier for %q: %w", origin, err)
	}
	return signer, verifier, vkey, nil
}

// VerifierKey is what a customer or a head office trusts checkpoints under.
func (t *Tree) VerifierKey() string { return t.vkey }

// Verifier checks the site's signature on a checkpoint.
func (t *Tree) Verifier() note.Verifier { return t.verifier }

// reader reads the tree's stored hashes from the store, and those of a
// growth not yet kept from memory.
type reader struct {
	ctx     context.Context
	st      *store.Store
	base    int64       // the first index held in pending
	pending []tlog.Hash // stored hashes from base on, not yet kept
	cache   map[int64]tlog.Hash
}

func (r *reader) ReadHashes(indexes []int64) ([]tlog.Hash, error) {
	out := make([]tlog.Hash, len(indexes))
	var ask []int64
	for i, id := range indexes {
		if id >= r.base && id-r.base < int64(len(r.pending)) {
			out[i] = r.pending[id-r.base]
		} else if h, ok := r.cache[id]; ok {
			out[i] = h
		} else {
			ask = append(ask, id)
		}
	}
	if len(ask) == 0 {
		return out, nil
	}
	got, err := r.st.TreeHashes(r.ctx, ask)
	if err != nil {
		return nil, err
	}
	if r.cache == nil {
		r.cache = map[int64]tlog.Hash{}
	}
	for i, id := range ask {
		r.cache[id] = got[i]
	}
	return r.ReadHashes(indexes)
}

// hashes is a tlog.HashReader over the kept tree.
func (t *Tree) hashes(ctx context.Context) *reader {
	return &reader{ctx: ctx, st: t.Store, base: -1}
}

// growBatch is how many events one growth reads and keeps in a
// transaction: enough to build a long log quickly, short enough that an
// append waiting on SQLite's write lock waits milliseconds.
const growBatch = 32768

// Grow brings the tree up to the log's head and returns its size.
func (t *Tree) Grow(ctx context.Context) (int64, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.grow(ctx, growBatch)
}

func (t *Tree) grow(ctx context.Context, batch int) (int64, error) {
	for tries := 0; ; tries++ {
		size, err := t.growFrom(ctx, batch)
		// An append keeps its own leaf once the tree is level with the
		// log, and may have kept the very one this growth was about to:
		// then the tree is that much bigger, and the growth goes on from
		// there.
		if errors.Is(err, sekisho.ErrConflict) && tries < 8 {
			continue
		}
		return size, err
	}
}

func (t *Tree) growFrom(ctx context.Context, batch int) (int64, error) {
	size, err := t.Store.TreeSize(ctx)
	if err != nil {
		return 0, err
	}
	// The events are read and their leaves hashed a batch ahead, on a
	// goroutine of their own, while the tree's upper hashes are made and
	// kept: the reading and the writing overlap.
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	type leaves struct {
		hashes []tlog.Hash
		err    error
	}
	ahead := make(chan leaves, 2)
	go func() {
		defer close(ahead)
		for at := size; ; {
			bodies, err := t.Store.Bodies(ctx, at, batch)
			l := leaves{err: err}
			for _, b := range bodies {
				l.hashes = append(l.hashes, tlog.RecordHash(b))
			}
			select {
			case ahead <- l:
			case <-ctx.Done():
				return
			}
			if err != nil || len(bodies) == 0 {
				return
			}
			at += int64(len(bodies))
		}
	}()
	r := t.hashes(ctx)
	for l := range ahead {
		if l.err != nil {
			return size, l.err
		}
		if len(l.hashes) == 0 {
			return size, nil
		}
		r.base, r.pending = tlog.StoredHashCount(size), r.pending[:0]
		for i, h := range l.hashes {
			hs, err := tlog.StoredHashesForRecordHash(size+int64(i), h, r)
			if err != nil {
				return size, fmt.Errorf("logtree: leaf %d: %w", size+int64(i), err)
			}
			r.pending = append(r.pending, hs...)
		}
		next := size + int64(len(l.hashes))
		if err := t.Store.GrowTree(ctx, size, next, r.pending); err != nil {
			return size, err
		}
		// What was pending is kept now; the right edge stays in the cache
		// for the next batch's merges.
		if r.cache == nil {
			r.cache = map[int64]tlog.Hash{}
		}
		for i, h := range r.pending {
			r.cache[r.base+int64(i)] = h
		}
		if len(r.cache) > 1<<16 {
			r.cache = nil
		}
		size = next
	}
	return size, ctx.Err()
}

// Run catches the tree up with a log older than it (after an upgrade, a
// fill, or an append that could not keep its leaf), until ctx ends. A log
// level with its tree grows both in each append, and Run only watches.
func (t *Tree) Run(ctx context.Context) error {
	for {
		changed := t.Store.Changed()
		if t.Store.TreeLag() == 0 {
			// Level: every append keeps its own leaf.
		} else if _, err := t.Grow(ctx); err != nil && ctx.Err() == nil {
			t.Log.Warn("the log's Merkle tree did not grow; it tries again at the next event", "err", err)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-changed:
		}
	}
}

// Checkpoint is a checkpoint's body, read.
type Checkpoint struct {
	Origin string
	Size   int64
	Root   tlog.Hash
}

// Body is the checkpoint as C2SP tlog-checkpoint writes it.
func (c Checkpoint) Body() string {
	return fmt.Sprintf("%s\n%d\n%s\n", c.Origin, c.Size, base64.StdEncoding.EncodeToString(c.Root[:]))
}

// ParseCheckpoint reads a checkpoint's text (a note's body).
func ParseCheckpoint(text string) (Checkpoint, error) {
	lines := strings.SplitN(text, "\n", 4)
	if len(lines) < 4 {
		return Checkpoint{}, errors.New("logtree: a checkpoint has an origin, a size and a root, each on a line")
	}
	size, err := strconv.ParseInt(lines[1], 10, 64)
	digits := lines[1] != "" && strings.Trim(lines[1], "0123456789") == ""
	if err != nil || !digits || (lines[1] != "0" && strings.HasPrefix(lines[1], "0")) {
		return Checkpoint{}, fmt.Errorf("logtree: checkpoint size %q is not a number", lines[1])
	}
	root, err := base64.StdEncoding.DecodeString(lines[2])
	if err != nil || len(root) != tlog.HashSize {
		return Checkpoint{}, fmt.Errorf("logtree: checkpoint root %q is not a base64 SHA-256", lines[2])
	}
	return Checkpoint{Origin: lines[0], Size: size, Root: tlog.Hash(root)}, nil
}

// Sign grows the tree to the head and signs it, unless the newest
// checkpoint already covers it. It refuses (ErrInconsistent) a tree that
// does not extend the last checkpoint the site signed.
func (t *Tree) Sign(ctx context.Context, now time.Time) (store.TreeCheckpoint, bool, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	size, err := t.grow(ctx, growBatch)
	if err != nil {
		return store.TreeCheckpoint{}, false, err
	}
	last, had, err := t.Store.LastTreeCheckpoint(ctx)
	if err != nil {
		return store.TreeCheckpoint{}, false, err
	}
	if had && last.Size > size {
		// Another process (the command line's proof) may have grown the
		// tree and signed it since this one looked.
		if now, err := t.Store.TreeSize(ctx); err == nil && now >= last.Size {
			size = now
		}
	}
	if had && last.Size == size {
		return last, false, t.consistent(ctx, last)
	}
	if had && last.Size > size {
		return store.TreeCheckpoint{}, false, fmt.Errorf("logtree: the log holds %d events, but %d were signed for: %w", size, last.Size, ErrInconsistent)
	}
	if had {
		if err := t.consistent(ctx, last); err != nil {
			return store.TreeCheckpoint{}, false, err
		}
	}
	root, err := tlog.TreeHash(size, t.hashes(ctx))
	if err != nil {
		return store.TreeCheckpoint{}, false, fmt.Errorf("logtree: root at %d: %w", size, err)
	}
	signed, err := note.Sign(&note.Note{Text: Checkpoint{Origin: t.Origin, Size: size, Root: root}.Body()}, t.signer)
	if err != nil {
		return store.TreeCheckpoint{}, false, fmt.Errorf("logtree: sign: %w", err)
	}
	if err := t.Store.SaveTreeCheckpoint(ctx, size, signed, now); err != nil {
		return store.TreeCheckpoint{}, false, err
	}
	return store.TreeCheckpoint{Size: size, Note: signed, Time: now.UTC()}, true, nil
}

// consistent checks that the tree kept now has, at the size of a signed
// checkpoint, the root that checkpoint signed.
func (t *Tree) consistent(ctx context.Context, cp store.TreeCheckpoint) error {
	n, err := note.Open(cp.Note, note.VerifierList(t.verifier))
	if err != nil {
		return fmt.Errorf("logtree: the checkpoint at %d does not verify under this site's key: %w: %w", cp.Size, err, ErrInconsistent)
	}
	c, err := ParseCheckpoint(n.Text)
	if err != nil {
		return err
	}
	root, err := tlog.TreeHash(c.Size, t.hashes(ctx))
	if err != nil {
		return fmt.Errorf("logtree: root at %d: %w", c.Size, err)
	}
	if root != c.Root {
		return fmt.Errorf("logtree: the tree's root at %d is not the one signed %s: %w", c.Size, cp.Time.Format(time.RFC3339), ErrInconsistent)
	}
	return nil
}

// WithCosignatures is the checkpoint's note with the cosigners' lines
// kept for it, as a log serves a cosigned checkpoint.
func WithCosignatures(cp store.TreeCheckpoint) []byte {
	out := append([]byte(nil), cp.Note...)
	for _, l := range cp.Cosignatures {
		out = append(out, l...)
	}
	return out
}
