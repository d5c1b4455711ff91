package store

import (
	"bytes"
	"cmp"
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"database/sql/driver"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"runtime"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
	"unsafe"

	"github.com/mattn/go-sqlite3"
	"github.com/sekisho/sekisho/controller/event"
)

// Verification is the result of walking the chain.
type Verification struct {
	Count   int64  `json:"count"` // events checked and intact (from From, when given)
	OK      bool   `json:"ok"`
	BadSeq  int64  `json:"bad_seq,omitempty"` // the first row that does not fit
	Problem string `json:"problem,omitempty"`
	Head    string `json:"head,omitempty"` // hash of the last good event
	// From is the checkpoint an incremental walk started after: the events
	// up to it were vouched for by its signature, not walked again.
	From *event.Checkpoint `json:"from,omitempty"`
}

// VerifyOptions shape a walk of the chain.
type VerifyOptions struct {
	// From starts after a checkpoint instead of at the first event: its row
	// must still carry the hash it signed, and only what follows is walked.
	From *event.Checkpoint
	// Progress, when set, is told how many of total events are walked, from
	// the walkers' goroutines, as the walk goes on.
	Progress func(done, total int64)
	// Walkers is how many ranges are walked at once; 0 means two for each
	// core, the quickest a walk can be when nothing else needs the cores.
	Walkers int
}

// verifyChunk is how many events one walker takes at a time.
var verifyChunk int64 = 32768

// Verify walks the whole log from the first event; see VerifyWith.
func (s *Store) Verify(ctx context.Context) (Verification, error) {
	return s.VerifyWith(ctx, VerifyOptions{})
}

// VerifyWith walks the log and stops at the first row that was edited,
// deleted or moved: its hash, its link to the row before, its seq or its
// filter columns do not agree with what was chained. The log is cut in
// ranges that walkers on every core check at once; the links where ranges
// meet are checked after, so the answer is the one a single walk would give.
func (s *Store) VerifyWith(ctx context.Context, o VerifyOptions) (Verification, error) {
	v := Verification{OK: true, Head: event.GenesisHash}
	start := int64(1)
	if o.From != nil {
		h, ok, err := s.hashAt(ctx, o.From.Seq)
		if err != nil {
			return v, err
		}
		if !ok || h != o.From.Hash {
			v.OK, v.BadSeq = false, o.From.Seq
			v.Problem = fmt.Sprintf("event %d is not the one checkpoint %d signed", o.From.Seq, o.From.Seq)
			if !ok {
				v.Problem = fmt.Sprintf("event %d, signed by a checkpoint, is gone", o.From.Seq)
			}
			return v, nil
		}
		from := *o.From
		v.From, v.Head, start = &from, o.From.Hash, o.From.Seq+1
	}
	// The head and the outbox's mark are read in one statement, one
	// snapshot: read apart, an event appended and published between the
	// two reads would look published but gone.
	var last, published int64
	if err := s.db.QueryRowContext(ctx, `SELECT (SELECT COALESCE(MAX(seq), 0) FROM events),
		(SELECT COALESCE(MAX(last_seq), 0) FROM outbox)`).Scan(&last, &published); err != nil {
		return v, fmt.Errorf("store: verify: %w", err)
	}
	var chunks []*chunkResult
	for lo := start; lo <= last; lo += verifyChunk {
		chunks = append(chunks, &chunkResult{lo: lo, hi: min(lo+verifyChunk-1, last)})
	}
	total := last - start + 1
	var done atomic.Int64
	work := make(chan *chunkResult)
	var wg sync.WaitGroup
	walkers := max(1, min(cmp.Or(o.Walkers, 2*runtime.GOMAXPROCS(0)), len(chunks)))
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	errs := make(chan error, walkers)
	for range walkers {
		wg.Go(func() {
			for c := range work {
				if err := s.walkChunk(ctx, c); err != nil {
					errs <- err
					cancel()
					return
				}
				n := done.Add(c.hi - c.lo + 1)
				if o.Progress != nil {
					o.Progress(n, total)
				}
			}
		})
	}
feed:
	for _, c := range chunks {
		select {
		case work <- c:
		case <-ctx.Done():
			break feed
		}
	}
	close(work)
	wg.Wait()
	select {
	case err := <-errs:
		return v, fmt.Errorf("store: verify: %w", err)
	default:
	}
	if err := ctx.Err(); err != nil {
		return v, fmt.Errorf("store: verify: %w", err)
	}
	for _, c := range chunks {
		if c.count > 0 && c.firstPrev != v.Head {
			v.OK, v.BadSeq, v.Problem = false, c.lo, fmt.Sprintf("prev_hash does not match the hash of seq %d", c.lo-1)
			return v, nil
		}
		if c.count > 0 {
			v.Head = c.lastHash
		}
		v.Count += c.count
		if c.problem != "" {
			v.OK, v.BadSeq, v.Problem = false, c.bad, c.problem
			return v, nil
		}
	}
	// Rows cut off the end leave no gap; the outbox remembers having
	// published them (signed checkpoints kept elsewhere prove more: Vouch).
	if published > last {
		v.OK, v.BadSeq, v.Problem = false, last+1, fmt.Sprintf("events %d to %d were published but are gone", last+1, published)
	}
	return v, nil
}

