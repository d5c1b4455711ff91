package site

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"runtime/debug"
	"testing"
	"time"

	"github.com/sekisho/sekisho/controller/config"
	"github.com/sekisho/sekisho/controller/outbox"
	"github.com/sekisho/sekisho/controller/sekisho"
	"github.com/sekisho/sekisho/controller/store"
	"github.com/sekisho/sekisho/controller/testtool"
)

// csvBenchRows is the manager's export: a million rows of one zone. The
// log holds three times as many events, as a floor's log does: each
// passage is a grant, the door opening and the door closing, and only the
// grant names the zone.
const (
	csvBenchRows   = 1_000_000
	csvBenchEvents = 3 * csvBenchRows
)

// BenchmarkEventsCSVMillion is a manager's export of a zone's million rows,
// as the dashboard asks for it: GET /api/events.csv through the running
// controller's HTTP handler, with its broker and keys, in the site's time
// zone (Asia/Tokyo), read to the last byte. The log is filled once and kept
// in the temp dir between runs.
func BenchmarkEventsCSVMillion(b *testing.B) {
	cfg, err := config.Load("../../configs/demo-factory.yaml")
	if err != nil {
		b.Fatal(err)
	}
	dir := filepath.Join(os.TempDir(), "sekisho-bench-csv-3m")
	db := DBPath(dir, cfg.Site)
	if _, err := os.Stat(db); err != nil {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			b.Fatal(err)
		}
		st, err := store.Open(context.Background(), db, cfg.Site)
		if err != nil {
			b.Fatal(err)
		}
		err = st.Fill(context.Background(), store.FillSpec{Events: csvBenchEvents, Days: 30, End: time.Now().Add(-time.Hour), Location: cfg.Location,
			Doors: []store.FillDoor{{ID: "floor-door", ZoneFrom: "lobby", ZoneTo: "floor"}}, People: 300, Seed: 11}, nil)
		if err == nil {
			// A running site has published its log: the export is not
			// measured beside the broker catching up on three million.
			err = st.SetDelivered(context.Background(), outbox.Name, st.Head())
		}
		st.Close()
		if err != nil {
			os.RemoveAll(dir)
			b.Fatal(err)
		}
	}
	s, err := Start(context.Background(), cfg, Options{DataDir: dir, HTTPListen: "127.0.0.1:0", MQTTListen: "127.0.0.1:0",
		Out: io.Discard, Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Stop()
	// The log's tree is built once, at the first start on this log (as
	// after an upgrade), and kept: the export is not timed beside it.
	testtool.WaitFor(b, 10*time.Minute, "the log's tree built", func() bool { return s.Store.TreeLag() == 0 })
	token, _, err := s.Store.CreateToken(context.Background(), sekisho.RoleManager, nil, "bench", time.Now().Add(time.Hour))
	if err != nil {
		b.Fatal(err)
	}
	defer debug.SetGCPercent(debug.SetGCPercent(GCPercent)) // as the controller binary runs
	url := "http://" + s.HTTPAddr() + "/api/events.csv?zone=floor"
	b.ResetTimer()
	for b.Loop() {
		req, _ := http.NewRequest("GET", url, nil)
		req.Header.Set("Authorization", "Bearer "+token)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		rows, buf := 0, make([]byte, 1<<16)
		for {
			n, err := res.Body.Read(buf)
			rows += bytes.Count(buf[:n], []byte{'\n'})
			if err == io.EOF {
				break
			}
			if err != nil {
				b.Fatal(err)
			}
		}
		res.Body.Close()
		if res.StatusCode != http.StatusOK || rows < csvBenchRows {
			b.Fatalf("export: %d, %d rows", res.StatusCode, rows)
		}
		b.ReportMetric(float64(rows), "rows")
	}
}
