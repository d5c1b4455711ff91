package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"time"

	"github.com/mattn/go-sqlite3"
)

// Backup copies the database to path with SQLite's online backup, while
// the site runs: one read of a consistent moment, appends going on
// beside it in the write-ahead log. path must not exist.
func (s *Store) Backup(ctx context.Context, path string) error { return s.BackupWith(ctx, path, nil) }

// BackupWith is Backup that tells progress how many of the database's bytes
// the copy holds so far (from the copy's size as it grows: the snapshot is
// still taken in one step).
func (s *Store) BackupWith(ctx context.Context, path string, progress func(done, total int64)) error {
	if err := createPrivate(path, true); errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("store: backup: %s exists; a backup never overwrites (%w)", path, fs.ErrExist)
	} else if err != nil {
		return fmt.Errorf("store: backup: %w", err)
	}
	dst, err := sql.Open(driverName, "file:"+path)
	if err != nil {
		return fmt.Errorf("store: backup %s: %w", path, err)
	}
	defer dst.Close()
	dc, err := dst.Conn(ctx)
	if err != nil {
		return fmt.Errorf("store: backup %s: %w", path, err)
	}
	defer dc.Close()
	sc, err := s.db.Conn(ctx)
	if err != nil {
		return fmt.Errorf("store: backup: %w", err)
	}
	defer sc.Close()
	err = dc.Raw(func(d any) error {
		return sc.Raw(func(src any) error {
			dconn, ok1 := d.(*sqlite3.SQLiteConn)
			sconn, ok2 := src.(*sqlite3.SQLiteConn)
			if !ok1 || !ok2 {
				return errors.New("not SQLite connections")
			}
			b, err := dconn.Backup("main", sconn, "main")
			if err != nil {
				return err
			}
			// All pages in one step: one snapshot, whatever is appended
			// meanwhile (a step at a time would start over on each append).
			if progress != nil {
				stop := watchGrowth(path, s.Size(), progress)
				defer stop()
			}
			if _, err := b.Step(-1); err != nil {
				b.Finish()
				return err
			}
			return b.Finish()
		})
	})
	if err != nil {
		os.Remove(path)
		return fmt.Errorf("store: backup to %s: %w", path, err)
	}
	return nil
}

// Size is the database file's size now.
func (s *Store) Size() int64 {
	fi, err := os.Stat(s.path)
	if err != nil {
		return 0
	}
	return fi.Size()
}

// watchGrowth tells progress how far path has grown toward total, a few
// times a second, until stop; stop tells it once more, done.
func watchGrowth(path string, total int64, progress func(done, total int64)) (stop func()) {
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		t := time.NewTicker(200 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				if fi, err := os.Stat(path); err == nil {
					progress(min(fi.Size(), total), total)
				}
			}
		}
	}()
	return func() {
		close(done)
		<-finished
		progress(total, total)
	}
}
