package ledger

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"

	"github.com/jackc/pgx/v5"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/sekisho/sekisho/controller/event"
)

// Incoming is one event as heard from a site: the bytes its chain hashed
// and the hashes it claims, with the event read for the search columns.
type Incoming struct {
	Seq            int64
	Hash, PrevHash string
	Body           []byte
	Event          event.Event
}

// Hashes says whether the event's hash is what its bytes and its
// predecessor's hash make.
func (in Incoming) Hashes() bool { return event.ChainHash(in.PrevHash, in.Body) == in.Hash }

// Offered is what an Offer did.
type Offered struct {
	Head    int64 // the site's chain head after it
	Added   int   // events that extended the chain
	Held    int   // events held until what comes before them arrives
	Refused int   // events that do not hash or contradict the verified chain
}

// Offer takes events heard from site: those that extend the chain held
// (each one's prev_hash the hash of the one before) are added once; the
// rest wait as candidates for a gap to fill or a signed checkpoint to
// choose between claims. Events twice are nothing new.
func (l *Ledger) Offer(ctx context.Context, site string, evs []Incoming) (Offered, error) {
	var o Offered
	evs = slices.Clone(evs)
	slices.SortFunc(evs, func(a, b Incoming) int { return cmp.Compare(a.Seq, b.Seq) })
	err := l.onSite(ctx, site, func(tx pgx.Tx) error {
		o = Offered{}
		c, err := loadChain(ctx, tx, site)
		if err != nil {
			return err
		}
		var held []Incoming
		for _, in := range evs {
			switch {
			case !in.Hashes() || in.Seq < 1:
				o.Refused++
				if err := refuse(ctx, tx, site, in, "does_not_hash"); err != nil {
					return err
				}
			case in.Seq == c.head+1 && in.PrevHash == c.headHash:
				c.add(in)
			case in.Seq <= c.head:
				if err := c.contest(ctx, tx, in, &o); err != nil {
					return err
				}
			default:
				held = append(held, in)
			}
		}
		if err := hold(ctx, tx, site, held); err != nil {
			return err
		}
		if err := c.extendFromCandidates(ctx, tx); err != nil {
			return err
		}
		o.Added = len(c.added)
		if err := c.save(ctx, tx); err != nil {
			return err
		}
		o.Head = c.head
		o.Held = len(held)
		return nil
	})
	if err != nil {
		return Offered{}, fmt.Errorf("ledger: offer %d events of %s: %w", len(evs), site, err)
	}
	return o, nil
}

// chain is one site's chain inside a transaction holding its lock.
type chain struct {
	site           string
	head, verified int64
	headHash       string
	added          []Incoming
	hashes         map[int64]tlog.Hash // tree hashes made or read in this transaction
	tx             pgx.Tx
	ctx            context.Context
}

func loadChain(ctx context.Context, tx pgx.Tx, site string) (*chain, error) {
	c := &chain{site: site, hashes: map[int64]tlog.Hash{}, tx: tx, ctx: ctx}
	err := tx.QueryRow(ctx, `SELECT head_seq, head_hash, verified_seq FROM sites WHERE id = $1`, site).Scan(&c.head, &c.headHash, &c.verified)
	return c, err
}

func (c *chain) add(in Incoming) {
	c.added = append(c.added, in)
	c.head, c.headHash = in.Seq, in.Hash
}

// contest weighs an event for a seq already held: the same is nothing new;
// another within what the site signed is refused; another after it waits
// for the site's next checkpoint to say which is the site's.
func (c *chain) contest(ctx context.Context, tx pgx.Tx, in Incoming, o *Offered) error {
	held, ok, err := c.hashAt(ctx, in.Seq)
	if err != nil || (ok && held == in.Hash) {
		return err
	}
	if in.Seq <= c.verified {
		o.Refused++
		return refuse(ctx, tx, c.site, in, "contradicts_signed_chain")
	}
	o.Held++
	return hold(ctx, tx, c.site, []Incoming{in})
}

// hashAt is the hash of the event at seq, in this transaction's view.
func (c *chain) hashAt(ctx context.Context, seq int64) (string, bool, error) {
	for _, a := range c.added {
		if a.Seq == seq {
			return a.Hash, true, nil
		}
	}
	var h string
	err := c.tx.QueryRow(ctx, `SELECT hash FROM events WHERE site = $1 AND seq = $2`, c.site, seq).Scan(&h)
	if err == pgx.ErrNoRows {
		return "", false, nil
	}
	return h, err == nil, err
}

func hold(ctx context.Context, tx pgx.Tx, site string, evs []Incoming) error {
	if len(evs) == 0 {
		return nil
	}
	b := &pgx.Batch{}
	for _, in := range evs {
		b.Queue(`INSERT INTO candidates (site, seq, hash, prev_hash, body) VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING`,
			site, in.Seq, in.Hash, in.PrevHash, in.Body)
	}
	return tx.SendBatch(ctx, b).Close()
}

func refuse(ctx context.Context, tx pgx.Tx, site string, in Incoming, reason string) error {
	_, err := tx.Exec(ctx, `INSERT INTO refused (site, seq, hash, reason, body) VALUES ($1, $2, $3, $4, $5)`, site, in.Seq, in.Hash, reason, in.Body)
	return err
}

