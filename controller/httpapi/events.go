package httpapi

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/sekisho/sekisho/controller/event"
	"github.com/sekisho/sekisho/controller/sekisho"
	"github.com/sekisho/sekisho/controller/store"
)

// parseFilter reads the event query parameters, answering 400 on a bad one.
func (s *Server) parseFilter(w http.ResponseWriter, r *http.Request) (store.Filter, bool) {
	q := r.URL.Query()
	f := store.Filter{Door: q.Get("door"), Zone: q.Get("zone"), Type: q.Get("type"), Person: q.Get("person"), Visit: q.Get("visit")}
	bad := func(key, want string) (store.Filter, bool) {
		writeError(w, http.StatusBadRequest, "bad_parameter", fmt.Sprintf("%s=%q: want %s", key, q.Get(key), want))
		return f, false
	}
	// A zone or door the site does not have is a mistake, not an empty log.
	if f.Zone != "" {
		if _, ok := s.Config.Zone(f.Zone); !ok {
			var known []string
			for _, z := range s.Config.Zones {
				known = append(known, z.ID)
			}
			return bad("zone", "one of the site's zones: "+strings.Join(known, ", "))
		}
	}
	if f.Door != "" {
		if _, ok := s.Config.Door(f.Door); !ok {
			var known []string
			for _, d := range s.Config.Doors {
				known = append(known, d.ID)
			}
			return bad("door", "one of the site's doors: "+strings.Join(known, ", "))
		}
	}
	for _, t := range []struct {
		key string
		dst *time.Time
	}{{"since", &f.Since}, {"until", &f.Until}} {
		if v := q.Get(t.key); v != "" {
			at, err := s.Clock.ParseTime(v)
			if err != nil {
				return bad(t.key, "a site date like 2026-11-25 or an RFC 3339 time like 2026-11-25T08:00:00+09:00")
			}
			*t.dst = at
		}
	}
	// What a card came over: a manager checks which entries a Wiegand
	// line (readable by a clip on its wires) carried.
	switch f.Channel = q.Get("channel"); f.Channel {
	case "", "wiegand", "osdp-sc":
	default:
		return bad("channel", "wiegand or osdp-sc")
	}
	if v := q.Get("after_seq"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 0 {
			return bad("after_seq", "a seq number, 0 or more")
		}
		f.AfterSeq = n
	}
	// before_seq with after_seq reads a run of seqs whole (newest first):
	// how head office fills a gap in its copy of the log.
	if v := q.Get("before_seq"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 1 {
			return bad("before_seq", "a seq number, 1 or more")
		}
		f.BeforeSeq = n
	}
	f.Limit = 100
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > store.MaxLimit {
			return bad("limit", fmt.Sprintf("1 to %d", store.MaxLimit))
		}
		f.Limit = n
	}
	return f, true
}

// ShiftBacklog is how far back a guard's live stream may start: a shift.
const ShiftBacklog = 12 * time.Hour

// managedZones are the zones a manager answers for; nil for everyone else
// (guards keep every door, admins see the whole site).
func managedZones(p sekisho.Principal) []string {
	if p.Role != sekisho.RoleManager {
		return nil
	}
	return p.Zones
}

// scopeZones keeps a manager to the zones they answer for.
func scopeZones(w http.ResponseWriter, p sekisho.Principal, f *store.Filter) bool {
	if len(p.Zones) == 0 || p.Role == sekisho.RoleAdmin {
		return true
	}
	if f.Zone != "" && !slices.Contains(p.Zones, f.Zone) {
		writeError(w, http.StatusForbidden, "zone_not_yours", fmt.Sprintf("you review %v, not %s", p.Zones, f.Zone))
		return false
	}
	f.Zones = p.Zones
	return true
}

func (s *Server) listEvents(w http.ResponseWriter, r *http.Request) {
	f, ok := s.parseFilter(w, r)
	if !ok || !scopeZones(w, principal(r), &f) {
		return
	}
	evs, err := s.Store.Events(r.Context(), f)
	if err != nil {
		s.internal(w, "reading events", err)
		return
	}
	if evs == nil {
		evs = []event.Event{}
	}
	s.audit(r, event.AuditViewed, "events")
	writeJSON(w, http.StatusOK, evs)
}

