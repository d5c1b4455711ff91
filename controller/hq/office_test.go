package hq_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/sekisho/sekisho/controller/event"
	"github.com/sekisho/sekisho/controller/hq/ledger"
	"github.com/sekisho/sekisho/controller/logtree"
	"github.com/sekisho/sekisho/controller/testtool"
)

// seqsOf lists the seqs head office holds for a site, in order, and
// whether each is there once.
func (o *office) seqsOf(id string) (n, distinct, max int64) {
	o.t.Helper()
	err := o.ledger.Pool().QueryRow(context.Background(), `SELECT count(*), count(DISTINCT seq), COALESCE(max(seq), 0) FROM events WHERE site = $1`, id).Scan(&n, &distinct, &max)
	if err != nil {
		o.t.Fatal(err)
	}
	return n, distinct, max
}

// Two plants and head office: swipes at both arrive in order, checked and
// countersigned, and the countersignature is kept at the plant; one
// plant's line cut for a thousand events loses nothing and doubles
// nothing once it is back.
func TestTwoPlantsReachHeadOffice(t *testing.T) {
	t.Parallel()
	hq := newOffice(t)
	a, b := hq.startPlant("plant-a"), hq.startPlant("plant-b")
	hq.run(hq.config(a, b), "hq-1")
	for i := range 5 {
		a.swipe(uint64(100 + i))
		b.swipe(uint64(200 + i))
	}
	for _, p := range []*plant{a, b} {
		head := p.Store.Head()
		testtool.WaitFor(t, 60*time.Second, p.id+"'s swipes verified and countersigned at head office", func() bool {
			st := hq.status(p.id)
			return st.HeadSeq >= head && st.VerifiedSeq >= head && st.CosignedSize >= head
		})
		n, distinct, max := hq.seqsOf(p.id)
		if n != distinct || n != max {
			t.Fatalf("%s: %d events, %d seqs, up to %d", p.id, n, distinct, max)
		}
	}
	// The plant keeps head office's countersignature with its checkpoint.
	testtool.WaitFor(t, 30*time.Second, "plant-a to keep head office's countersignature", func() bool {
		var n int
		_ = a.Store.DB().QueryRow(`SELECT count(*) FROM tree_cosignatures WHERE name = 'hq.example'`).Scan(&n)
		return n > 0
	})

	// plant-b's line is cut for a thousand events.
	b.link.setCut(true)
	for i := range 1000 {
		b.enrol(fmt.Sprintf("Worker %d", i))
	}
	a.swipe(999)
	headB := b.Store.Head()
	if st := hq.status("plant-b"); st.HeadSeq >= headB {
		t.Fatalf("head office has %d of plant-b's events while its line was cut", st.HeadSeq)
	}
	b.link.setCut(false)
	if !testtool.Until(120*time.Second, func() bool {
		st := hq.status("plant-b")
		return st.HeadSeq >= headB && st.VerifiedSeq >= headB
	}) {
		t.Fatalf("plant-b's thousand events not verified at head office: %+v, the plant's head %d", hq.status("plant-b"), headB)
	}
	n, distinct, max := hq.seqsOf("plant-b")
	if n != distinct || n != max || max < headB {
		t.Fatalf("plant-b after the outage: %d events, %d seqs, up to %d (the plant's head %d)", n, distinct, max, headB)
	}
	for _, kind := range []string{ledger.AlarmFork, ledger.AlarmRefused, ledger.AlarmBadSig} {
		if hq.alarm("plant-b", kind) {
			t.Fatalf("alarm %s after an outage", kind)
		}
	}
}

