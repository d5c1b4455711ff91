package camera

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/sekisho/sekisho/controller/event"
	"github.com/sekisho/sekisho/controller/store"
)

// StillProblem is a kept still that no longer matches the log.
type StillProblem struct {
	Seq     int64  `json:"seq"`
	File    string `json:"file"`
	Problem string `json:"problem"` // missing, or changed
}

// StillsReport is what VerifyStills found.
type StillsReport struct {
	Checked int `json:"checked"` // stills read and matched against the log
	// Pruned are stills gone with a day the retention policy removed, as
	// the log records (camera.pruned): gone on purpose, not tampered with.
	Pruned   int            `json:"pruned"`
	Problems []StillProblem `json:"problems"`
}

// VerifyStills checks every still the log names against the SHA-256 the
// log keeps for it: the chain proves the hash, this proves the picture.
func VerifyStills(ctx context.Context, st *store.Store, dir string) (StillsReport, error) {
	r := StillsReport{Problems: []StillProblem{}}
	prunedDays := map[string]bool{}
	if err := eachEvent(ctx, st, event.CameraPruned, func(ev event.Event) {
		prunedDays[ev.Detail["day"]] = true
	}); err != nil {
		return r, err
	}
	err := eachEvent(ctx, st, event.CameraSnapshot, func(ev event.Event) {
		file := ev.Detail["file"]
		if file == "" || ev.Camera == nil {
			return
		}
		b, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(file)))
		if errors.Is(err, fs.ErrNotExist) && prunedDays[strings.SplitN(file, "/", 2)[0]] {
			r.Pruned++
			return
		}
		r.Checked++
		if err != nil {
			r.Problems = append(r.Problems, StillProblem{ev.Seq, file, fmt.Sprintf("missing (%v)", err)})
			return
		}
		sum := sha256.Sum256(b)
		if hex.EncodeToString(sum[:]) != ev.Camera.SnapshotSHA256 {
			r.Problems = append(r.Problems, StillProblem{ev.Seq, file, "changed: its SHA-256 is not the one logged"})
		}
	})
	return r, err
}

// eachEvent calls f for every logged event of type typ, newest first.
func eachEvent(ctx context.Context, st *store.Store, typ string, f func(event.Event)) error {
	filter := store.Filter{Type: typ, Limit: store.MaxLimit}
	for {
		page, err := st.Events(ctx, filter)
		if err != nil {
			return err
		}
		for _, ev := range page {
			f(ev)
		}
		if len(page) < filter.Limit {
			return nil
		}
		filter.BeforeSeq = page[len(page)-1].Seq
	}
}
