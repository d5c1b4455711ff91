package remote

import (
	"context"
	"database/sql"
	"embed"
	"encoding/json"
	"errors"
	"fmt"

	_ "github.com/mattn/go-sqlite3" // the SQLite driver (cgo)

	"github.com/sekisho/sekisho/firmware-bridge/migrate"
)

//go:embed migrations/*.sql
var migrations embed.FS

// Outbox is a door Pi's local log of envelopes not yet acknowledged by the
// broker, and its kept snapshot.
type Outbox struct{ db *sql.DB }

// OpenOutbox opens (creating) the outbox database at path.
func OpenOutbox(ctx context.Context, path string) (*Outbox, error) {
	db, err := sql.Open("sqlite3", "file:"+path+"?_journal_mode=WAL&_synchronous=NORMAL&_busy_timeout=5000&_txlock=immediate")
	if err != nil {
		return nil, fmt.Errorf("remote: outbox %s: %w", path, err)
	}
	o := &Outbox{db: db}
	if err := o.migrate(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("remote: outbox %s: %w", path, err)
	}
	return o, nil
}

func (o *Outbox) migrate(ctx context.Context) error {
	return migrate.Apply(ctx, o.db, migrations, "migrations")
}

// Close closes the database.
func (o *Outbox) Close() error { return o.db.Close() }

// Append keeps an envelope and gives it its seq.
func (o *Outbox) Append(ctx context.Context, env *Envelope) error {
	body, err := json.Marshal(env)
	if err != nil {
		return err
	}
	res, err := o.db.ExecContext(ctx, `INSERT INTO outbox (id, body) VALUES (?, ?)`, env.ID, body)
	if err != nil {
		return fmt.Errorf("remote: outbox append %s: %w", env.ID, err)
	}
	env.Seq, _ = res.LastInsertId()
	return nil
}

// Pending returns undelivered envelopes, oldest first.
func (o *Outbox) Pending(ctx context.Context, limit int) ([]Envelope, error) {
	rows, err := o.db.QueryContext(ctx, `SELECT seq, body FROM outbox WHERE delivered = 0 ORDER BY seq LIMIT ?`, limit)
	if err != nil {
		return nil, fmt.Errorf("remote: outbox: %w", err)
	}
	defer rows.Close()
	var out []Envelope
	for rows.Next() {
		var seq int64
		var body string
		if err := rows.Scan(&seq, &body); err != nil {
			return nil, err
		}
		var env Envelope
		if err := json.Unmarshal([]byte(body), &env); err != nil {
			return nil, fmt.Errorf("remote: outbox seq %d: %w", seq, err)
		}
		env.Seq = seq
		out = append(out, env)
	}
	return out, rows.Err()
}

// Delivered marks envelopes up to seq as acknowledged.
func (o *Outbox) Delivered(ctx context.Context, seq int64) error {
	_, err := o.db.ExecContext(ctx, `UPDATE outbox SET delivered = 1 WHERE seq <= ? AND delivered = 0`, seq)
	return err
}

// Keep stores a value by key; Kept reads it back ("" when absent).
func (o *Outbox) Keep(ctx context.Context, key, value string) error {
	_, err := o.db.ExecContext(ctx, `INSERT INTO kept (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value`, key, value)
	return err
}

// Kept returns the value kept under key.
func (o *Outbox) Kept(ctx context.Context, key string) (string, error) {
	var v string
	err := o.db.QueryRowContext(ctx, `SELECT value FROM kept WHERE key = ?`, key).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	return v, err
}

// inTx runs f in one transaction: all of it is kept, or none.
func (o *Outbox) inTx(ctx context.Context, f func(tx *sql.Tx) error) error {
	tx, err := o.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	if err := f(tx); err != nil {
		_ = tx.Rollback()
		return err
	}
	return tx.Commit()
}

// eachKeptCard reads every kept card's body and MAC.
func (o *Outbox) eachKeptCard(ctx context.Context, f func(body, mac []byte) error) error {
	rows, err := o.db.QueryContext(ctx, `SELECT body, mac FROM kept_cards`)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var body, mac []byte
		if err := rows.Scan(&body, &mac); err != nil {
			return err
		}
		if err := f(body, mac); err != nil {
			return err
		}
	}
	return rows.Err()
}
