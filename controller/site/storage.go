package site

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/sys/unix"

	"github.com/sekisho/sekisho/controller/camera"
	"github.com/sekisho/sekisho/controller/event"
	"github.com/sekisho/sekisho/controller/outbox"
	"github.com/sekisho/sekisho/controller/store"
)

// AlarmStorage is the alarm of a log that cannot be written, or a card
// running out of room.
const AlarmStorage = "storage"

// storage is the log's health as the site sees it. It lives in memory on
// purpose: it must be told while the database cannot take a word.
type storage struct {
	mu                  sync.Mutex
	failing             string // why the log is at risk now: appendErr, else flushErr
	appendErr, flushErr string // appends refused; the write-ahead log not folded in (the file cannot grow)
	since               time.Time
	alarmID             string // the storage alarm of the failure, while it lasts
	lowSpace            string // why free space is short; "" when it is not
	free                uint64
	total               uint64
	held                []store.Alarm // raised, not yet stored by the log's writer
}

// StorageHealth says whether the log is being written.
func (s *Site) StorageHealth() store.Health {
	waiting := s.journalLen()
	st := &s.storage
	st.mu.Lock()
	defer st.mu.Unlock()
	h := store.Health{OK: st.failing == "", Reason: st.failing, Since: st.since, Waiting: waiting, LowSpace: st.lowSpace, FreeBytes: st.free}
	if st.total > 0 {
		h.FreePercent = float64(int(1000*float64(st.free)/float64(st.total))) / 10
	}
	return h
}

// HeldAlarms are alarms raised and not stored yet (the log's writer stores
// each after its alarm.raised, and may be waiting out a locked database or
// a full card): the board shows them all the same.
func (s *Site) HeldAlarms() []store.Alarm {
	s.storage.mu.Lock()
	defer s.storage.mu.Unlock()
	return append([]store.Alarm(nil), s.storage.held...)
}

// holdAlarm shows an alarm from memory until it is stored.
func (s *Site) holdAlarm(a store.Alarm) {
	s.storage.mu.Lock()
	s.storage.held = append(s.storage.held, a)
	s.storage.mu.Unlock()
}

// unholdAlarm is an alarm now stored.
func (s *Site) unholdAlarm(id string) {
	st := &s.storage
	st.mu.Lock()
	defer st.mu.Unlock()
	for i, a := range st.held {
		if a.ID == id {
			st.held = append(st.held[:i:i], st.held[i+1:]...)
			return
		}
	}
}

// appendsFailing is the log's writer meeting a store that refuses. The
// guards hear of it at once, on the board and over MQTT, by paths that do
// not go through the log; the log gets its own alarm.raised when it can.
func (s *Site) appendsFailing(err error) { s.storageFailing(err, false) }

// flushFailing is the write-ahead log that cannot be folded into the
// database: appends may still land in the log's spare room, but the card is
// full all the same, and the next append may not.
func (s *Site) flushFailing(err error) { s.storageFailing(err, true) }

func (s *Site) storageFailing(err error, flush bool) {
	reason := storageReason(err)
	now := time.Now()
	st := &s.storage
	st.mu.Lock()
	if flush {
		st.flushErr = reason
	} else {
		st.appendErr = reason
	}
	if st.failing != "" {
		st.failing = cmp.Or(st.appendErr, st.flushErr)
		st.mu.Unlock()
		return
	}
	st.failing, st.since, st.alarmID = reason, now, newAlarmID()
	id := st.alarmID
	st.mu.Unlock()
	s.log.Error("the log cannot be written: events are held in memory, in order, until it can", "reason", reason, "err", err)
	a := &store.Alarm{ID: id, Kind: AlarmStorage, Severity: "critical", Detail: reason, RaisedAt: now.UTC().Format(time.RFC3339Nano)}
	ev := &event.Event{Time: now}
	s.raiseAlarm(context.Background(), a, ev) // logged and stored after what is waiting
	s.notify(ev)
}

