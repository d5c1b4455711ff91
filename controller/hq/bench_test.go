package hq_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"

	"github.com/sekisho/sekisho/controller/config"
	"github.com/sekisho/sekisho/controller/event"
	"github.com/sekisho/sekisho/controller/hq"
	"github.com/sekisho/sekisho/controller/hq/ledger"
	"github.com/sekisho/sekisho/controller/logtree"
	"github.com/sekisho/sekisho/controller/site"
	"github.com/sekisho/sekisho/controller/store"
	"github.com/sekisho/sekisho/controller/testtool"
)

// benchEvents is each plant's events in the year benchmark: make bench
// sets SEKISHO_HQ_BENCH_EVENTS=500000 (20 plants: ten million); bare,
// a small year that runs in seconds.
func benchEvents() int {
	if n, err := strconv.Atoi(os.Getenv("SEKISHO_HQ_BENCH_EVENTS")); err == nil && n > 0 {
		return n
	}
	return 2000
}

// BenchmarkHQYear: twenty plants' years replayed into head office's
// PostgreSQL, each event checked against the one before — the year so far
// through the ledger as head office's workers write it (events/s_ledger),
// its last 20,000 events a plant through the head-office broker into the
// running head office, verified by the plants' signed checkpoints
// (events/s_broker: broker, publishers, head office and PostgreSQL on one
// machine); then a search for one person across plants over the year
// through head office's own handler, as an auditor at the page asks it.
func BenchmarkHQYear(b *testing.B) {
	const plants = 20
	per := benchEvents()
	o := newOffice(b)
	type plantKey struct {
		id  string
		key ed25519.PrivateKey
	}
	var keys []plantKey
	var text strings.Builder
	fmt.Fprintf(&text, "listen: 127.0.0.1:0\npostgres: %s\nkey_file: %s\nbroker:\n  url: %s\nsites:\n", o.dsn, o.keyFile, o.broker.URL)
	for i := range plants {
		_, key, _ := ed25519.GenerateKey(rand.Reader)
		id := fmt.Sprintf("plant-%02d", i)
		_, _, vkey, err := logtree.NoteKeys("sekisho/"+id, key)
		if err != nil {
			b.Fatal(err)
		}
		keys = append(keys, plantKey{id, key})
		fmt.Fprintf(&text, "  - id: %s\n    key: %s\n", id, vkey)
	}
	path := filepath.Join(o.dir, "hq.yaml")
	if err := os.WriteFile(path, []byte(text.String()), 0o600); err != nil {
		b.Fatal(err)
	}
	cfg, err := hq.Load(path)
	if err != nil {
		b.Fatal(err)
	}
	office := o.run(cfg, "hq-bench")
	year := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	step := 365 * 24 * time.Hour / time.Duration(per)
	// People move between plants: 5,000 names, each seen at every plant.
	name := func(i int) string { return fmt.Sprintf("Worker %04d", i%5000) }

	// The year so far, written through the ledger as head office's
	// workers write it; its last tail (live) through the broker.
	live := min(per, 20000)
	pastPer := per - live
	heads := make([]string, len(keys))
	gen := func(id string, seq int, prev string) ledger.Incoming {
		ev := event.Event{ID: fmt.Sprintf("%s-%d", id, seq), Seq: int64(seq), Site: id, Type: event.AccessGranted,
			Time: year.Add(time.Duration(seq) * step), Door: "press-door", ZoneFrom: "floor", ZoneTo: "die-press",
			Person:     &event.Person{ID: fmt.Sprintf("p-%d", (seq*7919)%5000), Name: name(seq * 7919), Kind: "employee", Company: "Hamamatsu Press"},
			Credential: &event.Credential{Format: "H10301", Facility: 12, Number: uint64((seq * 7919) % 5000)}}
		body, _ := ev.Canonical()
		return ledger.Incoming{Seq: int64(seq), Hash: event.ChainHash(prev, body), PrevHash: prev, Body: body, Event: ev}
	}
	b.ResetTimer()
	start := time.Now()
	var wg sync.WaitGroup
	for i, p := range keys {
		wg.Add(1)
		go func() {
			defer wg.Done()
			prev := event.GenesisHash
			batch := make([]ledger.Incoming, 0, 1000)
			for seq := 1; seq <= pastPer; seq++ {
				in := gen(p.id, seq, prev)
				prev = in.Hash
				batch = append(batch, in)
				if len(batch) == cap(batch) || seq == pastPer {
					if _, err := o.ledger.Offer(context.Background(), p.id, batch); err != nil {
						b.Error(err)
						return
					}
					batch = batch[:0]
				}
			}
			heads[i] = prev
		}()
	}
	wg.Wait()
	if pastPer > 0 {
		b.ReportMetric(float64(plants*pastPer)/time.Since(start).Seconds(), "events/s_ledger")
	}
	start = time.Now()
	for i, p := range keys {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := paho.NewClient(paho.NewClientOptions().AddBroker(o.broker.URL).SetClientID("bench-" + p.id))
			if t := c.Connect(); !t.WaitTimeout(30*time.Second) || t.Error() != nil {
				b.Error(t.Error())
				return
			}
			defer c.Disconnect(100)
			prev := heads[i]
			var pending []paho.Token
			for seq := pastPer + 1; seq <= per; seq++ {
				in := gen(p.id, seq, prev)
				msg := append(in.Body[:len(in.Body)-1:len(in.Body)-1], `,"prev_hash":"`+prev+`","hash":"`+in.Hash+`"}`...)
				prev = in.Hash
				pending = append(pending, c.Publish("sekisho/"+p.id+"/events", 1, false, msg))
				if seq%10000 == 0 || seq == per {
					cp := event.SignCheckpoint(p.key, p.id, int64(seq), in.Hash, time.Now())
					cb, _ := json.Marshal(cp)
					pending = append(pending, c.Publish("sekisho/"+p.id+"/checkpoints", 1, false, cb))
				}
				if len(pending) >= 1000 {
					for _, t := range pending {
						t.Wait()
					}
					pending = pending[:0]
				}
			}
			for _, t := range pending {
				t.Wait()
			}
		}()
	}
	wg.Wait()
	if !testtool.Until(time.Duration(plants*live/1000+120)*time.Second, func() bool {
		for _, p := range keys {
			if o.status(p.id).VerifiedSeq < int64(per) {
				return false
			}
		}
		return true
	}) {
		b.Fatalf("head office did not verify every plant's %d events", per)
	}
	took := time.Since(start)
	b.StopTimer()
	b.ReportMetric(float64(plants*live)/took.Seconds(), "events/s_broker")

	// The year settled (autovacuum has analysed it, as it has a year on).
	if _, err := o.ledger.Pool().Exec(context.Background(), "ANALYZE events"); err != nil {
		b.Fatal(err)
	}
	// A search for one person across plants over the year, through the
	// handler, as the page asks it.
	if err := o.ledger.AddUser(context.Background(), "kansa", "hq-auditor", "pw-kansa"); err != nil {
		b.Fatal(err)
	}
	br := o.browse(b, "http://"+office.Addr(), "kansa", "pw-kansa")
	var took2 []time.Duration
	for i := range 200 {
		q := "/hq/api/search?person=" + strings.ReplaceAll(name((i+1)*7919), " ", "+") + "&since=2026-01-01&until=2027-01-01"
		t0 := time.Now()
		var found []json.RawMessage
		if code := br.do(http.MethodGet, q, "", &found); code != http.StatusOK || len(found) == 0 {
			b.Fatalf("search %s: %d, %d found", q, code, len(found))
		}
		took2 = append(took2, time.Since(t0))
	}
	slices.Sort(took2)
	b.ReportMetric(float64(took2[len(took2)/2].Microseconds())/1000, "ms_search_p50")
	b.ReportMetric(float64(took2[len(took2)*95/100].Microseconds())/1000, "ms_search_p95")
}

