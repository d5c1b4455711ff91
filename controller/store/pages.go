package store

import (
	"context"
	"runtime"
	"sync"

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
		evs  []event.Event
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
				p.evs, p.err = s.queryEvents(context.WithoutCancel(ctx), q, args...)
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