// appendsResumed is the first append that goes through after a failure.
func (s *Site) appendsResumed() { s.storageResumed(false) }

// flushResumed is a fold of the write-ahead log that went through.
func (s *Site) flushResumed() { s.storageResumed(true) }

// storageResumed ends what failed; when nothing is failing any more, the
// storage alarm is cleared.
func (s *Site) storageResumed(flush bool) {
	st := &s.storage
	st.mu.Lock()
	if flush {
		st.flushErr = ""
	} else {
		st.appendErr = ""
	}
	if st.failing == "" || st.appendErr != "" || st.flushErr != "" {
		st.failing = cmp.Or(st.appendErr, st.flushErr)
		st.mu.Unlock()
		return
	}
	id, since := st.alarmID, st.since
	st.failing, st.alarmID, st.since = "", "", time.Time{}
	st.mu.Unlock()
	s.log.Info("the log is written again", "failed_for", time.Since(since).Round(time.Millisecond))
	cleared := &event.Event{Type: event.AlarmCleared, Alarm: &event.Alarm{ID: id}, Detail: map[string]string{"kind": AlarmStorage}}
	s.notify(cleared)
	// Cleared after its own raising in the log's order; it stays on the
	// board until a guard acknowledges it.
	s.recordThen(context.Background(), cleared, func(ctx context.Context) error {
		_, err := s.Store.ClearAlarm(ctx, id)
		return err
	})
}

// notLogged raises the storage alarm for one event the store refused for
// good: it is named in the alarm, on the board and over MQTT.
func (s *Site) notLogged(ev *event.Event, err error) {
	a := &store.Alarm{ID: newAlarmID(), Kind: AlarmStorage, Severity: "critical", Door: ev.Door,
		Detail: fmt.Sprintf("%s at %s not logged: %v", ev.Type, ev.Time.UTC().Format(time.RFC3339Nano), err)}
	raised := &event.Event{Door: ev.Door}
	s.raiseAlarm(context.Background(), a, raised)
	s.notify(raised)
}

// storageReason names, for a guard, why the log cannot be written.
func storageReason(err error) string {
	msg := err.Error()
	switch {
	case strings.Contains(msg, "full"):
		return "disk full: " + msg
	case strings.Contains(msg, "locked"), strings.Contains(msg, "busy"):
		return "database locked: " + msg
	}
	return "database failing: " + msg
}

// notify puts an alarm on MQTT now, outside the log (which may be what is
// failing), and the storage state on its retained topic.
func (s *Site) notify(ev *event.Event) {
	payload := *ev
	payload.Site = s.Config.Site
	if payload.Time.IsZero() {
		payload.Time = time.Now()
	}
	b, err := json.Marshal(&payload)
	if err != nil {
		return
	}
	h := s.StorageHealth()
	state, _ := json.Marshal(h)
	for _, n := range []outbox.Notice{{Alarm: b}, {Storage: state}} {
		select {
		case s.notices <- n:
		default:
			s.log.Warn("storage notice not sent: the MQTT link is behind")
		}
	}
}

// DiskSpace is the free and total bytes of the filesystem holding dir.
func DiskSpace(dir string) (free, total uint64, err error) {
	var fs unix.Statfs_t
	if err := unix.Statfs(dir, &fs); err != nil {
		return 0, 0, fmt.Errorf("free space of %s: %w", dir, err)
	}
	return fs.Bavail * uint64(fs.Bsize), fs.Blocks * uint64(fs.Bsize), nil
}

// watchFreeSpace raises the storage alarm before the card is full, and
// makes room by removing the oldest stills first, each removal logged.
func (s *Site) watchFreeSpace(ctx context.Context) error {
	return every(ctx, s.freeSpaceEvery, true, s.checkFreeSpace)
}

func (s *Site) checkFreeSpace(ctx context.Context) {
	free, total, err := s.freeSpace(s.Config.DataDir)
	if err != nil {
		s.log.Warn("free space", "err", err)
		return
	}
	if low := s.lowSpace(free, total); low != "" {
		s.setLowSpace(ctx, low, free, total)
		free, total = s.pruneForSpace(ctx, free, total)
	}
	s.setLowSpace(ctx, s.lowSpace(free, total), free, total)
}

