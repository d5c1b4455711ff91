package store

import (
	"context"
	"fmt"

	"github.com/sekisho/sekisho/controller/sekisho"
)

// RaiseAlarm stores a new alarm.
func (s *Store) RaiseAlarm(ctx context.Context, a *sekisho.Alarm) error {
	if a.RaisedAt == "" {
		a.RaisedAt = now()
	}
	_, err := s.db.ExecContext(ctx, `INSERT INTO alarms (id, kind, severity, door, reader, person_id, detail, raised_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (id) DO NOTHING`, // stored again after a failure that came after the insert
		a.ID, a.Kind, a.Severity, a.Door, a.Reader, a.PersonID, a.Detail, a.RaisedAt)
	if err != nil {
		return fmt.Errorf("store: alarm %s: %w", a.ID, err)
	}
	return nil
}

// ClearAlarm marks an alarm's cause gone (the door closed, the loop closed).
func (s *Store) ClearAlarm(ctx context.Context, id string) (bool, error) {
	res, err := s.db.ExecContext(ctx, `UPDATE alarms SET cleared_at = ? WHERE id = ? AND cleared_at = ''`, now(), id)
	if err != nil {
		return false, fmt.Errorf("store: clear alarm %s: %w", id, err)
	}
	n, _ := res.RowsAffected()
	return n > 0, nil
}

// ClearAlarms clears the open alarms of kind at door and returns their ids.
func (s *Store) ClearAlarms(ctx context.Context, kind sekisho.AlarmKind, door string) ([]string, error) {
	open, err := s.alarms(ctx, `WHERE kind = ? AND door = ? AND cleared_at = ''`, kind, door)
	if err != nil {
		return nil, err
	}
	var ids []string
	for _, a := range open {
		if ok, err := s.ClearAlarm(ctx, a.ID); err != nil {
			return ids, err
		} else if ok {
			ids = append(ids, a.ID)
		}
	}
	return ids, nil
}

// AckAlarm records that a guard saw an alarm.
func (s *Store) AckAlarm(ctx context.Context, id, by string) (sekisho.Alarm, error) {
	res, err := s.db.ExecContext(ctx, `UPDATE alarms SET acked_by = ?, acked_at = ? WHERE id = ? AND acked_at = ''`, by, now(), id)
	if err != nil {
		return sekisho.Alarm{}, fmt.Errorf("store: ack alarm %s: %w", id, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		var exists int
		s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM alarms WHERE id = ?`, id).Scan(&exists)
		if exists == 0 {
			return sekisho.Alarm{}, fmt.Errorf("store: alarm %s: %w", id, sekisho.ErrNotFound)
		}
		return sekisho.Alarm{}, fmt.Errorf("store: alarm %s was already acknowledged: %w", id, sekisho.ErrConflict)
	}
	alarms, err := s.alarms(ctx, `WHERE id = ?`, id)
	if err != nil || len(alarms) == 0 {
		return sekisho.Alarm{}, err
	}
	return alarms[0], nil
}

// Unescalated are the alarms no guard has acknowledged and nobody has
// escalated yet, oldest first.
func (s *Store) Unescalated(ctx context.Context) ([]sekisho.Alarm, error) {
	return s.alarms(ctx, `WHERE acked_at = '' AND escalated_at = '' ORDER BY raised_at LIMIT 500`)
}

// EscalateAlarm marks an unacknowledged alarm escalated; false if it was
// acknowledged or escalated meanwhile.
func (s *Store) EscalateAlarm(ctx context.Context, id string) (bool, error) {
	res, err := s.db.ExecContext(ctx, `UPDATE alarms SET escalated_at = ? WHERE id = ? AND acked_at = '' AND escalated_at = ''`, now(), id)
	if err != nil {
		return false, fmt.Errorf("store: escalate alarm %s: %w", id, err)
	}
	n, _ := res.RowsAffected()
	return n > 0, nil
}

// OpenAlarms are alarms not yet both cleared and acknowledged, newest first.
func (s *Store) OpenAlarms(ctx context.Context) ([]sekisho.Alarm, error) {
	return s.alarms(ctx, `WHERE cleared_at = '' OR acked_at = '' ORDER BY raised_at DESC LIMIT 500`)
}

func (s *Store) alarms(ctx context.Context, where string, args ...any) ([]sekisho.Alarm, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT id, kind, severity, door, reader, person_id, detail, raised_at, cleared_at, acked_by, acked_at, escalated_at FROM alarms `+where, args...)
	if err != nil {
		return nil, fmt.Errorf("store: alarms: %w", err)
	}
	defer rows.Close()
	out := []sekisho.Alarm{}
	for rows.Next() {
		var a sekisho.Alarm
		if err := rows.Scan(&a.ID, &a.Kind, &a.Severity, &a.Door, &a.Reader, &a.PersonID, &a.Detail, &a.RaisedAt, &a.ClearedAt, &a.AckedBy, &a.AckedAt, &a.EscalatedAt); err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	return out, rows.Err()
}