// BenchmarkHQCatchUp: a plant whose line to head office was down while it
// logged 100,000 events (a busy day) is caught up — every event checked at
// head office and verified by the plant's checkpoint — after the line is
// back, through the plant's own uplink.
func BenchmarkHQCatchUp(b *testing.B) {
	const outage = 100000
	o := newOffice(b)
	// The day's events, as `controller fill` makes them, in the plant's
	// log before it starts; its line to head office is down meanwhile.
	demo, err := config.Load("../../configs/demo-factory.yaml")
	if err != nil {
		b.Fatal(err)
	}
	dir := b.TempDir()
	st, err := store.Open(context.Background(), site.DBPath(dir, "plant-a"), "plant-a")
	if err != nil {
		b.Fatal(err)
	}
	spec := store.FillSpec{Events: outage, Days: 1, People: 300, Location: time.UTC, Seed: 1}
	for _, d := range demo.Doors {
		spec.Doors = append(spec.Doors, store.FillDoor{ID: d.ID, ZoneFrom: d.From, ZoneTo: d.To})
	}
	if err := st.Fill(context.Background(), spec, nil); err != nil {
		b.Fatal(err)
	}
	st.Close()
	link := newCuttable(b, fmt.Sprintf("127.0.0.1:%d", o.broker.Port))
	link.setCut(true)
	p := o.startPlantIn("plant-a", dir, link)
	o.run(o.config(p), "hq-bench")
	testtool.WaitFor(b, 5*time.Minute, "the plant's tree and checkpoint of its day", func() bool {
		var size int64
		_ = p.Store.DB().QueryRow(`SELECT COALESCE(MAX(size), 0) FROM tree_checkpoints`).Scan(&size)
		return size >= outage
	})
	head := p.Store.Head()
	b.ResetTimer()
	start := time.Now()
	p.link.setCut(false)
	testtool.WaitFor(b, 10*time.Minute, "head office to catch up", func() bool {
		st := o.status("plant-a")
		return st.HeadSeq >= head && st.VerifiedSeq >= head
	})
	b.StopTimer()
	b.ReportMetric(time.Since(start).Seconds(), "s_catch_up")
	b.ReportMetric(float64(head), "events")
}
