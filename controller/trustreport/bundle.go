package trustreport

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"time"

	"github.com/sekisho/sekisho/controller/logtree"
	"github.com/sekisho/sekisho/controller/store"
)

// Prover makes the proofs a bundle holds: the log's Merkle tree.
type Prover interface {
	Bracket(ctx context.Context, from, to time.Time, size int64, now time.Time) (first, last store.TreeCheckpoint, err error)
	ProofAt(ctx context.Context, seq int64, cp store.TreeCheckpoint) ([]byte, error)
	Consistency(ctx context.Context, first, last store.TreeCheckpoint) ([]byte, error)
	VerifierKey() string
}

// Vouch finds the checkpoints that bracket the report's period and names
// them in the report.
func Vouch(ctx context.Context, r *Report, p Prover, from, to, now time.Time) (first, last store.TreeCheckpoint, err error) {
	seqs := r.Seqs()
	var top int64
	if len(seqs) > 0 {
		top = seqs[len(seqs)-1]
	}
	first, last, err = p.Bracket(ctx, from, to, top, now)
	if err != nil {
		return first, last, err
	}
	r.Proof = &ProofState{VerifierKey: p.VerifierKey(), First: first.Size, Last: last.Size}
	return first, last, nil
}

// WriteBundle writes the zip a customer verifies with standard tools: the
// report (JSON, CSV, printable HTML in both languages), each event it
// rests on with its inclusion proof (C2SP tlog-proof, the event's bytes
// inside), the checkpoints that bracket the period, and the proof that the
// later extends the earlier.
func WriteBundle(ctx context.Context, w io.Writer, r *Report, p Prover, first, last store.TreeCheckpoint) error {
	z := zip.NewWriter(w)
	file := func(name string, b []byte) error {
		f, err := z.Create(name)
		if err == nil {
			_, err = f.Write(b)
		}
		return err
	}
	loc, err := time.LoadLocation(r.TimeZone)
	if err != nil {
		loc = time.UTC
	}
	js, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	if err := file("report.json", js); err != nil {
		return err
	}
	for _, lang := range []string{"ja", "en"} {
		var b bytes.Buffer
		if err := WriteHTML(&b, r, loc, lang); err != nil {
			return err
		}
		if err := file("report-"+lang+".html", b.Bytes()); err != nil {
			return err
		}
	}
	var csv bytes.Buffer
	if err := WriteCSV(&csv, r, loc); err != nil {
		return err
	}
	if err := file("report.csv", csv.Bytes()); err != nil {
		return err
	}
	if first.Size > 0 {
		if err := file(fmt.Sprintf("checkpoints/%d.checkpoint", first.Size), logtree.WithCosignatures(first)); err != nil {
			return err
		}
	}
	if err := file(fmt.Sprintf("checkpoints/%d.checkpoint", last.Size), logtree.WithCosignatures(last)); err != nil {
		return err
	}
	cons, err := p.Consistency(ctx, first, last)
	if err != nil {
		return err
	}
	if first.Size > 0 {
		if err := file(fmt.Sprintf("checkpoints/consistency-%d-%d.txt", first.Size, last.Size), cons); err != nil {
			return err
		}
	}
	for _, seq := range slices.Compact(r.Seqs()) {
		if err := ctx.Err(); err != nil {
			return err
		}
		b, err := p.ProofAt(ctx, seq, last)
		if err != nil {
			return fmt.Errorf("trustreport: proof of event %d: %w", seq, err)
		}
		if err := file(fmt.Sprintf("proofs/event-%d.tlog-proof", seq), b); err != nil {
			return err
		}
	}
	if err := file("VERIFY.txt", verifyNote(r, first, last)); err != nil {
		return err
	}
	return z.Close()
}

func verifyNote(r *Report, first, last store.TreeCheckpoint) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "Sekisho customer report bundle — %s, %s to %s, site %s\n\n", r.Company, r.From, r.To, r.Site)
	fmt.Fprintf(&b, "The site's verifier key (signed-note format):\n  %s\n\n", r.Proof.VerifierKey)
	fmt.Fprintf(&b, "proofs/event-N.tlog-proof: each event the report lists, as c2sp.org/tlog-proof@v1, under the\n")
	fmt.Fprintf(&b, "checkpoint of %d events (checkpoints/%d.checkpoint). Check each with golang.org/x/mod/sumdb/note\n", last.Size, last.Size)
	fmt.Fprintf(&b, "(note.Open with the key above) and golang.org/x/mod/sumdb/tlog (tlog.CheckRecord of the event's\n")
	fmt.Fprintf(&b, "bytes, the proof's extra data); the README of Sekisho has a 30-line program that does it.\n\n")
	if first.Size > 0 {
		fmt.Fprintf(&b, "checkpoints/consistency-%d-%d.txt: tlog.CheckTree(proof, %d, root of the later, %d, root of the\n", first.Size, last.Size, last.Size, first.Size)
		fmt.Fprintf(&b, "earlier) shows the log only grew between the checkpoint before the period and the one after it.\n")
	} else {
		fmt.Fprintf(&b, "No checkpoint was signed before the period: the log is vouched for from its start.\n")
	}
	fmt.Fprintf(&b, "\n%s\n", "A checkpoint you countersigned or kept from earlier is checked the same way against the later one.")
	return b.Bytes()
}
