package site

import (
	"context"
	"errors"
	"maps"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/sekisho/sekisho/controller/event"
	"github.com/sekisho/sekisho/controller/store"
)

// The journal is the one path to the log. The door loop, the guards'
// commands, cameras and timers hand it events in the order things happened,
// and never wait: one writer appends them in that order. A database locked
// by a backup, busy, or briefly failing delays the log, never a door; the
// events wait in memory, in order, and nothing is dropped on the door's side.

type journalEntry struct {
	ev *event.Event // nil for a change to the alarms alone
	// then is the change the event makes to the alarms table, done by the
	// writer after the event is in the log: the door loop never waits on
	// the database, and the table follows the log's order.
	then func(context.Context) error
	done chan error // buffered: the writer never waits on who asked
}

type journal struct {
	mu      sync.Mutex
	entries []journalEntry
	closed  bool
	wake    chan struct{}
	stopped chan struct{} // closed when the writer has finished
}

func newJournal() *journal {
	return &journal{wake: make(chan struct{}, 1), stopped: make(chan struct{})}
}

// record hands ev to the writer; the channel says how its append went.
func (s *Site) record(ctx context.Context, ev *event.Event) <-chan error {
	return s.recordThen(ctx, ev, nil)
}

// recordThen records ev, then has the writer run then.
func (s *Site) recordThen(_ context.Context, ev *event.Event, then func(context.Context) error) <-chan error {
	if ev != nil {
		if ev.Time.IsZero() {
			ev.Time = time.Now() // when it happened, not when the disk let it be written
		}
		if ev.ID == "" {
			ev.ID = uuid.Must(uuid.NewV7()).String()
		}
		// The writer gets its own copy: the caller goes on with its event
		// while the writer stamps seq and hashes on the one it appends.
		own := *ev
		own.Detail = maps.Clone(ev.Detail)
		ev = &own
	}
	done := make(chan error, 1)
	j := s.journal
	j.mu.Lock()
	if j.closed {
		j.mu.Unlock()
		if ev != nil {
			s.log.Error("event after the log closed; not logged", "type", ev.Type, "door", ev.Door)
		}
		done <- errors.New("site: the log is closed")
		return done
	}
	j.entries = append(j.entries, journalEntry{ev: ev, then: then, done: done})
	j.mu.Unlock()
	select {
	case j.wake <- struct{}{}:
	default:
	}
	return done
}

// logged records ev and waits until it is in the log (or ctx ends): for a
// command whose caller is told it is done only once it is on record.
func (s *Site) logged(ctx context.Context, ev *event.Event) error {
	select {
	case err := <-s.record(ctx, ev):
		if errors.Is(err, store.ErrDuplicate) {
			return nil
		}
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Record is logged for the API's own events (audits, acknowledgements), so
// they take their place in the one line of the log.
func (s *Site) Record(ctx context.Context, ev *event.Event) error { return s.logged(ctx, ev) }

// writeLog appends the journal's events until it is closed and empty.
func (s *Site) writeLog() {
	j := s.journal
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
		j.mu.Unlock()

		var err error
		if e.ev != nil {
			err = s.Store.Append(context.Background(), e.ev)
		} else {
			err = e.then(context.Background())
		}
		if err != nil && e.ev != nil && !errors.Is(err, store.ErrDuplicate) {
			s.meters.appendFailures.Inc()
		}
		if err != nil && store.Transient(err) {
			// Held in order and tried again: the next event waits its turn.
			if backoff == 0 {
				s.appendsFailing(err)
			}
			backoff = min(max(2*backoff, 10*time.Millisecond), time.Second)
			select {
			case <-time.After(backoff):
			case <-s.journalAbandon:
				s.dropJournal(err)
				return
			}
			continue
		}
		if backoff > 0 && err == nil {
			backoff = 0
			s.appendsResumed()
		}
		if e.ev != nil {
			switch {
			case errors.Is(err, store.ErrDuplicate):
				s.log.Debug("replayed event already logged", "id", e.ev.ID)
			case err != nil:
				// Not one a later try would mend: never silent, though.
				s.log.Error("event not logged", "type", e.ev.Type, "door", e.ev.Door, "err", err)
				s.notLogged(e.ev, err)
			default:
				s.meters.logged(e.ev)
				s.afterRecord(e.ev)
			}
			if e.then != nil && err == nil {
				// The event is in: its change to the alarms table waits its
				// turn as an entry of its own, retried like an append.
				j.mu.Lock()
				j.entries[0] = journalEntry{then: e.then, done: e.done}
				j.mu.Unlock()
				continue
			}
		} else if err != nil {
			s.log.Error("alarms table not updated", "err", err)
		}
		e.done <- err
		j.mu.Lock()
		j.entries = j.entries[1:]
		j.mu.Unlock()
	}
}

func (s *Site) journalLen() int {
	s.journal.mu.Lock()
	defer s.journal.mu.Unlock()
	return len(s.journal.entries)
}

// dropJournal gives up what is still waiting when the site stops and the
// database never came back; each is named in the process log.
func (s *Site) dropJournal(cause error) {
	j := s.journal
	j.mu.Lock()
	left := j.entries
	j.entries = nil
	j.mu.Unlock()
	for _, e := range left {
		if e.ev != nil {
			s.log.Error("stopping with the database unavailable: event not logged", "type", e.ev.Type, "door", e.ev.Door, "time", e.ev.Time, "err", cause)
		}
		e.done <- cause
	}
}

// closeJournal lets the writer finish what is queued, waiting at most
// grace for a database that stays locked.
func (s *Site) closeJournal(grace time.Duration) {
	j := s.journal
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
		close(s.journalAbandon)
		<-j.stopped
	}
}
