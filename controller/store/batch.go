package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"

	"github.com/sekisho/sekisho/controller/event"
	"github.com/sekisho/sekisho/controller/sekisho"
)

// AppendAll appends evs in order in one transaction, as Append appends
// one: at a busy moment a transaction an event costs the writer most of
// its time. errs[i] is each event's outcome; a duplicate (a door Pi's
// replay) is refused alone and the others go in. When the group as a
// whole cannot go in (the database is locked or full, another process
// appended), it returns every event's error and nothing is appended: the
// caller appends them one by one.
func (s *Store) AppendAll(ctx context.Context, evs []*event.Event) []error {
	errs := make([]error, len(evs))
	fail := func(err error) []error {
		for i := range evs {
			evs[i].Seq, evs[i].PrevHash, evs[i].Hash = 0, "", ""
			errs[i] = err
		}
		return errs
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.writer == nil {
		return fail(errors.New("store: closed"))
	}
	for _, ev := range evs {
		if ev.ID == "" {
			id, err := uuid.NewV7()
			if err != nil {
				return fail(fmt.Errorf("store: event id: %w", err))
			}
			ev.ID = id.String()
		}
		if ev.Time.IsZero() {
			ev.Time = time.Now()
		}
		ev.Time = ev.Time.UTC().Truncate(time.Millisecond)
		ev.Site = s.site
	}
	t := &s.tree
	if _, err := t.begin.ExecContext(ctx); err != nil {
		return fail(fmt.Errorf("store: append: %w", err))
	}
	head, size := s.head, t.size
	for i, ev := range evs {
		body, err := s.insertAt(ctx, s.insert, head, ev)
		if isUnique(err) {
			// SQLite took back that one statement; the group goes on.
			ev.Seq, ev.PrevHash, ev.Hash = 0, "", ""
			errs[i] = fmt.Errorf("store: event %s: %w", ev.ID, sekisho.ErrDuplicate)
			continue
		}
		if err == nil && size == head.seq {
			if err = s.growWith(ctx, head.seq, body); err == nil {
				size++
			}
		}
		if err != nil {
			_, _ = s.writer.ExecContext(context.WithoutCancel(ctx), `ROLLBACK`)
			clear(t.cache)
			return fail(fmt.Errorf("store: append %s: %w", ev.Type, err))
		}
		head = chainHead{seq: ev.Seq, hash: ev.Hash}
	}
	if _, err := t.commit.ExecContext(ctx); err != nil {
		_, _ = s.writer.ExecContext(context.WithoutCancel(ctx), `ROLLBACK`)
		clear(t.cache)
		return fail(fmt.Errorf("store: append: %w", err))
	}
	s.head, t.size = head, size
	s.headSeq.Store(head.seq)
	t.known.Store(size)
	s.announce()
	return errs
}
