package ledger_test

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/sekisho/sekisho/controller/event"
	"github.com/sekisho/sekisho/controller/hq/ledger"
)

// BenchmarkIngest: twenty plants' logs replayed into PostgreSQL at once,
// a thousand events a transaction as head office's workers write them,
// each event checked against the one before and the tree grown with it.
// SEKISHO_HQ_BENCH_EVENTS events a plant (make bench: 500,000).
func BenchmarkIngest(b *testing.B) {
	const plants = 20
	per := 2000
	if n, err := strconv.Atoi(os.Getenv("SEKISHO_HQ_BENCH_EVENTS")); err == nil && n > 0 {
		per = n
	}
	l, _ := open(b)
	ctx := context.Background()
	b.ResetTimer()
	start := time.Now()
	var wg sync.WaitGroup
	for i := range plants {
		site := fmt.Sprintf("plant-%02d", i)
		wg.Add(1)
		go func() {
			defer wg.Done()
			prev := event.GenesisHash
			batch := make([]ledger.Incoming, 0, 1000)
			for seq := 1; seq <= per; seq++ {
				ev := event.Event{ID: fmt.Sprintf("%s-%d", site, seq), Seq: int64(seq), Site: site, Type: event.AccessGranted,
					Time: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(seq) * time.Minute), Door: "press-door",
					Person: &event.Person{ID: fmt.Sprintf("p-%d", seq%5000), Name: fmt.Sprintf("Worker %04d", seq%5000), Kind: "employee"}}
				body, _ := ev.Canonical()
				h := event.ChainHash(prev, body)
				batch = append(batch, ledger.Incoming{Seq: int64(seq), Hash: h, PrevHash: prev, Body: body, Event: ev})
				prev = h
				if len(batch) == cap(batch) || seq == per {
					if _, err := l.Offer(ctx, site, batch); err != nil {
						b.Error(err)
						return
					}
					batch = batch[:0]
				}
			}
		}()
	}
	wg.Wait()
	b.StopTimer()
	b.ReportMetric(float64(plants*per)/time.Since(start).Seconds(), "events/s")
}