// An event forged in a plant's name on the head-office broker — well
// formed, hashing, linking to the head — is refused once the plant's own
// signed checkpoint contradicts it, and an alarm says so; a checkpoint
// the plant's key did not sign is an alarm and changes nothing.
func TestForgedEventIsRefused(t *testing.T) {
	t.Parallel()
	hq := newOffice(t)
	a := hq.startPlant("plant-a")
	hq.run(hq.config(a), "hq-1")
	a.swipe(1)
	head := a.Store.Head()
	testtool.WaitFor(t, 60*time.Second, "the plant's events at head office", func() bool { return hq.status("plant-a").VerifiedSeq >= head })

	var headHash string
	if err := hq.ledger.Pool().QueryRow(context.Background(), `SELECT head_hash FROM sites WHERE id = 'plant-a'`).Scan(&headHash); err != nil {
		t.Fatal(err)
	}
	st := hq.status("plant-a")
	forged := event.Event{ID: "forged", Seq: st.HeadSeq + 1, Time: time.Now().UTC(), Site: "plant-a", Type: event.AccessGranted,
		Door: "press-door", Person: &event.Person{ID: "p-x", Name: "Mallory", Kind: "employee"}}
	body, _ := forged.Canonical()
	hash := event.ChainHash(headHash, body)
	payload := append(body[:len(body)-1:len(body)-1], fmt.Sprintf(`,"prev_hash":"%s","hash":"%s"}`, headHash, hash)...)
	hq.publish("sekisho/plant-a/events", payload)
	// A checkpoint signed with another key, in the plant's name.
	cp := event.SignCheckpoint(otherKey(t), "plant-a", st.HeadSeq+1, hash, time.Now())
	cpb, _ := json.Marshal(cp)
	hq.publish("sekisho/plant-a/checkpoints", cpb)
	testtool.WaitFor(t, 30*time.Second, "a bad_signature alarm", func() bool { return hq.alarm("plant-a", ledger.AlarmBadSig) })

	a.swipe(2)
	head = a.Store.Head()
	testtool.WaitFor(t, 60*time.Second, "the plant's own events to replace the forged one", func() bool {
		st := hq.status("plant-a")
		return st.VerifiedSeq >= head
	})
	var n int
	if err := hq.ledger.Pool().QueryRow(context.Background(), `SELECT count(*) FROM events WHERE body::text LIKE '%Mallory%'`).Scan(&n); err != nil || n != 0 {
		t.Fatalf("the forged event is in head office's copy (%d) %v", n, err)
	}
	testtool.WaitFor(t, 30*time.Second, "the forged event refused", func() bool {
		var reason string
		err := hq.ledger.Pool().QueryRow(context.Background(), `SELECT reason FROM refused WHERE site = 'plant-a' AND hash = $1`, hash).Scan(&reason)
		// Refused when the plant's checkpoint after it came, or at once if
		// one had already covered its seq when it arrived.
		return err == nil && (reason == "contradicted_by_checkpoint" || reason == "contradicts_signed_chain")
	})
	if !hq.alarm("plant-a", ledger.AlarmRefused) {
		t.Fatal("no alarm for the refused event")
	}
}

