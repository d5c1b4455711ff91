package site_test

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/sekisho/sekisho/controller/cli"
	"github.com/sekisho/sekisho/controller/config"
	"github.com/sekisho/sekisho/controller/event"
	"github.com/sekisho/sekisho/controller/site"
	"github.com/sekisho/sekisho/controller/sitekeys"
)

func runCLI(t *testing.T, args ...string) (int, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := cli.Run(context.Background(), args, &out, &errOut)
	return code, out.String() + errOut.String()
}

// Checkpoints kept by a subscriber on another machine, a backup taken
// while the site runs, a restore: and an insider's cut tail, with the
// outbox's mark edited to match, caught by the kept checkpoints.
func TestBackupRestoreAndCheckpointsKeptElsewhere(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	fast := func(cfg *config.Config) { cfg.Storage.CheckpointEvery = 100 * time.Millisecond }
	ts := startSiteWith(t, func(o *site.Options) { o.DataDir = dir }, fast)

	// The subscriber elsewhere keeps every checkpoint it is sent.
	var mu sync.Mutex
	var kept []event.Checkpoint
	c := paho.NewClient(paho.NewClientOptions().AddBroker(ts.MQTTURL()).SetClientID("keeper"))
	if tok := c.Connect(); !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
		t.Fatal(tok.Error())
	}
	defer c.Disconnect(100)
	c.Subscribe(ts.Config.MQTT.TopicPrefix+"/checkpoints", 1, func(_ paho.Client, m paho.Message) {
		var cp event.Checkpoint
		if json.Unmarshal(m.Payload(), &cp) == nil {
			mu.Lock()
			kept = append(kept, cp)
			mu.Unlock()
		}
	}).WaitTimeout(5 * time.Second)
	keptNow := func() []event.Checkpoint {
		mu.Lock()
		defer mu.Unlock()
		return append([]event.Checkpoint(nil), kept...)
	}

	for i := range 6 {
		ts.swipe("r-press-out", 9, uint64(700+i))
	}
	waitFor(t, "a checkpoint of the swipes", func() bool {
		cs := keptNow()
		return len(cs) > 0 && cs[len(cs)-1].Seq == ts.Store.Head()
	})
	backupFile := filepath.Join(t.TempDir(), "backup.db")
	if code, out := runCLI(t, "backup", backupFile, "--db", ts.db); code != 0 || !strings.Contains(out, "backed up") {
		t.Fatalf("backup: %d %s", code, out)
	}
	backupHead := queryInt(t, backupFile, `SELECT MAX(seq) FROM events`)
	var backedUp []event.Checkpoint
	for _, c := range keptNow() {
		if c.Seq <= backupHead {
			backedUp = append(backedUp, c)
		}
	}
	for i := range 4 {
		ts.swipe("r-press-out", 9, uint64(800+i))
	}
	waitFor(t, "a checkpoint after the backup", func() bool {
		cs := keptNow()
		return cs[len(cs)-1].Seq > backedUp[len(backedUp)-1].Seq
	})
	if err := ts.Stop(); err != nil {
		t.Fatal(err)
	}
	keptFile := filepath.Join(t.TempDir(), "kept.jsonl")
	writeCheckpoints(t, keptFile, keptNow())
	code, pub := runCLI(t, "checkpoints", "key", "--data-dir", dir)
	pub = strings.Fields(pub)[0]
	if code != 0 || len(pub) != 64 {
		t.Fatalf("checkpoints key: %d %s", code, pub)
	}

	// The log as it stands is vouched for by every kept checkpoint.
	if code, out := runCLI(t, "verify", "--db", ts.db, "--checkpoints", keptFile); code != 0 || !strings.Contains(out, "kept checkpoints match") {
		t.Fatalf("verify with kept checkpoints: %d %s", code, out)
	}
	if code, out := runCLI(t, "verify", "--db", ts.db, "--incremental"); code != 0 || !strings.Contains(out, "vouched for by the checkpoint") {
		t.Fatalf("incremental verify: %d %s", code, out)
	}

	// Restore the backup into a new data dir, with the keys: it verifies,
	// the checkpoints up to the backup vouch for it, the later ones say
	// what the restore lost, and the site starts from where it was.
	restored := t.TempDir()
	copyFile(t, backupFile, site.DBPath(restored, ts.Config.Site))
	copyDir(t, sitekeys.Dir(dir), sitekeys.Dir(restored))
	restoredDB := site.DBPath(restored, ts.Config.Site)
	upToBackup := filepath.Join(t.TempDir(), "upto.jsonl")
	writeCheckpoints(t, upToBackup, backedUp)
	if code, out := runCLI(t, "verify", "--db", restoredDB, "--checkpoints", upToBackup, "--key", pub); code != 0 {
		t.Fatalf("verify the restored backup: %d %s", code, out)
	}
	if code, out := runCLI(t, "verify", "--db", restoredDB, "--checkpoints", keptFile, "--key", pub); code != 1 || !strings.Contains(out, "UNVOUCHED") {
		t.Fatalf("the restore lost the events after the backup; verify must say so: %d %s", code, out)
	}
	rs := startSiteWith(t, func(o *site.Options) { o.DataDir = restored })
	waitFor(t, "the restored site to log its start after the backup's events", func() bool { return rs.Store.Head() > backupHead })
	if v, err := rs.Store.Verify(t.Context()); err != nil || !v.OK {
		t.Fatalf("restored site's log: %+v %v", v, err)
	}
	rs.Stop()

	// An insider cuts the tail, checkpoints and outbox mark included: the
	// file alone verifies, the kept checkpoints do not.
	cut := backedUp[0].Seq
	db, err := sql.Open("sqlite3", ts.db)
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{
		`DROP TRIGGER events_append_only_delete`, `DROP TRIGGER checkpoints_append_only_delete`,
		"DELETE FROM events WHERE seq > " + itoaT(cut), "DELETE FROM checkpoints WHERE seq > " + itoaT(cut),
		"UPDATE outbox SET last_seq = " + itoaT(cut),
	} {
		if _, err := db.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	// The Merkle tree still holds the cut events: verify alone catches it.
	if code, out := runCLI(t, "verify", "--db", ts.db); code != 1 || !strings.Contains(out, "TREE TAMPERED") {
		t.Fatalf("a tail cut from the events but not the tree: %d %s", code, out)
	}
	// A thorough insider cuts the tree and its checkpoints too.
	for _, q := range []string{
		`DROP TRIGGER tree_hashes_append_only_delete`, `DROP TRIGGER tree_checkpoints_append_only_delete`, `DROP TRIGGER tree_cosignatures_append_only_delete`,
		"DELETE FROM tree_hashes WHERE id >= " + itoaT(tlog.StoredHashCount(cut)), "UPDATE tree_size SET size = " + itoaT(cut),
		"DELETE FROM tree_cosignatures WHERE size > " + itoaT(cut), "DELETE FROM tree_checkpoints WHERE size > " + itoaT(cut),
	} {
		if _, err := db.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	db.Close()
	if code, out := runCLI(t, "verify", "--db", ts.db); code != 0 {
		t.Fatalf("the cut file alone should verify (that is the attack): %d %s", code, out)
	}
	code, out := runCLI(t, "verify", "--db", ts.db, "--checkpoints", keptFile)
	if code != 1 || !strings.Contains(out, "UNVOUCHED: from seq") || !strings.Contains(out, "cut") {
		t.Fatalf("kept checkpoints must catch the cut tail: %d %s", code, out)
	}
}

func queryInt(t *testing.T, path, q string) int64 {
	t.Helper()
	db, err := sql.Open("sqlite3", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var n int64
	if err := db.QueryRow(q).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func itoaT(n int64) string { b, _ := json.Marshal(n); return string(b) }

func writeCheckpoints(t *testing.T, path string, cps []event.Checkpoint) {
	t.Helper()
	var buf bytes.Buffer
	for _, c := range cps {
		b, _ := json.Marshal(c)
		buf.Write(append(b, '\n'))
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Dir(to), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

func copyDir(t *testing.T, from, to string) {
	t.Helper()
	entries, err := os.ReadDir(from)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		copyFile(t, filepath.Join(from, e.Name()), filepath.Join(to, e.Name()))
	}
}
