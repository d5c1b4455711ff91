package alarms

import (
	"context"
	"time"

	"github.com/sekisho/sekisho/controller/event"
)

// Escalate passes every alarm no guard has acknowledged within after up to
// the supervisor, checking every so often until ctx ends: the casebook's
// "a violation is reported to the supervisor at once". alarm.escalated
// goes out on the alarms topic, where a pager or a phone (Node-RED, Home
// Assistant) can take it, and the board marks the alarm.
func (s *Alarms) Escalate(ctx context.Context, after, every time.Duration) error {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
		alarms, err := s.store.Unescalated(ctx)
		if err != nil {
			if ctx.Err() == nil {
				s.log.Warn("escalation check", "err", err)
			}
			continue
		}
		for _, a := range alarms {
			raised, err := time.Parse(time.RFC3339Nano, a.RaisedAt)
			if err != nil || time.Since(raised) < after {
				continue
			}
			escalated, err := s.store.EscalateAlarm(ctx, a.ID)
			if err != nil {
				s.log.Error("alarm not escalated", "alarm", a.ID, "err", err)
				continue
			}
			if !escalated {
				continue // acknowledged a moment ago
			}
			detail := map[string]string{"kind": string(a.Kind), "detail": a.Detail, "raised_at": a.RaisedAt, "after": after.String()}
			if a.PersonID != "" {
				detail["person_id"] = a.PersonID
			}
			s.journal.Record(&event.Event{Type: event.AlarmEscalated, Door: a.Door, Reader: a.Reader,
				Alarm: &event.Alarm{ID: a.ID, Severity: string(a.Severity)}, Detail: detail})
		}
	}
}
