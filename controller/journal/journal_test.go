package journal_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/sekisho/sekisho/controller/event"
	"github.com/sekisho/sekisho/controller/journal"
	"github.com/sekisho/sekisho/controller/sekisho"
	"github.com/sekisho/sekisho/controller/testtool"
)

// errLocked stands for a database another process holds.
var errLocked = errors.New("database is locked")

// fakeLog is a log that takes appends in order and can be held locked,
// as a backup holds SQLite.
type fakeLog struct {
	mu     sync.Mutex
	locked bool
	types  []string
	refuse string // a type refused for good
}

func (l *fakeLog) Append(_ context.Context, ev *event.Event) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	switch {
	case l.locked:
		return errLocked
	case ev.Type == l.refuse:
		return errors.New("refused for good")
	}
	l.types = append(l.types, ev.Type)
	return nil
}

func (l *fakeLog) lock(on bool) { l.mu.Lock(); l.locked = on; l.mu.Unlock() }

func (l *fakeLog) logged() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.types...)
}

type observed struct {
	mu                         sync.Mutex
	logged, notLogged, failing int
	resumed                    int
}

func (o *observed) Logged(*event.Event)           { o.mu.Lock(); o.logged++; o.mu.Unlock() }
func (o *observed) NotLogged(*event.Event, error) { o.mu.Lock(); o.notLogged++; o.mu.Unlock() }
func (o *observed) Failing(string, error)         { o.mu.Lock(); o.failing++; o.mu.Unlock() }
func (o *observed) Resumed(time.Duration)         { o.mu.Lock(); o.resumed++; o.mu.Unlock() }
func (o *observed) counts() (logged, notLogged, failing, resumed int) {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.logged, o.notLogged, o.failing, o.resumed
}

func newJournal(l *fakeLog, o *observed) *journal.Journal {
	j := journal.New(l, journal.Faults{
		Transient: func(err error) bool { return errors.Is(err, errLocked) },
		Reason:    func(err error) string { return "database locked: " + err.Error() },
	}, o, slog.New(slog.NewTextHandler(io.Discard, nil)))
	j.Start()
	return j
}

// A locked log holds entries in memory, in order, and health says why;
// once the lock goes every entry is appended in its order, each then after
// its own event, and the observer heard the failure once and the return.
func TestLockedLogHoldsEntriesInOrder(t *testing.T) {
	l, o := &fakeLog{}, &observed{}
	j := newJournal(l, o)
	defer j.Close(time.Second)
	l.lock(true)
	var order []string
	var mu sync.Mutex
	j.Record(&event.Event{Type: "a"})
	done := j.RecordThen(&event.Event{Type: "b"}, func(context.Context) error {
		mu.Lock()
		order = append(order, "then-b")
		mu.Unlock()
		return nil
	})
	j.Record(&event.Event{Type: "c"})
	testtool.WaitFor(t, 10*time.Second, "health to say the log is failing", func() bool {
		h := j.Health()
		return !h.OK && h.Waiting == 3 && h.Reason != ""
	})
	l.lock(false)
	if err := journal.Wait(t.Context(), done); err != nil {
		t.Fatal(err)
	}
	testtool.WaitFor(t, 10*time.Second, "every entry appended", func() bool { return len(l.logged()) == 3 })
	if got := l.logged(); got[0] != "a" || got[1] != "b" || got[2] != "c" {
		t.Fatalf("appended in the order %v", got)
	}
	testtool.WaitFor(t, 10*time.Second, "health back", func() bool { return j.Health().OK })
	if logged, _, failing, resumed := o.counts(); logged != 3 || failing != 1 || resumed != 1 {
		t.Fatalf("observer heard logged %d, failing %d, resumed %d", logged, failing, resumed)
	}
	if len(order) != 1 {
		t.Fatalf("then ran %d times", len(order))
	}
}

// An entry the log refuses for good is told to the observer (the storage
// alarm), never dropped in silence; the next entries go on.
func TestRefusedEventIsToldAndTheRestGoOn(t *testing.T) {
	l, o := &fakeLog{refuse: "bad"}, &observed{}
	j := newJournal(l, o)
	defer j.Close(time.Second)
	bad := j.Record(&event.Event{Type: "bad"})
	good := j.Record(&event.Event{Type: "good"})
	if err := <-bad; err == nil {
		t.Fatal("a refused event reported as logged")
	}
	if err := journal.Wait(t.Context(), good); err != nil {
		t.Fatal(err)
	}
	if _, notLogged, _, _ := o.counts(); notLogged != 1 {
		t.Fatalf("not logged told %d times", notLogged)
	}
}

// Closing waits for what is queued; past the grace, a log still locked
// gives each waiting entry its error; anything handed over after is
// refused with ErrClosed and a line in the process log.
func TestCloseDrainsThenRefuses(t *testing.T) {
	l, o := &fakeLog{}, &observed{}
	j := newJournal(l, o)
	for range 50 {
		j.Record(&event.Event{Type: "e"})
	}
	j.Close(10 * time.Second)
	if n := len(l.logged()); n != 50 {
		t.Fatalf("%d of 50 appended before close returned", n)
	}
	if err := <-j.Record(&event.Event{Type: "late"}); !errors.Is(err, journal.ErrClosed) {
		t.Fatalf("after close: %v", err)
	}

	l2 := &fakeLog{}
	j2 := newJournal(l2, &observed{})
	l2.lock(true)
	stuck := j2.Record(&event.Event{Type: "stuck"})
	j2.Close(50 * time.Millisecond)
	if err := <-stuck; !errors.Is(err, errLocked) {
		t.Fatalf("an entry given up at close: %v", err)
	}
}

// Logged waits for the append, and a replay of an event already logged
// counts as logged.
func TestLoggedAndDuplicates(t *testing.T) {
	l := &fakeLog{}
	j := newJournal(l, &observed{})
	defer j.Close(time.Second)
	ev := &event.Event{Type: "x"}
	if err := j.Logged(t.Context(), ev); err != nil {
		t.Fatal(err)
	}
	if ev.ID == "" || ev.Time.IsZero() {
		t.Fatalf("the caller's event was not given an id and time: %+v", ev)
	}
	if err := journal.Wait(t.Context(), func() <-chan error { c := make(chan error, 1); c <- sekisho.ErrDuplicate; return c }()); err != nil {
		t.Fatalf("a duplicate counts as logged: %v", err)
	}
}
