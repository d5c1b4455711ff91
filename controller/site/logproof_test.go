package site_test

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"
	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"

	tnote "github.com/transparency-dev/formats/note"
	"github.com/transparency-dev/formats/proof"

	"github.com/sekisho/sekisho/controller/config"
	"github.com/sekisho/sekisho/controller/event"
	"github.com/sekisho/sekisho/controller/logtree"
	"github.com/sekisho/sekisho/controller/site"
)

// auditor reads the log as a customer's auditor would: with a token of
// its own and nothing but the site's verifier key.
type auditor struct {
	t     *testing.T
	base  string
	token string
}

func (a auditor) get(path string) (int, []byte) {
	a.t.Helper()
	return a.do("GET", path, nil)
}

func (a auditor) do(method, path string, body []byte) (int, []byte) {
	a.t.Helper()
	req, _ := http.NewRequest(method, a.base+path, bytes.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+a.token)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		a.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, b
}

func (a auditor) Height() int { return 8 }
func (a auditor) ReadTiles(ts []tlog.Tile) ([][]byte, error) {
	var out [][]byte
	for _, tile := range ts {
		p := strings.Replace(tile.Path(), "tile/8/", "tile/", 1)
		code, b := a.get("/log/" + p)
		if code != http.StatusOK {
			return nil, fmt.Errorf("%s: %d %s", p, code, b)
		}
		out = append(out, b)
	}
	return out, nil
}
func (auditor) SaveTiles([]tlog.Tile, [][]byte) {}

// The log a customer checks with standard tools, through the running
// controller: the verifier key from the command line, the checkpoint and
// tiles with an auditor's token (which reads nothing else), a proof from
// the API and from the command line, and a countersignature kept and
// served.
func TestCustomerChecksTheLogWithStandardTools(t *testing.T) {
	t.Parallel()
	skey, plain, err := note.GenerateKey(rand.Reader, "customer.example/witness")
	if err != nil {
		t.Fatal(err)
	}
	witnessKey, _ := tnote.VKeyToCosignatureV1(plain)
	dir := t.TempDir()
	ts := startSiteWith(t, func(o *site.Options) { o.DataDir = dir }, func(cfg *config.Config) {
		cfg.Storage.Witnesses = []string{witnessKey}
		cfg.Storage.CheckpointEvery = 200 * time.Millisecond
	})
	var mu sync.Mutex
	var heard []event.Checkpoint
	c := paho.NewClient(paho.NewClientOptions().AddBroker(ts.MQTTURL()).SetClientID("keeper-" + t.Name()))
	if tok := c.Connect(); !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
		t.Fatal(tok.Error())
	}
	defer c.Disconnect(100)
	c.Subscribe(ts.Config.MQTT.TopicPrefix+"/checkpoints", 1, func(_ paho.Client, m paho.Message) {
		var cp event.Checkpoint
		if jsonErr := json.Unmarshal(m.Payload(), &cp); jsonErr == nil {
			mu.Lock()
			heard = append(heard, cp)
			mu.Unlock()
		}
	}).WaitTimeout(5 * time.Second)
	for i := range 5 {
		ts.swipe("r-press-out", 9, uint64(900+i))
	}

	code, out := runCLI(t, "checkpoints", "key", "--data-dir", dir, "--origin", "sekisho/"+ts.Config.Site)
	lines := strings.Fields(out)
	if code != 0 || len(lines) < 2 || !strings.HasPrefix(lines[1], "sekisho/"+ts.Config.Site+"+") {
		t.Fatalf("checkpoints key: %d %q", code, out)
	}
	siteKey, err := note.NewVerifier(lines[1])
	if err != nil {
		t.Fatal(err)
	}
	code, out = runCLI(t, "token", "create", "--role", "auditor", "--label", "customer audit", "--db", ts.db)
	if code != 0 {
		t.Fatalf("auditor token: %s", out)
	}
	aud := auditor{t: t, base: ts.base, token: strings.TrimSpace(strings.Split(out, "\n")[0])}

	// The auditor's token reads the log's proofs and nothing else.
	for _, p := range []string{"/api/events", "/api/people", "/api/doors", "/api/stream", "/api/me"} {
		if code, _ := aud.get(p); code != http.StatusForbidden {
			t.Errorf("auditor token on %s: %d", p, code)
		}
	}
	if code, _, _ := ts.refusal(t, "GET", "/log/checkpoint", "", guardToken(t, ts)); code != http.StatusForbidden {
		t.Errorf("a guard read the log's checkpoint: %d", code)
	}
	if code, _ := (auditor{t: t, base: ts.base}).get("/log/checkpoint"); code != http.StatusUnauthorized {
		t.Errorf("no token: %d", code)
	}

	var size int64
	var root tlog.Hash
	var signed []byte
	waitFor(t, "a checkpoint covering the swipes", func() bool {
		code, b := aud.get("/log/checkpoint")
		if code != http.StatusOK {
			t.Fatalf("checkpoint: %d %s", code, b)
		}
		n, err := note.Open(b, note.VerifierList(siteKey))
		if err != nil {
			t.Fatalf("checkpoint does not verify: %v\n%s", err, b)
		}
		f := strings.Split(n.Text, "\n")
		fmt.Sscan(f[1], &size)
		r, _ := base64.StdEncoding.DecodeString(f[2])
		root, signed = tlog.Hash(r), b
		if f[0] != "sekisho/"+ts.Config.Site {
			t.Fatalf("origin %q", f[0])
		}
		return size >= 5
	})
	// Every hash tile up to the checkpoint, checked by tlog against it.
	if got, err := tlog.TreeHash(size, tlog.TileHashReader(tlog.Tree{N: size, Hash: root}, aud)); err != nil || got != root {
		t.Fatalf("tiles: %x %v", got, err)
	}

	// A proof from the API, checked with tlog alone.
	for _, seq := range []int64{1, size} {
		code, b := aud.get(fmt.Sprintf("/api/log/proof?seq=%d", seq))
		if code != http.StatusOK {
			t.Fatalf("proof %d: %d %s", seq, code, b)
		}
		checkProof(t, b, siteKey)
	}
	if code, _ := aud.get("/api/log/proof?seq=abc"); code != http.StatusBadRequest {
		t.Errorf("bad seq: %d", code)
	}
	if code, _ := aud.get("/api/log/proof?seq=99999999"); code != http.StatusNotFound {
		t.Errorf("seq past the log: %d", code)
	}
	if code, _ := aud.get("/log/tile/0/999.p/3"); code != http.StatusNotFound {
		t.Errorf("tile past the checkpoint: %d", code)
	}
	if code, _ := aud.get("/log/tile/zz"); code != http.StatusBadRequest {
		t.Errorf("bad tile: %d", code)
	}

	// The customer countersigns; the site keeps it and serves it.
	signer, _ := tnote.NewSignerForCosignatureV1(skey)
	n, err := note.Open(signed, note.VerifierList(siteKey))
	if err != nil {
		t.Fatal(err)
	}
	cosigned, _ := note.Sign(&note.Note{Text: n.Text, Sigs: n.Sigs}, signer)
	if code, b := aud.do("POST", "/log/cosignature", cosigned); code != http.StatusOK {
		t.Fatalf("cosignature: %d %s", code, b)
	}
	if code, b := aud.do("POST", "/log/cosignature", signed); code != http.StatusBadRequest {
		t.Fatalf("a checkpoint with no cosignature was taken: %d %s", code, b)
	}

	// The command line writes the same proofs; the MQTT checkpoint carries
	// the note.
	file := filepath.Join(t.TempDir(), "e.tlog-proof")
	if code, out := runCLI(t, "proof", "--seq", "2", "--out", file, "--db", ts.db, "--data-dir", dir, "--origin", "sekisho/"+ts.Config.Site); code != 0 {
		t.Fatalf("proof: %s", out)
	}
	b, _ := os.ReadFile(file)
	checkProof(t, b, siteKey)
	waitFor(t, "a checkpoint on MQTT with its note", func() bool {
		mu.Lock()
		defer mu.Unlock()
		for _, cp := range heard {
			if _, err := note.Open([]byte(cp.Note), note.VerifierList(siteKey)); err == nil {
				return true
			}
		}
		return false
	})
	// Kept with the checkpoint it is on (the site may have signed a newer
	// one since, which the customer has not countersigned).
	kept, err := ts.Store.TreeCheckpointAt(t.Context(), size)
	if err != nil {
		t.Fatal(err)
	}
	b = logtree.WithCosignatures(kept)
	wv, _ := tnote.NewVerifierForCosignatureV1(witnessKey)
	if n, err := note.Open(b, note.VerifierList(siteKey, wv)); err != nil || len(n.Sigs) != 2 {
		t.Fatalf("the countersigned checkpoint as kept: %v\n%s", err, b)
	}
}