type chunkResult struct {
	lo, hi    int64
	count     int64 // intact rows from lo
	firstPrev string
	lastHash  string
	bad       int64
	problem   string
}

// chainedColumns is the part of an event the filter columns copy.
type chainedColumns struct {
	ID       string `json:"id"`
	Seq      int64  `json:"seq"`
	Type     string `json:"type"`
	Door     string `json:"door"`
	ZoneFrom string `json:"zone_from"`
	ZoneTo   string `json:"zone_to"`
	Person   *struct {
		ID string `json:"id"`
	} `json:"person"`
}

// walkChunk checks the rows lo..hi in order, each against its own content
// and the row before it.
func (s *Store) walkChunk(ctx context.Context, c *chunkResult) error {
	// One wide column: each column read costs an allocation, and at ten
	// million rows those, not the hashing, are what a walk costs. It is the
	// hash, then prev_hash and the body (exactly what the hash covers), then
	// the filter columns behind a record separator, which a canonical body
	// never holds (JSON escapes control characters).
	conn, err := s.db.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	// Straight from the driver: database/sql's locking and conversions for
	// each row cost as much as SQLite's reading of it.
	return conn.Raw(func(dc any) error {
		sc, ok := dc.(*sqlite3.SQLiteConn)
		if !ok {
			return errors.New("not a SQLite connection")
		}
		// The walk reads through the memory map, but every page it touched
		// would stay mapped in the controller's memory (ten million events
		// made 1.1 GB of RSS beside the doors). Setting the map's size
		// again once the chunk's rows are closed unmaps them: a connection
		// holds at most one chunk mapped.
		defer sc.Exec(fmt.Sprintf(`PRAGMA mmap_size = 0; PRAGMA mmap_size = %d`, mmapSize), nil)
		// Without a context to watch, the driver reads each row in one
		// call into SQLite with nothing to arm and disarm around it;
		// walkRows looks at ctx itself.
		rows, err := sc.QueryContext(context.Background(), `SELECT seq, hash || prev_hash || body || char(30) ||
		id || char(31) || type || char(31) || door || char(31) || zone_from || char(31) || zone_to || char(31) || person_id
		FROM events WHERE seq BETWEEN ? AND ? ORDER BY seq`, []driver.NamedValue{{Ordinal: 1, Value: c.lo}, {Ordinal: 2, Value: c.hi}})
		if err != nil {
			return err
		}
		defer rows.Close()
		return s.walkRows(ctx, rows, c)
	})
}

