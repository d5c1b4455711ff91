package store

import (
	"context"
	"database/sql"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/mattn/go-sqlite3" // the SQLite driver (cgo)

	"github.com/sekisho/sekisho/firmware-bridge/migrate"
)

//go:embed migrations/*.sql
var migrations embed.FS

// Store is one site's database.
type Store struct {
	db   *sql.DB
	site string
	path string

	mu        sync.Mutex // one appender at a time keeps seq gap-free
	writer    *sql.Conn  // the appender's own connection: no checkpoint on the door's path
	insert    *sql.Stmt  // prepared on writer
	card      *sql.Stmt  // the card lookup every decision makes
	published *sql.Stmt  // the outbox's read of the log
	head      chainHead
	headSeq   atomic.Int64                  // head.seq, for readers that must not wait on an append
	changed   atomic.Pointer[chan struct{}] // closed and replaced on every append; read without the append lock

	cards cardIndex
	tree  treeState // the Merkle tree as the writer keeps it (under mu)

	cardsMu      sync.Mutex
	cardsChanged chan struct{} // closed and replaced when people or cards change
}

// CardsChanged returns a channel closed at the next change to people or
// cards: door Pis' snapshots are remade then.
func (s *Store) CardsChanged() <-chan struct{} {
	s.cardsMu.Lock()
	defer s.cardsMu.Unlock()
	return s.cardsChanged
}

// cardsDidChange follows every change to people or cards, once it is
// committed: the doors' index is loaded again at once, by whoever changed
// it, and CardsChanged wakes.
func (s *Store) cardsDidChange() {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := s.reloadCards(ctx); err != nil {
		// Refuse every card until a load succeeds, rather than let a
		// revoked one in from the index as it was.
		s.cards.drop()
		slog.Error("cards changed but not loaded again: doors refuse every card until they are", "err", err)
	}
	s.cardsMu.Lock()
	close(s.cardsChanged)
	s.cardsChanged = make(chan struct{})
	s.cardsMu.Unlock()
}

type chainHead struct {
	seq  int64
	hash string
}

// walLimit bounds the write-ahead log left on disk after a checkpoint: it
// grows while a backup or a long read holds it, and must shrink after.
const walLimit = 8 << 20

// maxIdleConns is how many of the store's connections are kept open
// between uses.
const maxIdleConns = 8

// driverName is SQLite with the pragmas that are per connection and have
// no DSN parameter.
const driverName = "sqlite3-sekisho"

func init() {
	sql.Register(driverName, &sqlite3.SQLiteDriver{ConnectHook: func(c *sqlite3.SQLiteConn) error {
		// Reads of a long log go through a memory map rather than a copy
		// per page: a verify or an export of millions of events is bound
		// by exactly that.
		_, err := c.Exec(fmt.Sprintf(`PRAGMA journal_size_limit = %d; PRAGMA mmap_size = %d`, walLimit, mmapSize), nil)
		return err
	}})
}

// mmapSize is how much of the database a connection reads through a map.
const mmapSize = 1 << 30

// Open opens (creating if needed) the database at path and brings its schema
// up to date.
func Open(ctx context.Context, path, site string) (*Store, error) {
	// Pragmas go in the DSN so every pooled connection gets them.
	// database/sql hands a connection to one goroutine at a time, so
	// SQLite's own per-call locking (_mutex=no) is pure cost: a tenth of a
	// fill's time, and a little of every append and read.
	dsn := "file:" + path + "?_journal_mode=WAL&_synchronous=NORMAL&_busy_timeout=5000&_foreign_keys=on&_txlock=immediate&_mutex=no"
	if err := createPrivate(path, false); err != nil {
		return nil, fmt.Errorf("store: open %s: %w", path, err)
	}
	db, err := sql.Open(driverName, dsn)
	if err != nil {
		return nil, fmt.Errorf("store: open %s: %w", path, err)
	}
	// Connections are kept: each new one opens the file again and starts
	// with a cold page cache, and a verify's walkers use several at once.
	db.SetMaxIdleConns(maxIdleConns)
	s := &Store{db: db, site: site, path: path, cardsChanged: make(chan struct{})}
	s.announce()
	if err := s.migrate(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("store: migrate %s: %w", path, err)
	}
	if err := s.loadHead(ctx); err != nil {
		db.Close()
		return nil, err
	}
	if s.site == "" {
		// Opened by its file alone (the CLI's --db): what it appends is
		// still the site's, named as the log's first event names it.
		if s.site, err = s.siteOfLog(ctx); err != nil {
			db.Close()
			return nil, err
		}
	}
	if s.cards.seen, err = s.cardsVersion(ctx); err != nil {
		db.Close()
		return nil, err
	}
	// Appends get a connection of their own with automatic checkpoints off:
	// a checkpoint inside an append would hold a door for milliseconds.
	// Checkpoint runs them from the side instead.
	w, err := db.Conn(ctx)
	if err == nil {
		_, err = w.ExecContext(ctx, `PRAGMA wal_autocheckpoint = 0`)
	}
	if err == nil {
		// The log's writer holds what it cannot append in memory, in order:
		// a long busy wait would only tell the guards later.
		_, err = w.ExecContext(ctx, `PRAGMA busy_timeout = 1000`)
	}
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("store: writer connection: %w", err)
	}
	s.writer = w
	if err := s.ensureLogIndexes(ctx, -1); err != nil {
		w.Close()
		db.Close()
		return nil, fmt.Errorf("store: %s: %w", path, err)
	}
	if s.insert, err = w.PrepareContext(ctx, insertEvent); err == nil {
		s.card, err = db.PrepareContext(ctx, selectCardHolder)
	}
	if err == nil {
		s.published, err = db.PrepareContext(ctx, selectPublished)
	}
	if err == nil {
		err = s.prepareTree(ctx)
	}
	if err != nil {
		w.Close()
		db.Close()
		return nil, fmt.Errorf("store: prepare: %w", err)
	}
	return s, nil
}

