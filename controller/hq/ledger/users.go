package ledger

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"golang.org/x/crypto/bcrypt"
)

// Head office's roles.
const (
	RoleAdmin   = "hq-admin"   // reads everything, revokes for all
	RoleAuditor = "hq-auditor" // reads everything
)

// ErrBadLogin is a name or password that does not hold (which, not said).
var ErrBadLogin = errors.New("ledger: wrong name or password")

// ErrNoSession is a cookie that opens no session (unknown, ended, revoked).
var ErrNoSession = errors.New("ledger: no such session")

// NewSecret is n random bytes, URL-safe.
func NewSecret(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

func tokenHash(token string) string {
	h := sha256.Sum256([]byte(token))
	return hex.EncodeToString(h[:])
}

// AddUser adds one of head office's people with a bcrypt-hashed password.
func (l *Ledger) AddUser(ctx context.Context, name, role, password string) error {
	if role != RoleAdmin && role != RoleAuditor {
		return fmt.Errorf("ledger: role %q: want %s or %s", role, RoleAdmin, RoleAuditor)
	}
	hash, err := bcrypt.GenerateFromPassword([]byte(password), bcrypt.DefaultCost)
	if err != nil {
		return err
	}
	if _, err := l.pool.Exec(ctx, `INSERT INTO users (name, role, password_hash) VALUES ($1, $2, $3)`, name, role, hash); err != nil {
		return fmt.Errorf("ledger: user %s: %w", name, err)
	}
	return nil
}

// Login checks a name and password and opens a session for ttl.
func (l *Ledger) Login(ctx context.Context, name, password string, ttl time.Duration) (token, role string, err error) {
	var hash string
	err = l.pool.QueryRow(ctx, `SELECT role, password_hash FROM users WHERE name = $1 AND revoked_at IS NULL`, name).Scan(&role, &hash)
	if errors.Is(err, pgx.ErrNoRows) {
		// As long as a wrong password: the answer's time does not say
		// whether the name exists.
		_ = bcrypt.CompareHashAndPassword(dummyHash(), []byte(password))
		return "", "", ErrBadLogin
	}
	if err != nil {
		return "", "", fmt.Errorf("ledger: login: %w", err)
	}
	if bcrypt.CompareHashAndPassword([]byte(hash), []byte(password)) != nil {
		return "", "", ErrBadLogin
	}
	token = NewSecret(32)
	if _, err := l.pool.Exec(ctx, `INSERT INTO sessions (token_hash, name, expires_at) VALUES ($1, $2, now() + $3::interval)`,
		tokenHash(token), name, fmt.Sprintf("%d seconds", int(ttl.Seconds()))); err != nil {
		return "", "", fmt.Errorf("ledger: login: %w", err)
	}
	return token, role, nil
}

// SessionIdle ends a session unused for this long, as the site's
// dashboard does (http.session_idle): a screen left signed in at head
// office is not left open for the next person.
const SessionIdle = 15 * time.Minute

// Session is who a session's token belongs to and their role; using it
// keeps it alive.
func (l *Ledger) Session(ctx context.Context, token string) (name, role string, err error) {
	err = l.pool.QueryRow(ctx, `UPDATE sessions s SET last_seen = now() FROM users u
		WHERE u.name = s.name AND s.token_hash = $1 AND s.expires_at > now() AND s.last_seen > now() - $2::interval AND u.revoked_at IS NULL
		RETURNING u.name, u.role`, tokenHash(token), fmt.Sprintf("%d seconds", int(SessionIdle.Seconds()))).Scan(&name, &role)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", "", ErrNoSession
	}
	return name, role, err
}

// Logout ends a session.
func (l *Ledger) Logout(ctx context.Context, token string) error {
	_, err := l.pool.Exec(ctx, `DELETE FROM sessions WHERE token_hash = $1`, tokenHash(token))
	return err
}

// Audit notes what one of head office's people did.
func (l *Ledger) Audit(ctx context.Context, name, action, detail string) error {
	_, err := l.pool.Exec(ctx, `INSERT INTO audit (name, action, detail) VALUES ($1, $2, $3)`, name, action, detail)
	if err != nil {
		return fmt.Errorf("ledger: audit %s: %w", action, err)
	}
	return nil
}

// dummyHash is a hash no password matches, made once at bcrypt's cost.
var dummyHash = sync.OnceValue(func() []byte {
	h, _ := bcrypt.GenerateFromPassword([]byte(NewSecret(16)), bcrypt.DefaultCost)
	return h
})
