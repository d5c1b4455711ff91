package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"

	jsonv2 "github.com/go-json-experiment/json"
	"github.com/google/uuid"
	"github.com/mattn/go-sqlite3"

	"github.com/sekisho/sekisho/controller/event"
	"github.com/sekisho/sekisho/controller/sekisho"
)

func (s *Store) loadHead(ctx context.Context) error {
	err := s.db.QueryRowContext(ctx, `SELECT seq, hash FROM events ORDER BY seq DESC LIMIT 1`).Scan(&s.head.seq, &s.head.hash)
	if errors.Is(err, sql.ErrNoRows) {
		s.head = chainHead{seq: 0, hash: event.GenesisHash}
		err = nil
	}
	if err != nil {
		return fmt.Errorf("store: read chain head: %w", err)
	}
	s.headSeq.Store(s.head.seq)
	return nil
}

const insertEvent = `INSERT INTO events (seq, id, time, type, door, zone_from, zone_to, person_id, body, prev_hash, hash)
	VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`

// Append adds ev to the log, filling in its id (if empty), seq, time (if
// zero), site and hashes.
func (s *Store) Append(ctx context.Context, ev *event.Event) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if ev.ID == "" {
		id, err := uuid.NewV7()
		if err != nil {
			return fmt.Errorf("store: event id: %w", err)
		}
		ev.ID = id.String()
	}
	if ev.Time.IsZero() {
		ev.Time = time.Now()
	}
	ev.Time = ev.Time.UTC().Truncate(time.Millisecond)
	ev.Site = s.site
	err := s.appendTx(ctx, ev, false)
	if err != nil && (sqliteCode(err) == sqlite3.ErrConstraintPrimaryKey || errors.Is(err, errTreeMoved)) {
		// Another process (the CLI adding a user while the site runs)
		// appended since this one read the head. Under the write lock, the
		// head read now stays the head.
		err = s.appendTx(ctx, ev, true)
	}
	if err != nil {
		ev.Seq, ev.PrevHash, ev.Hash = 0, "", ""
		if isUnique(err) {
			// A door Pi's replay of an event already logged.
			return fmt.Errorf("store: event %s: %w", ev.ID, sekisho.ErrDuplicate)
		}
		return fmt.Errorf("store: append %s: %w", ev.Type, err)
	}
	s.head = chainHead{seq: ev.Seq, hash: ev.Hash}
	s.headSeq.Store(ev.Seq)
	s.announce()
	return nil
}

// insertAt chains ev after head and inserts it with stmt; it returns the
// stored body, the bytes the tree's leaf hashes.
func (s *Store) insertAt(ctx context.Context, stmt *sql.Stmt, head chainHead, ev *event.Event) ([]byte, error) {
	ev.Seq = head.seq + 1
	body, err := ev.Canonical()
	if err != nil {
		return nil, err
	}
	ev.PrevHash = head.hash
	ev.Hash = event.ChainHash(ev.PrevHash, body)
	personID := ""
	if ev.Person != nil {
		personID = ev.Person.ID
	}
	_, err = stmt.ExecContext(ctx,
		ev.Seq, ev.ID, ev.Time.Format(time.RFC3339Nano), ev.Type, ev.Door, ev.ZoneFrom, ev.ZoneTo, personID, string(body), ev.PrevHash, ev.Hash)
	return body, err
}

// Changed returns a channel that is closed at the next append. Readers that
// follow the log (the outbox, live streams) wait on it, then read from the
// store, so none of them can miss or reorder an event.
//
// It never waits on an append (one may be waiting out a locked database),
// so no stream or outbox queues behind a blocked append.
func (s *Store) Changed() <-chan struct{} { return *s.changed.Load() }

// Head is the seq of the newest event. It never waits on an append (one
// may be waiting out a locked database).
func (s *Store) Head() int64 { return s.headSeq.Load() }

// Filter selects events. Empty fields match everything.
type Filter struct {
	Door, Zone, Person string
	Reason             string
	Visit              string
	// Channel keeps to cards that came over it (detail.channel).
	Channel string
	// Zones, when set, keeps to events into or out of these zones (a
	// manager's own areas).
	Zones []string
	// Type matches exactly, or a family when it ends in a dot ("door.").
	Type         string
	Since, Until time.Time
	AfterSeq     int64
	BeforeSeq    int64 // pages back through the log: events older than this seq
	Limit        int
}

// MaxLimit caps one page of events.
const MaxLimit = 1000

