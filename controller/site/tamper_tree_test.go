package site_test

import (
	"database/sql"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/tlog"

	"github.com/sekisho/sekisho/controller/config"
	"github.com/sekisho/sekisho/controller/event"
	"github.com/sekisho/sekisho/controller/sekisho"
)

// An insider rewrites an event under the running site and rebuilds the
// tree from it: the site signs no checkpoint over that, and the guards get
// a log_inconsistent alarm.
func TestRewrittenLogGetsNoCheckpointAndAnAlarm(t *testing.T) {
	t.Parallel()
	ts := startSite(t, "", func(cfg *config.Config) { cfg.Storage.CheckpointEvery = 200 * time.Millisecond })
	live := ts.stream()
	for i := range 5 {
		ts.swipe("r-press-out", 9, uint64(600+i))
	}
	waitFor(t, "a checkpoint of the swipes", func() bool {
		cp, ok, err := ts.Store.LastTreeCheckpoint(t.Context())
		return err == nil && ok && cp.Size >= 5
	})
	db, err := sql.Open("sqlite3", ts.db)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, q := range []string{
		`DROP TRIGGER events_append_only_update`, `DROP TRIGGER tree_hashes_append_only_delete`,
		`UPDATE events SET body = replace(body, '"site":"hamamatsu-press"', '"site":"hamamatsu-presz"') WHERE seq = 3`,
		fmt.Sprintf(`DELETE FROM tree_hashes WHERE id >= %d`, tlog.StoredHashCount(2)),
		`UPDATE tree_size SET size = 2`,
	} {
		if _, err := db.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	ts.swipe("r-press-out", 9, 700) // life goes on; the tree is built again
	ev := await(t, live, "a log_inconsistent alarm", isType(event.AlarmRaised, func(ev event.Event) bool {
		return ev.Detail["kind"] == string(sekisho.AlarmLogInconsistent)
	}))
	if !strings.Contains(ev.Detail["detail"], "not the one signed") {
		t.Errorf("alarm says %q", ev.Detail["detail"])
	}
	signed, _, _ := ts.Store.LastTreeCheckpoint(t.Context())
	// Nothing newer than the last honest checkpoint was signed.
	waitFor(t, "the tree level with the log again", func() bool { return ts.Store.TreeLag() == 0 })
	ts.swipe("r-press-out", 9, 701)
	await(t, live, "another swipe", isType(event.AccessDenied, func(ev event.Event) bool { return ev.Credential != nil && ev.Credential.Number == 701 }))
	waitFor(t, "the tree level with the log once more", func() bool { return ts.Store.TreeLag() == 0 })
	if after, _, _ := ts.Store.LastTreeCheckpoint(t.Context()); after.Size != signed.Size {
		t.Fatalf("a checkpoint of %d was signed over the rewritten log (last honest: %d)", after.Size, signed.Size)
	}
}

// A proof that needs a checkpoint signed first, asked while something
// holds the database's write lock: a prompt 503 that says so, and the
// proof once the lock is gone.
func TestProofWhileTheDatabaseIsLocked(t *testing.T) {
	t.Parallel()
	ts := startSite(t, "")
	live := ts.stream()
	if code, _ := ts.raw("GET", "/log/checkpoint", nil, ""); code != http.StatusOK {
		t.Fatalf("checkpoint: %d", code)
	}
	ts.swipe("r-press-out", 9, 800)
	ev := await(t, live, "the swipe", isType(event.AccessDenied, func(ev event.Event) bool { return ev.Credential != nil && ev.Credential.Number == 800 }))
	waitFor(t, "the swipe's leaf", func() bool { return ts.Store.TreeLag() == 0 })
	db, err := sql.Open("sqlite3", ts.db)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	conn, err := db.Conn(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := conn.ExecContext(t.Context(), `BEGIN IMMEDIATE`); err != nil {
		t.Fatal(err)
	}
	path := fmt.Sprintf("/api/log/proof?seq=%d", ev.Seq)
	started := time.Now()
	code, word, _ := ts.refusal(t, "GET", path, "", "")
	if code != http.StatusServiceUnavailable || word != "storage_busy" {
		t.Fatalf("proof under a held lock: %d %s", code, word)
	}
	t.Logf("answered in %s", time.Since(started).Round(time.Millisecond))
	conn.ExecContext(t.Context(), `ROLLBACK`)
	conn.Close()
	if code, b := ts.raw("GET", path, nil, ""); code != http.StatusOK || !strings.HasPrefix(string(b), "c2sp.org/tlog-proof@v1\n") {
		t.Fatalf("proof after the lock: %d %.100s", code, b)
	}
}
