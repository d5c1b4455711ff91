package trustreport_test

import (
	"archive/zip"
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/sekisho/sekisho/controller/config"
	"github.com/sekisho/sekisho/controller/event"
	"github.com/sekisho/sekisho/controller/logtree"
	"github.com/sekisho/sekisho/controller/store"
	"github.com/sekisho/sekisho/controller/trustreport"
)

// The bundle's checkpoints bracket the period, and its consistency proof
// shows with tlog alone that the log only grew between them.
func TestBundleProvesTheLogGrewOverThePeriod(t *testing.T) {
	cfg, err := config.Load("../../configs/demo-factory.yaml")
	if err != nil {
		t.Fatal(err)
	}
	st, err := store.Open(t.Context(), filepath.Join(t.TempDir(), "b.db"), cfg.Site)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	_, key, _ := ed25519.GenerateKey(rand.Reader)
	tree, err := logtree.New(st, "sekisho/"+cfg.Site, key, nil, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	day := time.Date(2026, 11, 2, 0, 0, 0, 0, cfg.Location)
	h := &history{t: t, st: st, day: day.AddDate(0, 0, -1)}
	h.add("7h", event.Event{Type: event.AssetRegistered, ZoneTo: "die-press", Actor: "config", Detail: map[string]string{"asset": "die-a-100", "owner": "Toyo Auto", "source": "config"}})
	for i := range 40 {
		h.add(fmt.Sprintf("%dm", 8*60+i), event.Event{Type: event.AccessGranted, Door: "press-door", ZoneFrom: "floor", ZoneTo: "die-press", Person: person("p-1", "Sato", "employee", "")})
	}
	// The checkpoint of the evening before the period.
	if _, _, err := tree.Sign(t.Context(), day.Add(-time.Hour)); err != nil {
		t.Fatal(err)
	}
	h.day = day
	for i := range 25 {
		h.add(fmt.Sprintf("%dm", 9*60+i), event.Event{Type: event.AccessGranted, Door: "press-door", ZoneFrom: "floor", ZoneTo: "die-press", Person: person("p-2", "Kato", "employee", "")})
	}
	q := trustreport.Query{Company: "Toyo Auto", From: day, To: day.AddDate(0, 0, 1)}
	now := day.AddDate(0, 0, 2)
	r, err := trustreport.Build(t.Context(), cfg, st, q, now)
	if err != nil {
		t.Fatal(err)
	}
	first, last, err := trustreport.Vouch(t.Context(), r, tree, q.From, q.To, now)
	if err != nil {
		t.Fatal(err)
	}
	if first.Size != 41 || last.Size != 66 || len(r.Entries) != 25 {
		t.Fatalf("checkpoints %d → %d, %d entries", first.Size, last.Size, len(r.Entries))
	}
	var buf bytes.Buffer
	if err := trustreport.WriteBundle(t.Context(), &buf, r, tree, first, last); err != nil {
		t.Fatal(err)
	}
	files := map[string][]byte{}
	z, err := zip.NewReader(bytes.NewReader(buf.Bytes()), int64(buf.Len()))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range z.File {
		rc, _ := f.Open()
		files[f.Name], _ = io.ReadAll(rc)
		rc.Close()
	}
	v, _ := note.NewVerifier(tree.VerifierKey())
	root := func(name string) tlog.Hash {
		n, err := note.Open(files[name], note.VerifierList(v))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		b, _ := base64.StdEncoding.DecodeString(strings.Split(n.Text, "\n")[2])
		return tlog.Hash(b)
	}
	var proof tlog.TreeProof
	for _, l := range strings.Fields(string(files["checkpoints/consistency-41-66.txt"])) {
		b, _ := base64.StdEncoding.DecodeString(l)
		proof = append(proof, tlog.Hash(b))
	}
	if err := tlog.CheckTree(proof, 66, root("checkpoints/66.checkpoint"), 41, root("checkpoints/41.checkpoint")); err != nil {
		t.Fatalf("consistency: %v (%d hashes)", err, len(proof))
	}
	for _, name := range []string{"report.json", "report.csv", "report-ja.html", "report-en.html", "VERIFY.txt", "proofs/event-42.tlog-proof"} {
		if len(files[name]) == 0 {
			t.Errorf("%s missing", name)
		}
	}
	if !bytes.Contains(files["report-ja.html"], []byte("証明できないこと")) || bytes.Contains(files["report-en.html"], []byte("<script")) {
		t.Error("the printable report")
	}
}
