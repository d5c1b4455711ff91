package store

import (
	"context"
	"crypto/sha256"
	"database/sql/driver"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/mattn/go-sqlite3"
	"github.com/sekisho/sekisho/controller/event"
)

// FillDoor is a door a synthetic history passes through.
type FillDoor struct {
	ID               string
	ZoneFrom, ZoneTo string
}

// FillSpec describes a synthetic history: how many events, over how many
// days ending when, through which doors.
type FillSpec struct {
	Events   int64
	Days     int
	End      time.Time
	Location *time.Location // the site's zone: the working day is in its hours
	Doors    []FillDoor
	People   int
	Seed     uint64
}

// ErrRealSite refuses to mix a synthetic history into a real site's log.
var ErrRealSite = errors.New("the database holds a real site's events; fill writes only to a new or filled database")

// fillBatch is how many events go in one transaction.
const fillBatch = 8192

// Fill appends a synthetic, correctly chained history, for capacity tests
// and for sizing a card: people badging through the doors in working hours,
// each passage a grant and the door opening and closing, now and then a
// refusal. It marks the database as filled, and refuses one that is not.
func (s *Store) Fill(ctx context.Context, spec FillSpec, progress func(done int64)) error {
	if spec.Events <= 0 || spec.Days <= 0 || len(spec.Doors) == 0 {
		return fmt.Errorf("store: fill: need events, days and at least one door")
	}
	if spec.People <= 0 {
		spec.People = 300
	}
	if spec.End.IsZero() {
		spec.End = time.Now()
	}
	if spec.Location == nil {
		spec.Location = time.UTC
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.writer == nil {
		return errors.New("store: fill: store closed")
	}
	var filled int
	if err := s.writer.QueryRowContext(ctx, `SELECT COUNT(*) FROM meta WHERE key = 'filled'`).Scan(&filled); err != nil {
		return fmt.Errorf("store: fill: %w", err)
	}
	if s.head.seq > 0 && filled == 0 {
		return fmt.Errorf("store: fill: %w", ErrRealSite)
	}
	if _, err := s.writer.ExecContext(ctx, `INSERT INTO meta (key, value) VALUES ('filled', ?) ON CONFLICT (key) DO NOTHING`,
		time.Now().UTC().Format(time.RFC3339)); err != nil {
		return fmt.Errorf("store: fill: %w", err)
	}

	// The log's indexes and its hour map are made once at the end, from
	// sorted data, rather than kept up row by row: that is most of what an
	// append costs. If fill is stopped halfway, Open puts them back.
	if err := s.execAll(ctx, `DROP TRIGGER IF EXISTS events_hour`, `DROP INDEX IF EXISTS events_door`, `DROP INDEX IF EXISTS events_zone_to`,
		`DROP INDEX IF EXISTS events_zone_from`, `DROP INDEX IF EXISTS events_type`, `DROP INDEX IF EXISTS events_person`,
		`PRAGMA cache_size = -131072`, `PRAGMA synchronous = OFF`, `PRAGMA threads = 4`); err != nil {
		return fmt.Errorf("store: fill: %w", err)
	}
	defer s.execAll(context.WithoutCancel(ctx), `PRAGMA cache_size = -2000`, `PRAGMA synchronous = NORMAL`, `PRAGMA threads = 0`)
	// A fill only appends. Under a rollback journal SQLite writes each new
	// page once; the write-ahead log writes it twice (the log, then the
	// database), and past a few gigabytes the writing of pages is what a
	// fill waits on. Leaving WAL mode needs every other connection closed; when one
	// is still open, the fill keeps the WAL and is only slower.
	s.db.SetMaxIdleConns(0)
	defer s.db.SetMaxIdleConns(maxIdleConns)
	if _, err := s.writer.ExecContext(ctx, `PRAGMA journal_mode = TRUNCATE`); err != nil {
		return fmt.Errorf("store: fill: %w", err)
	}
	defer s.writer.ExecContext(context.WithoutCancel(ctx), `PRAGMA journal_mode = WAL`)

	// Bodies are made on every core; one goroutine chains and writes them
	// in order, as the log's writer does.
	type batch struct {
		first int64
		evs   []fillRow
	}
	gen := newFillGen(spec, s.site, s.head.seq)
	total := spec.Events
	batches := make(chan chan batch, runtime.GOMAXPROCS(0))
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		defer close(batches)
		for first := int64(0); first < total; first += fillBatch {
			n := min(fillBatch, total-first)
			out := make(chan batch, 1)
			select {
			case batches <- out:
			case <-ctx.Done():
				return
			}
			go func() { out <- batch{first: first, evs: gen.rows(first, n)} }()
		}
	}()
	// Chaining is its own stage, so the writer only writes.
	// It also keeps the hour map, which would otherwise take one more
	// read of the whole history at the end.
	chained := make(chan []fillRow, 2)
	hashErr := make(chan error, 1)
	hours := map[string]*[2]int64{}
	go func() {
		defer close(chained)
		h := sha256.New()
		var sum [sha256.Size]byte
		prev := s.head.hash
		for out := range batches {
			b := <-out
			if b.evs == nil {
				hashErr <- errors.New("store: fill: making events failed")
				return
			}
			for i := range b.evs {
				h.Reset()
				h.Write([]byte(prev))
				h.Write([]byte(b.evs[i].body))
				b.evs[i].prev, b.evs[i].hash = prev, hex.EncodeToString(h.Sum(sum[:0]))
				prev = b.evs[i].hash
				hour := b.evs[i].at[:13]
				if r := hours[hour]; r != nil {
					r[0], r[1] = min(r[0], b.evs[i].seq), max(r[1], b.evs[i].seq)
				} else {
					hours[hour] = &[2]int64{b.evs[i].seq, b.evs[i].seq}
				}
			}
			select {
			case chained <- b.evs:
			case <-ctx.Done():
				return
			}
		}
	}()
	var done int64
	for rows := range chained {
		if err := s.fillWrite(ctx, rows); err != nil {
			return err
		}
		done += int64(len(rows))
		if progress != nil {
			progress(done)
		}
	}
	select {
	case err := <-hashErr:
		return err
	default:
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("store: fill: %w", err)
	}
	if err := s.execAll(ctx, `PRAGMA wal_checkpoint(TRUNCATE)`); err != nil {
		return fmt.Errorf("store: fill: %w", err)
	}
	// A sorter that spills every few megabytes hands each run to another
	// thread and goes on reading: the indexes are sorted on every core.
	if err := s.execAll(ctx, append([]string{`PRAGMA cache_size = -8192`}, logIndexes...)...); err != nil {
		return fmt.Errorf("store: fill: log indexes: %w", err)
	}
	if err := s.fillHours(ctx, hours); err != nil {
		return fmt.Errorf("store: fill: hour map: %w", err)
	}
	return nil
}