// setLowSpace raises the storage alarm when free space falls under the
// mark, and clears it when there is room again.
func (s *Site) setLowSpace(ctx context.Context, low string, free, total uint64) {
	st := &s.storage
	st.mu.Lock()
	was := st.lowSpace
	st.lowSpace, st.free, st.total = low, free, total
	st.mu.Unlock()
	switch {
	case low != "" && was == "":
		s.log.Error("the data dir's disk is running out of room", "reason", low)
		ev := &event.Event{}
		s.raiseAlarm(ctx, &store.Alarm{ID: newAlarmID(), Kind: AlarmStorage, Severity: "warning", Detail: low}, ev)
		s.notify(ev)
	case low == "" && was != "":
		s.log.Info("the data dir's disk has room again")
		s.clear(ctx, "", AlarmStorage)
		s.notify(&event.Event{Type: event.AlarmCleared, Detail: map[string]string{"kind": AlarmStorage}})
	}
}

func (s *Site) lowSpace(free, total uint64) string {
	min := s.Config.Storage
	switch {
	case free < uint64(min.MinFreeMB)<<20:
		return fmt.Sprintf("%d MB free on the data dir's disk, under %d MB", free>>20, min.MinFreeMB)
	case total > 0 && free*100 < uint64(min.MinFreePercent)*total:
		return fmt.Sprintf("%.1f%% free on the data dir's disk, under %d%%", 100*float64(free)/float64(total), min.MinFreePercent)
	}
	return ""
}

// pruneForSpace removes days of stills, oldest first (never today's), until
// there is room again; each removal is logged before it happens.
func (s *Site) pruneForSpace(ctx context.Context, free, total uint64) (uint64, uint64) {
	dir := camera.StillsDir(s.Config.DataDir)
	days, err := camera.ExpiredDays(dir, s.clock.Now(), 1)
	if err != nil {
		s.log.Warn("stills for space", "err", err)
		return free, total
	}
	for _, d := range days {
		ev := &event.Event{Type: event.CameraPruned, Detail: map[string]string{"day": d.Day,
			"files": strconv.Itoa(d.Files), "bytes": strconv.FormatInt(d.Bytes, 10), "reason": "low_space"}}
		if err := s.logged(ctx, ev); err != nil {
			s.log.Error("stills kept: their removal could not be logged", "day", d.Day, "err", err)
			return free, total
		}
		if err := camera.RemoveDay(dir, d.Day); err != nil {
			s.log.Error("stills for space", "day", d.Day, "err", err)
			return free, total
		}
		s.log.Warn("stills removed to make room on the card", "day", d.Day, "files", d.Files, "bytes", d.Bytes)
		if free, total, err = s.freeSpace(s.Config.DataDir); err != nil || s.lowSpace(free, total) == "" {
			return free, total
		}
	}
	return free, total
}

// signCheckpoints signs the log's head every storage.checkpoint_every and
// publishes each checkpoint, retained, for subscribers to keep elsewhere.
func (s *Site) signCheckpoints(ctx context.Context) error {
	return every(ctx, s.Config.Storage.CheckpointEvery, false, s.checkpoint)
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

func (s *Site) checkpoint(ctx context.Context) {
	c, made, err := s.Store.Checkpoint(ctx, s.logKey, time.Now())
	if err != nil {
		s.log.Warn("checkpoint not signed", "err", err)
		return
	}
	if !made {
		return
	}
	b, _ := json.Marshal(c)
	select {
	case s.notices <- outbox.Notice{Checkpoint: b}:
	default:
	}
}

// Alarm raises an alarm for the API (repeated failed logins).
func (s *Site) Alarm(ctx context.Context, kind, severity, detail string) {
	s.raise(ctx, kind, severity, "", "", "", detail)
}
