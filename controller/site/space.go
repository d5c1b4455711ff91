package site

import (
	"context"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	"golang.org/x/sys/unix"

	"github.com/sekisho/sekisho/controller/alarms"
	"github.com/sekisho/sekisho/controller/camera"
	"github.com/sekisho/sekisho/controller/config"
	"github.com/sekisho/sekisho/controller/event"
	"github.com/sekisho/sekisho/controller/journal"
	"github.com/sekisho/sekisho/controller/logtree"
	"github.com/sekisho/sekisho/controller/outbox"
	"github.com/sekisho/sekisho/controller/sekisho"
	"github.com/sekisho/sekisho/controller/sitetime"
	"github.com/sekisho/sekisho/controller/store"
)

// DiskSpace is the free and total bytes of the filesystem holding dir.
func DiskSpace(dir string) (free, total uint64, err error) {
	var fs unix.Statfs_t
	if err := unix.Statfs(dir, &fs); err != nil {
		return 0, 0, fmt.Errorf("free space of %s: %w", dir, err)
	}
	return fs.Bavail * uint64(fs.Bsize), fs.Blocks * uint64(fs.Bsize), nil
}

// space watches the data dir's disk: it raises the storage alarm before
// the card is full, and makes room by removing the oldest stills first,
// each removal logged.
type space struct {
	dir       string
	limits    config.Storage
	freeSpace func(dir string) (free, total uint64, err error)
	journal   *journal.Journal
	storage   *alarms.Storage
	clock     sitetime.Clock
	log       *slog.Logger
}

func (s *space) check(ctx context.Context) {
	free, total, err := s.freeSpace(s.dir)
	if err != nil {
		s.log.Warn("free space", "err", err)
		return
	}
	if low := s.low(free, total); low != "" {
		s.storage.Space(low, s.journal.SetSpace(low, free, total))
		free, total = s.prune(ctx, free, total)
	}
	low := s.low(free, total)
	s.storage.Space(low, s.journal.SetSpace(low, free, total))
}

func (s *space) low(free, total uint64) string {
	min := s.limits
	switch {
	case free < uint64(min.MinFreeMB)<<20:
		return fmt.Sprintf("%d MB free on the data dir's disk, under %d MB", free>>20, min.MinFreeMB)
	case total > 0 && free*100 < uint64(min.MinFreePercent)*total:
		return fmt.Sprintf("%.1f%% free on the data dir's disk, under %d%%", 100*float64(free)/float64(total), min.MinFreePercent)
	}
	return ""
}

// prune removes days of stills, oldest first (never today's), until there
// is room again; each removal is logged before it happens.
func (s *space) prune(ctx context.Context, free, total uint64) (uint64, uint64) {
	dir := camera.StillsDir(s.dir)
	days, err := camera.ExpiredDays(dir, s.clock.Now(), 1)
	if err != nil {
		s.log.Warn("stills for space", "err", err)
		return free, total
	}
	for _, d := range days {
		ev := &event.Event{Type: event.CameraPruned, Detail: map[string]string{"day": d.Day,
			"files": strconv.Itoa(d.Files), "bytes": strconv.FormatInt(d.Bytes, 10), "reason": "low_space"}}
		if err := s.journal.Logged(ctx, ev); err != nil {
			s.log.Error("stills kept: their removal could not be logged", "day", d.Day, "err", err)
			return free, total
		}
		if err := camera.RemoveDay(dir, d.Day); err != nil {
			s.log.Error("stills for space", "day", d.Day, "err", err)
			return free, total
		}
		s.log.Warn("stills removed to make room on the card", "day", d.Day, "files", d.Files, "bytes", d.Bytes)
		if free, total, err = s.freeSpace(s.dir); err != nil || s.low(free, total) == "" {
			return free, total
		}
	}
	return free, total
}

// every runs f every d (and first at once, with now) until ctx ends.
func every(ctx context.Context, d time.Duration, now bool, f func(context.Context)) error {
	t := time.NewTicker(d)
	defer t.Stop()
	if now {
		f(ctx)
	}
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
			f(ctx)
		}
	}
}

// checkpointer signs the log's head and publishes each checkpoint,
// retained, for subscribers to keep elsewhere: the chain's own (v1) and
// the Merkle tree's C2SP checkpoint beside it, in its note field.
type checkpointer struct {
	store   *store.Store
	key     ed25519.PrivateKey
	tree    *logtree.Tree
	alarms  *alarms.Alarms
	notices chan<- outbox.Notice
	// uplink, when set, has head office's link told of each checkpoint too.
	uplink chan<- outbox.Notice
	log    *slog.Logger
	// alarmed: log_inconsistent is raised, once, until the tree is signed
	// again (sign runs on its one goroutine).
	alarmed bool
}

func (c *checkpointer) sign(ctx context.Context) {
	cp, made, err := c.store.Checkpoint(ctx, c.key, time.Now())
	if err != nil {
		c.log.Warn("checkpoint not signed", "err", err)
		return
	}
	tcp, tmade, terr := c.tree.Sign(ctx, time.Now())
	switch err := terr; {
	case errors.Is(err, logtree.ErrInconsistent) && c.alarmed:
	case errors.Is(err, logtree.ErrInconsistent):
		c.alarmed = true
		c.log.Error("the log does not extend the checkpoint it last signed; nothing more is signed", "err", err)
		c.alarms.Raise(sekisho.Alarm{Kind: sekisho.AlarmLogInconsistent, Severity: sekisho.SeverityOf(sekisho.AlarmLogInconsistent),
			Detail: err.Error() + " — check with `controller verify`; keep the old checkpoints"})
	case err != nil:
		c.log.Warn("tree checkpoint not signed", "err", err)
	default:
		c.alarmed = false
	}
	if terr == nil && tmade {
		c.log.Info("tree checkpoint signed", "size", tcp.Size)
	}
	if !made && !tmade {
		return
	}
	if !made {
		if cp, made, err = c.store.LastCheckpoint(ctx); err != nil || !made {
			return
		}
	}
	if terr == nil {
		cp.Note = string(logtree.WithCosignatures(tcp))
	}
	b, _ := json.Marshal(cp)
	for _, to := range []chan<- outbox.Notice{c.notices, c.uplink} {
		if to == nil {
			continue
		}
		select {
		case to <- outbox.Notice{Checkpoint: b}:
		default:
		}
	}
}
