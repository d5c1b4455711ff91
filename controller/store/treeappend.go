package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync/atomic"

	"golang.org/x/mod/sumdb/tlog"

	"github.com/sekisho/sekisho/controller/event"
)

// The Merkle tree grows inside each append, on the log's own writer and in
// the append's transaction: a second writer would contend with the door's
// appends for SQLite's one lock, and SQLite makes a waiting writer sleep
// a millisecond or more. Only a log that was there before the tree (an
// upgrade, a fill) is caught up from the side, by controller/logtree,
// through GrowTree; until then appends leave the tree to it.

// treeState is the tree as the writer knows it (under s.mu).
type treeState struct {
	size   int64               // leaves kept
	known  atomic.Int64        // size, for readers that must not wait on an append
	cache  map[int64]tlog.Hash // recently kept stored hashes, by index
	begin  *sql.Stmt           // on the writer
	commit *sql.Stmt
	row    *sql.Stmt // one stored hash
	read   *sql.Stmt // a stored hash by index
	grow   *sql.Stmt // the size, moved only from what it was
}

// treeCacheMax bounds the writer's memory of kept hashes; past it the
// few an append needs are read back.
const treeCacheMax = 4096

func (s *Store) prepareTree(ctx context.Context) error {
	t := &s.tree
	var err error
	for _, p := range []struct {
		stmt **sql.Stmt
		q    string
	}{
		{&t.begin, `BEGIN IMMEDIATE`}, {&t.commit, `COMMIT`},
		{&t.row, `INSERT INTO tree_hashes (id, hash) VALUES (?, ?)`},
		{&t.read, `SELECT hash FROM tree_hashes WHERE id = ?`},
		{&t.grow, `UPDATE tree_size SET size = ? WHERE size = ?`},
	} {
		if *p.stmt, err = s.writer.PrepareContext(ctx, p.q); err != nil {
			return fmt.Errorf("store: prepare tree: %w", err)
		}
	}
	if err := s.writer.QueryRowContext(ctx, `SELECT size FROM tree_size`).Scan(&t.size); err != nil {
		return fmt.Errorf("store: tree size: %w", err)
	}
	t.known.Store(t.size)
	t.cache = map[int64]tlog.Hash{}
	return nil
}

func (s *Store) closeTree() {
	for _, st := range []*sql.Stmt{s.tree.begin, s.tree.commit, s.tree.row, s.tree.read, s.tree.grow} {
		if st != nil {
			st.Close()
		}
	}
}

// TreeLag is how many events the tree is behind the log; it never waits
// on an append.
func (s *Store) TreeLag() int64 { return s.headSeq.Load() - s.tree.known.Load() }

// ReadHashes reads kept hashes for tlog, from memory or the writer's
// connection (inside the append's transaction).
func (t *treeState) reader(ctx context.Context) tlog.HashReader {
	return tlog.HashReaderFunc(func(ids []int64) ([]tlog.Hash, error) {
		out := make([]tlog.Hash, len(ids))
		for i, id := range ids {
			if h, ok := t.cache[id]; ok {
				out[i] = h
				continue
			}
			var b []byte
			if err := t.read.QueryRowContext(ctx, id).Scan(&b); err != nil {
				return nil, fmt.Errorf("store: tree hash %d: %w", id, err)
			}
			if len(b) != tlog.HashSize {
				return nil, fmt.Errorf("store: tree hash %d is %d bytes", id, len(b))
			}
			out[i] = tlog.Hash(b)
			t.cache[id] = out[i]
		}
		return out, nil
	})
}

// errTreeMoved: the tree is not the size this writer thought (another
// process grew it); the append is tried again from what is on disk.
var errTreeMoved = errors.New("store: the tree moved under the writer")

// growWith keeps leaf n (event n+1, whose stored body is body) in the
// append's transaction.
func (s *Store) growWith(ctx context.Context, n int64, body []byte) error {
	t := &s.tree
	hashes, err := tlog.StoredHashesForRecordHash(n, tlog.RecordHash(body), t.reader(ctx))
	if err != nil {
		return fmt.Errorf("store: tree leaf %d: %w", n, err)
	}
	res, err := t.grow.ExecContext(ctx, n+1, n)
	if err != nil {
		return fmt.Errorf("store: tree size: %w", err)
	}
	if k, _ := res.RowsAffected(); k != 1 {
		return errTreeMoved
	}
	if len(t.cache) > treeCacheMax {
		clear(t.cache)
	}
	base := tlog.StoredHashCount(n)
	for i, h := range hashes {
		if _, err := t.row.ExecContext(ctx, base+int64(i), h[:]); err != nil {
			return fmt.Errorf("store: tree hash %d: %w", base+int64(i), err)
		}
		t.cache[base+int64(i)] = h
	}
	return nil
}

// appendTx chains ev after the head and appends it, with its leaf when the
// tree is level with the log, in one transaction. With reread it first
// reads the head and the tree's size from the file (another process
// appended).
func (s *Store) appendTx(ctx context.Context, ev *event.Event, reread bool) error {
	t := &s.tree
	if _, err := t.begin.ExecContext(ctx); err != nil {
		return err
	}
	done := false
	defer func() {
		if !done {
			_, _ = s.writer.ExecContext(context.WithoutCancel(ctx), `ROLLBACK`)
		}
	}()
	head, size := s.head, t.size
	if reread {
		err := s.writer.QueryRowContext(ctx, `SELECT seq, hash FROM events ORDER BY seq DESC LIMIT 1`).Scan(&head.seq, &head.hash)
		if errors.Is(err, sql.ErrNoRows) {
			head, err = chainHead{hash: event.GenesisHash}, nil
		}
		if err == nil {
			err = s.writer.QueryRowContext(ctx, `SELECT size FROM tree_size`).Scan(&size)
		}
		if err != nil {
			return err
		}
		clear(t.cache) // another writer's hashes are not in it; ours may be rolled back
	}
	body, err := s.insertAt(ctx, s.insert, head, ev)
	if err != nil {
		return err
	}
	if size == head.seq {
		if err := s.growWith(ctx, head.seq, body); err != nil {
			clear(t.cache)
			return err
		}
		size++
	}
	if _, err := t.commit.ExecContext(ctx); err != nil {
		clear(t.cache)
		return err
	}
	done = true
	t.size = size
	t.known.Store(size)
	return nil
}
