// Package journal is the one path to the site's log. The door loop, the
// guards' commands, cameras and timers hand it events in the order things
// happened, and never wait: one writer appends them in that order. A
// database locked by a backup, busy, or briefly failing delays the log,
// never a door; the events wait in memory, in order, and nothing is
// dropped on the door's side.
//
// What follows an append (stills, meters, the storage alarm) is told
// through an Observer, so the journal knows nothing of cameras or alarms.
package journal

import (
	"context"
	"errors"
	"log/slog"
	"maps"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/sekisho/sekisho/controller/event"
	"github.com/sekisho/sekisho/controller/sekisho"
)

// Log is where the journal appends.
type Log interface {
	Append(ctx context.Context, ev *event.Event) error
}

// Batcher is a Log that also appends several events in one transaction
// (store.AppendAll): errs says each one's outcome, or, when the group as
// a whole could not go in, the same error for all and nothing appended.
type Batcher interface {
	AppendAll(ctx context.Context, evs []*event.Event) []error
}

// maxGroup is the most events appended together: enough to carry a busy
// site's burst in one transaction, few enough that the first of them does
// not wait long on the last.
const maxGroup = 64

// Faults reads the log's errors: Transient says which a later try may mend
// (a locked database, a full card); Reason names one for a guard.
type Faults struct {
	Transient func(error) bool
	Reason    func(error) string
}

// Observer hears what became of each entry. Its methods run on the
// writer's goroutine: they must not wait on the journal (Record is fine).
type Observer interface {
	// Logged: ev is in the log, in its order.
	Logged(ev *event.Event)
	// NotLogged: the log refused ev for good (not a duplicate).
	NotLogged(ev *event.Event, err error)
	// Failing: the log refuses appends for now; entries wait in memory.
	// Resumed: the first append through after that.
	Failing(reason string, err error)
	Resumed(failedFor time.Duration)
}

// ErrClosed is an entry handed over after the journal closed.
var ErrClosed = errors.New("journal: the log is closed")

type entry struct {
	ev *event.Event // nil for a change alone
	// then is the change the event makes to the database (an alarm, a
	// checkout), done by the writer after the event is in the log: the door
	// loop never waits on the database, and the tables follow the log.
	then func(context.Context) error
	done chan error // buffered: the writer never waits on who asked
}

// Journal is the log's one writer.
type Journal struct {
	log      Log
	faults   Faults
	observer Observer
	slog     *slog.Logger

	mu      sync.Mutex
	entries []entry
	closed  bool
	wake    chan struct{}
	abandon chan struct{} // closed when a closing journal stops waiting for the database
	stopped chan struct{} // closed when the writer has finished
	once    sync.Once
	clock   Stamper // nil: events keep the time they came with
	health  health
}

// New is a journal writing to log. Start runs the writer.
func New(log Log, faults Faults, observer Observer, l *slog.Logger) *Journal {
	return &Journal{log: log, faults: faults, observer: observer, slog: l,
		wake: make(chan struct{}, 1), abandon: make(chan struct{}), stopped: make(chan struct{})}
}

// Stamper gives each event the time to log (the site's clock, which never
// runs backwards while the kernel's is not synchronised) and says whether
// to mark it as stamped by an unsynchronised clock.
type Stamper interface {
	Now() time.Time
	Stamp(t time.Time) (time.Time, bool)
}

// SetClock has the journal stamp events with c; before Start.
func (j *Journal) SetClock(c Stamper) { j.clock = c }

// Start runs the writer until Close.
func (j *Journal) Start() { go j.write() }

// Record hands ev to the writer; the channel says how its append went.
func (j *Journal) Record(ev *event.Event) <-chan error { return j.RecordThen(ev, nil) }

// RecordThen records ev (nil: then alone), then has the writer run then.
func (j *Journal) RecordThen(ev *event.Event, then func(context.Context) error) <-chan error {
	if ev != nil {
		if ev.Time.IsZero() {
			ev.Time = time.Now() // when it happened, not when the disk let it be written
			if j.clock != nil {
				ev.Time = j.clock.Now()
			}
		}
		unsynced := false
		if j.clock != nil {
			ev.Time, unsynced = j.clock.Stamp(ev.Time)
		}
		if ev.ID == "" {
			ev.ID = uuid.Must(uuid.NewV7()).String()
		}
		// The writer gets its own copy: the caller goes on with its event
		// while the writer stamps seq and hashes on the one it appends.
		own := *ev
		own.Detail = maps.Clone(ev.Detail)
		if unsynced {
			// Stamped while the kernel's clock was not synchronised: a
			// reader of the log knows to take its times with care.
			if own.Detail == nil {
				own.Detail = map[string]string{}
			}
			own.Detail["clock"] = "unsynced"
		}
		ev = &own
	}
	done := make(chan error, 1)
	j.mu.Lock()
	if j.closed {
		j.mu.Unlock()
		if ev != nil {
			j.slog.Error("event after the log closed; not logged", "type", ev.Type, "door", ev.Door)
		}
		done <- ErrClosed
		return done
	}
	j.entries = append(j.entries, entry{ev: ev, then: then, done: done})
	j.mu.Unlock()
	select {
	case j.wake <- struct{}{}:
	default:
	}
	return done
}

