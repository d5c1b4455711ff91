package site

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"runtime/debug"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/sekisho/sekisho/controller/config"
	"github.com/sekisho/sekisho/controller/event"
	"github.com/sekisho/sekisho/controller/outbox"
	"github.com/sekisho/sekisho/controller/sekisho"
	"github.com/sekisho/sekisho/controller/store"
	"github.com/sekisho/sekisho/controller/testtool"
	"github.com/sekisho/sekisho/controller/trustreport"
)

// A year of the demo factory's log, SEKISHO_BENCH_EVENTS events
// (10,000,000 unless set): people through the floor, press and
// development doors, the customers' dies in the press area all year. Made
// once and kept in the temp dir.
func yearEvents() int64 {
	if n, err := strconv.ParseInt(os.Getenv("SEKISHO_BENCH_EVENTS"), 10, 64); err == nil && n > 0 {
		return n
	}
	return 10_000_000
}

var yearEnd = time.Date(2026, 11, 30, 23, 0, 0, 0, time.UTC)

func yearDir(b *testing.B, cfg *config.Config) string {
	n := yearEvents()
	dir := filepath.Join(os.TempDir(), fmt.Sprintf("sekisho-bench-year-%d", n))
	db := DBPath(dir, cfg.Site)
	if _, err := os.Stat(db); err == nil {
		return dir
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		b.Fatal(err)
	}
	st, err := store.Open(context.Background(), db, cfg.Site)
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	started := time.Now()
	err = st.Fill(context.Background(), store.FillSpec{Events: n, Days: 365, End: yearEnd, Location: cfg.Location, People: 300, Seed: 7,
		Doors: []store.FillDoor{{ID: "floor-door", ZoneFrom: "lobby", ZoneTo: "floor"}, {ID: "press-door", ZoneFrom: "floor", ZoneTo: "die-press"},
			{ID: "dev-door", ZoneFrom: "floor", ZoneTo: "dev-room"}}}, nil)
	for _, a := range cfg.Assets {
		if err != nil {
			break
		}
		// In the press area from before the year began, as the config says.
		err = st.Append(context.Background(), &event.Event{Type: event.AssetRegistered, Time: yearEnd.AddDate(-1, 0, -1), ZoneTo: a.Zone, Actor: "config",
			Detail: map[string]string{"asset": a.ID, "owner": a.Owner, "source": "config"}})
	}
	if err == nil {
		err = st.SetDelivered(context.Background(), outbox.Name, st.Head())
	}
	if err != nil {
		os.RemoveAll(dir)
		b.Fatal(err)
	}
	fmt.Fprintf(os.Stderr, "filled %d events in %s\n", n, time.Since(started).Round(time.Second))
	return dir
}

// yearSite starts the demo factory on the year's log, its tree built.
func yearSite(b *testing.B) (*Site, string) {
	cfg, err := config.Load("../../configs/demo-factory.yaml")
	if err != nil {
		b.Fatal(err)
	}
	s, err := Start(context.Background(), cfg, Options{DataDir: yearDir(b, cfg), HTTPListen: "127.0.0.1:0", MQTTListen: "127.0.0.1:0",
		Out: io.Discard, Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Stop() })
	testtool.WaitFor(b, 10*time.Minute, "the log's tree built", func() bool { return s.Store.TreeLag() == 0 })
	token, _, err := s.Store.CreateToken(context.Background(), sekisho.RoleManager, nil, "bench", time.Now().Add(time.Hour))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(debugGC())
	return s, token
}

func debugGC() func() {
	was := debug.SetGCPercent(GCPercent) // as the controller binary runs
	return func() { debug.SetGCPercent(was) }
}

// get fetches path as a client that expects a big answer reads it: into
// room made once, not grown as it comes.
func get(b *testing.B, s *Site, token, path string, room int) []byte {
	req, _ := http.NewRequest("GET", "http://"+s.HTTPAddr()+path, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		b.Fatal(err)
	}
	defer res.Body.Close()
	buf := bytes.NewBuffer(make([]byte, 0, room))
	_, err = buf.ReadFrom(res.Body)
	if err != nil || res.StatusCode != http.StatusOK {
		b.Fatalf("%s: %d %v %.200s", path, res.StatusCode, err, buf.Bytes())
	}
	return buf.Bytes()
}

