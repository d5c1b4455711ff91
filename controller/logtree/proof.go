package logtree

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"time"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/transparency-dev/formats/proof"

	"github.com/sekisho/sekisho/controller/sekisho"
	"github.com/sekisho/sekisho/controller/store"
)

// Proof is a C2SP tlog-proof that the event at seq is in the log: the
// newest checkpoint (signed now if none covers seq) with its
// cosignatures, the event's index (seq-1), its inclusion path, and the
// event's bytes as the proof's extra data.
func (t *Tree) Proof(ctx context.Context, seq int64, now time.Time) ([]byte, error) {
	cp, ok, err := t.Store.LastTreeCheckpoint(ctx)
	if err != nil {
		return nil, err
	}
	if !ok || cp.Size < seq {
		if cp, _, err = t.Sign(ctx, now); err != nil {
			return nil, err
		}
	}
	return t.ProofAt(ctx, seq, cp)
}

// ProofAt is the proof of the event at seq under the checkpoint cp. It is
// checked before it is handed out: a proof that would not verify says why
// instead (the event was edited, or is past the checkpoint).
func (t *Tree) ProofAt(ctx context.Context, seq int64, cp store.TreeCheckpoint) ([]byte, error) {
	if seq < 1 || seq > cp.Size {
		return nil, fmt.Errorf("logtree: event %d is not under the checkpoint of %d events: %w", seq, cp.Size, sekisho.ErrNotFound)
	}
	n, err := note.Open(cp.Note, note.VerifierList(t.verifier))
	if err != nil {
		return nil, fmt.Errorf("logtree: checkpoint at %d: %w", cp.Size, err)
	}
	c, err := ParseCheckpoint(n.Text)
	if err != nil {
		return nil, err
	}
	body, err := t.Store.Body(ctx, seq)
	if err != nil {
		return nil, err
	}
	path, err := tlog.ProveRecord(cp.Size, seq-1, t.hashes(ctx))
	if err != nil {
		return nil, fmt.Errorf("logtree: proof of %d at %d: %w", seq, cp.Size, err)
	}
	if err := tlog.CheckRecord(path, c.Size, c.Root, seq-1, tlog.RecordHash(body)); err != nil {
		return nil, fmt.Errorf("logtree: event %d: %w", seq, ErrEdited)
	}
	p := proof.TLogProof{Index: uint64(seq - 1), Checkpoint: WithCosignatures(cp), ExtraData: body}
	for _, h := range path {
		p.Hashes = append(p.Hashes, h)
	}
	return p.Marshal(), nil
}

// ErrNotCosigned marks a countersignature refused: from no witness the
// site knows, or on a checkpoint it did not sign.
var ErrNotCosigned = errors.New("no countersignature from a known witness on a checkpoint this site signed")

// Cosign keeps the countersignatures on a checkpoint the site signed: the
// note as the witness returns it, the site's signature and the witness's
// line(s) beside it. It returns the names of the witnesses kept.
func (t *Tree) Cosign(ctx context.Context, signed []byte, now time.Time) ([]string, error) {
	if len(t.witnesses) == 0 {
		return nil, fmt.Errorf("logtree: this site names no witnesses (storage.witnesses): %w", ErrNotCosigned)
	}
	vs := append([]note.Verifier{t.verifier}, t.witnesses...)
	n, err := note.Open(signed, note.VerifierList(vs...))
	if err != nil {
		return nil, fmt.Errorf("logtree: %v: %w", err, ErrNotCosigned)
	}
	c, err := ParseCheckpoint(n.Text)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", err, ErrNotCosigned)
	}
	kept, err := t.Store.TreeCheckpointAt(ctx, c.Size)
	if err != nil {
		return nil, fmt.Errorf("logtree: %w: %w", err, ErrNotCosigned)
	}
	site, err := note.Open(kept.Note, note.VerifierList(t.verifier))
	if err != nil || site.Text != n.Text {
		return nil, fmt.Errorf("logtree: the checkpoint at %d is not the one this site signed: %w", c.Size, ErrNotCosigned)
	}
	var names []string
	for _, sig := range n.Sigs {
		if sig.Name == t.verifier.Name() && sig.Hash == t.verifier.KeyHash() {
			continue
		}
		line := "— " + sig.Name + " " + sig.Base64 + "\n"
		if err := t.Store.AddCosignature(ctx, c.Size, sig.Name, line, now); err != nil {
			return nil, err
		}
		names = append(names, sig.Name)
	}
	if len(names) == 0 {
		return nil, fmt.Errorf("logtree: only the site's own signature: %w", ErrNotCosigned)
	}
	if t.Log != nil {
		t.Log.Info("checkpoint countersigned", "size", c.Size, "by", strings.Join(names, ", "))
	}
	return names, nil
}

// Latest is the newest checkpoint with its countersignatures, as the log
// serves it; the first is signed if none is yet.
func (t *Tree) Latest(ctx context.Context, now time.Time) ([]byte, error) {
	cp, ok, err := t.Store.LastTreeCheckpoint(ctx)
	if err != nil {
		return nil, err
	}
	if !ok {
		if cp, _, err = t.Sign(ctx, now); err != nil {
			return nil, err
		}
	}
	return WithCosignatures(cp), nil
}

// Bracket is the checkpoints around a period: the newest signed before
// from (none: the empty log), and the oldest signed at or after to that
// holds at least size events — signed now if there is none yet.
func (t *Tree) Bracket(ctx context.Context, from, to time.Time, size int64, now time.Time) (first, last store.TreeCheckpoint, err error) {
	first, _, err = t.Store.TreeCheckpointBefore(ctx, from)
	if err != nil {
		return first, last, err
	}
	last, ok, err := t.Store.TreeCheckpointAfter(ctx, to, size)
	if err != nil || ok {
		return first, last, err
	}
	if last, _, err = t.Sign(ctx, now); err != nil {
		return first, last, err
	}
	if last.Size < size {
		return first, last, fmt.Errorf("logtree: the log holds %d events, not %d: %w", last.Size, size, sekisho.ErrNotFound)
	}
	return first, last, nil
}

// Consistency is the proof that the tree of last extends that of first,
// as lines of base64 hashes, checked before it is handed out.
func (t *Tree) Consistency(ctx context.Context, first, last store.TreeCheckpoint) ([]byte, error) {
	if first.Size == 0 {
		return nil, nil // every log extends the empty one
	}
	var roots [2]Checkpoint
	for i, cp := range []store.TreeCheckpoint{first, last} {
		n, err := note.Open(cp.Note, note.VerifierList(t.verifier))
		if err != nil {
			return nil, fmt.Errorf("logtree: checkpoint at %d: %w", cp.Size, err)
		}
		if roots[i], err = ParseCheckpoint(n.Text); err != nil {
			return nil, err
		}
	}
	proof, err := tlog.ProveTree(last.Size, first.Size, t.hashes(ctx))
	if err != nil {
		return nil, fmt.Errorf("logtree: consistency %d→%d: %w", first.Size, last.Size, err)
	}
	if err := tlog.CheckTree(proof, last.Size, roots[1].Root, first.Size, roots[0].Root); err != nil {
		return nil, fmt.Errorf("logtree: consistency %d→%d: %w", first.Size, last.Size, ErrInconsistent)
	}
	var out []byte
	for _, h := range proof {
		out = append(out, base64.StdEncoding.EncodeToString(h[:])...)
		out = append(out, '\n')
	}
	return out, nil
}