// Events returns matching events, newest first.
func (s *Store) Events(ctx context.Context, f Filter) ([]event.Event, error) {
	f, empty, err := s.seqWindow(ctx, f)
	if err != nil || empty {
		return nil, err
	}
	q, args := eventsQuery(f)
	return s.queryEvents(ctx, q, args...)
}

// seqWindow narrows a time window to the seqs its hours span (event_hours),
// so a day a year back is found without walking the year in between. The
// time terms stay in the query: the window is exact, the seqs only bound it.
func (s *Store) seqWindow(ctx context.Context, f Filter) (Filter, bool, error) {
	if f.Since.IsZero() && f.Until.IsZero() {
		return f, false, nil
	}
	q := `SELECT MIN(first_seq), MAX(last_seq) FROM event_hours WHERE 1`
	var args []any
	if !f.Since.IsZero() {
		q, args = q+` AND hour >= ?`, append(args, f.Since.UTC().Format(time.RFC3339Nano)[:13])
	}
	if !f.Until.IsZero() {
		q, args = q+` AND hour <= ?`, append(args, f.Until.UTC().Format(time.RFC3339Nano)[:13])
	}
	var lo, hi sql.NullInt64
	if err := s.db.QueryRowContext(ctx, q, args...).Scan(&lo, &hi); err != nil {
		return f, false, fmt.Errorf("store: events window: %w", err)
	}
	if !lo.Valid {
		return f, true, nil
	}
	f.AfterSeq = max(f.AfterSeq, lo.Int64-1)
	if f.BeforeSeq == 0 || f.BeforeSeq > hi.Int64+1 {
		f.BeforeSeq = hi.Int64 + 1
	}
	return f, f.BeforeSeq <= f.AfterSeq+1, nil
}

// FirstSeqSince is the first seq of the hour holding t (or after): where a
// guard's stream may start reading back from.
func (s *Store) FirstSeqSince(ctx context.Context, t time.Time) (int64, error) {
	var seq sql.NullInt64
	err := s.db.QueryRowContext(ctx, `SELECT MIN(first_seq) FROM event_hours WHERE hour >= ?`,
		t.UTC().Format(time.RFC3339Nano)[:13]).Scan(&seq)
	if err != nil {
		return 0, fmt.Errorf("store: first seq since %s: %w", t, err)
	}
	if !seq.Valid {
		return s.Head() + 1, nil
	}
	return seq.Int64, nil
}

// eventsQuery is the SQL for a filter. A zone's events are those into or
// out of it, two indexes; SQLite's own OR of them gathers every row of the
// zone and sorts it, a year of rows for one page. So each zone and side is
// its own newest-first walk down its index, stopping at the page's length,
// and only those few are merged.
func eventsQuery(f Filter) (string, []any) {
	limit := f.Limit
	if limit <= 0 || limit > MaxLimit {
		limit = MaxLimit
	}
	return eventsQueryN(f, limit, false)
}

