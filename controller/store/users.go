package store

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/sekisho/sekisho/controller/sekisho"
	"golang.org/x/crypto/bcrypt"
)

// Roles.

// PasswordCost is bcrypt's cost for the dashboard's passwords. Only the
// tests of whole sites lower it: under the race detector one hash at the
// default cost takes most of a second, and every site they start creates
// its accounts.
var PasswordCost = bcrypt.DefaultCost

var dummyHash = sync.OnceValue(func() []byte {
	h, _ := bcrypt.GenerateFromPassword([]byte(NewSecret(16)), PasswordCost)
	return h
})

// NewSecret returns a random URL-safe secret for passwords and tokens.
func NewSecret(bytes int) string {
	b := make([]byte, bytes)
	_, _ = rand.Read(b) // crypto/rand never fails on Linux
	return base64.RawURLEncoding.EncodeToString(b)
}

func secretHash(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}

// CreateUser adds a dashboard user with a bcrypt-hashed password.
func (s *Store) CreateUser(ctx context.Context, name, role string, zones []string, password string) error {
	if !sekisho.ValidRole(role) {
		return fmt.Errorf("store: user %s: role %q is not guard, manager or admin", name, role)
	}
	hash, err := bcrypt.GenerateFromPassword([]byte(password), PasswordCost)
	if err != nil {
		return fmt.Errorf("store: user %s: %w", name, err)
	}
	_, err = s.db.ExecContext(ctx, `INSERT INTO users (name, role, zones, password_hash, created_at) VALUES (?, ?, ?, ?, ?)`,
		name, role, strings.Join(zones, ","), string(hash), now())
	if err != nil {
		if isUnique(err) {
			return fmt.Errorf("store: user %s: %w", name, sekisho.ErrDuplicate)
		}
		return fmt.Errorf("store: user %s: %w", name, err)
	}
	return nil
}

