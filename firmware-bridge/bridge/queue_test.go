package bridge

import (
	"context"
	"testing"
	"time"
)

// A listener stuck on one signal with others behind it is seen as stuck;
// an idle queue and a moving one are not.
func TestQueueProgressing(t *testing.T) {
	q := newSignalQueue()
	if !q.progressing() {
		t.Fatal("an idle queue is stuck")
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	stuck, got := make(chan struct{}), make(chan Signal, 8)
	go q.run(ctx, func(s Signal) {
		got <- s
		if s.Door == "hang" {
			<-stuck
		}
	})
	q.add(Signal{Door: "a"})
	took(t, got)
	q.add(Signal{Door: "hang"})
	took(t, got)
	q.progressing() // the first signal's hand-off counted once
	q.add(Signal{Door: "behind"})
	if q.progressing() {
		t.Fatal("a listener stuck with a signal behind it is progressing")
	}
	close(stuck)
	took(t, got)
	// Once the next signal reaches the listener, the one before was handed
	// on and counted.
	q.add(Signal{Door: "after"})
	took(t, got)
	if !q.progressing() {
		t.Fatal("a queue moving again is still stuck")
	}
}

// took waits for the listener to be handed a signal; a test fails rather
// than hanging the suite.
func took(t *testing.T, got <-chan Signal) Signal {
	t.Helper()
	select {
	case s := <-got:
		return s
	case <-time.After(10 * time.Second):
		t.Fatal("the listener was handed no signal")
	}
	return Signal{}
}
