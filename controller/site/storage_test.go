package site_test

import (
	"database/sql"
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/sekisho/sekisho/controller/config"
	"github.com/sekisho/sekisho/controller/event"
	"github.com/sekisho/sekisho/controller/journal"
	"github.com/sekisho/sekisho/controller/sekisho"
	"github.com/sekisho/sekisho/controller/site"
)

// A full card: every event is held in memory, in order, and logged once
// there is room; the guards hear of it at once on the board and over MQTT,
// and health says so. Nothing gets a seq out of order, nothing is lost.
func TestFullDiskLosesNothingAndSaysSoAtOnce(t *testing.T) {
	t.Parallel()
	card := filepath.Join(t.TempDir(), "card")
	if err := os.Mkdir(card, 0o755); err != nil {
		t.Fatal(err)
	}
	mounted := os.Getenv("SEKISHO_NO_MOUNT") == "" && exec.Command("mount", "-t", "tmpfs", "-o", "size=24m", "tmpfs", card).Run() == nil
	if mounted {
		t.Cleanup(func() { exec.Command("umount", "-l", card).Run() })
	} else {
		t.Log("mounting a small tmpfs is refused here: the store is filled by its page limit instead")
	}
	ts := startSiteWith(t, func(o *site.Options) {
		o.DataDir = card
		o.FreeSpace = site.DiskSpace
		o.FreeSpaceEvery = 100 * time.Millisecond
	}, func(cfg *config.Config) {
		cfg.Storage.MinFreeMB, cfg.Storage.MinFreePercent = 1, 1
	})
	alarms := subscribe(t, ts.MQTTURL(), ts.Config.MQTT.TopicPrefix+"/alarms")
	before := ts.Store.Head()

	// Fill the card; the log's write-ahead file first cut to nothing, so
	// the next append needs room the card no longer has.
	var filler string
	if mounted {
		if _, err := ts.Store.DB().Exec(`PRAGMA wal_checkpoint(TRUNCATE)`); err != nil {
			t.Fatal(err)
		}
		filler = filepath.Join(card, "filler")
		f, err := os.Create(filler)
		if err != nil {
			t.Fatal(err)
		}
		chunk := make([]byte, 64<<10)
		for {
			if _, err := f.Write(chunk); err != nil {
				if !errors.Is(err, syscall.ENOSPC) {
					t.Fatal(err)
				}
				break
			}
		}
		f.Close()
	} else {
		var pages int64
		ts.Store.DB().QueryRow(`PRAGMA page_count`).Scan(&pages)
		if err := ts.Store.LimitPages(t.Context(), pages); err != nil {
			t.Fatal(err)
		}
	}

	// A door forced open, and a few comings and goings, while nothing can
	// be written.
	forcedAt := time.Now()
	ts.call("POST", "/api/sim/doors/press-door/contact", map[string]any{"open": true}, nil)
	for i := range 20 {
		ts.swipe("r-press-out", 9, uint64(900+i))
	}

	health := func() (int, journal.Health) {
		res, err := http.Get(ts.base + "/api/health")
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		var h struct{ Storage journal.Health }
		json.NewDecoder(res.Body).Decode(&h)
		return res.StatusCode, h.Storage
	}
	waitFor(t, "health to answer 503", func() bool { code, _ := health(); return code == http.StatusServiceUnavailable })
	code, h := health()
	if h.OK || !strings.Contains(h.Reason, "full") {
		t.Fatalf("health %d %+v: want the reason", code, h)
	}
	// Over MQTT at once, not through the log that is failing. (The watch
	// of free space may say first that the disk is nearly full: that is
	// another storage alarm; this one says the log cannot be written.)
	got := await(t, alarms, "storage alarm over MQTT", func(ev event.Event) bool {
		return ev.Type == event.AlarmRaised && ev.Detail["kind"] == "storage" && strings.Contains(ev.Detail["detail"], "full")
	})
	if got.Seq != 0 || !strings.Contains(got.Detail["detail"], "full") {
		t.Fatalf("storage alarm over MQTT: %+v", got)
	}
	// On the board: the storage alarm and the forced door, from memory.
	var board []sekisho.Alarm
	waitFor(t, "storage and forced alarms on the board", func() bool {
		ts.call("GET", "/api/alarms", nil, &board)
		kinds := map[string]bool{}
		for _, a := range board {
			kinds[string(a.Kind)] = true
		}
		return kinds["storage"] && kinds["forced"]
	})

	// The manager's log answers while the card is full: its own audit
	// waits in memory with the rest instead of holding the page.
	var page []event.Event
	if code := ts.call("GET", "/api/events?door=press-door&limit=5", nil, &page); code != http.StatusOK {
		t.Fatalf("the manager's log while the card is full: %d", code)
	}
	if code, _ := health(); code != http.StatusServiceUnavailable {
		t.Fatal("the card had room again before the page answered: the test proved nothing")
	}

	// Room again.
	if mounted {
		os.Remove(filler)
	} else if err := ts.Store.LimitPages(t.Context(), 0); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "health to answer 200", func() bool { code, _ := health(); return code == http.StatusOK })
	var forced, swipes, storage []event.Event
	waitFor(t, "the held events in the log", func() bool {
		ts.call("GET", "/api/events?type=door.forced", nil, &forced)
		ts.call("GET", "/api/events?type=access.denied&door=press-door", nil, &swipes)
		ts.call("GET", "/api/events?type=alarm.", nil, &storage)
		return len(forced) == 1 && len(swipes) == 20
	})
	if forced[0].Seq <= before || forced[0].Time.Before(forcedAt.Add(-time.Second)) {
		t.Fatalf("forced door logged as %+v", forced[0])
	}
	for i := 1; i < len(swipes); i++ {
		if swipes[i].Seq >= swipes[i-1].Seq || swipes[i].Time.After(swipes[i-1].Time) {
			t.Fatalf("held events out of order: %d then %d", swipes[i].Seq, swipes[i-1].Seq)
		}
	}
	waitFor(t, "the full card's page view audited", func() bool {
		var audits []event.Event
		ts.call("GET", "/api/events?type=audit.viewed", nil, &audits)
		for _, a := range audits {
			if a.Detail["query"] == "door=press-door&limit=5" {
				return true
			}
		}
		return false
	})
	kinds := map[string]int{}
	for _, ev := range storage {
		if ev.Detail["kind"] == "storage" {
			kinds[ev.Type]++
		}
	}
	if kinds[event.AlarmRaised] == 0 || kinds[event.AlarmCleared] == 0 {
		t.Fatalf("the log does not tell the storage alarm: %v", kinds)
	}
	// Stored now, and still up for a guard to acknowledge.
	ts.call("GET", "/api/alarms", nil, &board)
	var stored bool
	for _, a := range board {
		stored = stored || a.Kind == "storage"
	}
	if !stored {
		t.Fatalf("storage alarm gone from the board before anyone saw it: %+v", board)
	}
	v, err := ts.Store.Verify(t.Context())
	if err != nil || !v.OK {
		t.Fatalf("verify after a full disk: %+v %v", v, err)
	}
}

