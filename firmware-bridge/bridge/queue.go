package bridge

import (
	"context"
	"sync"
)

// signalQueue stands between the hardware and whoever listens: readers,
// inputs and relock timers add signals without ever waiting, and one
// goroutine hands them on in the order they came. A listener that is slow
// (or busy unlocking a door itself) delays the report, never a strike.
type signalQueue struct {
	mu    sync.Mutex
	items []Signal
	wake  chan struct{}
}

func newSignalQueue() *signalQueue { return &signalQueue{wake: make(chan struct{}, 1)} }

// add queues s; it never blocks.
func (q *signalQueue) add(s Signal) {
	q.mu.Lock()
	q.items = append(q.items, s)
	q.mu.Unlock()
	select {
	case q.wake <- struct{}{}:
	default:
	}
}

// run hands every signal to emit, in order, until ctx ends.
func (q *signalQueue) run(ctx context.Context, emit func(Signal)) {
	for {
		q.mu.Lock()
		batch := q.items
		q.items = nil
		q.mu.Unlock()
		for _, s := range batch {
			emit(s)
		}
		select {
		case <-ctx.Done():
			return
		case <-q.wake:
		}
	}
}
