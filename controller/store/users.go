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

	"golang.org/x/crypto/bcrypt"
)

// Roles.
const (
	RoleGuard   = "guard"
	RoleManager = "manager"
	RoleAdmin   = "admin"
)

// ValidRole reports whether r is a role.
func ValidRole(r string) bool { return r == RoleGuard || r == RoleManager || r == RoleAdmin }

// Principal is who is making a request: a dashboard user or an API token.
type Principal struct {
	Name  string   `json:"name"`
	Role  string   `json:"role"`
	Zones []string `json:"zones,omitempty"` // a manager's zones; empty is all
}

var dummyHash = sync.OnceValue(func() []byte {
	h, _ := bcrypt.GenerateFromPassword([]byte(NewSecret(16)), bcrypt.DefaultCost)
	return h
})

// ErrBadLogin is returned for a wrong name or password, without saying which.
var ErrBadLogin = errors.New("wrong name or password")

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
	if !ValidRole(role) {
		return fmt.Errorf("store: user %s: role %q is not guard, manager or admin", name, role)
	}
	hash, err := bcrypt.GenerateFromPassword([]byte(password), bcrypt.DefaultCost)
	if err != nil {
		return fmt.Errorf("store: user %s: %w", name, err)
	}
	_, err = s.db.ExecContext(ctx, `INSERT INTO users (name, role, zones, password_hash, created_at) VALUES (?, ?, ?, ?, ?)`,
		name, role, strings.Join(zones, ","), string(hash), now())
	if err != nil {
		if strings.Contains(err.Error(), "UNIQUE") {
			return fmt.Errorf("store: user %s: %w", name, ErrDuplicate)
		}
		return fmt.Errorf("store: user %s: %w", name, err)
	}
	return nil
}

// CountUsers is how many dashboard users exist.
func (s *Store) CountUsers(ctx context.Context) (int, error) {
	var n int
	if err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM users`).Scan(&n); err != nil {
		return 0, fmt.Errorf("store: count users: %w", err)
	}
	return n, nil
}

// Login checks a password and opens a browser session lasting ttl.
func (s *Store) Login(ctx context.Context, name, password string, ttl time.Duration) (string, Principal, error) {
	var id int64
	var hash, zones string
	var p Principal
	err := s.db.QueryRowContext(ctx, `SELECT id, name, role, zones, password_hash FROM users WHERE name = ?`, name).
		Scan(&id, &p.Name, &p.Role, &zones, &hash)
	if errors.Is(err, sql.ErrNoRows) {
		// Spend the same time as a real check, so names can't be probed.
		_ = bcrypt.CompareHashAndPassword(dummyHash(), []byte(password))
		return "", p, ErrBadLogin
	}
	if err != nil {
		return "", p, fmt.Errorf("store: login %s: %w", name, err)
	}
	if bcrypt.CompareHashAndPassword([]byte(hash), []byte(password)) != nil {
		return "", p, ErrBadLogin
	}
	p.Zones = splitList(zones)
	token := NewSecret(32)
	_, err = s.db.ExecContext(ctx, `INSERT INTO sessions (token_hash, user_id, expires_at) VALUES (?, ?, ?)`,
		secretHash(token), id, time.Now().Add(ttl).UTC().Format(time.RFC3339))
	if err != nil {
		return "", p, fmt.Errorf("store: session for %s: %w", name, err)
	}
	return token, p, nil
}

// Session returns the user of a live session.
func (s *Store) Session(ctx context.Context, token string) (Principal, error) {
	var p Principal
	var zones string
	err := s.db.QueryRowContext(ctx, `SELECT u.name, u.role, u.zones FROM sessions s JOIN users u ON u.id = s.user_id
		WHERE s.token_hash = ? AND s.expires_at > ?`, secretHash(token), time.Now().UTC().Format(time.RFC3339)).
		Scan(&p.Name, &p.Role, &zones)
	if errors.Is(err, sql.ErrNoRows) {
		return p, ErrNotFound
	}
	if err != nil {
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

// CreateToken makes an API token; only its hash is kept, so the returned
// secret is shown once.
func (s *Store) CreateToken(ctx context.Context, role string, zones []string, label string) (string, error) {
	if !ValidRole(role) {
		return "", fmt.Errorf("store: token: role %q is not guard, manager or admin", role)
	}
	token := "sk_" + NewSecret(24)
	_, err := s.db.ExecContext(ctx, `INSERT INTO tokens (token_hash, role, zones, label, created_at) VALUES (?, ?, ?, ?, ?)`,
		secretHash(token), role, strings.Join(zones, ","), label, now())
	if err != nil {
		return "", fmt.Errorf("store: token: %w", err)
	}
	return token, nil
}

// Token returns the principal of an API token.
func (s *Store) Token(ctx context.Context, token string) (Principal, error) {
	var p Principal
	var zones, label string
	var id int64
	err := s.db.QueryRowContext(ctx, `SELECT id, role, zones, label FROM tokens WHERE token_hash = ?`, secretHash(token)).
		Scan(&id, &p.Role, &zones, &label)
	if errors.Is(err, sql.ErrNoRows) {
		return p, ErrNotFound
	}
	if err != nil {
		return p, fmt.Errorf("store: token: %w", err)
	}
	p.Name = "token-" + itoa(id)
	if label != "" {
		p.Name += " (" + label + ")"
	}
	p.Zones = splitList(zones)
	return p, nil
}