// extendFromCandidates adds held events that now extend the chain, while
// exactly one claims the next seq (two claims wait for a checkpoint).
func (c *chain) extendFromCandidates(ctx context.Context, tx pgx.Tx) error {
	for {
		rows, err := tx.Query(ctx, `SELECT seq, hash, prev_hash, body FROM candidates WHERE site = $1 AND seq > $2 ORDER BY seq LIMIT 5000`, c.site, c.head)
		if err != nil {
			return err
		}
		cands, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Incoming, error) {
			var in Incoming
			err := r.Scan(&in.Seq, &in.Hash, &in.PrevHash, &in.Body)
			return in, err
		})
		if err != nil {
			return err
		}
		before := c.head
		for i := 0; i < len(cands); {
			j := i
			for j < len(cands) && cands[j].Seq == cands[i].Seq {
				j++
			}
			if cands[i].Seq != c.head+1 || j-i != 1 || cands[i].PrevHash != c.headHash {
				break
			}
			in := cands[i]
			if err := decodeInto(&in); err != nil {
				return err
			}
			c.add(in)
			i = j
		}
		if c.head == before {
			return nil
		}
		if _, err := tx.Exec(ctx, `DELETE FROM candidates WHERE site = $1 AND seq <= $2`, c.site, c.head); err != nil {
			return err
		}
		if len(cands) < 5000 {
			return nil
		}
	}
}

// save writes the events added, their tree hashes and the new head.
func (c *chain) save(ctx context.Context, tx pgx.Tx) error {
	if len(c.added) == 0 {
		return nil
	}
	rows := make([][]any, 0, len(c.added))
	var tree [][]any
	for _, in := range c.added {
		e := in.Event
		var person, name, company, card string
		if e.Person != nil {
			person, name, company = e.Person.ID, e.Person.Name, e.Person.Company
		}
		if e.Credential != nil {
			card = strconv.FormatUint(e.Credential.Facility, 10) + ":" + strconv.FormatUint(e.Credential.Number, 10)
		}
		rows = append(rows, []any{c.site, in.Seq, in.Hash, in.PrevHash, e.Time, e.Type, e.Door, e.ZoneFrom, e.ZoneTo, person, name, company, card, in.Body})
		n := in.Seq - 1
		hs, err := tlog.StoredHashesForRecordHash(n, tlog.RecordHash(in.Body), c.reader(ctx))
		if err != nil {
			return err
		}
		base := tlog.StoredHashCount(n)
		for i, h := range hs {
			c.hashes[base+int64(i)] = h
			tree = append(tree, []any{c.site, base + int64(i), h[:]})
		}
	}
	if _, err := tx.CopyFrom(ctx, pgx.Identifier{"events"},
		[]string{"site", "seq", "hash", "prev_hash", "time", "type", "door", "zone_from", "zone_to", "person_id", "person", "company", "card", "body"},
		pgx.CopyFromRows(rows)); err != nil {
		return err
	}
	if _, err := tx.CopyFrom(ctx, pgx.Identifier{"tree_hashes"}, []string{"site", "idx", "hash"}, pgx.CopyFromRows(tree)); err != nil {
		return err
	}
	last := c.added[len(c.added)-1]
	_, err := tx.Exec(ctx, `UPDATE sites SET head_seq = $2, head_hash = $3, last_event_at = GREATEST(last_event_at, $4) WHERE id = $1`,
		c.site, c.head, c.headHash, last.Event.Time)
	c.added = c.added[:0]
	return err
}

// reader reads tree hashes made in this transaction or kept before it.
func (c *chain) reader(ctx context.Context) tlog.HashReader {
	return tlog.HashReaderFunc(func(ids []int64) ([]tlog.Hash, error) {
		out := make([]tlog.Hash, len(ids))
		var missing []int64
		for i, id := range ids {
			if h, ok := c.hashes[id]; ok {
				out[i] = h
			} else {
				missing = append(missing, id)
			}
		}
		if len(missing) > 0 {
			rows, err := c.tx.Query(ctx, `SELECT idx, hash FROM tree_hashes WHERE site = $1 AND idx = ANY($2)`, c.site, missing)
			if err != nil {
				return nil, err
			}
			var idx int64
			var h []byte
			_, err = pgx.ForEachRow(rows, []any{&idx, &h}, func() error {
				if len(h) != tlog.HashSize {
					return fmt.Errorf("tree hash %d is %d bytes", idx, len(h))
				}
				c.hashes[idx] = tlog.Hash(h)
				return nil
			})
			if err != nil {
				return nil, err
			}
			for i, id := range ids {
				h, ok := c.hashes[id]
				if !ok {
					return nil, fmt.Errorf("tree hash %d of %s not held", id, c.site)
				}
				out[i] = h
			}
		}
		return out, nil
	})
}

// decodeInto reads a held event's bytes for its search columns.
func decodeInto(in *Incoming) error {
	return json.Unmarshal(in.Body, &in.Event)
}