// fillHours writes the hour map of a fill and puts its trigger back.
func (s *Store) fillHours(ctx context.Context, hours map[string]*[2]int64) error {
	tx, err := s.writer.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	for hour, r := range hours {
		if _, err := tx.ExecContext(ctx, `INSERT INTO event_hours (hour, first_seq, last_seq) VALUES (?, ?, ?)
			ON CONFLICT (hour) DO UPDATE SET first_seq = min(first_seq, excluded.first_seq), last_seq = max(last_seq, excluded.last_seq)`,
			hour, r[0], r[1]); err != nil {
			return err
		}
	}
	if _, err := tx.ExecContext(ctx, hourTrigger); err != nil {
		return err
	}
	return tx.Commit()
}

type fillRow struct {
	seq                                  int64
	at, typ, door, zoneFrom, zoneTo, pid string
	body, prev, hash                     string
}

func (s *Store) fillWrite(ctx context.Context, rows []fillRow) error {
	if len(rows) == 0 {
		return nil
	}
	last := rows[len(rows)-1]
	// Straight to the driver, many rows to a statement: per row, binding
	// through database/sql and stepping a statement of its own cost more
	// than SQLite's writing of it.
	const perInsert = 64
	err := s.writer.Raw(func(dc any) error {
		sc, ok := dc.(*sqlite3.SQLiteConn)
		if !ok {
			return errors.New("not a SQLite connection")
		}
		if _, err := sc.ExecContext(ctx, `BEGIN IMMEDIATE`, nil); err != nil {
			return err
		}
		many, err := sc.PrepareContext(ctx, s.insertFillEvents(perInsert))
		if err != nil {
			sc.ExecContext(ctx, `ROLLBACK`, nil)
			return err
		}
		defer many.Close()
		args := make([]driver.NamedValue, 0, perInsert*10)
		for len(rows) > 0 {
			n := min(perInsert, len(rows))
			args = args[:0]
			for _, r := range rows[:n] {
				for _, v := range []driver.Value{r.seq, r.at, r.typ, r.door, r.zoneFrom, r.zoneTo, r.pid, r.body, r.prev, r.hash} {
					args = append(args, driver.NamedValue{Ordinal: len(args) + 1, Value: v})
				}
			}
			stmt := many
			if n < perInsert {
				if stmt, err = sc.PrepareContext(ctx, s.insertFillEvents(n)); err != nil {
					sc.ExecContext(ctx, `ROLLBACK`, nil)
					return err
				}
				defer stmt.Close()
			}
			// Through the driver's query path: it hands every value and
			// the step to SQLite in one call, where an exec binds each
			// value with a call of its own. Without a context to watch, it
			// also spares a watcher per statement; ctx is checked here.
			inserted, err := stmt.(driver.StmtQueryContext).QueryContext(context.Background(), args)
			if err == nil {
				err = inserted.Close()
			}
			if err == nil {
				err = ctx.Err()
			}
			if err != nil {
				sc.ExecContext(context.WithoutCancel(ctx), `ROLLBACK`, nil)
				return fmt.Errorf("seq %d: %w", rows[0].seq, err)
			}
			rows = rows[n:]
		}
		_, err = sc.ExecContext(ctx, `COMMIT`, nil)
		return err
	})
	if err != nil {
		return fmt.Errorf("store: fill: %w", err)
	}
	head := chainHead{seq: last.seq, hash: last.hash}
	// Keep the write-ahead log from growing to the size of the history.
	if _, err := s.writer.ExecContext(ctx, `PRAGMA wal_checkpoint(PASSIVE)`); err != nil {
		return fmt.Errorf("store: fill: %w", err)
	}
	s.head = head
	s.headSeq.Store(head.seq)
	s.announce()
	return nil
}

