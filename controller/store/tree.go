package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"golang.org/x/mod/sumdb/tlog"

	"github.com/sekisho/sekisho/controller/sekisho"
)

// The Merkle tree over the log is kept here; controller/logtree builds it,
// signs it and proves from it.

// TreeSize is how many events the Merkle tree holds.
func (s *Store) TreeSize(ctx context.Context) (int64, error) {
	var n int64
	if err := s.db.QueryRowContext(ctx, `SELECT size FROM tree_size`).Scan(&n); err != nil {
		return 0, fmt.Errorf("store: tree size: %w", err)
	}
	return n, nil
}

// TreeHashes reads the tree's stored hashes at the given indexes, in order.
// A missing one is an error: a proof must never be made from a hole.
func (s *Store) TreeHashes(ctx context.Context, indexes []int64) ([]tlog.Hash, error) {
	out := make([]tlog.Hash, len(indexes))
	if len(indexes) == 0 {
		return out, nil
	}
	at := make(map[int64][]int, len(indexes))
	args := make([]any, 0, len(indexes))
	for i, id := range indexes {
		if _, ok := at[id]; !ok {
			args = append(args, id)
		}
		at[id] = append(at[id], i)
	}
	const chunk = 500 // well under SQLite's limit on parameters
	found := 0
	for len(args) > 0 {
		part := args[:min(chunk, len(args))]
		args = args[len(part):]
		q := `SELECT id, hash FROM tree_hashes WHERE id IN (?` + strings.Repeat(",?", len(part)-1) + `)`
		rows, err := s.db.QueryContext(ctx, q, part...)
		if err != nil {
			return nil, fmt.Errorf("store: tree hashes: %w", err)
		}
		for rows.Next() {
			var id int64
			var h []byte
			if err := rows.Scan(&id, &h); err != nil {
				rows.Close()
				return nil, fmt.Errorf("store: tree hashes: %w", err)
			}
			if len(h) != tlog.HashSize {
				rows.Close()
				return nil, fmt.Errorf("store: tree hash %d is %d bytes, not %d", id, len(h), tlog.HashSize)
			}
			for _, i := range at[id] {
				copy(out[i][:], h)
			}
			found++
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return nil, fmt.Errorf("store: tree hashes: %w", err)
		}
	}
	if found != len(at) {
		return nil, fmt.Errorf("store: tree hashes: %d of %d asked for are not kept: %w", len(at)-found, len(at), sekisho.ErrNotFound)
	}
	return out, nil
}