// A plant whose log was cut and chained again with its own key — an
// insider with the key — gets no countersignature: head office raises a
// fork and says which seq it last vouched for.
func TestRechainedLogIsAForkAndNotCountersigned(t *testing.T) {
	t.Parallel()
	hq := newOffice(t)
	a := hq.startPlant("plant-a")
	hq.run(hq.config(a), "hq-1")
	for i := range 3 {
		a.swipe(uint64(i))
	}
	head := a.Store.Head()
	testtool.WaitFor(t, 60*time.Second, "the plant's events countersigned", func() bool { return hq.status("plant-a").CosignedSize >= head })
	vouched := hq.status("plant-a").CosignedSize

	// The insider's history: the same seqs, other events, signed with the
	// plant's own key, both kinds of checkpoint.
	prev := event.GenesisHash
	var bodies [][]byte
	for seq := int64(1); seq <= vouched+2; seq++ {
		ev := event.Event{ID: fmt.Sprintf("rewritten-%d", seq), Seq: seq, Time: time.Now().UTC(), Site: "plant-a", Type: event.SystemStarted}
		body, _ := ev.Canonical()
		h := event.ChainHash(prev, body)
		hq.publish("sekisho/plant-a/events", append(body[:len(body)-1:len(body)-1], fmt.Sprintf(`,"prev_hash":"%s","hash":"%s"}`, prev, h)...))
		bodies, prev = append(bodies, body), h
	}
	cp := event.SignCheckpoint(a.key, "plant-a", vouched+2, prev, time.Now())
	signer, _, _, err := logtree.NoteKeys("sekisho/plant-a", a.key)
	if err != nil {
		t.Fatal(err)
	}
	root := rootOf(t, bodies)
	text := logtree.Checkpoint{Origin: "sekisho/plant-a", Size: int64(len(bodies)), Root: root}.Body()
	signed, err := note.Sign(&note.Note{Text: text}, signer)
	if err != nil {
		t.Fatal(err)
	}
	cp.Note = string(signed)
	b, _ := json.Marshal(cp)
	hq.publish("sekisho/plant-a/checkpoints", b)
	testtool.WaitFor(t, 30*time.Second, "a fork alarm", func() bool { return hq.alarm("plant-a", ledger.AlarmFork) })
	var cosigned int
	rootText := strings.Split(text, "\n")[2]
	if err := hq.ledger.Pool().QueryRow(context.Background(), `SELECT count(*) FROM cosignatures WHERE site = 'plant-a' AND note LIKE '%' || $1 || '%'`, rootText).Scan(&cosigned); err != nil || cosigned != 0 {
		t.Fatalf("head office countersigned the rewritten tree (%d) %v", cosigned, err)
	}
	if st := hq.status("plant-a"); st.CosignedSize < vouched {
		t.Fatalf("head office says it vouched for %d, after %d", st.CosignedSize, vouched)
	}
	var n int
	if err := hq.ledger.Pool().QueryRow(context.Background(), `SELECT count(*) FROM events WHERE site = 'plant-a' AND body::text LIKE '%rewritten%'`).Scan(&n); err != nil || n != 0 {
		t.Fatalf("the rewritten events are in head office's copy (%d) %v", n, err)
	}
}

// Two head-office processes on one database and one broker hold each
// event once and countersign each checkpoint once.
func TestTwoHeadOfficeProcesses(t *testing.T) {
	t.Parallel()
	hq := newOffice(t)
	a := hq.startPlant("plant-a")
	cfg := hq.config(a)
	hq.run(cfg, "hq-1")
	hq.run(cfg, "hq-2")
	for i := range 50 {
		a.enrol(fmt.Sprintf("Worker %d", i))
	}
	head := a.Store.Head()
	testtool.WaitFor(t, 60*time.Second, "the plant's events countersigned", func() bool { return hq.status("plant-a").CosignedSize >= head })
	n, distinct, max := hq.seqsOf("plant-a")
	if n != distinct || n != max {
		t.Fatalf("%d events, %d seqs, up to %d", n, distinct, max)
	}
	var dup int
	if err := hq.ledger.Pool().QueryRow(context.Background(), `SELECT count(*) FROM (SELECT size FROM cosignatures GROUP BY site, size HAVING count(*) > 1) d`).Scan(&dup); err != nil || dup != 0 {
		t.Fatalf("%d sizes countersigned twice: %v", dup, err)
	}
}

// otherKey is a key that is not the plant's.
func otherKey(t *testing.T) ed25519.PrivateKey {
	t.Helper()
	_, k, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// rootOf is the tree root of the events' bytes, made apart.
func rootOf(t *testing.T, bodies [][]byte) tlog.Hash {
	t.Helper()
	var stored []tlog.Hash
	r := tlog.HashReaderFunc(func(ids []int64) ([]tlog.Hash, error) {
		out := make([]tlog.Hash, len(ids))
		for i, id := range ids {
			out[i] = stored[id]
		}
		return out, nil
	})
	for i, b := range bodies {
		hs, err := tlog.StoredHashes(int64(i), b, r)
		if err != nil {
			t.Fatal(err)
		}
		stored = append(stored, hs...)
	}
	h, err := tlog.TreeHash(int64(len(bodies)), r)
	if err != nil {
		t.Fatal(err)
	}
	return h
}
