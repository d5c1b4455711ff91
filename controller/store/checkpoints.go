package store

import (
	"context"
	"crypto/ed25519"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/sekisho/sekisho/controller/event"
)

// Checkpoint signs the log's head as it is now and keeps the checkpoint.
// It returns false when the head is already vouched for (nothing happened
// since the last one).
func (s *Store) Checkpoint(ctx context.Context, key ed25519.PrivateKey, at time.Time) (event.Checkpoint, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.writer == nil {
		return event.Checkpoint{}, false, errors.New("store: checkpoint: store closed")
	}
	var last int64
	if err := s.writer.QueryRowContext(ctx, `SELECT COALESCE(MAX(seq), -1) FROM checkpoints`).Scan(&last); err != nil {
		return event.Checkpoint{}, false, fmt.Errorf("store: checkpoint: %w", err)
	}
	if last == s.head.seq {
		return event.Checkpoint{}, false, nil
	}
	c := event.SignCheckpoint(key, s.site, s.head.seq, s.head.hash, at)
	_, err := s.writer.ExecContext(ctx, `INSERT INTO checkpoints (seq, hash, time, site, key, signature) VALUES (?, ?, ?, ?, ?, ?)`,
		c.Seq, c.Hash, c.Time.Format(time.RFC3339Nano), c.Site, c.Key, c.Signature)
	if err != nil {
		return event.Checkpoint{}, false, fmt.Errorf("store: checkpoint at seq %d: %w", c.Seq, err)
	}
	return c, true, nil
}

// Checkpoints returns every kept checkpoint, oldest first.
func (s *Store) Checkpoints(ctx context.Context) ([]event.Checkpoint, error) {
	return s.checkpoints(ctx, `SELECT seq, hash, time, site, key, signature FROM checkpoints ORDER BY seq`)
}

// LastCheckpoint is the newest kept checkpoint, if any.
func (s *Store) LastCheckpoint(ctx context.Context) (event.Checkpoint, bool, error) {
	cs, err := s.checkpoints(ctx, `SELECT seq, hash, time, site, key, signature FROM checkpoints ORDER BY seq DESC LIMIT 1`)
	if err != nil || len(cs) == 0 {
		return event.Checkpoint{}, false, err
	}
	return cs[0], true, nil
}

func (s *Store) checkpoints(ctx context.Context, q string) ([]event.Checkpoint, error) {
	rows, err := s.db.QueryContext(ctx, q)
	if err != nil {
		return nil, fmt.Errorf("store: checkpoints: %w", err)
	}
	defer rows.Close()
	var out []event.Checkpoint
	for rows.Next() {
		var c event.Checkpoint
		var at string
		if err := rows.Scan(&c.Seq, &c.Hash, &at, &c.Site, &c.Key, &c.Signature); err != nil {
			return nil, fmt.Errorf("store: checkpoints: %w", err)
		}
		if c.Time, err = time.Parse(time.RFC3339Nano, at); err != nil {
			return nil, fmt.Errorf("store: checkpoint at seq %d: time: %w", c.Seq, err)
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// hashAt is the stored hash of the event at seq.
func (s *Store) hashAt(ctx context.Context, seq int64) (string, bool, error) {
	var h string
	err := s.db.QueryRowContext(ctx, `SELECT hash FROM events WHERE seq = ?`, seq).Scan(&h)
	if errors.Is(err, sql.ErrNoRows) {
		return "", false, nil
	}
	if err != nil {
		return "", false, fmt.Errorf("store: event %d: %w", seq, err)
	}
	return h, true, nil
}