// FlushWAL moves the write-ahead log into the database file without
// blocking appends; the site calls it every few seconds.
//
// A write-ahead log grown past walLimit (a backup or a long export held it)
// is folded in whole and cut back: that waits for readers and holds the
// log's writer briefly, never a door.
func (s *Store) FlushWAL(ctx context.Context) error {
	if _, err := s.db.ExecContext(ctx, `PRAGMA wal_checkpoint(PASSIVE)`); err != nil {
		return fmt.Errorf("store: fold the write-ahead log: %w", err)
	}
	if s.WALSize() <= walLimit {
		return nil
	}
	// Without a busy wait: while a reader still holds the log, a truncating
	// checkpoint would hold every append behind it. The next flush tries
	// again.
	c, err := s.db.Conn(ctx)
	if err != nil {
		return fmt.Errorf("store: cut the write-ahead log back: %w", err)
	}
	defer c.Close()
	if _, err := c.ExecContext(ctx, `PRAGMA busy_timeout = 0`); err != nil {
		return fmt.Errorf("store: cut the write-ahead log back: %w", err)
	}
	defer c.ExecContext(context.WithoutCancel(ctx), `PRAGMA busy_timeout = 5000`)
	if _, err := c.ExecContext(ctx, `PRAGMA wal_checkpoint(TRUNCATE)`); err != nil && !Transient(err) {
		return fmt.Errorf("store: cut the write-ahead log back: %w", err)
	}
	return nil
}

// WALSize is the write-ahead log's size on disk.
func (s *Store) WALSize() int64 {
	fi, err := os.Stat(s.path + "-wal")
	if err != nil {
		return 0
	}
	return fi.Size()
}

// LimitPages caps the database at n pages for appends (SQLite's
// max_page_count, on the appenders' connection): past it they fail as on a
// full disk. It is how tests fill a card where they cannot mount a small
// one; 0 lifts the cap.
func (s *Store) LimitPages(ctx context.Context, n int64) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if n == 0 {
		n = 4294967294
	}
	_, err := s.writer.ExecContext(ctx, fmt.Sprintf(`PRAGMA max_page_count = %d`, n))
	return err
}

// Close closes the database.
func (s *Store) Close() error {
	s.mu.Lock()
	if s.writer != nil {
		s.insert.Close()
		s.card.Close()
		s.published.Close()
		s.closeTree()
		s.writer.Close()
		s.writer = nil
	}
	s.mu.Unlock()
	return s.db.Close()
}

// DB is the database handle, for tests that tamper with the file.
func (s *Store) DB() *sql.DB { return s.db }

func (s *Store) migrate(ctx context.Context) error {
	return migrate.Apply(ctx, s.db, migrations, "migrations")
}

func now() string { return time.Now().UTC().Format(time.RFC3339Nano) }

func splitList(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, ",")
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// Transient reports whether err is one a later try may not meet: the
// database locked or busy (a backup, another process), or the disk full or
// failing for now. The log's writer waits those out instead of dropping.
func Transient(err error) bool {
	var se sqlite3.Error
	if errors.As(err, &se) {
		switch se.Code {
		case sqlite3.ErrBusy, sqlite3.ErrLocked, sqlite3.ErrFull, sqlite3.ErrIoErr, sqlite3.ErrCantOpen, sqlite3.ErrProtocol:
			return true
		}
	}
	return false
}

// logIndexes are the log's indexes, as the migrations made them: fill
// drops them while it writes, and Open makes sure they are there.
var logIndexes = []string{
	`CREATE INDEX IF NOT EXISTS events_door ON events (door, seq) WHERE door <> ''`,
	`CREATE INDEX IF NOT EXISTS events_zone_to ON events (zone_to, seq) WHERE zone_to <> ''`,
	`CREATE INDEX IF NOT EXISTS events_zone_from ON events (zone_from, seq) WHERE zone_from <> ''`,
	`CREATE INDEX IF NOT EXISTS events_type ON events (type, seq)`,
	`CREATE INDEX IF NOT EXISTS events_person ON events (person_id, seq) WHERE person_id <> ''`,
}