// walkRows checks each row of a chunk against its content and the row
// before it.
func (s *Store) walkRows(ctx context.Context, rows driver.Rows, c *chunkResult) error {
	h := sha256.New()
	var sum [sha256.Size]byte
	var hexSum [2 * sha256.Size]byte
	var prevHash []byte
	var cols [6][]byte
	want := c.lo
	dest := make([]driver.Value, 2)
	for {
		if err := rows.Next(dest); err == io.EOF {
			break
		} else if err != nil {
			return err
		}
		if want%4096 == 0 && ctx.Err() != nil {
			return ctx.Err()
		}
		seq, ok1 := dest[0].(int64)
		text, ok2 := dest[1].(string)
		if !ok1 || !ok2 {
			return fmt.Errorf("seq %v: a row that is not an event", dest[0])
		}
		// Read in place; the text is not kept past this row.
		row := unsafe.Slice(unsafe.StringData(text), len(text))
		bad := func(format string, args ...any) error {
			c.bad, c.problem = seq, fmt.Sprintf(format, args...)
			return nil
		}
		if seq != want {
			c.bad, c.problem = want, fmt.Sprintf("seq %d is missing (next row is %d)", want, seq)
			return nil
		}
		const hashLen = len(event.GenesisHash)
		end := bytes.IndexByte(row[min(len(row), 2*hashLen):], 30) + 2*hashLen
		if end < 2*hashLen {
			return bad("the row is not a chained event")
		}
		hash, prevAndBody, columns := row[:hashLen], row[hashLen:end], row[end+1:]
		prev, body := prevAndBody[:hashLen], prevAndBody[hashLen:]
		if want == c.lo {
			c.firstPrev = string(prev)
		} else if string(prev) != string(prevHash) {
			return bad("prev_hash does not match the hash of seq %d", seq-1)
		}
		h.Reset()
		h.Write(prevAndBody)
		hex.Encode(hexSum[:], h.Sum(sum[:0]))
		if string(hexSum[:]) != string(hash) {
			return bad("hash does not match the row's content")
		}
		if !splitColumns(columns, &cols) || !canonicalColumns(body, seq, &cols) {
			var id, typ, door, zoneFrom, zoneTo, person string
			if err := s.db.QueryRowContext(ctx, `SELECT id, type, door, zone_from, zone_to, person_id FROM events WHERE seq = ?`, seq).
				Scan(&id, &typ, &door, &zoneFrom, &zoneTo, &person); err != nil {
				return err
			}
			var ev chainedColumns
			if err := json.Unmarshal(body, &ev); err != nil {
				return bad("body is not an event: %v", err)
			}
			pid := ""
			if ev.Person != nil {
				pid = ev.Person.ID
			}
			if ev.Seq != seq || ev.ID != id || ev.Type != typ || ev.Door != door ||
				ev.ZoneFrom != zoneFrom || ev.ZoneTo != zoneTo || pid != person {
				return bad("columns differ from the chained event (seq %d, id %s, type %s)", ev.Seq, ev.ID, ev.Type)
			}
		}
		prevHash = append(prevHash[:0], hash...)
		c.count++
		want++
	}
	c.lastHash = string(prevHash)
	if want <= c.hi {
		c.bad, c.problem = want, fmt.Sprintf("seq %d is missing", want)
	}
	return nil
}

// Vouching is what checkpoints kept elsewhere say of the log.
type Vouching struct {
	Checked int   `json:"checked"` // checkpoints that matched the log
	Through int64 `json:"through"` // the newest seq a matching checkpoint signed
	// Unvouched is the first seq the checkpoints can no longer vouch for:
	// the log was cut or rewritten there or after. 0 when all match.
	Unvouched int64  `json:"unvouched,omitempty"`
	Problem   string `json:"problem,omitempty"`
}

