package camera

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"

	"github.com/sekisho/sekisho/controller/event"
	"github.com/sekisho/sekisho/controller/store"
)

// StillProblem is a kept still that no longer matches the log.
type StillProblem struct {
	Seq     int64  `json:"seq"`
	File    string `json:"file"`
	Problem string `json:"problem"` // missing, or changed
}

// VerifyStills checks every still the log names against the SHA-256 the
// log keeps for it: the chain proves the hash, this proves the picture.
func VerifyStills(ctx context.Context, st *store.Store, dir string) (checked int, problems []StillProblem, err error) {
	f := store.Filter{Type: event.CameraSnapshot, Limit: store.MaxLimit}
	for {
		page, err := st.Events(ctx, f)
		if err != nil {
			return checked, problems, err
		}
		for _, ev := range page {
			file := ev.Detail["file"]
			if file == "" || ev.Camera == nil {
				continue
			}
			checked++
			b, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(file)))
			if err != nil {
				problems = append(problems, StillProblem{ev.Seq, file, fmt.Sprintf("missing (%v)", err)})
				continue
			}
			sum := sha256.Sum256(b)
			if hex.EncodeToString(sum[:]) != ev.Camera.SnapshotSHA256 {
				problems = append(problems, StillProblem{ev.Seq, file, "changed: its SHA-256 is not the one logged"})
			}
		}
		if len(page) < f.Limit {
			return checked, problems, nil
		}
		f.BeforeSeq = page[len(page)-1].Seq
	}
}