// A database held locked (a backup, sqlite3 in another terminal): events
// wait in memory and health says why, and not after a busy wait.
func TestLockedDatabaseHoldsEventsAndHealthSaysWhy(t *testing.T) {
	t.Parallel()
	ts := startSite(t, "")
	other, err := sql.Open("sqlite3", "file:"+ts.db+"?_busy_timeout=5000")
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	conn, err := other.Conn(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := conn.ExecContext(t.Context(), `BEGIN EXCLUSIVE`); err != nil {
		t.Fatal(err)
	}
	ts.call("POST", "/api/sim/doors/press-door/contact", map[string]any{"open": true}, nil)
	waitFor(t, "health to say the database is locked", func() bool {
		res, err := http.Get(ts.base + "/api/health")
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		var h struct{ Reason string }
		json.NewDecoder(res.Body).Decode(&h)
		return res.StatusCode == http.StatusServiceUnavailable && strings.Contains(h.Reason, "locked")
	})
	// The door loop went on: the forced door's alarm is on the board.
	var board []sekisho.Alarm
	waitFor(t, "the forced door's alarm on the board", func() bool {
		ts.call("GET", "/api/alarms", nil, &board)
		for _, a := range board {
			if a.Kind == "forced" && a.Door == "press-door" {
				return true
			}
		}
		return false
	})
	conn.ExecContext(t.Context(), `ROLLBACK`)
	conn.Close()
	var forced []event.Event
	waitFor(t, "the forced door logged", func() bool {
		ts.call("GET", "/api/events?type=door.forced", nil, &forced)
		return len(forced) == 1
	})
}

// Under the free-space mark the guards are warned before the card is full,
// and room is made from the oldest stills first, each removal logged.
func TestLowSpaceWarnsAndPrunesTheOldestStillsFirst(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	stills := filepath.Join(dir, "stills")
	for _, day := range []string{"2026-01-02", "2026-01-03", "2026-01-04"} {
		if err := os.MkdirAll(filepath.Join(stills, day), 0o755); err != nil {
			t.Fatal(err)
		}
		os.WriteFile(filepath.Join(stills, day, "1-cam.jpg"), []byte("jpeg"), 0o644)
	}
	// The card has room once two days are gone.
	space := func(string) (uint64, uint64, error) {
		entries, _ := os.ReadDir(stills)
		if len(entries) > 1 {
			return 100 << 20, 100 << 30, nil
		}
		return 50 << 30, 100 << 30, nil
	}
	ts := startSiteWith(t, func(o *site.Options) {
		o.DataDir, o.FreeSpace, o.FreeSpaceEvery = dir, space, 50*time.Millisecond
	}, func(cfg *config.Config) { cfg.Stills.KeepDays = 3650 })
	var pruned, alarms []event.Event
	waitFor(t, "two days of stills removed for space", func() bool {
		ts.call("GET", "/api/events?type=camera.pruned", nil, &pruned)
		return len(pruned) == 2
	})
	if pruned[1].Detail["day"] != "2026-01-02" || pruned[0].Detail["day"] != "2026-01-03" || pruned[0].Detail["reason"] != "low_space" {
		t.Fatalf("pruned %v then %v", pruned[1].Detail, pruned[0].Detail)
	}
	if _, err := os.Stat(filepath.Join(stills, "2026-01-04")); err != nil {
		t.Fatalf("the newest day went too: %v", err)
	}
	waitFor(t, "the low-space alarm raised and cleared", func() bool {
		ts.call("GET", "/api/events?type=alarm.", nil, &alarms)
		kinds := map[string]bool{}
		for _, ev := range alarms {
			if ev.Detail["kind"] == "storage" {
				kinds[ev.Type] = true
			}
		}
		return kinds[event.AlarmRaised] && kinds[event.AlarmCleared]
	})
}
