package camera

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"time"
)

// Day is one day's folder of stills.
type Day struct {
	Day   string // YYYY-MM-DD, as the folder is named
	Files int
	Bytes int64
}

// ExpiredDays lists the folders of stills under dir from before the last
// keepDays days up to today, oldest first. Folders not named as a day are
// not Sekisho's and are left alone.
func ExpiredDays(dir string, today time.Time, keepDays int) ([]Day, error) {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil // no still taken yet
	}
	if err != nil {
		return nil, fmt.Errorf("stills: %w", err)
	}
	oldestKept := today.AddDate(0, 0, -(keepDays - 1)).Format("2006-01-02")
	var out []Day
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		if _, err := time.Parse("2006-01-02", e.Name()); err != nil || e.Name() >= oldestKept {
			continue
		}
		d := Day{Day: e.Name()}
		err := filepath.WalkDir(filepath.Join(dir, e.Name()), func(_ string, f fs.DirEntry, err error) error {
			if err != nil || f.IsDir() {
				return err
			}
			info, err := f.Info()
			if err != nil {
				return err
			}
			d.Files++
			d.Bytes += info.Size()
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("stills: %s: %w", e.Name(), err)
		}
		out = append(out, d)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Day < out[j].Day })
	return out, nil
}

// RemoveDay deletes one day's folder of stills.
func RemoveDay(dir, day string) error {
	if _, err := time.Parse("2006-01-02", day); err != nil {
		return fmt.Errorf("stills: %q is not a day", day)
	}
	if err := os.RemoveAll(filepath.Join(dir, day)); err != nil {
		return fmt.Errorf("stills: remove %s: %w", day, err)
	}
	return nil
}