func checkProof(t *testing.T, b []byte, siteKey note.Verifier) {
	t.Helper()
	var p proof.TLogProof
	if err := p.Unmarshal(b); err != nil {
		t.Fatalf("proof: %v\n%s", err, b)
	}
	n, err := note.Open(p.Checkpoint, note.VerifierList(siteKey))
	var unverified *note.UnverifiedNoteError
	if err != nil && !errors.As(err, &unverified) {
		t.Fatalf("proof's checkpoint: %v", err)
	}
	if err != nil {
		t.Fatalf("proof's checkpoint is not the site's: %v", err)
	}
	f := strings.Split(n.Text, "\n")
	var size int64
	fmt.Sscan(f[1], &size)
	r, _ := base64.StdEncoding.DecodeString(f[2])
	path := make(tlog.RecordProof, len(p.Hashes))
	for i, h := range p.Hashes {
		path[i] = h
	}
	if err := tlog.CheckRecord(path, size, tlog.Hash(r), int64(p.Index), tlog.RecordHash(p.ExtraData)); err != nil {
		t.Fatalf("proof of %d does not hold: %v", p.Index+1, err)
	}
	if !bytes.Contains(p.ExtraData, fmt.Appendf(nil, `"seq":%d,`, p.Index+1)) {
		t.Fatalf("the proof's event is not event %d: %s", p.Index+1, p.ExtraData)
	}
}

func guardToken(t *testing.T, ts *testSite) string {
	t.Helper()
	code, out := runCLI(t, "token", "create", "--role", "guard", "--db", ts.db)
	if code != 0 {
		t.Fatalf("guard token: %s", out)
	}
	return strings.TrimSpace(strings.Split(out, "\n")[0])
}
