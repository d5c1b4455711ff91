package store

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime/debug"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/sekisho/sekisho/controller/event"
)

// The log after years: a filled history of SEKISHO_BENCH_EVENTS events
// (10,000,000 unless set) over a year, made once and kept in the temp dir
// for the next run (about 550 bytes an event).
var (
	scaleOnce sync.Once
	scaleDB   string
	scaleErr  error
)

const scaleDays = 365

var scaleEnd = time.Date(2026, 11, 30, 23, 0, 0, 0, time.UTC)

func scaleEvents() int64 {
	if n, err := strconv.ParseInt(os.Getenv("SEKISHO_BENCH_EVENTS"), 10, 64); err == nil && n > 0 {
		return n
	}
	return 10_000_000
}

// controllerGOGC is the controller binary's GOGC (site.GCPercent, which
// this package cannot import): a year's exports and walks are timed as the
// controller runs them.
const controllerGOGC = 400

func scaleStore(b *testing.B) *Store {
	b.Helper()
	was := debug.SetGCPercent(controllerGOGC)
	b.Cleanup(func() { debug.SetGCPercent(was) })
	n := scaleEvents()
	scaleOnce.Do(func() {
		scaleDB = filepath.Join(os.TempDir(), fmt.Sprintf("sekisho-bench-%d.db", n))
		s, err := Open(context.Background(), scaleDB, "bench")
		if err != nil {
			scaleErr = err
			return
		}
		defer s.Close()
		if s.Head() == n {
			return
		}
		if s.Head() != 0 {
			s.Close()
			os.Remove(scaleDB)
			if s, err = Open(context.Background(), scaleDB, "bench"); err != nil {
				scaleErr = err
				return
			}
		}
		started := time.Now()
		scaleErr = s.Fill(context.Background(), FillSpec{Events: n, Days: scaleDays, End: scaleEnd, Doors: fillDoors, Seed: 1}, nil)
		took := time.Since(started)
		fi, _ := os.Stat(scaleDB)
		fmt.Fprintf(os.Stderr, "filled %d events in %s (%.0f events/s), %d bytes (%d an event)\n",
			n, took.Round(time.Millisecond), float64(n)/took.Seconds(), fi.Size(), fi.Size()/n)
	})
	if scaleErr != nil {
		b.Fatal(scaleErr)
	}
	s, err := Open(context.Background(), scaleDB, "bench")
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	return s
}

// benchPages times one first page of a query per op and reports its p95.
func benchPages(b *testing.B, filter func(r *rand.Rand) Filter) {
	s := scaleStore(b)
	r := rand.New(rand.NewPCG(1, 2))
	var took []time.Duration
	b.ResetTimer()
	for b.Loop() {
		f := filter(r)
		start := time.Now()
		evs, err := s.Events(context.Background(), f)
		took = append(took, time.Since(start))
		if err != nil || len(evs) == 0 {
			b.Fatalf("%+v: %d events, %v", f, len(evs), err)
		}
	}
	slices.Sort(took)
	b.ReportMetric(float64(took[len(took)*95/100].Microseconds())/1000, "p95-ms")
}

func someDay(r *rand.Rand) (time.Time, time.Time) {
	since := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, -1-r.IntN(scaleDays))
	return since, since.AddDate(0, 0, 1)
}

func BenchmarkYearZoneLogNewest(b *testing.B) {
	benchPages(b, func(*rand.Rand) Filter { return Filter{Zones: []string{"die-press", "dev-room"}, Limit: 100} })
}

func BenchmarkYearZoneLogOneDay(b *testing.B) {
	benchPages(b, func(r *rand.Rand) Filter {
		since, until := someDay(r)
		return Filter{Zone: "die-press", Since: since, Until: until, Limit: 100}
	})
}

func BenchmarkYearPersonLogWeek(b *testing.B) {
	benchPages(b, func(r *rand.Rand) Filter {
		since, until := someDay(r)
		return Filter{Person: fmt.Sprintf("fill-%04d", 1+r.IntN(300)), Since: since.AddDate(0, 0, -6), Until: until, Limit: 100}
	})
}

func BenchmarkYearDoorLogOneDay(b *testing.B) {
	benchPages(b, func(r *rand.Rand) Filter {
		since, until := someDay(r)
		return Filter{Door: "press-door", Since: since, Until: until, Limit: 100}
	})
}

// BenchmarkYearVerify walks the whole filled log.
func BenchmarkYearVerify(b *testing.B) {
	s := scaleStore(b)
	b.ResetTimer()
	var walked int64
	for b.Loop() {
		v, err := s.Verify(context.Background())
		if err != nil || !v.OK {
			b.Fatalf("%+v %v", v, err)
		}
		walked += v.Count
	}
	b.ReportMetric(float64(walked)/b.Elapsed().Seconds(), "events/s")
}

// BenchmarkYearCSVMillion exports a million rows of a zone as the
// dashboard does, a page at a time.
func BenchmarkYearCSVMillion(b *testing.B) {
	s := scaleStore(b)
	b.ResetTimer()
	for b.Loop() {
		out, err := event.NewCSV(io.Discard, time.UTC)
		if err != nil {
			b.Fatal(err)
		}
		rows := 0
		errEnough := errors.New("a million")
		err = s.EventPages(context.Background(), Filter{Zone: "floor"}, func(page []event.Event) error {
			for i := range page {
				if err := out.Write(&page[i]); err != nil {
					return err
				}
			}
			if rows += len(page); rows >= 1_000_000 {
				return errEnough
			}
			return nil
		})
		if err != nil && err != errEnough {
			b.Fatal(err)
		}
		out.Flush()
		b.ReportMetric(float64(rows), "rows")
	}
}

// BenchmarkYearOpen is what a controller's start reads of a year's log:
// the store opened, and the last 12 hours replayed for who is where.
func BenchmarkYearOpen(b *testing.B) {
	scaleStore(b)
	for b.Loop() {
		s, err := Open(context.Background(), scaleDB, "bench")
		if err != nil {
			b.Fatal(err)
		}
		if _, err := s.Since(context.Background(), scaleEnd.Add(-12*time.Hour), event.AccessGranted, event.VisitorCheckedOut, event.PersonForgiven); err != nil {
			b.Fatal(err)
		}
		s.Close()
	}
}