const hourTrigger = `CREATE TRIGGER IF NOT EXISTS events_hour AFTER INSERT ON events
BEGIN
	INSERT INTO event_hours (hour, first_seq, last_seq) VALUES (substr(NEW.time, 1, 13), NEW.seq, NEW.seq)
	ON CONFLICT (hour) DO UPDATE SET
		first_seq = min(first_seq, excluded.first_seq),
		last_seq = max(last_seq, excluded.last_seq);
END`

// ensureLogIndexes makes any missing index of the log, and the hour map
// with its trigger; the hours of events after seq (all, with -1 when the
// trigger is missing) are mapped again.
func (s *Store) ensureLogIndexes(ctx context.Context, after int64) error {
	var triggers int
	if err := s.writer.QueryRowContext(ctx, `SELECT COUNT(*) FROM sqlite_schema WHERE type = 'trigger' AND name = 'events_hour'`).Scan(&triggers); err != nil {
		return fmt.Errorf("log indexes: %w", err)
	}
	if triggers == 1 && after < 0 {
		var missing int
		if err := s.writer.QueryRowContext(ctx, `SELECT 5 - COUNT(*) FROM sqlite_schema WHERE type = 'index'
			AND name IN ('events_door', 'events_zone_to', 'events_zone_from', 'events_type', 'events_person')`).Scan(&missing); err != nil {
			return fmt.Errorf("log indexes: %w", err)
		}
		if missing == 0 {
			return nil
		}
	}
	if after < 0 {
		after = 0
	}
	stmts := append(append([]string{}, logIndexes...),
		`INSERT INTO event_hours (hour, first_seq, last_seq)
			SELECT substr(time, 1, 13), MIN(seq), MAX(seq) FROM events WHERE seq > `+itoa(after)+` GROUP BY 1 ORDER BY 1
			ON CONFLICT (hour) DO UPDATE SET first_seq = min(first_seq, excluded.first_seq), last_seq = max(last_seq, excluded.last_seq)`,
		hourTrigger)
	if err := s.execAll(ctx, stmts...); err != nil {
		return fmt.Errorf("log indexes: %w", err)
	}
	return nil
}

// execAll runs statements on the writer's connection, in order.
func (s *Store) execAll(ctx context.Context, stmts ...string) error {
	for _, q := range stmts {
		if _, err := s.writer.ExecContext(ctx, q); err != nil {
			return err
		}
	}
	return nil
}

// createPrivate makes an empty file readable by its owner alone, where
// SQLite would make it with the caller's umask (0644): the log holds
// password and PIN hashes and visitors' names, and SQLite gives its journal
// and write-ahead log the main file's mode. An existing file is left as it
// is, unless exclusive, when it is an error.
func createPrivate(path string, exclusive bool) error {
	flags := os.O_WRONLY | os.O_CREATE
	if exclusive {
		flags |= os.O_EXCL
	}
	f, err := os.OpenFile(path, flags, 0o600)
	if err != nil {
		return err
	}
	return f.Close()
}

// Reason names, for a guard, why the log cannot be written.
func Reason(err error) string {
	msg := err.Error()
	var se sqlite3.Error
	switch {
	case errors.Is(err, syscall.ENOSPC), errors.As(err, &se) && se.Code == sqlite3.ErrFull:
		return "disk full: " + msg
	case errors.As(err, &se) && (se.Code == sqlite3.ErrLocked || se.Code == sqlite3.ErrBusy):
		return "database locked: " + msg
	}
	return "database failing: " + msg
}

// sqliteCode is err's extended SQLite result code (0 when it is not
// SQLite's): errors are matched by code, never by their text.
func sqliteCode(err error) sqlite3.ErrNoExtended {
	var se sqlite3.Error
	if errors.As(err, &se) {
		return se.ExtendedCode
	}
	return 0
}

// isUnique says whether err is a UNIQUE constraint refusing a row.
func isUnique(err error) bool { return sqliteCode(err) == sqlite3.ErrConstraintUnique }

// announce wakes every reader waiting on Changed.
func (s *Store) announce() {
	next := make(chan struct{})
	if old := s.changed.Swap(&next); old != nil {
		close(*old)
	}
}

// siteOfLog is the site the log's first event names ("" for an empty log).
func (s *Store) siteOfLog(ctx context.Context) (string, error) {
	var body []byte
	err := s.db.QueryRowContext(ctx, `SELECT body FROM events ORDER BY seq LIMIT 1`).Scan(&body)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("store: the log's site: %w", err)
	}
	var first struct {
		Site string `json:"site"`
	}
	if err := json.Unmarshal(body, &first); err != nil {
		return "", fmt.Errorf("store: the log's first event: %w", err)
	}
	return first.Site, nil
}