// GrowTree adds the stored hashes of events from+1..to (leaves from..to-1)
// and moves the tree's size from from to to, in one transaction. hashes
// begin at tlog.StoredHashCount(from). It refuses if the tree is no longer
// from events big (another builder grew it). It is how a log older than
// its tree is caught up; it writes on the log's own writer, between
// appends, so the two never wait on SQLite's lock for each other.
func (s *Store) GrowTree(ctx context.Context, from, to int64, hashes []tlog.Hash) error {
	if want := tlog.StoredHashCount(to) - tlog.StoredHashCount(from); int64(len(hashes)) != want {
		return fmt.Errorf("store: grow tree %d→%d: %d hashes, want %d", from, to, len(hashes), want)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.writer == nil {
		return errors.New("store: grow tree: store closed")
	}
	tx, err := s.writer.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("store: grow tree: %w", err)
	}
	defer tx.Rollback()
	res, err := tx.ExecContext(ctx, `UPDATE tree_size SET size = ? WHERE size = ?`, to, from)
	if err != nil {
		return fmt.Errorf("store: grow tree: %w", err)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return fmt.Errorf("store: grow tree from %d: it is no longer that size: %w", from, sekisho.ErrConflict)
	}
	// Many rows a statement: a tree of ten million events is twenty
	// million rows, and one call into SQLite per row is most of its cost.
	const rowsPer = 256
	full, err := tx.PrepareContext(ctx, `INSERT INTO tree_hashes (id, hash) VALUES (?, ?)`+strings.Repeat(", (?, ?)", rowsPer-1))
	if err != nil {
		return fmt.Errorf("store: grow tree: %w", err)
	}
	defer full.Close()
	base := tlog.StoredHashCount(from)
	args := make([]any, 0, 2*rowsPer)
	for start := 0; start < len(hashes); start += rowsPer {
		part := hashes[start:min(start+rowsPer, len(hashes))]
		args = args[:0]
		for i := range part {
			args = append(args, base+int64(start+i), part[i][:])
		}
		if len(part) == rowsPer {
			_, err = full.ExecContext(ctx, args...)
		} else {
			_, err = tx.ExecContext(ctx, `INSERT INTO tree_hashes (id, hash) VALUES (?, ?)`+strings.Repeat(", (?, ?)", len(part)-1), args...)
		}
		if err != nil {
			return fmt.Errorf("store: grow tree: hashes from %d: %w", base+int64(start), err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("store: grow tree: %w", err)
	}
	s.tree.size = to
	s.tree.known.Store(to)
	return nil
}

// Bodies returns the stored bodies (the bytes each leaf hashes) of events
// after seq, up to limit of them, oldest first.
func (s *Store) Bodies(ctx context.Context, after int64, limit int) ([][]byte, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT seq, body FROM events WHERE seq > ? ORDER BY seq LIMIT ?`, after, limit)
	if err != nil {
		return nil, fmt.Errorf("store: bodies after %d: %w", after, err)
	}
	defer rows.Close()
	var out [][]byte
	for rows.Next() {
		var seq int64
		var b []byte
		if err := rows.Scan(&seq, &b); err != nil {
			return nil, fmt.Errorf("store: bodies after %d: %w", after, err)
		}
		if want := after + int64(len(out)) + 1; seq != want {
			// The log's seqs are gap-free; a hole is a deleted event.
			return nil, fmt.Errorf("store: event %d is missing from the log (next is %d): %w", want, seq, sekisho.ErrNotFound)
		}
		out = append(out, b)
	}
	return out, rows.Err()
}

// Body is one event's stored body.
func (s *Store) Body(ctx context.Context, seq int64) ([]byte, error) {
	var b []byte
	err := s.db.QueryRowContext(ctx, `SELECT body FROM events WHERE seq = ?`, seq).Scan(&b)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("store: event %d: %w", seq, sekisho.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("store: event %d: %w", seq, err)
	}
	return b, nil
}

// TreeCheckpoint is one signed C2SP checkpoint with the cosignatures kept
// for it.
type TreeCheckpoint struct {
	Size         int64
	Note         []byte // the site's signed note
	Time         time.Time
	Cosignatures []string // signature lines, as the cosigners sent them
}

// SaveTreeCheckpoint keeps a signed checkpoint. One at a size already kept
// is left as it was (a restart signing the same tree again).
func (s *Store) SaveTreeCheckpoint(ctx context.Context, size int64, note []byte, at time.Time) error {
	return s.onWriter(func(w *sql.Conn) error {
		return s.saveTreeCheckpoint(ctx, w, size, note, at)
	})
}

// onWriter runs f on the log's writer: the log's tables have one writer,
// whose short busy wait keeps a request that writes from hanging on a
// database something else holds.
func (s *Store) onWriter(f func(w *sql.Conn) error) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.writer == nil {
		return errors.New("store: closed")
	}
	return f(s.writer)
}

func (s *Store) saveTreeCheckpoint(ctx context.Context, w *sql.Conn, size int64, note []byte, at time.Time) error {
	_, err := w.ExecContext(ctx, `INSERT INTO tree_checkpoints (size, note, time) VALUES (?, ?, ?) ON CONFLICT (size) DO NOTHING`,
		size, string(note), stamp(at))
	if err != nil {
		return fmt.Errorf("store: tree checkpoint at %d: %w", size, err)
	}
	return nil
}

// LastTreeCheckpoint is the newest signed checkpoint.
func (s *Store) LastTreeCheckpoint(ctx context.Context) (TreeCheckpoint, bool, error) {
	cs, err := s.treeCheckpoints(ctx, `ORDER BY size DESC LIMIT 1`)
	if err != nil || len(cs) == 0 {
		return TreeCheckpoint{}, false, err
	}
	return cs[0], true, nil
}

// TreeCheckpointAt is the checkpoint signed at size.
func (s *Store) TreeCheckpointAt(ctx context.Context, size int64) (TreeCheckpoint, error) {
	cs, err := s.treeCheckpoints(ctx, `WHERE size = ?`, size)
	if err != nil {
		return TreeCheckpoint{}, err
	}
	if len(cs) == 0 {
		return TreeCheckpoint{}, fmt.Errorf("store: no checkpoint at size %d: %w", size, sekisho.ErrNotFound)
	}
	return cs[0], nil
}

// TreeCheckpointBefore is the newest checkpoint signed before t.
func (s *Store) TreeCheckpointBefore(ctx context.Context, t time.Time) (TreeCheckpoint, bool, error) {
	cs, err := s.treeCheckpoints(ctx, `WHERE time < ? ORDER BY size DESC LIMIT 1`, stamp(t))
	if err != nil || len(cs) == 0 {
		return TreeCheckpoint{}, false, err
	}
	return cs[0], true, nil
}

// TreeCheckpointAfter is the oldest checkpoint signed at or after t that
// holds at least size events.
func (s *Store) TreeCheckpointAfter(ctx context.Context, t time.Time, size int64) (TreeCheckpoint, bool, error) {
	cs, err := s.treeCheckpoints(ctx, `WHERE time >= ? AND size >= ? ORDER BY size LIMIT 1`, stamp(t), size)
	if err != nil || len(cs) == 0 {
		return TreeCheckpoint{}, false, err
	}
	return cs[0], true, nil
}

// stamp is a checkpoint's time as kept: fixed width, so that the text
// sorts as the time does.
func stamp(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000000000Z") }

func (s *Store) treeCheckpoints(ctx context.Context, where string, args ...any) ([]TreeCheckpoint, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT size, note, time FROM tree_checkpoints `+where, args...)
	if err != nil {
		return nil, fmt.Errorf("store: tree checkpoints: %w", err)
	}
	var out []TreeCheckpoint
	for rows.Next() {
		var c TreeCheckpoint
		var note, at string
		if err := rows.Scan(&c.Size, &note, &at); err != nil {
			rows.Close()
			return nil, fmt.Errorf("store: tree checkpoints: %w", err)
		}
		c.Note = []byte(note)
		if c.Time, err = time.Parse(time.RFC3339Nano, at); err != nil {
			rows.Close()
			return nil, fmt.Errorf("store: tree checkpoint at %d: time: %w", c.Size, err)
		}
		out = append(out, c)
	}
	err = rows.Err()
	rows.Close()
	if err != nil {
		return nil, fmt.Errorf("store: tree checkpoints: %w", err)
	}
	for i := range out {
		if out[i].Cosignatures, err = s.cosignatures(ctx, out[i].Size); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func (s *Store) cosignatures(ctx context.Context, size int64) ([]string, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT line FROM tree_cosignatures WHERE size = ? ORDER BY name`, size)
	if err != nil {
		return nil, fmt.Errorf("store: cosignatures at %d: %w", size, err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var l string
		if err := rows.Scan(&l); err != nil {
			return nil, fmt.Errorf("store: cosignatures at %d: %w", size, err)
		}
		out = append(out, l)
	}
	return out, rows.Err()
}

// AddCosignature keeps a cosigner's signature line on the checkpoint at
// size; a newer one from the same cosigner replaces the older (a witness
// signs the same checkpoint again with a fresh time).
func (s *Store) AddCosignature(ctx context.Context, size int64, name, line string, at time.Time) error {
	return s.onWriter(func(w *sql.Conn) error { return s.addCosignature(ctx, w, size, name, line, at) })
}

func (s *Store) addCosignature(ctx context.Context, w *sql.Conn, size int64, name, line string, at time.Time) error {
	_, err := w.ExecContext(ctx, `INSERT INTO tree_cosignatures (size, name, line, received) VALUES (?, ?, ?, ?)
		ON CONFLICT (size, name) DO UPDATE SET line = excluded.line, received = excluded.received`,
		size, name, line, at.UTC().Format(time.RFC3339Nano))
	if err != nil {
		return fmt.Errorf("store: cosignature at %d: %w", size, err)
	}
	return nil
}

// TreeHashRange is the stored hashes with ids in [from, to), in order; a
// missing one is an error.
func (s *Store) TreeHashRange(ctx context.Context, from, to int64) ([]tlog.Hash, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT id, hash FROM tree_hashes WHERE id >= ? AND id < ? ORDER BY id`, from, to)
	if err != nil {
		return nil, fmt.Errorf("store: tree hashes %d–%d: %w", from, to, err)
	}
	defer rows.Close()
	out := make([]tlog.Hash, 0, to-from)
	for rows.Next() {
		var id int64
		var h []byte
		if err := rows.Scan(&id, &h); err != nil {
			return nil, fmt.Errorf("store: tree hashes: %w", err)
		}
		if want := from + int64(len(out)); id != want || len(h) != tlog.HashSize {
			return nil, fmt.Errorf("store: tree hash %d is missing or not %d bytes: %w", want, tlog.HashSize, sekisho.ErrNotFound)
		}
		out = append(out, tlog.Hash(h))
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: tree hashes: %w", err)
	}
	if int64(len(out)) != to-from {
		return nil, fmt.Errorf("store: tree hashes %d–%d: %d of them kept: %w", from, to, len(out), sekisho.ErrNotFound)
	}
	return out, nil
}
