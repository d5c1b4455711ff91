package store

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/mattn/go-sqlite3" // the SQLite driver (cgo)

	"github.com/sekisho/sekisho/firmware-bridge/migrate"
)

//go:embed migrations/*.sql
var migrations embed.FS

// ErrNotFound is returned when a looked-up row does not exist.
var ErrNotFound = errors.New("not found")

// Store is one site's database.
type Store struct {
	db   *sql.DB
	site string

	mu        sync.Mutex // one appender at a time keeps seq gap-free
	writer    *sql.Conn  // the appender's own connection: no checkpoint on the door's path
	insert    *sql.Stmt  // prepared on writer
	card      *sql.Stmt  // the card lookup every decision makes
	published *sql.Stmt  // the outbox's read of the log
	head      chainHead
	changed   chan struct{} // closed and replaced on every append

	cards cardIndex

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

// cardsDidChange follows every change to people or cards made here.
func (s *Store) cardsDidChange() {
	n, err := s.cardsVersion(context.Background())
	if err != nil {
		n = -1 // NoticeOutsideChanges will see the move and forget once more
	}
	s.cardsDidChangeAt(n)
}

func (s *Store) cardsDidChangeAt(version int64) {
	s.cards.drop(version)
	s.cardsMu.Lock()
	close(s.cardsChanged)
	s.cardsChanged = make(chan struct{})
	s.cardsMu.Unlock()
}

type chainHead struct {
	seq  int64
	hash string
}

// Open opens (creating if needed) the database at path and brings its schema
// up to date.
func Open(ctx context.Context, path, site string) (*Store, error) {
	// Pragmas go in the DSN so every pooled connection gets them.
	dsn := "file:" + path + "?_journal_mode=WAL&_synchronous=NORMAL&_busy_timeout=5000&_foreign_keys=on&_txlock=immediate"
	db, err := sql.Open("sqlite3", dsn)
	if err != nil {
		return nil, fmt.Errorf("store: open %s: %w", path, err)
	}
	s := &Store{db: db, site: site, changed: make(chan struct{}), cardsChanged: make(chan struct{})}
	if err := s.migrate(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("store: migrate %s: %w", path, err)
	}
	if err := s.loadHead(ctx); err != nil {
		db.Close()
		return nil, err
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
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("store: writer connection: %w", err)
	}
	s.writer = w
	if s.insert, err = w.PrepareContext(ctx, insertEvent); err == nil {
		s.card, err = db.PrepareContext(ctx, selectCardHolder)
	}
	if err == nil {
		s.published, err = db.PrepareContext(ctx, selectPublished)
	}
	if err != nil {
		w.Close()
		db.Close()
		return nil, fmt.Errorf("store: prepare: %w", err)
	}
	return s, nil
}

// Checkpoint moves the write-ahead log into the database file without
// blocking appends; the site calls it every few seconds.
func (s *Store) Checkpoint(ctx context.Context) error {
	_, err := s.db.ExecContext(ctx, `PRAGMA wal_checkpoint(PASSIVE)`)
	return err
}

// Close closes the database.
func (s *Store) Close() error {
	s.mu.Lock()
	if s.writer != nil {
		s.insert.Close()
		s.card.Close()
		s.published.Close()
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