// eventsQueryN is eventsQuery for up to limit events, uncapped: an
// export's range of seqs holds at most as many as it spans. bounded says
// the filter's seqs are a short range (an export's page): then the zones
// are one OR that SQLite answers from both zone indexes at once, several
// times faster there than the walks below, which page an unbounded log.
func eventsQueryN(f Filter, limit int, bounded bool) (string, []any) {
	var where []string
	var args []any
	// The "<> ''" terms change no answer (the values sought are not empty);
	// they let SQLite use the partial indexes, which leave empty ones out.
	if f.Door != "" {
		where, args = append(where, "door = ? AND door <> ''"), append(args, f.Door)
	}
	if f.Person != "" {
		where, args = append(where, "person_id = ? AND person_id <> ''"), append(args, f.Person)
	}
	if f.Visit != "" {
		where, args = append(where, "json_extract(body, '$.visit') = ?"), append(args, f.Visit)
	}
	if f.Reason != "" {
		where, args = append(where, "json_extract(body, '$.reason') = ?"), append(args, f.Reason)
	}
	if f.Channel != "" {
		where, args = append(where, "json_extract(body, '$.detail.channel') = ?"), append(args, f.Channel)
	}
	if strings.HasSuffix(f.Type, ".") {
		where, args = append(where, "type >= ? AND type < ?"), append(args, f.Type, f.Type[:len(f.Type)-1]+"/")
	} else if f.Type != "" {
		where, args = append(where, "type = ?"), append(args, f.Type)
	}
	if !f.Since.IsZero() {
		where, args = append(where, "time >= ?"), append(args, f.Since.UTC().Format(time.RFC3339Nano))
	}
	if !f.Until.IsZero() {
		where, args = append(where, "time < ?"), append(args, f.Until.UTC().Format(time.RFC3339Nano))
	}
	if f.AfterSeq > 0 {
		where, args = append(where, "seq > ?"), append(args, f.AfterSeq)
	}
	if f.BeforeSeq > 0 {
		where, args = append(where, "seq < ?"), append(args, f.BeforeSeq)
	}
	tail := " ORDER BY seq DESC LIMIT " + itoa(int64(limit))

	zones := f.Zones
	if f.Zone != "" {
		zones = []string{f.Zone}
		if len(f.Zones) > 0 && !slices.Contains(f.Zones, f.Zone) {
			zones = nil // a zone outside the manager's own: nothing
			where = append(where, "0")
		}
	}
	if len(zones) > 0 && bounded {
		var or []string
		for _, z := range zones {
			or = append(or, "zone_to = ? AND zone_to <> ''", "zone_from = ? AND zone_from <> ''")
			args = append(args, z, z)
		}
		where = append(where, "("+strings.Join(or, " OR ")+")")
		// The seqs first, the bodies after: sorting seqs alone is cheap.
		return `SELECT body, prev_hash, hash FROM events WHERE seq IN (SELECT seq FROM events WHERE ` + strings.Join(where, " AND ") + `)` + tail, args
	}
	if len(zones) == 0 {
		q := `SELECT body, prev_hash, hash FROM events`
		if len(where) > 0 {
			q += " WHERE " + strings.Join(where, " AND ")
		}
		return q + tail, args
	}
	var walks []string
	var walkArgs []any
	for _, z := range zones {
		for _, col := range []string{"zone_to", "zone_from"} {
			w := append([]string{col + " = ? AND " + col + " <> ''"}, where...)
			walks = append(walks, "SELECT seq FROM (SELECT seq FROM events WHERE "+strings.Join(w, " AND ")+tail+")")
			walkArgs = append(append(walkArgs, z), args...)
		}
	}
	return `SELECT body, prev_hash, hash FROM events WHERE seq IN (` + strings.Join(walks, " UNION ALL ") + `)` + tail, walkArgs
}

// Since returns events of the given types from t on, oldest first.
func (s *Store) Since(ctx context.Context, t time.Time, types ...string) ([]event.Event, error) {
	// The hour map bounds the seqs to read: a start-up's replay of the last
	// hours must not read a year of grants.
	q := `SELECT body, prev_hash, hash FROM events WHERE time >= ?
		AND seq >= coalesce((SELECT MIN(first_seq) FROM event_hours WHERE hour >= ?), 1 << 62)`
	at := t.UTC().Format(time.RFC3339Nano)
	args := []any{at, at[:13]}
	if len(types) > 0 {
		q += ` AND type IN (` + strings.TrimSuffix(strings.Repeat("?,", len(types)), ",") + `)`
		for _, ty := range types {
			args = append(args, ty)
		}
	}
	return s.queryEvents(ctx, q+` ORDER BY seq`, args...)
}

// OfTypes is every event of the given types, oldest first, read through
// the type index alone: a register's few hundred among a year's millions
// (the planner would otherwise walk the log by seq).
func (s *Store) OfTypes(ctx context.Context, types ...string) ([]event.Event, error) {
	if len(types) == 0 {
		return nil, nil
	}
	args := make([]any, len(types))
	for i, ty := range types {
		args[i] = ty
	}
	return s.queryEvents(ctx, `SELECT body, prev_hash, hash FROM events INDEXED BY events_type WHERE type IN (`+
		strings.TrimSuffix(strings.Repeat("?,", len(types)), ",")+`) ORDER BY seq`, args...)
}

// After returns up to limit events after seq, oldest first: the order in
// which the outbox and live streams deliver them.
func (s *Store) After(ctx context.Context, seq int64, limit int) ([]event.Event, error) {
	return s.queryEvents(ctx, `SELECT body, prev_hash, hash FROM events WHERE seq > ? ORDER BY seq LIMIT ?`, seq, limit)
}

// Published is one logged event as it goes out over MQTT: its JSON exactly
// as json.Marshal would write it, without decoding the stored body.
type Published struct {
	Seq              int64
	Type             string
	Door             string
	ZoneFrom, ZoneTo string
	Alarm            bool // the event raises or clears an alarm
	JSON             []byte
}

