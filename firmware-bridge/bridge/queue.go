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
	// added and handed count signals in and out, for progressing.
	added, handed, handedSeen uint64
}

func newSignalQueue() *signalQueue { return &signalQueue{wake: make(chan struct{}, 1)} }

// add queues s; it never blocks.
func (q *signalQueue) add(s Signal) {
	q.mu.Lock()
	q.items = append(q.items, s)
	q.added++
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
			q.mu.Lock()
			q.handed++
			q.mu.Unlock()
		}
		select {
		case <-ctx.Done():
			return
		case <-q.wake:
		}
	}
}

// progressing says whether the listener keeps up: nothing waits, or a
// signal was handed on since the last time it was asked. A listener stuck
// on one signal, with others behind it, is not progressing.
func (q *signalQueue) progressing() bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	moved := q.handed != q.handedSeen
	q.handedSeen = q.handed
	return moved || q.added == q.handed
}
