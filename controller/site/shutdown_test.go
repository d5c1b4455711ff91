package site_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sekisho/sekisho/controller/config"
	"github.com/sekisho/sekisho/controller/event"
	"github.com/sekisho/sekisho/controller/site"
	"github.com/sekisho/sekisho/controller/store"
	"github.com/sekisho/sekisho/controller/testtool"
)

// A site stopped while the dashboard's verify walks a long log and cards
// pour in at the doors: the API is drained, the verify and everything the
// doors decided are in the log before it closes, and nothing is turned
// away as "the log is closed". The log verifies and ends with the stop.
func TestStopDuringVerifyAndSwipesLosesNothing(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	cfg, err := config.Load("../../configs/demo-factory.yaml")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	db := site.DBPath(dir, cfg.Site)
	st, err := store.Open(ctx, db, cfg.Site)
	if err != nil {
		t.Fatal(err)
	}
	// A log long enough that the verify is still walking when the stop comes.
	if err := st.Fill(ctx, store.FillSpec{Events: 300_000, Days: 30, End: time.Now().Add(-time.Hour), Location: cfg.Location,
		Doors: []store.FillDoor{{ID: "floor-door", ZoneFrom: "lobby", ZoneTo: "floor"}}, People: 50, Seed: 1}, nil); err != nil {
		t.Fatal(err)
	}
	st.Close()

	var out testtool.SyncBuffer
	s, err := site.Start(ctx, cfg, site.Options{DataDir: dir, HTTPListen: "127.0.0.1:0", MQTTListen: "127.0.0.1:0", Out: io.Discard,
		Log: slog.New(slog.NewTextHandler(&out, nil))})
	if err != nil {
		t.Fatal(err)
	}
	ts := &testSite{Site: s, t: t, base: "http://" + s.HTTPAddr(), db: db}
	ts.token = adminToken(t, db)
	if code := ts.call("POST", "/api/verify", nil, nil); code != http.StatusAccepted {
		t.Fatalf("verify: %d", code)
	}
	var swipes sync.WaitGroup
	for range 40 {
		swipes.Go(func() {
			body := strings.NewReader(`{"format":"H10301","facility":12,"number":345}`)
			req, _ := http.NewRequest("POST", ts.base+"/api/sim/readers/r-floor-out/wiegand", body)
			req.Header.Set("Authorization", "Bearer "+ts.token)
			if res, err := http.DefaultClient.Do(req); err == nil {
				res.Body.Close()
			}
		})
	}
	// Managers reading the log meanwhile: each answered view is audited.
	var viewed sync.WaitGroup
	var answered atomic.Int64
	for range 20 {
		viewed.Go(func() {
			req, _ := http.NewRequest("GET", ts.base+"/api/events?limit=5", nil)
			req.Header.Set("Authorization", "Bearer "+ts.token)
			if res, err := http.DefaultClient.Do(req); err == nil {
				if res.StatusCode == http.StatusOK {
					answered.Add(1)
				}
				res.Body.Close()
			}
		})
	}
	var state struct{ Running bool }
	ts.call("GET", "/api/verify", nil, &state)
	if err := s.Stop(); err != nil {
		t.Fatalf("stop: %v", err)
	}
	swipes.Wait()
	viewed.Wait()
	if !state.Running {
		t.Log("the verify had finished before the stop; the test still checks the drain of the swipes")
	}
	for _, bad := range []string{"log is closed", "after the log closed", "not logged"} {
		if strings.Contains(out.String(), bad) {
			t.Fatalf("the process log says %q:\n%s", bad, out.String())
		}
	}
	st, err = store.Open(ctx, db, cfg.Site)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	v, err := st.Verify(ctx)
	if err != nil || !v.OK {
		t.Fatalf("verify after the stop: %+v %v", v, err)
	}
	audits, err := st.Events(ctx, store.Filter{Type: event.AuditViewed, Since: time.Now().Add(-time.Hour)})
	if err != nil || int64(len(audits)) < answered.Load() {
		t.Fatalf("%d views answered, %d audited (%v)", answered.Load(), len(audits), err)
	}
	last, err := st.Events(ctx, store.Filter{Limit: 1})
	if err != nil || len(last) != 1 || last[0].Type != event.SystemStopped {
		t.Fatalf("the log's last event: %+v %v", last, err)
	}
}