// BenchmarkYearTreeBuildAtStart is the first start after the upgrade that
// brought the tree: the site comes up on a year's log without one and
// builds it behind the doors, on its own goroutine. build-s is from the
// start to the tree level with the log.
func BenchmarkYearTreeBuildAtStart(b *testing.B) {
	cfg, err := config.Load("../../configs/demo-factory.yaml")
	if err != nil {
		b.Fatal(err)
	}
	dir := yearDir(b, cfg)
	for b.Loop() {
		b.StopTimer()
		dropTree(b, DBPath(dir, cfg.Site))
		b.StartTimer()
		started := time.Now()
		s, err := Start(context.Background(), cfg, Options{DataDir: dir, HTTPListen: "127.0.0.1:0", MQTTListen: "127.0.0.1:0",
			Out: io.Discard, Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
		if err != nil {
			b.Fatal(err)
		}
		testtool.WaitFor(b, 10*time.Minute, "the log's tree built", func() bool { return s.Store.TreeLag() == 0 })
		took := time.Since(started)
		b.StopTimer()
		b.ReportMetric(took.Seconds(), "build-s")
		b.ReportMetric(float64(s.Store.Head())/took.Seconds(), "events/s")
		s.Stop()
		b.StartTimer()
	}
}

// dropTree takes the tree off a bench log, its append-only triggers
// lifted for the purpose and put back.
func dropTree(b *testing.B, path string) {
	db, err := sql.Open("sqlite3", path)
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	trig := func(table, what string) string {
		return fmt.Sprintf(`CREATE TRIGGER %s_append_only_delete BEFORE DELETE ON %s BEGIN SELECT RAISE(ABORT, '%s are append-only'); END`, table, table, what)
	}
	for _, q := range []string{`DROP TRIGGER IF EXISTS tree_hashes_append_only_delete`, `DROP TRIGGER IF EXISTS tree_checkpoints_append_only_delete`,
		`DROP TRIGGER IF EXISTS tree_cosignatures_append_only_delete`,
		`DELETE FROM tree_cosignatures`, `DELETE FROM tree_checkpoints`, `DELETE FROM tree_hashes`, `UPDATE tree_size SET size = 0`,
		trig("tree_hashes", "tree hashes"), trig("tree_checkpoints", "checkpoints"), trig("tree_cosignatures", "cosignatures")} {
		if _, err := db.Exec(q); err != nil {
			b.Fatalf("%s: %v", q, err)
		}
	}
}

// BenchmarkYearLogProof is an auditor's proof of one event of a year's
// log, anywhere in it: GET /api/log/proof through the running controller.
func BenchmarkYearLogProof(b *testing.B) {
	s, token := yearSite(b)
	get(b, s, token, "/log/checkpoint", 4096) // the newest checkpoint, signed once
	r := rand.New(rand.NewPCG(5, 6))
	var took []time.Duration
	for b.Loop() {
		seq := 1 + r.Int64N(s.Store.Head()-10)
		start := time.Now()
		get(b, s, token, fmt.Sprintf("/api/log/proof?seq=%d", seq), 8192)
		took = append(took, time.Since(start))
	}
	slices.Sort(took)
	b.ReportMetric(float64(took[len(took)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(took[len(took)*99/100].Microseconds())/1000, "p99-ms")
}

// BenchmarkYearCustomerReport is Toyo Auto's report for the last quarter
// of the year's log, as the dashboard asks for it: GET
// /api/reports/customer, in the site's time zone, read to the end.
func BenchmarkYearCustomerReport(b *testing.B) {
	s, token := yearSite(b)
	to := yearEnd.In(s.Config.Location)
	q := url.Values{"company": {"Toyo Auto"}, "from": {to.AddDate(0, -3, 1).Format(time.DateOnly)}, "to": {to.Format(time.DateOnly)}}
	for b.Loop() {
		body := get(b, s, token, "/api/reports/customer?"+q.Encode(), 64<<20)
		b.StopTimer()
		var r trustreport.Report
		if err := json.Unmarshal(body, &r); err != nil || len(r.Entries) == 0 {
			b.Fatalf("report: %v, %d entries", err, len(r.Entries))
		}
		b.ReportMetric(float64(len(r.Entries)), "entries")
		b.StartTimer()
	}
}