// Logged records ev and waits until it is in the log (or ctx ends): for a
// command whose caller is told it is done only once it is on record. An
// event already in the log (a replay) counts as logged.
func (j *Journal) Logged(ctx context.Context, ev *event.Event) error {
	return Wait(ctx, j.Record(ev))
}

// Wait waits for entries handed to the journal; an event already in the
// log counts as logged.
func Wait(ctx context.Context, done ...<-chan error) error {
	for _, d := range done {
		select {
		case err := <-d:
			if err != nil && !errors.Is(err, sekisho.ErrDuplicate) {
				return err
			}
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return nil
}

// Len is how many entries wait for the writer.
func (j *Journal) Len() int {
	j.mu.Lock()
	defer j.mu.Unlock()
	return len(j.entries)
}

// write appends the journal's entries until it is closed and empty.
func (j *Journal) write() {
	defer close(j.stopped)
	backoff := time.Duration(0)
	for {
		j.mu.Lock()
		if len(j.entries) == 0 {
			closed := j.closed
			j.mu.Unlock()
			if closed {
				return
			}
			<-j.wake
			continue
		}
		e := j.entries[0]
		group := j.group()
		j.mu.Unlock()
		if len(group) > 1 && backoff == 0 && j.appendGroup(group) {
			continue
		}

		var err error
		if e.ev != nil {
			err = j.log.Append(context.Background(), e.ev)
		} else {
			err = e.then(context.Background())
		}
		if err != nil && j.faults.Transient(err) {
			// Held in order and tried again: the next entry waits its turn.
			if backoff == 0 {
				j.failing(err, false)
			}
			backoff = min(max(2*backoff, 10*time.Millisecond), time.Second)
			select {
			case <-time.After(backoff):
			case <-j.abandon:
				j.drop(err)
				return
			}
			continue
		}
		if backoff > 0 && err == nil {
			backoff = 0
			j.resumed(false)
		}
		if e.ev != nil {
			switch {
			case errors.Is(err, sekisho.ErrDuplicate):
				j.slog.Debug("replayed event already logged", "id", e.ev.ID)
			case err != nil:
				// Not one a later try would mend: never silent, though.
				j.slog.Error("event not logged", "type", e.ev.Type, "door", e.ev.Door, "err", err)
				j.observer.NotLogged(e.ev, err)
			default:
				j.observer.Logged(e.ev)
			}
			if e.then != nil && err == nil {
				// The event is in: its change to the tables waits its turn
				// as an entry of its own, retried like an append.
				j.mu.Lock()
				j.entries[0] = entry{then: e.then, done: e.done}
				j.mu.Unlock()
				continue
			}
		} else if err != nil {
			j.slog.Error("a change after an event not stored", "err", err)
		}
		e.done <- err
		j.mu.Lock()
		j.entries = j.entries[1:]
		j.mu.Unlock()
	}
}

// group is the run of plain events at the head of the queue (under mu):
// what can go in together.
func (j *Journal) group() []entry {
	n := 0
	for n < len(j.entries) && n < maxGroup && j.entries[n].ev != nil && j.entries[n].then == nil {
		n++
	}
	return j.entries[:n:n]
}

// appendGroup appends a run of events in one transaction when the log can
// (a busy site logs thousands a second, and a transaction each is most of
// what an append costs). It reports false, having done nothing, when the
// group did not go in as a whole: then each is appended alone, with the
// retries that gives.
func (j *Journal) appendGroup(group []entry) bool {
	b, ok := j.log.(Batcher)
	if !ok {
		return false
	}
	evs := make([]*event.Event, len(group))
	for i, e := range group {
		evs[i] = e.ev
	}
	errs := b.AppendAll(context.Background(), evs)
	for _, err := range errs {
		if err != nil && !errors.Is(err, sekisho.ErrDuplicate) {
			return false
		}
	}
	for i, e := range group {
		if errs[i] != nil {
			j.slog.Debug("replayed event already logged", "id", e.ev.ID)
		} else {
			j.observer.Logged(e.ev)
		}
		e.done <- errs[i]
	}
	j.mu.Lock()
	j.entries = j.entries[len(group):]
	j.mu.Unlock()
	return true
}

// drop gives up what is still waiting when the journal closes and the
// database never came back; each is named in the process log.
func (j *Journal) drop(cause error) {
	j.mu.Lock()
	left := j.entries
	j.entries = nil
	j.mu.Unlock()
	for _, e := range left {
		if e.ev != nil {
			j.slog.Error("stopping with the database unavailable: event not logged", "type", e.ev.Type, "door", e.ev.Door, "time", e.ev.Time, "err", cause)
		}
		e.done <- cause
	}
}

// Close lets the writer finish what is queued, waiting at most grace for a
// database that stays locked; entries handed over later get ErrClosed.
func (j *Journal) Close(grace time.Duration) {
	j.mu.Lock()
	j.closed = true
	j.mu.Unlock()
	select {
	case j.wake <- struct{}{}:
	default:
	}
	select {
	case <-j.stopped:
	case <-time.After(grace):
		j.once.Do(func() { close(j.abandon) })
		<-j.stopped
	}
}
