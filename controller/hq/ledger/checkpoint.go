package ledger

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"golang.org/x/mod/sumdb/tlog"
)

// Verdict is what head office made of a site's signed checkpoint.
type Verdict int

// Verdicts.
const (
	Confirmed Verdict = iota // the chain held is the one the site signed
	Waiting                  // events up to it have not all arrived yet
	Forked                   // the site signed a history other than one it signed before
	Replaced                 // held events it contradicts were refused; the site's took their place
)

// Confirm holds a checkpoint the site signed (its signature already
// checked) — that its log at seq ended in hash — to the chain held, and
// keeps raw, the checkpoint as sent (nil: one kept before, again). Held
// events it contradicts, heard but never signed, are refused and the
// site's own claims put in their place.
func (l *Ledger) Confirm(ctx context.Context, site string, seq int64, hash string, signedAt time.Time, raw []byte) (Verdict, error) {
	var v Verdict
	err := l.onSite(ctx, site, func(tx pgx.Tx) error {
		if raw != nil {
			if _, err := tx.Exec(ctx, `INSERT INTO checkpoints (site, seq, hash, signed_at, body) VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING`,
				site, seq, hash, signedAt, raw); err != nil {
				return err
			}
		}
		c, err := loadChain(ctx, tx, site)
		if err != nil {
			return err
		}
		v, err = c.confirm(ctx, tx, seq, hash, signedAt)
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("ledger: checkpoint %d of %s: %w", seq, site, err)
	}
	return v, nil
}

func (c *chain) confirm(ctx context.Context, tx pgx.Tx, seq int64, hash string, signedAt time.Time) (Verdict, error) {
	held, ok, err := c.hashAt(ctx, seq)
	if err != nil {
		return 0, err
	}
	if ok && held == hash {
		return c.settle(ctx, tx, seq, signedAt, Confirmed)
	}
	if ok && seq <= c.verified {
		return Forked, nil
	}
	// Walk back from the signed hash through the claims heard to where
	// they meet the chain held, no earlier than what is verified.
	var path []Incoming
	at, want := seq, hash
	for {
		if at <= c.head {
			h, ok, err := c.hashAt(ctx, at)
			if err != nil {
				return 0, err
			}
			if ok && h == want {
				break // met the chain
			}
			if at <= c.verified {
				return Forked, nil
			}
		}
		if at == 0 {
			if want != genesis {
				return Forked, nil
			}
			break
		}
		var in Incoming
		err := tx.QueryRow(ctx, `SELECT seq, hash, prev_hash, body FROM candidates WHERE site = $1 AND seq = $2 AND hash = $3`,
			c.site, at, want).Scan(&in.Seq, &in.Hash, &in.PrevHash, &in.Body)
		if errors.Is(err, pgx.ErrNoRows) {
			return Waiting, nil // a gap: the backfill or the site's replay fills it
		}
		if err != nil {
			return 0, err
		}
		if err := decodeInto(&in); err != nil {
			return 0, err
		}
		path = append(path, in)
		at, want = at-1, in.PrevHash
	}
	verdict := Confirmed
	if at < c.head {
		// Held events after the meeting point were never signed: the
		// site's checkpoint says they are not its own.
		verdict = Replaced
		if _, err := tx.Exec(ctx, `INSERT INTO refused (site, seq, hash, reason, body)
			SELECT site, seq, hash, 'contradicted_by_checkpoint', body FROM events WHERE site = $1 AND seq > $2`, c.site, at); err != nil {
			return 0, err
		}
		if _, err := tx.Exec(ctx, `DELETE FROM events WHERE site = $1 AND seq > $2`, c.site, at); err != nil {
			return 0, err
		}
		if _, err := tx.Exec(ctx, `DELETE FROM tree_hashes WHERE site = $1 AND idx >= $2`, c.site, tlog.StoredHashCount(at)); err != nil {
			return 0, err
		}
		c.hashes = map[int64]tlog.Hash{}
		c.head = at
		if err := tx.QueryRow(ctx, `SELECT hash FROM events WHERE site = $1 AND seq = $2`, c.site, at).Scan(&c.headHash); errors.Is(err, pgx.ErrNoRows) {
			c.headHash = genesis
		} else if err != nil {
			return 0, err
		}
	}
	for i := len(path) - 1; i >= 0; i-- {
		c.add(path[i])
	}
	if err := c.save(ctx, tx); err != nil {
		return 0, err
	}
	if err := c.extendFromCandidates(ctx, tx); err != nil {
		return 0, err
	}
	if err := c.save(ctx, tx); err != nil {
		return 0, err
	}
	if _, err := tx.Exec(ctx, `UPDATE sites SET head_seq = $2, head_hash = $3 WHERE id = $1`, c.site, c.head, c.headHash); err != nil {
		return 0, err
	}
	return c.settle(ctx, tx, seq, signedAt, verdict)
}

// settle marks the chain verified to seq and refuses every other claim to
// a seq up to it: the site's signature says they are not its own.
func (c *chain) settle(ctx context.Context, tx pgx.Tx, seq int64, at time.Time, v Verdict) (Verdict, error) {
	if err := c.verify(ctx, tx, seq, at); err != nil {
		return 0, err
	}
	tag, err := tx.Exec(ctx, `WITH gone AS (
			DELETE FROM candidates c WHERE c.site = $1 AND c.seq <= $2
			RETURNING c.seq, c.hash, c.body)
		INSERT INTO refused (site, seq, hash, reason, body)
		SELECT $1, g.seq, g.hash, 'contradicted_by_checkpoint', g.body FROM gone g
		WHERE NOT EXISTS (SELECT 1 FROM events e WHERE e.site = $1 AND e.seq = g.seq AND e.hash = g.hash)`, c.site, seq)
	if err != nil {
		return 0, err
	}
	if tag.RowsAffected() > 0 && v == Confirmed {
		v = Replaced
	}
	return v, nil
}

const genesis = "0000000000000000000000000000000000000000000000000000000000000000"

func (c *chain) verify(ctx context.Context, tx pgx.Tx, seq int64, at time.Time) error {
	if seq <= c.verified {
		return nil
	}
	c.verified = seq
	_, err := tx.Exec(ctx, `UPDATE sites SET verified_seq = $2, verified_at = $3 WHERE id = $1`, c.site, seq, at)
	return err
}

// Pending lists the signed checkpoints beyond a site's head: what a gap
// keeps from being confirmed. The newest first.
func (l *Ledger) Pending(ctx context.Context, site string) (seq int64, hash string, signedAt time.Time, ok bool, err error) {
	err = l.pool.QueryRow(ctx, `SELECT c.seq, c.hash, c.signed_at FROM checkpoints c JOIN sites s ON s.id = c.site
		WHERE c.site = $1 AND c.seq > s.verified_seq ORDER BY c.seq DESC LIMIT 1`, site).Scan(&seq, &hash, &signedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, "", time.Time{}, false, nil
	}
	return seq, hash, signedAt, err == nil, err
}

// Gap says what a site's chain waits for: events after head that were
// heard (or signed) but cannot be added yet; zero when none.
func (l *Ledger) Gap(ctx context.Context, site string) (head, wanted int64, since time.Time, err error) {
	err = l.pool.QueryRow(ctx, `SELECT s.head_seq,
		GREATEST(COALESCE((SELECT max(seq) FROM candidates WHERE site = s.id), 0), COALESCE((SELECT max(seq) FROM checkpoints WHERE site = s.id), 0)),
		COALESCE((SELECT min(received_at) FROM candidates WHERE site = s.id AND seq > s.head_seq), now())
		FROM sites s WHERE s.id = $1`, site).Scan(&head, &wanted, &since)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, 0, time.Time{}, nil
	}
	if wanted <= head {
		wanted = 0
	}
	return head, wanted, since, err
}

