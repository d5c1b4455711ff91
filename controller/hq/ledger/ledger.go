// Package ledger is head office's store: every site's log as head office
// holds it, in PostgreSQL, each event checked against the one before as it
// arrives and against the site's signed checkpoints, with what head office
// countersigned and its own alarms. Several head-office processes may
// share one database: each site's writes take that site's advisory lock,
// and the tables' keys refuse a second copy of anything.
package ledger

import (
	"context"
	"embed"
	"fmt"
	"hash/fnv"
	"io/fs"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

//go:embed migrations/*.sql
var migrations embed.FS

// Ledger is head office's PostgreSQL.
type Ledger struct {
	pool *pgxpool.Pool
}

// Open connects to dsn and brings the schema up to date.
func Open(ctx context.Context, dsn string) (*Ledger, error) {
	pool, err := pgxpool.New(ctx, dsn)
	if err != nil {
		return nil, fmt.Errorf("ledger: %w", err)
	}
	l := &Ledger{pool: pool}
	if err := l.migrate(ctx); err != nil {
		pool.Close()
		return nil, err
	}
	return l, nil
}

// Close closes the connections.
func (l *Ledger) Close() { l.pool.Close() }

// Pool is the connection pool, for reads of the head office's pages.
func (l *Ledger) Pool() *pgxpool.Pool { return l.pool }

// migrationLock is the advisory lock two head offices starting at once
// take around their migrations.
const migrationLock = 0x5e4b15e0

func (l *Ledger) migrate(ctx context.Context) error {
	conn, err := l.pool.Acquire(ctx)
	if err != nil {
		return fmt.Errorf("ledger: %w", err)
	}
	defer conn.Release()
	if _, err := conn.Exec(ctx, "SELECT pg_advisory_lock($1)", migrationLock); err != nil {
		return fmt.Errorf("ledger: migration lock: %w", err)
	}
	defer conn.Exec(context.Background(), "SELECT pg_advisory_unlock($1)", migrationLock) //nolint:errcheck // released with the session anyway
	if _, err := conn.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (version int PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())`); err != nil {
		return fmt.Errorf("ledger: %w", err)
	}
	names, err := fs.Glob(migrations, "migrations/*.sql")
	if err != nil {
		return err
	}
	sort.Strings(names)
	for _, name := range names {
		base := strings.TrimPrefix(name, "migrations/")
		v, err := strconv.Atoi(strings.SplitN(base, "_", 2)[0])
		if err != nil {
			return fmt.Errorf("ledger: migration %s: not numbered", base)
		}
		var done bool
		if err := conn.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM schema_migrations WHERE version = $1)", v).Scan(&done); err != nil {
			return fmt.Errorf("ledger: %w", err)
		}
		if done {
			continue
		}
		sql, err := migrations.ReadFile(name)
		if err != nil {
			return err
		}
		err = pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
			if _, err := tx.Exec(ctx, string(sql)); err != nil {
				return err
			}
			_, err := tx.Exec(ctx, "INSERT INTO schema_migrations (version) VALUES ($1)", v)
			return err
		})
		if err != nil {
			return fmt.Errorf("ledger: migration %s: %w", base, err)
		}
	}
	return nil
}

// siteLock is the advisory lock key of one site's writes.
func siteLock(site string) int64 {
	h := fnv.New64a()
	h.Write([]byte("sekisho-hq-site\x00" + site))
	return int64(h.Sum64())
}

// onSite runs f in a transaction holding site's lock: one writer per site
// across every head-office process.
func (l *Ledger) onSite(ctx context.Context, site string, f func(tx pgx.Tx) error) error {
	return pgx.BeginFunc(ctx, l.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock($1)", siteLock(site)); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, "INSERT INTO sites (id) VALUES ($1) ON CONFLICT DO NOTHING", site); err != nil {
			return err
		}
		return f(tx)
	})
}

// Alarm kinds head office raises.
const (
	AlarmFork    = "fork"          // the site signed a history other than the one it signed before
	AlarmBadSig  = "bad_signature" // a checkpoint in the site's name its key did not sign
	AlarmRefused = "event_refused" // an event in the site's name a signed checkpoint contradicts, or that does not hash
	AlarmGap     = "gap"           // events missing for longer than the wait
	AlarmSilent  = "site_silent"   // nothing heard from the site for too long
)

// Alarm is one of head office's alarms.
type Alarm struct {
	ID       int64     `json:"id"`
	Site     string    `json:"site"`
	Kind     string    `json:"kind"`
	Detail   string    `json:"detail"`
	RaisedAt time.Time `json:"raised_at"`
}

// Raise opens an alarm of kind at site, unless one is open; it says
// whether it opened one.
func (l *Ledger) Raise(ctx context.Context, site, kind, detail string) (bool, error) {
	tag, err := l.pool.Exec(ctx, `INSERT INTO alarms (site, kind, detail) VALUES ($1, $2, $3)
		ON CONFLICT (site, kind) WHERE cleared_at IS NULL DO NOTHING`, site, kind, detail)
	if err != nil {
		return false, fmt.Errorf("ledger: raise %s at %s: %w", kind, site, err)
	}
	return tag.RowsAffected() == 1, nil
}

// Clear closes the open alarm of kind at site, if any.
func (l *Ledger) Clear(ctx context.Context, site, kind string) error {
	_, err := l.pool.Exec(ctx, `UPDATE alarms SET cleared_at = now() WHERE site = $1 AND kind = $2 AND cleared_at IS NULL`, site, kind)
	if err != nil {
		return fmt.Errorf("ledger: clear %s at %s: %w", kind, site, err)
	}
	return nil
}

// OpenAlarms lists the open alarms, newest first.
func (l *Ledger) OpenAlarms(ctx context.Context) ([]Alarm, error) {
	rows, err := l.pool.Query(ctx, `SELECT id, site, kind, detail, raised_at FROM alarms WHERE cleared_at IS NULL ORDER BY raised_at DESC, id DESC`)
	if err != nil {
		return nil, fmt.Errorf("ledger: alarms: %w", err)
	}
	out, err := pgx.CollectRows(rows, pgx.RowToStructByPos[Alarm])
	if err != nil {
		return nil, fmt.Errorf("ledger: alarms: %w", err)
	}
	return out, nil
}

// Site is where head office stands with one site.
type Site struct {
	ID           string     `json:"id"`
	HeadSeq      int64      `json:"head_seq"`
	VerifiedSeq  int64      `json:"verified_seq"`
	VerifiedAt   *time.Time `json:"verified_at"`
	CosignedSize int64      `json:"cosigned_size"` // the last seq head office vouched for
	CosignedAt   *time.Time `json:"cosigned_at"`
	LastEventAt  *time.Time `json:"last_event_at"`
	LastHeard    *time.Time `json:"last_heard"`
}

// Sites lists every site head office has heard of.
func (l *Ledger) Sites(ctx context.Context) ([]Site, error) {
	rows, err := l.pool.Query(ctx, `SELECT id, head_seq, verified_seq, verified_at, cosigned_size, cosigned_at, last_event_at, last_heard FROM sites ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("ledger: sites: %w", err)
	}
	out, err := pgx.CollectRows(rows, pgx.RowToStructByPos[Site])
	if err != nil {
		return nil, fmt.Errorf("ledger: sites: %w", err)
	}
	return out, nil
}

// SiteStatus is one site's row (a zero Site if never heard of).
func (l *Ledger) SiteStatus(ctx context.Context, id string) (Site, error) {
	sites, err := l.Sites(ctx)
	if err != nil {
		return Site{}, err
	}
	for _, s := range sites {
		if s.ID == id {
			return s, nil
		}
	}
	return Site{ID: id}, nil
}

// Heard notes that something came from the site now.
func (l *Ledger) Heard(ctx context.Context, site string, at time.Time) error {
	_, err := l.pool.Exec(ctx, `INSERT INTO sites (id, last_heard) VALUES ($1, $2)
		ON CONFLICT (id) DO UPDATE SET last_heard = GREATEST(sites.last_heard, excluded.last_heard)`, site, at)
	if err != nil {
		return fmt.Errorf("ledger: heard %s: %w", site, err)
	}
	return nil
}