// insertFillEvents inserts n filled events. SQLite makes each id from its
// seq, as fillGen writes it into the body: one value fewer per row to hand
// over from Go.
func (s *Store) insertFillEvents(n int) string {
	var q strings.Builder
	q.WriteString(`INSERT INTO events (seq, id, time, type, door, zone_from, zone_to, person_id, body, prev_hash, hash) VALUES `)
	prefix := `'` + strings.ReplaceAll(fillIDPrefix(s.site), `'`, `''`) + `'`
	for i := range n {
		if i > 0 {
			q.WriteByte(',')
		}
		k := i*10 + 1
		fmt.Fprintf(&q, "(?%d, %s || printf('%%012d', ?%d), ?%d, ?%d, ?%d, ?%d, ?%d, ?%d, ?%d, ?%d, ?%d)", k, prefix, k, k+1, k+2, k+3, k+4, k+5, k+6, k+7, k+8, k+9)
	}
	return q.String()
}

// fillIDPrefix begins the id of every filled event: fill-<site>-<seq, 12 digits>.
func fillIDPrefix(site string) string { return "fill-" + site + "-" }

// fillGen makes the events of a synthetic history; rows(first, n) is pure,
// so batches can be made on several cores at once.
type fillGen struct {
	spec   FillSpec
	site   string
	after  int64 // the head the history continues from
	start  time.Time
	people []event.Person

	siteJSON   []byte
	idJSON     []byte // the prefix as JSON, without its closing quote
	personJSON [][]byte
	doorJSON   []struct{ decision, mechanics []byte }
}

var fillSurnames = []string{"Sato", "Suzuki", "Takahashi", "Tanaka", "Watanabe", "Ito", "Yamamoto", "Nakamura", "Kobayashi", "Kato",
	"Yoshida", "Yamada", "Sasaki", "Yamaguchi", "Matsumoto", "Inoue", "Kimura", "Hayashi", "Shimizu", "Yamazaki"}
var fillGiven = []string{"Haruto", "Yui", "Sota", "Hina", "Ren", "Aoi", "Kaito", "Mei", "Riku", "Sakura", "Daiki", "Yuna"}

