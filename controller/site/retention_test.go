package site_test

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sekisho/sekisho/controller/camera"
	"github.com/sekisho/sekisho/controller/cli"
	"github.com/sekisho/sekisho/controller/config"
	"github.com/sekisho/sekisho/controller/event"
	"github.com/sekisho/sekisho/controller/site"
	"github.com/sekisho/sekisho/controller/store"
)

// Stills older than stills.keep_days are logged as pruned and removed at
// start; the days kept stay.
func TestOldStillsArePrunedAndLogged(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	stills := camera.StillsDir(dir)
	today := time.Now().In(time.FixedZone("JST", 9*3600)).Format("2006-01-02") // the demo site's time zone
	for _, rel := range []string{"2020-01-01/00000001-cam-press-1.jpg", "2020-01-01/00000002-cam-dev.jpg", today + "/00000003-cam-dev.jpg"} {
		path := filepath.Join(stills, filepath.FromSlash(rel))
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte("\xff\xd8jpeg\xff\xd9"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	ts := startSiteWith(t, func(o *site.Options) { o.DataDir = dir }, func(cfg *config.Config) { cfg.Stills.KeepDays = 30 })
	waitFor(t, "the old day's stills to go", func() bool {
		_, err := os.Stat(filepath.Join(stills, "2020-01-01"))
		return os.IsNotExist(err)
	})
	if _, err := os.Stat(filepath.Join(stills, today)); err != nil {
		t.Fatalf("today's stills went too: %v", err)
	}
	evs, err := ts.Store.Events(context.Background(), store.Filter{Type: event.CameraPruned})
	if err != nil || len(evs) != 1 || evs[0].Detail["day"] != "2020-01-01" || evs[0].Detail["files"] != "2" || evs[0].Detail["keep_days"] != "30" {
		t.Fatalf("pruned events: %+v %v", evs, err)
	}
	var out bytes.Buffer
	if code := cli.Run(context.Background(), []string{"verify", "--db", ts.db}, &out, io.Discard); code != 0 || !strings.Contains(out.String(), "chain intact") {
		t.Fatalf("verify after pruning: %d %s", code, out.String())
	}
}
