package camera

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/sekisho/sekisho/controller/event"
	"github.com/sekisho/sekisho/controller/store"
)

func writeStill(t *testing.T, dir, rel string, b []byte) {
	t.Helper()
	path := filepath.Join(dir, filepath.FromSlash(rel))
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestExpiredDays(t *testing.T) {
	dir := t.TempDir()
	writeStill(t, dir, "2026-11-20/00000001-cam-press-1.jpg", make([]byte, 100))
	writeStill(t, dir, "2026-11-20/00000007-cam-dev.jpg", make([]byte, 50))
	writeStill(t, dir, "2026-11-24/00000009-cam-dev.jpg", make([]byte, 10))
	writeStill(t, dir, "2026-11-26/00000011-cam-dev.jpg", make([]byte, 10))
	writeStill(t, dir, "notes/2019-01-01.txt", []byte("an installer's"))
	writeStill(t, dir, "README.txt", []byte("not a day"))
	today := time.Date(2026, 11, 26, 9, 0, 0, 0, time.Local)
	for _, tc := range []struct {
		keep int
		want []Day
	}{
		{365, nil},
		{3, []Day{{"2026-11-20", 2, 150}}}, // 11-24, 25 and 26 kept
		{2, []Day{{"2026-11-20", 2, 150}, {"2026-11-24", 1, 10}}},
		{1, []Day{{"2026-11-20", 2, 150}, {"2026-11-24", 1, 10}}}, // today's stay
	} {
		got, err := ExpiredDays(dir, today, tc.keep)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != len(tc.want) {
			t.Fatalf("keep %d: %+v, want %+v", tc.keep, got, tc.want)
		}
		for i := range got {
			if got[i] != tc.want[i] {
				t.Fatalf("keep %d: %+v, want %+v", tc.keep, got, tc.want)
			}
		}
	}
	if days, err := ExpiredDays(filepath.Join(dir, "none"), today, 1); err != nil || days != nil {
		t.Fatalf("no stills yet: %v %v", days, err)
	}
	if err := RemoveDay(dir, ".."); err == nil {
		t.Fatal("RemoveDay took a path that is not a day")
	}
	if err := RemoveDay(dir, "2026-11-20"); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "2026-11-20")); !os.IsNotExist(err) {
		t.Fatalf("day still there: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "notes")); err != nil {
		t.Fatalf("a folder that is not a day went: %v", err)
	}
}

// A still gone with a day the log says was pruned is no tampering; one gone
// from a day nobody pruned is.
func TestVerifyStillsKnowsPrunedDays(t *testing.T) {
	ctx := context.Background()
	st, err := store.Open(ctx, filepath.Join(t.TempDir(), "s.db"), "s")
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	dir := t.TempDir()
	jpg := []byte("\xff\xd8 a picture \xff\xd9")
	writeStill(t, dir, "2026-11-25/00000003-cam-dev.jpg", jpg)
	snapshot := func(file string) {
		sum := "0e9c1d3a5e1e28d0b8c1a3e41f5a5f8a4d5f6c3f1a2b3c4d5e6f708192a3b4c5"
		if file == "2026-11-25/00000003-cam-dev.jpg" {
			sum = sha(jpg)
		}
		if err := st.Append(ctx, &event.Event{Type: event.CameraSnapshot, Camera: &event.Camera{ID: "cam-dev", SnapshotSHA256: sum},
			Detail: map[string]string{"file": file}}); err != nil {
			t.Fatal(err)
		}
	}
	snapshot("2025-10-01/00000001-cam-dev.jpg") // its day pruned below
	snapshot("2026-11-24/00000002-cam-dev.jpg") // gone, nobody pruned it
	snapshot("2026-11-25/00000003-cam-dev.jpg") // kept
	if err := st.Append(ctx, &event.Event{Type: event.CameraPruned, Detail: map[string]string{"day": "2025-10-01"}}); err != nil {
		t.Fatal(err)
	}
	r, err := VerifyStills(ctx, st, dir)
	if err != nil {
		t.Fatal(err)
	}
	if r.Pruned != 1 || r.Checked != 2 || len(r.Problems) != 1 || r.Problems[0].File != "2026-11-24/00000002-cam-dev.jpg" {
		t.Fatalf("report %+v", r)
	}
}

func sha(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}