const selectPublished = `SELECT seq, type, door, zone_from, zone_to, json_extract(body, '$.alarm') IS NOT NULL, body, prev_hash, hash
	FROM events WHERE seq > ? ORDER BY seq LIMIT ?`

// PublishedAfter returns up to limit events after seq, oldest first, ready
// to publish. The outbox reads the log this way thousands of times a
// minute at a busy site, so it skips decoding and re-encoding each event:
// the stored body is the event's canonical JSON, which ends where the hash
// fields would begin.
func (s *Store) PublishedAfter(ctx context.Context, seq int64, limit int) ([]Published, error) {
	rows, err := s.published.QueryContext(ctx, seq, limit)
	if err != nil {
		return nil, fmt.Errorf("store: read log after %d: %w", seq, err)
	}
	defer rows.Close()
	var out []Published
	for rows.Next() {
		var p Published
		var body, prev, hash []byte
		if err := rows.Scan(&p.Seq, &p.Type, &p.Door, &p.ZoneFrom, &p.ZoneTo, &p.Alarm, &body, &prev, &hash); err != nil {
			return nil, fmt.Errorf("store: read event: %w", err)
		}
		if len(body) < 2 || body[len(body)-1] != '}' {
			return nil, fmt.Errorf("store: event seq %d: body is not a JSON object", p.Seq)
		}
		js := make([]byte, 0, len(body)+len(prev)+len(hash)+28)
		js = append(js, body[:len(body)-1]...)
		js = append(js, `,"prev_hash":"`...)
		js = append(js, prev...)
		js = append(js, `","hash":"`...)
		js = append(js, hash...)
		p.JSON = append(js, `"}`...)
		out = append(out, p)
	}
	return out, rows.Err()
}

func (s *Store) queryEvents(ctx context.Context, q string, args ...any) ([]event.Event, error) {
	rows, err := s.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("store: query events: %w", err)
	}
	defer rows.Close()
	var bodies [][]byte
	var out []event.Event
	for rows.Next() {
		var body []byte
		var ev event.Event
		if err := rows.Scan(&body, &ev.PrevHash, &ev.Hash); err != nil {
			return nil, fmt.Errorf("store: read event: %w", err)
		}
		bodies, out = append(bodies, body), append(out, ev)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: query events: %w", err)
	}
	// Decoded on every core, with json v2's decoder: a page of a year's log
	// is a thousand bodies and an export a million, and decoding is most of
	// what either costs.
	workers := min(runtime.GOMAXPROCS(0), (len(out)+255)/256)
	if workers <= 1 {
		return out, decodeBodies(bodies, out)
	}
	errs := make([]error, workers)
	var wg sync.WaitGroup
	per := (len(out) + workers - 1) / workers
	for w := range workers {
		lo, hi := w*per, min((w+1)*per, len(out))
		wg.Go(func() { errs[w] = decodeBodies(bodies[lo:hi], out[lo:hi]) })
	}
	wg.Wait()
	return out, errors.Join(errs...)
}

// decodeBodies decodes each body into its event, keeping the hashes read
// beside it.
func decodeBodies(bodies [][]byte, out []event.Event) error {
	for i, body := range bodies {
		prev, hash := out[i].PrevHash, out[i].Hash
		if err := jsonv2.Unmarshal(body, &out[i]); err != nil {
			return fmt.Errorf("store: decode event: %w", err)
		}
		out[i].PrevHash, out[i].Hash = prev, hash
	}
	return nil
}

// Delivered is the last seq the named publisher delivered.
func (s *Store) Delivered(ctx context.Context, name string) (int64, error) {
	var seq int64
	err := s.db.QueryRowContext(ctx, `SELECT last_seq FROM outbox WHERE name = ?`, name).Scan(&seq)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("store: outbox %s: %w", name, err)
	}
	return seq, nil
}

// SetDelivered records that the named publisher delivered up to seq.
//
// It writes on the appenders' connection, in turn with them: from another
// connection its write lock made a door's append meet SQLITE_BUSY, and
// SQLite's busy wait sleeps a whole millisecond before trying again.
func (s *Store) SetDelivered(ctx context.Context, name string, seq int64) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.writer == nil {
		return fmt.Errorf("store: outbox %s: store closed", name)
	}
	_, err := s.writer.ExecContext(ctx, `INSERT INTO outbox (name, last_seq) VALUES (?, ?)
		ON CONFLICT (name) DO UPDATE SET last_seq = excluded.last_seq`, name, seq)
	if err != nil {
		return fmt.Errorf("store: outbox %s: %w", name, err)
	}
	return nil
}
