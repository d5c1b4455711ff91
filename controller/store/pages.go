package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"runtime"
	"sync"

	jsonv2 "github.com/go-json-experiment/json"
	"github.com/sekisho/sekisho/controller/event"
)

// pageSpan is how many seqs one page of an export covers: few enough that
// the pages in flight on every core stay a few megabytes, and that a
// cancelled export stops within one.
var pageSpan int64 = 8192

// EventPages reads every event the filter selects, newest first, and
// hands them to yield a page at a time, in order. The log is cut into
// ranges of seqs that are read and decoded on every core at once while
// yield takes the ones before them: an export of a million rows is bound
// by the cores, not by one connection stepping through SQLite.
//
// It reads the log as it stands when called: events appended meanwhile
// belong to the next export.
func (s *Store) EventPages(ctx context.Context, f Filter, yield func([]event.Event) error) error {
	return pagesOf(ctx, s, f, s.queryEvents, yield)
}

// Pages is EventPages decoding each event's body into T, a struct naming
// only the fields its reader wants: a report over a quarter of a busy
// zone reads hundreds of thousands of events, and decoding the whole of
// each is most of its cost.
func Pages[T any](ctx context.Context, s *Store, f Filter, yield func([]T) error) error {
	return pagesOf(ctx, s, f, func(ctx context.Context, q string, args ...any) ([]T, error) { return queryAs[T](ctx, s, q, args...) }, yield)
}

func pagesOf[T any](ctx context.Context, s *Store, f Filter, read func(ctx context.Context, q string, args ...any) ([]T, error), yield func([]T) error) error {
	f, empty, err := s.seqWindow(ctx, f)
	if err != nil || empty {
		return err
	}
	top := s.Head() + 1
	if f.BeforeSeq == 0 || f.BeforeSeq > top {
		f.BeforeSeq = top
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	type page struct {
		evs  []T
		err  error
		done chan struct{}
	}
	workers := runtime.GOMAXPROCS(0)
	// The queue bounds the pages read ahead of yield: workers reading and
	// as many waiting.
	queue := make(chan *page, 2*workers)
	ranges := make(chan func(), workers)
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for read := range ranges {
				read()
			}
		})
	}
	go func() {
		defer close(queue)
		defer close(ranges)
		for hi := f.BeforeSeq; hi > f.AfterSeq+1; hi -= pageSpan {
			r := f
			r.BeforeSeq, r.AfterSeq = hi, max(f.AfterSeq, hi-1-pageSpan)
			p := &page{done: make(chan struct{})}
			select {
			case queue <- p:
			case <-ctx.Done():
				return
			}
			ranges <- func() {
				defer close(p.done)
				if p.err = ctx.Err(); p.err != nil {
					return
				}
				// Without a context to watch the driver steps each row in
				// one call; a cancelled export stops at the next range.
				q, args := eventsQueryN(r, int(pageSpan), true)
				p.evs, p.err = read(context.WithoutCancel(ctx), q, args...)
			}
		}
	}()
	defer wg.Wait()
	defer cancel()
	for p := range queue {
		<-p.done
		if p.err != nil {
			return p.err
		}
		if len(p.evs) == 0 {
			continue
		}
		if err := yield(p.evs); err != nil {
			return err
		}
	}
	return ctx.Err()
}

// queryAs reads the bodies q selects and decodes each into a T, on every
// core.
func queryAs[T any](ctx context.Context, s *Store, q string, args ...any) ([]T, error) {
	rows, err := s.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("store: query events: %w", err)
	}
	defer rows.Close()
	var bodies [][]byte
	for rows.Next() {
		var body []byte
		var prev, hash sql.RawBytes
		if err := rows.Scan(&body, &prev, &hash); err != nil {
			return nil, fmt.Errorf("store: read event: %w", err)
		}
		bodies = append(bodies, body)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: query events: %w", err)
	}
	out := make([]T, len(bodies))
	decode := func(lo, hi int) error {
		for i := lo; i < hi; i++ {
			if err := jsonv2.Unmarshal(bodies[i], &out[i]); err != nil {
				return fmt.Errorf("store: decode event: %w", err)
			}
		}
		return nil
	}
	workers := min(runtime.GOMAXPROCS(0), (len(out)+255)/256)
	if workers <= 1 {
		return out, decode(0, len(out))
	}
	errs := make([]error, workers)
	var wg sync.WaitGroup
	per := (len(out) + workers - 1) / workers
	for w := range workers {
		wg.Go(func() { errs[w] = decode(w*per, min((w+1)*per, len(out))) })
	}
	wg.Wait()
	return out, errors.Join(errs...)
}