// Vouch holds checkpoints kept away from the controller against the log.
// Each must be signed by pub; each must find its seq still in the log with
// the hash it signed. A tail cut together with the outbox's mark loses rows
// a checkpoint signed; a chain re-hashed after removing an entry changes
// the hash a checkpoint signed. Either way, the log is vouched for only up
// to the last checkpoint that still matches.
func (s *Store) Vouch(ctx context.Context, cps []event.Checkpoint, pub ed25519.PublicKey) (Vouching, error) {
	var out Vouching
	cps = append([]event.Checkpoint(nil), cps...)
	sort.Slice(cps, func(i, j int) bool { return cps[i].Seq < cps[j].Seq })
	for _, c := range cps {
		if err := c.Check(pub); err != nil {
			return out, err
		}
		h, ok, err := s.hashAt(ctx, c.Seq)
		if err != nil {
			return out, err
		}
		if !ok || h != c.Hash {
			out.Unvouched = out.Through + 1
			if !ok {
				out.Problem = fmt.Sprintf("event %d, signed at %s, is gone: the log was cut", c.Seq, c.Time.Format("2006-01-02 15:04:05Z07:00"))
			} else {
				out.Problem = fmt.Sprintf("event %d is not the one signed at %s: the log was rewritten", c.Seq, c.Time.Format("2006-01-02 15:04:05Z07:00"))
			}
			return out, nil
		}
		out.Checked++
		out.Through = c.Seq
	}
	return out, nil
}

// canonicalColumns is the quick way to see that a row's filter columns are
// what its body says: the body is the event as Canonical wrote it, so its
// first keys come in the struct's order, and the columns can be matched in
// place without decoding it. Anything it does not expect (a value needing
// escapes, another order) answers false, and the caller decodes the body.
func canonicalColumns(body []byte, seq int64, cols *[6][]byte) bool {
	id, typ, door, zoneFrom, zoneTo, person := cols[0], cols[1], cols[2], cols[3], cols[4], cols[5]
	var num [20]byte
	b := canonicalReader(body)
	return b.lit(`{"id":`) && b.str(id) && b.lit(`,"seq":`) && b.lit(string(strconv.AppendInt(num[:0], seq, 10))) &&
		b.lit(`,"time":`) && b.skipStr() && b.lit(`,"site":`) && b.skipStr() && b.lit(`,"type":`) && b.str(typ) &&
		b.optional(`,"door":`, door) &&
		(!b.lit(`,"reader":`) || b.skipStr()) && (!b.lit(`,"side":`) || b.skipStr()) &&
		b.optional(`,"zone_from":`, zoneFrom) && b.optional(`,"zone_to":`, zoneTo) &&
		b.optional(`,"person":{"id":`, person)
}

// canonicalReader reads a canonical body from its front.
type canonicalReader []byte

// lit consumes s if the body goes on with it.
func (b *canonicalReader) lit(s string) bool {
	if len(*b) < len(s) || string((*b)[:len(s)]) != s {
		return false
	}
	*b = (*b)[len(s):]
	return true
}

// str consumes v as a JSON string, for a v that needs no escapes.
func (b *canonicalReader) str(v []byte) bool {
	for _, c := range v {
		if c < 0x20 || c > 0x7e || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			return false
		}
	}
	r := *b
	if len(r) < len(v)+2 || r[0] != '"' || string(r[1:1+len(v)]) != string(v) || r[1+len(v)] != '"' {
		return false
	}
	*b = r[len(v)+2:]
	return true
}

// skipStr consumes a JSON string without escapes.
func (b *canonicalReader) skipStr() bool {
	r := *b
	if len(r) == 0 || r[0] != '"' {
		return false
	}
	for i := 1; i < len(r); i++ {
		switch r[i] {
		case '\\':
			return false
		case '"':
			*b = r[i+1:]
			return true
		}
	}
	return false
}

// optional consumes key and v when v is set, and insists key is absent
// when it is not (omitempty wrote nothing).
func (b *canonicalReader) optional(key string, v []byte) bool {
	if len(v) == 0 {
		return !b.lit(key)
	}
	return b.lit(key) && b.str(v)
}

// splitColumns cuts the joined filter columns apart without allocating.
func splitColumns(joined []byte, out *[6][]byte) bool {
	for i := range 5 {
		j := bytes.IndexByte(joined, 31)
		if j < 0 {
			return false
		}
		out[i], joined = joined[:j], joined[j+1:]
	}
	out[5] = joined
	return bytes.IndexByte(joined, 31) < 0
}
