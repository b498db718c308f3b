package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/rapportcrm/rapport/internal/errs"
)

// User is a person who logs in to Rapport.
type User struct {
	ID           string     `json:"id"`
	Email        string     `json:"email"`
	Name         string     `json:"name"`
	Role         string     `json:"role"`
	PasswordHash string     `json:"-"`
	Locale       string     `json:"locale,omitempty"`
	CreatedAt    time.Time  `json:"created_at"`
	DisabledAt   *time.Time `json:"disabled_at,omitempty"`
}

// CreateUser stores a new user; the email must be unused.
func (s *Store) CreateUser(ctx context.Context, u User) error {
	_, err := s.write.ExecContext(ctx, `
		INSERT INTO users (id, email, name, role, password_hash, locale, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7)`,
		u.ID, u.Email, u.Name, u.Role, u.PasswordHash, u.Locale, ts(u.CreatedAt))
	if isUniqueViolation(err) {
		return errs.E(errs.Conflict, "a user with email %s already exists", u.Email)
	}
	if err != nil {
		return fmt.Errorf("store: create user: %w", err)
	}
	return nil
}

const userColumns = `id, email, name, role, password_hash, locale, created_at, disabled_at`

func scanUser(row interface{ Scan(...any) error }) (User, error) {
	var u User
	var created, disabled dbTime
	err := row.Scan(&u.ID, &u.Email, &u.Name, &u.Role, &u.PasswordHash, &u.Locale, &created, &disabled)
	u.CreatedAt, u.DisabledAt = created.Time, disabled.ptr()
	return u, err
}

// UserByEmail finds a user by email address.
func (s *Store) UserByEmail(ctx context.Context, email string) (User, error) {
	u, err := scanUser(s.read.QueryRowContext(ctx, `SELECT `+userColumns+` FROM users WHERE email = $1`, email))
	if errors.Is(err, sql.ErrNoRows) {
		return u, errs.E(errs.NotFound, "user %s not found", email)
	}
	if err != nil {
		return u, fmt.Errorf("store: user by email: %w", err)
	}
	return u, nil
}

// UserByID finds a user by id.
func (s *Store) UserByID(ctx context.Context, id string) (User, error) {
	u, err := scanUser(s.read.QueryRowContext(ctx, `SELECT `+userColumns+` FROM users WHERE id = $1`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return u, errs.E(errs.NotFound, "user %s not found", id)
	}
	if err != nil {
		return u, fmt.Errorf("store: user by id: %w", err)
	}
	return u, nil
}

// ListUsers returns every user, oldest first.
func (s *Store) ListUsers(ctx context.Context) ([]User, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT `+userColumns+` FROM users ORDER BY created_at, id`)
	if err != nil {
		return nil, fmt.Errorf("store: list users: %w", err)
	}
	defer rows.Close()
	var us []User
	for rows.Next() {
		u, err := scanUser(rows)
		if err != nil {
			return nil, fmt.Errorf("store: list users: %w", err)
		}
		us = append(us, u)
	}
	return us, rows.Err()
}

// SetUserLocale remembers a user's chosen language.
func (s *Store) SetUserLocale(ctx context.Context, id, locale string) error {
	if _, err := s.write.ExecContext(ctx, `UPDATE users SET locale = $1 WHERE id = $2`, locale, id); err != nil {
		return fmt.Errorf("store: set user locale: %w", err)
	}
	return nil
}

// APIKey is a credential for programs. Only its hash is stored.
type APIKey struct {
	ID        string     `json:"id"`
	Name      string     `json:"name"`
	Role      string     `json:"role"`
	Prefix    string     `json:"prefix"`
	Hash      string     `json:"-"`
	CreatedBy string     `json:"created_by,omitempty"`
	CreatedAt time.Time  `json:"created_at"`
	RevokedAt *time.Time `json:"revoked_at,omitempty"`
}

// CreateAPIKey stores a new API key.
func (s *Store) CreateAPIKey(ctx context.Context, k APIKey) error {
	_, err := s.write.ExecContext(ctx, `
		INSERT INTO api_keys (id, name, role, prefix, hash, created_by, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7)`,
		k.ID, k.Name, k.Role, k.Prefix, k.Hash, nullString(k.CreatedBy), ts(k.CreatedAt))
	if err != nil {
		return fmt.Errorf("store: create api key: %w", err)
	}
	return nil
}

// APIKeyByHash finds an unrevoked API key by the hash of its secret.
func (s *Store) APIKeyByHash(ctx context.Context, hash string) (APIKey, error) {
	var k APIKey
	var created, revoked dbTime
	var createdBy sql.NullString
	err := s.read.QueryRowContext(ctx, `
		SELECT id, name, role, prefix, hash, created_by, created_at, revoked_at
		FROM api_keys WHERE hash = $1 AND revoked_at IS NULL`, hash).
		Scan(&k.ID, &k.Name, &k.Role, &k.Prefix, &k.Hash, &createdBy, &created, &revoked)
	if errors.Is(err, sql.ErrNoRows) {
		return k, errs.E(errs.Unauthorized, "unknown or revoked API key")
	}
	if err != nil {
		return k, fmt.Errorf("store: api key by hash: %w", err)
	}
	k.CreatedBy, k.CreatedAt, k.RevokedAt = createdBy.String, created.Time, revoked.ptr()
	return k, nil
}

// Session is a logged-in browser. Only the hash of its token is stored.
type Session struct {
	TokenHash string
	UserID    string
	CreatedAt time.Time
	ExpiresAt time.Time
}

// CreateSession stores a new session.
func (s *Store) CreateSession(ctx context.Context, sess Session) error {
	_, err := s.write.ExecContext(ctx, `
		INSERT INTO sessions (token_hash, user_id, created_at, expires_at) VALUES ($1, $2, $3, $4)`,
		sess.TokenHash, sess.UserID, ts(sess.CreatedAt), ts(sess.ExpiresAt))
	if err != nil {
		return fmt.Errorf("store: create session: %w", err)
	}
	return nil
}

// SessionByHash finds an unexpired session.
func (s *Store) SessionByHash(ctx context.Context, hash string, now time.Time) (Session, error) {
	var sess Session
	var created, expires dbTime
	err := s.read.QueryRowContext(ctx, `
		SELECT token_hash, user_id, created_at, expires_at FROM sessions
		WHERE token_hash = $1 AND expires_at > $2`, hash, ts(now)).
		Scan(&sess.TokenHash, &sess.UserID, &created, &expires)
	if errors.Is(err, sql.ErrNoRows) {
		return sess, errs.E(errs.Unauthorized, "session expired or unknown")
	}
	if err != nil {
		return sess, fmt.Errorf("store: session by hash: %w", err)
	}
	sess.CreatedAt, sess.ExpiresAt = created.Time, expires.Time
	return sess, nil
}

// DeleteSession ends a session.
func (s *Store) DeleteSession(ctx context.Context, hash string) error {
	if _, err := s.write.ExecContext(ctx, `DELETE FROM sessions WHERE token_hash = $1`, hash); err != nil {
		return fmt.Errorf("store: delete session: %w", err)
	}
	return nil
}

func nullString(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// SetUserPassword replaces a user's password hash.
func (s *Store) SetUserPassword(ctx context.Context, id, hash string) error {
	res, err := s.write.ExecContext(ctx, `UPDATE users SET password_hash = $1 WHERE id = $2`, hash, id)
	if err != nil {
		return fmt.Errorf("store: set user password: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return errs.E(errs.NotFound, "user %s not found", id)
	}
	return nil
}