// CountUsers is how many dashboard users exist, revoked ones included.
func (s *Store) CountUsers(ctx context.Context) (int, error) {
	var n int
	if err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM users`).Scan(&n); err != nil {
		return 0, fmt.Errorf("store: count users: %w", err)
	}
	return n, nil
}

// Login checks a password and opens a browser session lasting ttl.
func (s *Store) Login(ctx context.Context, name, password string, at time.Time, ttl time.Duration) (string, sekisho.Principal, error) {
	var id int64
	var hash, zones string
	var p sekisho.Principal
	err := s.db.QueryRowContext(ctx, `SELECT id, name, role, zones, password_hash FROM users WHERE name = ? AND revoked_at = ''`, name).
		Scan(&id, &p.Name, &p.Role, &zones, &hash)
	if errors.Is(err, sql.ErrNoRows) {
		// Spend the same time as a real check, so names can't be probed.
		_ = bcrypt.CompareHashAndPassword(dummyHash(), []byte(password))
		return "", p, sekisho.ErrBadLogin
	}
	if err != nil {
		return "", p, fmt.Errorf("store: login %s: %w", name, err)
	}
	if bcrypt.CompareHashAndPassword([]byte(hash), []byte(password)) != nil {
		return "", p, sekisho.ErrBadLogin
	}
	p.Zones = splitList(zones)
	token := NewSecret(32)
	_, err = s.db.ExecContext(ctx, `INSERT INTO sessions (token_hash, user_id, expires_at, last_seen) VALUES (?, ?, ?, ?)`,
		secretHash(token), id, at.Add(ttl).UTC().Format(time.RFC3339), at.UTC().Format(time.RFC3339))
	if err != nil {
		return "", p, fmt.Errorf("store: session for %s: %w", name, err)
	}
	return token, p, nil
}

// Session returns the user of a live session: before its end and used
// within idle of now (no idle limit when zero). A use is noted at most once
// a minute, so a busy board does not write on every request.
func (s *Store) Session(ctx context.Context, token string, now time.Time, idle time.Duration) (sekisho.Principal, error) {
	var p sekisho.Principal
	var zones, lastSeen string
	hash := secretHash(token)
	at := now.UTC().Format(time.RFC3339)
	err := s.db.QueryRowContext(ctx, `SELECT u.name, u.role, u.zones, s.last_seen FROM sessions s JOIN users u ON u.id = s.user_id
		WHERE s.token_hash = ? AND s.expires_at > ? AND u.revoked_at = ''`, hash, at).
		Scan(&p.Name, &p.Role, &zones, &lastSeen)
	if errors.Is(err, sql.ErrNoRows) {
		return p, sekisho.ErrNotFound
	}
	if err != nil {
		return p, fmt.Errorf("store: session: %w", err)
	}
	if seen, err := time.Parse(time.RFC3339, lastSeen); err == nil {
		if idle > 0 && now.Sub(seen) > idle {
			s.db.ExecContext(ctx, `DELETE FROM sessions WHERE token_hash = ?`, hash)
			return p, sekisho.ErrNotFound
		}
		if now.Sub(seen) < time.Minute {
			p.Zones = splitList(zones)
			return p, nil
		}
	}
	if _, err := s.db.ExecContext(ctx, `UPDATE sessions SET last_seen = ? WHERE token_hash = ?`, at, hash); err != nil {
		return p, fmt.Errorf("store: session: %w", err)
	}
	p.Zones = splitList(zones)
	return p, nil
}

// Logout ends a session.
func (s *Store) Logout(ctx context.Context, token string) error {
	_, err := s.db.ExecContext(ctx, `DELETE FROM sessions WHERE token_hash = ?`, secretHash(token))
	return err
}

// UserInfo is a dashboard user as `controller user list` shows it.
type UserInfo struct {
	Name      string   `json:"name"`
	Role      string   `json:"role"`
	Zones     []string `json:"zones"`
	CreatedAt string   `json:"created_at"`
	RevokedAt string   `json:"revoked_at,omitempty"`
	Sessions  int      `json:"sessions"` // browser sessions not yet ended
}

// Users lists the dashboard users, revoked ones too, by name.
func (s *Store) Users(ctx context.Context) ([]UserInfo, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT u.name, u.role, u.zones, u.created_at, u.revoked_at,
		(SELECT COUNT(*) FROM sessions s WHERE s.user_id = u.id AND s.expires_at > ?)
		FROM users u ORDER BY u.name`, time.Now().UTC().Format(time.RFC3339)) // as sessions' ends are written
	if err != nil {
		return nil, fmt.Errorf("store: users: %w", err)
	}
	defer rows.Close()
	var out []UserInfo
	for rows.Next() {
		var u UserInfo
		var zones string
		if err := rows.Scan(&u.Name, &u.Role, &zones, &u.CreatedAt, &u.RevokedAt, &u.Sessions); err != nil {
			return nil, fmt.Errorf("store: users: %w", err)
		}
		u.Zones = splitList(zones)
		out = append(out, u)
	}
	return out, rows.Err()
}

// RevokeUser ends a dashboard user at once: no more logins, and every open
// browser session of theirs is over at its next request.
func (s *Store) RevokeUser(ctx context.Context, name string) error {
	return s.changeLiveUser(ctx, name, "revoke user", `revoked_at = ?`, now())
}

// SetPassword gives a live dashboard user a new password and ends their
// open sessions: whoever knew the old one is out at once.
func (s *Store) SetPassword(ctx context.Context, name, password string) error {
	hash, err := bcrypt.GenerateFromPassword([]byte(password), PasswordCost)
	if err != nil {
		return fmt.Errorf("store: user %s: %w", name, err)
	}
	return s.changeLiveUser(ctx, name, "new password for", `password_hash = ?`, string(hash))
}