func newFillGen(spec FillSpec, site string, after int64) *fillGen {
	g := &fillGen{spec: spec, site: site, after: after}
	endDay := spec.End.In(spec.Location)
	y, m, d := endDay.Date()
	g.start = time.Date(y, m, d-spec.Days+1, 0, 0, 0, 0, spec.Location)
	for i := range spec.People {
		kind := "employee"
		if i%25 == 24 {
			kind = "contractor"
		}
		g.people = append(g.people, event.Person{
			ID:      fmt.Sprintf("fill-%04d", i+1),
			Name:    fillSurnames[i%len(fillSurnames)] + " " + fillGiven[(i/len(fillSurnames))%len(fillGiven)],
			Kind:    kind,
			Company: "Demo Works",
		})
	}
	g.siteJSON = mustJSON(site)
	g.idJSON = mustJSON(fillIDPrefix(site))
	g.idJSON = g.idJSON[:len(g.idJSON)-1]
	for _, p := range g.people {
		g.personJSON = append(g.personJSON, mustJSON(p))
	}
	for _, d := range spec.Doors {
		door := mustJSON(d.ID)
		decision := append(append([]byte(`,"door":`), door...), `,"reader":`...)
		decision = append(decision, mustJSON(d.ID+"-in")...)
		if d.ZoneFrom != "" {
			decision = append(append(decision, `,"zone_from":`...), mustJSON(d.ZoneFrom)...)
		}
		if d.ZoneTo != "" {
			decision = append(append(decision, `,"zone_to":`...), mustJSON(d.ZoneTo)...)
		}
		g.doorJSON = append(g.doorJSON, struct{ decision, mechanics []byte }{decision, append([]byte(`,"door":`), door...)})
	}
	return g
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err) // strings and a flat struct of strings always encode
	}
	return b
}

// when spreads the history evenly over the working hours (06:00–22:00) of
// each day, so times rise with seq as a real log's do.
func (g *fillGen) when(i int64) time.Time {
	perDay := (g.spec.Events + int64(g.spec.Days) - 1) / int64(g.spec.Days)
	day := i / perDay
	frac := float64(i%perDay) / float64(perDay)
	return g.start.AddDate(0, 0, int(day)).Add(6*time.Hour + time.Duration(frac*float64(16*time.Hour)))
}

func (g *fillGen) rows(first, n int64) []fillRow {
	out := make([]fillRow, 0, n)
	var buf []byte
	for i := first; i < first+n; i++ {
		// One passage is three events: the decision, the door opening, the
		// door closing; the passage's randomness is fixed by its number.
		passage := i / 3
		r := rand.New(rand.NewPCG(g.spec.Seed, uint64(passage)))
		d := r.IntN(len(g.spec.Doors))
		door := g.spec.Doors[d]
		p := r.IntN(len(g.people))
		denied := r.IntN(50) == 0
		number := uint64(1000 + r.IntN(60000))
		row := fillRow{seq: g.after + i + 1, door: door.ID}
		at := g.when(i).UTC().Truncate(time.Millisecond)
		// The body is written as Canonical would write it (a test holds
		// the two together), from pieces encoded once: at ten million
		// events, encoding each through reflection is the cost of a fill.
		buf = append(buf[:0], `{"id":`...)
		buf = append(buf, g.idJSON...)
		buf = appendSeq12(buf, row.seq)
		buf = append(buf, '"')
		buf = append(buf, `,"seq":`...)
		buf = strconv.AppendInt(buf, row.seq, 10)
		buf = append(buf, `,"time":"`...)
		buf = at.AppendFormat(buf, time.RFC3339Nano)
		buf = append(buf, `","site":`...)
		buf = append(buf, g.siteJSON...)
		switch i % 3 {
		case 0:
			row.typ = event.AccessGranted
			if denied {
				row.typ = event.AccessDenied
			}
			row.zoneFrom, row.zoneTo, row.pid = door.ZoneFrom, door.ZoneTo, g.people[p].ID
			buf = append(buf, `,"type":"`...)
			buf = append(buf, row.typ...)
			buf = append(buf, `"`...)
			buf = append(buf, g.doorJSON[d].decision...)
			buf = append(buf, `,"person":`...)
			buf = append(buf, g.personJSON[p]...)
			buf = append(buf, `,"credential":{"format":"H10301","facility":42,"number":`...)
			buf = strconv.AppendUint(buf, number, 10)
			buf = append(buf, '}')
			if denied {
				buf = append(buf, `,"reason":"`+event.ReasonNotAuthorized+`"`...)
			}
		case 1:
			row.typ = event.DoorOpened
			buf = append(buf, `,"type":"`+event.DoorOpened+`"`...)
			buf = append(buf, g.doorJSON[d].mechanics...)
		case 2:
			row.typ = event.DoorClosed
			buf = append(buf, `,"type":"`+event.DoorClosed+`"`...)
			buf = append(buf, g.doorJSON[d].mechanics...)
		}
		buf = append(buf, '}')
		row.at = at.Format(time.RFC3339Nano)
		row.body = string(buf)
		out = append(out, row)
	}
	return out
}

// appendSeq12 appends seq as SQLite's printf('%012d') writes it.
func appendSeq12(buf []byte, seq int64) []byte {
	var digits [20]byte
	d := strconv.AppendInt(digits[:0], seq, 10)
	for range 12 - len(d) {
		buf = append(buf, '0')
	}
	return append(buf, d...)
}