// Cosigning is a tree checkpoint (C2SP) the site signed, to be held to
// the events held before head office vouches for it.
type Cosigning struct {
	Size int64
	Root tlog.Hash
	// Sign countersigns the checkpoint; called at most once per site and
	// size across every head-office process.
	Sign func() (string, error)
}

// Witness holds a site's tree checkpoint to the tree of the events held:
// the same root at its size, and head office countersigns it (once: the
// returned note is empty if another process or an earlier call did); a
// different root is a fork and nothing is signed. Waiting: the events
// have not all arrived.
func (l *Ledger) Witness(ctx context.Context, site string, cp Cosigning) (Verdict, string, error) {
	var v Verdict
	var signed string
	err := l.onSite(ctx, site, func(tx pgx.Tx) error {
		v, signed = Waiting, ""
		c, err := loadChain(ctx, tx, site)
		if err != nil {
			return err
		}
		if cp.Size > c.head || cp.Size < 1 {
			return nil
		}
		root, err := tlog.TreeHash(cp.Size, c.reader(ctx))
		if err != nil {
			return err
		}
		if root != cp.Root {
			v = Forked
			return nil
		}
		v = Confirmed
		// The root commits to every event up to its size: they are the
		// site's, signed.
		if err := c.verify(ctx, tx, cp.Size, time.Now()); err != nil {
			return err
		}
		var cosigned int64
		if err := tx.QueryRow(ctx, `SELECT cosigned_size FROM sites WHERE id = $1`, site).Scan(&cosigned); err != nil {
			return err
		}
		if cp.Size <= cosigned {
			return nil
		}
		note, err := cp.Sign()
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `INSERT INTO cosignatures (site, size, note) VALUES ($1, $2, $3)`, site, cp.Size, note); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE sites SET cosigned_size = $2, cosigned_at = now() WHERE id = $1`, site, cp.Size); err != nil {
			return err
		}
		signed = note
		return nil
	})
	if err != nil {
		return 0, "", fmt.Errorf("ledger: witness %s at %d: %w", site, cp.Size, err)
	}
	return v, signed, nil
}

// LastCosigned is the newest checkpoint head office countersigned for a
// site, as sent back to it ("" when none).
func (l *Ledger) LastCosigned(ctx context.Context, site string) (int64, string, error) {
	var size int64
	var note string
	err := l.pool.QueryRow(ctx, `SELECT size, note FROM cosignatures WHERE site = $1 ORDER BY size DESC LIMIT 1`, site).Scan(&size, &note)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, "", nil
	}
	return size, note, err
}