// exportEvents streams the whole selection as CSV, newest first, a page at
// a time; the export itself is logged (the casebook's boiler maker tells
// staff that their access to the log is logged).
func (s *Server) exportEvents(w http.ResponseWriter, r *http.Request) {
	f, ok := s.parseFilter(w, r)
	if !ok || !scopeZones(w, principal(r), &f) {
		return
	}
	s.audit(r, event.AuditExported, "events")
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="sekisho-`+s.Config.Site+`-events.csv"`)
	w.Write([]byte("\ufeff")) // so Excel on a Japanese desk reads UTF-8
	if err := s.writeCSV(r.Context(), w, f); err != nil {
		// The header is gone already: the cut-off file is the only sign.
		s.Log.Error("event export cut short", "err", err)
	}
}

// writeCSV writes the selection as CSV, newest first. The store decodes
// each page on every core; here each page is rendered on a core of its own
// while the one before it is written, and the pages go out in their order:
// a million rows in the site's time zone are a few seconds, not a quarter
// of a minute, and no more than a few pages are held at once.
func (s *Server) writeCSV(ctx context.Context, w io.Writer, f store.Filter) error {
	if _, err := w.Write([]byte(strings.Join(event.CSVHeader, ",") + "\n")); err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	type page struct {
		b    []byte
		err  error
		done chan struct{}
	}
	queue := make(chan *page, max(2, runtime.GOMAXPROCS(0)))
	var wrote error
	written := make(chan struct{})
	go func() {
		defer close(written)
		for p := range queue {
			<-p.done
			if wrote != nil {
				continue // draining what was started; the export is over
			}
			if wrote = p.err; wrote == nil {
				_, wrote = w.Write(p.b)
			}
			if wrote != nil {
				cancel()
			}
		}
	}()
	err := s.Store.EventPages(ctx, f, func(evs []event.Event) error {
		p := &page{done: make(chan struct{})}
		select {
		case queue <- p: // waits while the queue is full: memory stays bounded
		case <-ctx.Done():
			return ctx.Err()
		}
		go func() {
			defer close(p.done)
			p.b, p.err = event.RenderCSV(evs, s.Config.Location)
		}()
		return nil
	})
	close(queue)
	<-written
	if wrote != nil {
		return wrote
	}
	return err
}

// stream sends events as Server-Sent Events, oldest first, from after_seq
// (or the Last-Event-ID a reconnecting browser sends, or the last `backlog`
// events). It reads the log itself, so a slow client can fall behind but
// never misses an event.
func (s *Server) stream(w http.ResponseWriter, r *http.Request) {
	flusher, ok := w.(http.Flusher)
	if !ok {
		writeError(w, http.StatusInternalServerError, "no_streaming", "this connection cannot stream")
		return
	}
	q := r.URL.Query()
	after := s.Store.Head()
	backlog := 50
	if v := q.Get("backlog"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 || n > store.MaxLimit {
			writeError(w, http.StatusBadRequest, "bad_parameter", fmt.Sprintf("backlog: want 0 to %d", store.MaxLimit))
			return
		}
		backlog = n
	}
	after = max(after-int64(backlog), 0)
	for _, v := range []string{r.Header.Get("Last-Event-ID"), q.Get("after_seq")} {
		if v == "" {
			continue
		}
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 0 {
			writeError(w, http.StatusBadRequest, "bad_parameter", "after_seq: want a seq number")
			return
		}
		after = n
	}
	p := principal(r)
	zones := managedZones(p)
	// A guard's board reads back over the current shift; further back is
	// the manager's log, and reading it is audited like the log.
	shift, err := s.Store.FirstSeqSince(r.Context(), s.Clock.Now().Add(-ShiftBacklog))
	if err != nil {
		s.internal(w, "stream", err)
		return
	}
	if after+1 < shift {
		if p.Role == sekisho.RoleGuard {
			writeError(w, http.StatusForbidden, "before_shift",
				fmt.Sprintf("a guard's stream starts at this shift (seq %d); older events are the manager's log (/api/events)", shift))
			return
		}
		s.audit(r, event.AuditViewed, "stream from seq "+strconv.FormatInt(after+1, 10))
	}

	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	fmt.Fprint(w, "retry: 2000\n\n")
	flusher.Flush()
	heartbeat := time.NewTicker(15 * time.Second)
	defer heartbeat.Stop()
	for {
		changed := s.Store.Changed()
		evs, err := s.Store.After(r.Context(), after, 200)
		if err != nil {
			s.Log.Warn("stream read", "err", err)
			return
		}
		for i := range evs {
			ev := &evs[i]
			after = ev.Seq
			if len(zones) > 0 && !slices.Contains(zones, ev.ZoneFrom) && !slices.Contains(zones, ev.ZoneTo) {
				continue
			}
			b, _ := json.Marshal(ev)
			fmt.Fprintf(w, "id: %d\nevent: event\ndata: %s\n\n", ev.Seq, b)
		}
		if len(evs) > 0 {
			flusher.Flush()
			if len(evs) == 200 {
				continue
			}
		}
		select {
		case <-r.Context().Done():
			return
		case <-changed:
		case <-heartbeat.C:
			fmt.Fprint(w, ": keep-alive\n\n")
			flusher.Flush()
		}
	}
}
