package journal

import (
	"cmp"
	"time"
)

// Health is whether the log is being written, as the site knows it (in
// memory: it must be told while the database cannot take a word).
type Health struct {
	OK          bool      `json:"ok"`
	Reason      string    `json:"reason,omitempty"`
	Since       time.Time `json:"since,omitzero"`
	Waiting     int       `json:"waiting"` // events held in memory, in order, until the store takes them
	LowSpace    string    `json:"low_space,omitempty"`
	FreeBytes   uint64    `json:"free_bytes,omitempty"`
	FreePercent float64   `json:"free_percent,omitempty"`
}

// health is kept under the journal's lock.
type health struct {
	failing             string // why the log is at risk now: appendErr, else flushErr
	appendErr, flushErr string // appends refused; the write-ahead log not folded in (the file cannot grow)
	since               time.Time
	lowSpace            string // why free space is short; "" when it is not
	free, total         uint64
}

// Health says whether the log is being written.
func (j *Journal) Health() Health {
	j.mu.Lock()
	defer j.mu.Unlock()
	h := j.health
	out := Health{OK: h.failing == "", Reason: h.failing, Since: h.since, Waiting: len(j.entries), LowSpace: h.lowSpace, FreeBytes: h.free}
	if h.total > 0 {
		out.FreePercent = float64(int(1000*float64(h.free)/float64(h.total))) / 10
	}
	return out
}

// FlushFailing is the write-ahead log that cannot be folded into the
// database: appends may still land in the log's spare room, but the card is
// full all the same, and the next append may not.
func (j *Journal) FlushFailing(err error) { j.failing(err, true) }

// FlushResumed is a fold of the write-ahead log that went through.
func (j *Journal) FlushResumed() { j.resumed(true) }

func (j *Journal) failing(err error, flush bool) {
	reason := j.faults.Reason(err)
	j.mu.Lock()
	h := &j.health
	if flush {
		h.flushErr = reason
	} else {
		h.appendErr = reason
	}
	if h.failing != "" {
		h.failing = cmp.Or(h.appendErr, h.flushErr)
		j.mu.Unlock()
		return
	}
	h.failing, h.since = reason, time.Now()
	j.mu.Unlock()
	j.slog.Error("the log cannot be written: events are held in memory, in order, until it can", "reason", reason, "err", err)
	j.observer.Failing(reason, err)
}

// resumed ends what failed; when nothing is failing any more, the
// observer hears it.
func (j *Journal) resumed(flush bool) {
	j.mu.Lock()
	h := &j.health
	if flush {
		h.flushErr = ""
	} else {
		h.appendErr = ""
	}
	if h.failing == "" || h.appendErr != "" || h.flushErr != "" {
		h.failing = cmp.Or(h.appendErr, h.flushErr)
		j.mu.Unlock()
		return
	}
	since := h.since
	h.failing, h.since = "", time.Time{}
	j.mu.Unlock()
	took := time.Since(since)
	j.slog.Info("the log is written again", "failed_for", took.Round(time.Millisecond))
	j.observer.Resumed(took)
}

// SetSpace records the data dir's free space and why it is short ("" when
// it is not); it returns why it was short before.
func (j *Journal) SetSpace(low string, free, total uint64) (was string) {
	j.mu.Lock()
	defer j.mu.Unlock()
	was = j.health.lowSpace
	j.health.lowSpace, j.health.free, j.health.total = low, free, total
	return was
}
