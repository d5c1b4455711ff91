package store

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

// The log and its backups hold password and PIN hashes and visitors'
// names: they are readable by their owner alone, whatever the umask, and a
// backup never overwrites a file.
func TestLogAndBackupAreReadableByTheirOwnerAlone(t *testing.T) {
	old := syscall.Umask(0o022) // the usual umask, which SQLite would honour
	defer syscall.Umask(old)
	s, path := openTest(t)
	dir := filepath.Dir(path)
	if _, err := s.DB().Exec(`CREATE TABLE IF NOT EXISTS probe (x)`); err != nil {
		t.Fatal(err)
	}
	backup := filepath.Join(dir, "backup.db")
	if err := s.Backup(context.Background(), backup); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{path, path + "-wal", backup} {
		st, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if mode := st.Mode().Perm(); mode != 0o600 {
			t.Errorf("%s: mode %o, want 600", filepath.Base(p), mode)
		}
	}
	if err := s.Backup(context.Background(), backup); !errors.Is(err, fs.ErrExist) {
		t.Fatalf("a second backup to the same file: %v", err)
	}
}

// A backup tells how far it got, ending with the whole.
func TestBackupProgress(t *testing.T) {
	s, path := openTest(t)
	if err := s.Fill(context.Background(), FillSpec{Events: 20_000, Days: 2, Doors: fillDoors, Seed: 3}, nil); err != nil {
		t.Fatal(err)
	}
	var calls [][2]int64
	if err := s.BackupWith(context.Background(), filepath.Join(filepath.Dir(path), "b.db"), func(done, total int64) {
		calls = append(calls, [2]int64{done, total})
	}); err != nil {
		t.Fatal(err)
	}
	if len(calls) == 0 {
		t.Fatal("no progress told")
	}
	last := calls[len(calls)-1]
	if last[0] != last[1] || last[1] <= 0 {
		t.Fatalf("the last progress: %v", last)
	}
	for _, c := range calls {
		if c[0] > c[1] {
			t.Fatalf("progress past the whole: %v", c)
		}
	}
}