// changeLiveUser sets one column of a user not revoked, and ends every
// session they have open, in one transaction.
func (s *Store) changeLiveUser(ctx context.Context, name, what, set string, value any) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("store: %s %s: %w", what, name, err)
	}
	defer tx.Rollback()
	res, err := tx.ExecContext(ctx, `UPDATE users SET `+set+` WHERE name = ? AND revoked_at = ''`, value, name)
	if err != nil {
		return fmt.Errorf("store: %s %s: %w", what, name, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("store: user %s: %w (or revoked already)", name, sekisho.ErrNotFound)
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM sessions WHERE user_id = (SELECT id FROM users WHERE name = ?)`, name); err != nil {
		return fmt.Errorf("store: %s %s: %w", what, name, err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("store: %s %s: %w", what, name, err)
	}
	return nil
}

// TokenInfo is an API token as `controller token list` shows it.
type TokenInfo struct {
	ID        int64    `json:"id"`
	Role      string   `json:"role"`
	Zones     []string `json:"zones"`
	Label     string   `json:"label"`
	CreatedAt string   `json:"created_at"`
	ExpiresAt string   `json:"expires_at"` // empty: never
	RevokedAt string   `json:"revoked_at,omitempty"`
	LastUsed  string   `json:"last_used,omitempty"`
}

// CreateToken makes an API token valid until expires (never when zero);
// only its hash is kept, so the returned secret is shown once.
func (s *Store) CreateToken(ctx context.Context, role string, zones []string, label string, expires time.Time) (string, int64, error) {
	if !sekisho.ValidTokenRole(role) {
		return "", 0, fmt.Errorf("store: token: role %q is not guard, manager, admin or auditor", role)
	}
	until := ""
	if !expires.IsZero() {
		until = expires.UTC().Format(time.RFC3339)
	}
	token := "sk_" + NewSecret(24)
	res, err := s.db.ExecContext(ctx, `INSERT INTO tokens (token_hash, role, zones, label, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?)`,
		secretHash(token), role, strings.Join(zones, ","), label, now(), until)
	if err != nil {
		return "", 0, fmt.Errorf("store: token: %w", err)
	}
	id, _ := res.LastInsertId()
	return token, id, nil
}

// Tokens lists every API token, revoked ones included.
func (s *Store) Tokens(ctx context.Context) ([]TokenInfo, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT id, role, zones, label, created_at, expires_at, revoked_at, last_used FROM tokens ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("store: tokens: %w", err)
	}
	defer rows.Close()
	var out []TokenInfo
	for rows.Next() {
		var t TokenInfo
		var zones string
		if err := rows.Scan(&t.ID, &t.Role, &zones, &t.Label, &t.CreatedAt, &t.ExpiresAt, &t.RevokedAt, &t.LastUsed); err != nil {
			return nil, fmt.Errorf("store: tokens: %w", err)
		}
		t.Zones = splitList(zones)
		out = append(out, t)
	}
	return out, rows.Err()
}

// RevokeToken ends a token at once.
func (s *Store) RevokeToken(ctx context.Context, id int64) error {
	res, err := s.db.ExecContext(ctx, `UPDATE tokens SET revoked_at = ? WHERE id = ? AND revoked_at = ''`, now(), id)
	if err != nil {
		return fmt.Errorf("store: revoke token %d: %w", id, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("store: token %d: %w (or revoked already)", id, sekisho.ErrNotFound)
	}
	return nil
}

// Token returns the principal of a live API token (not expired, not
// revoked), and notes its use at most once a minute.
func (s *Store) Token(ctx context.Context, token string) (sekisho.Principal, error) {
	var p sekisho.Principal
	var zones, label, expires, revoked, lastUsed string
	var id int64
	err := s.db.QueryRowContext(ctx, `SELECT id, role, zones, label, expires_at, revoked_at, last_used FROM tokens WHERE token_hash = ?`, secretHash(token)).
		Scan(&id, &p.Role, &zones, &label, &expires, &revoked, &lastUsed)
	if errors.Is(err, sql.ErrNoRows) {
		return p, sekisho.ErrNotFound
	}
	if err != nil {
		return p, fmt.Errorf("store: token: %w", err)
	}
	at := time.Now().UTC()
	if revoked != "" || (expires != "" && expires <= at.Format(time.RFC3339)) {
		return p, sekisho.ErrNotFound
	}
	if seen, err := time.Parse(time.RFC3339, lastUsed); err != nil || at.Sub(seen) > time.Minute {
		s.db.ExecContext(ctx, `UPDATE tokens SET last_used = ? WHERE id = ?`, at.Format(time.RFC3339), id)
	}
	p.Name = "token-" + itoa(id)
	if label != "" {
		p.Name += " (" + label + ")"
	}
	p.Zones = splitList(zones)
	return p, nil
}
