package cli

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/sekisho/sekisho/controller/store"
	"github.com/sekisho/sekisho/controller/testtool"
)

// A fill killed with -9 halfway (it writes under a rollback journal for
// speed) leaves a database that opens with its partial history rolled
// back to the last whole batch, chained, indexed, and able to take more.
func TestFillKilledHalfwayLeavesAWholeLog(t *testing.T) {
	bin := testtool.Build(t, "github.com/sekisho/sekisho/controller")
	dir := t.TempDir()
	db := filepath.Join(dir, "hamamatsu-press.db")
	fill := exec.Command(bin, "fill", "--events", "50000000", "--days", "365", "--config", "../../configs/demo-factory.yaml", "--data-dir", dir)
	if err := fill.Start(); err != nil {
		t.Fatal(err)
	}
	killed := false
	t.Cleanup(func() {
		if !killed {
			fill.Process.Kill()
			fill.Wait()
		}
	})
	testtool.WaitFor(t, 2*time.Minute, "the fill well under way", func() bool {
		fi, err := os.Stat(db)
		return err == nil && fi.Size() > 40<<20
	})
	if err := fill.Process.Signal(os.Kill); err != nil {
		t.Fatal(err)
	}
	fill.Wait()
	killed = true

	st, err := store.Open(context.Background(), db, "hamamatsu-press")
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	head := st.Head()
	if head == 0 || head%8192 != 0 {
		t.Fatalf("head %d after the kill: want whole batches of 8192", head)
	}
	v, err := st.Verify(context.Background())
	if err != nil || !v.OK || v.Count != head {
		t.Fatalf("verify after the kill: %+v %v", v, err)
	}
	var indexes int
	if err := st.DB().QueryRow(`SELECT COUNT(*) FROM sqlite_schema WHERE name IN ('events_door', 'events_zone_to', 'events_zone_from',
		'events_type', 'events_person', 'events_hour')`).Scan(&indexes); err != nil || indexes != 6 {
		t.Fatalf("indexes and hour trigger after the kill: %d %v", indexes, err)
	}
	var mode string
	if err := st.DB().QueryRow(`PRAGMA journal_mode`).Scan(&mode); err != nil || mode != "wal" {
		t.Fatalf("journal mode %q %v", mode, err)
	}
	if err := st.Fill(context.Background(), store.FillSpec{Events: 1000, Days: 1, Doors: []store.FillDoor{{ID: "press-door", ZoneFrom: "floor", ZoneTo: "die-press"}}}, nil); err != nil {
		t.Fatal(err)
	}
	if v, err := st.Verify(context.Background()); err != nil || !v.OK || v.Count != head+1000 {
		t.Fatalf("verify after filling on: %+v %v", v, err)
	}
}
