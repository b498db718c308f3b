package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/rapportcrm/rapport/internal/errs"
)

// Source is a system that sends tracking events (a web site, an app, a
// backend) with its own write key. Only the hash of the key is stored.
type Source struct {
	ID        string     `json:"id"`
	Name      string     `json:"name"`
	Prefix    string     `json:"prefix" doc:"The first characters of the write key, to recognise it"`
	KeyHash   string     `json:"-"`
	CreatedBy string     `json:"created_by,omitempty"`
	CreatedAt time.Time  `json:"created_at"`
	RevokedAt *time.Time `json:"revoked_at,omitempty"`
}

// CreateSource stores a new source; its name must be unused.
func (s *Store) CreateSource(ctx context.Context, a Actor, src Source) error {
	err := s.tx(ctx, func(tx *Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO sources (id, name, prefix, key_hash, created_by, created_at) VALUES ($1, $2, $3, $4, $5, $6)`,
			src.ID, src.Name, src.Prefix, src.KeyHash, nullString(src.CreatedBy), ts(src.CreatedAt))
		if isUniqueViolation(err) {
			return errs.E(errs.Conflict, "a source named %q already exists", src.Name)
		}
		if err != nil {
			return err
		}
		return s.audit(ctx, tx, a, "create", "source", src.ID, "", map[string]any{"name": map[string]any{"after": src.Name}})
	})
	return wrap("create source", err)
}

const sourceColumns = `id, name, prefix, key_hash, created_by, created_at, revoked_at`

func scanSource(row interface{ Scan(...any) error }) (Source, error) {
	var src Source
	var by sql.NullString
	var created, revoked dbTime
	err := row.Scan(&src.ID, &src.Name, &src.Prefix, &src.KeyHash, &by, &created, &revoked)
	src.CreatedBy, src.CreatedAt, src.RevokedAt = by.String, created.Time, revoked.ptr()
	return src, err
}

// SourceByKeyHash finds the unrevoked source whose write key hashes to
// hash; an unknown or revoked key is Unauthorized.
func (s *Store) SourceByKeyHash(ctx context.Context, hash string) (Source, error) {
	src, err := scanSource(s.read.QueryRowContext(ctx, `SELECT `+sourceColumns+` FROM sources WHERE key_hash = $1 AND revoked_at IS NULL`, hash))
	if errors.Is(err, sql.ErrNoRows) {
		return src, errs.E(errs.Unauthorized, "unknown or revoked write key")
	}
	if err != nil {
		return src, fmt.Errorf("store: source by key: %w", err)
	}
	return src, nil
}

// Sources lists every source, oldest first.
func (s *Store) Sources(ctx context.Context) ([]Source, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT `+sourceColumns+` FROM sources ORDER BY created_at, id`)
	if err != nil {
		return nil, fmt.Errorf("store: list sources: %w", err)
	}
	defer rows.Close()
	out := []Source{}
	for rows.Next() {
		src, err := scanSource(rows)
		if err != nil {
			return nil, fmt.Errorf("store: list sources: %w", err)
		}
		out = append(out, src)
	}
	return out, rows.Err()
}

// RevokeSource stops a source's write key from working; its events stay.
func (s *Store) RevokeSource(ctx context.Context, a Actor, id string, at time.Time) (Source, error) {
	var out Source
	err := s.tx(ctx, func(tx *Tx) error {
		src, err := scanSource(tx.QueryRowContext(ctx, `SELECT `+sourceColumns+` FROM sources WHERE id = $1`, id))
		if errors.Is(err, sql.ErrNoRows) {
			return errs.E(errs.NotFound, "source %s not found", id)
		}
		if err != nil {
			return err
		}
		if src.RevokedAt != nil {
			out = src
			return nil
		}
		if _, err := tx.ExecContext(ctx, `UPDATE sources SET revoked_at = $1 WHERE id = $2`, ts(at), id); err != nil {
			return err
		}
		t := at.UTC()
		src.RevokedAt = &t
		out = src
		return s.audit(ctx, tx, a, "revoke", "source", id, "", map[string]any{"revoked_at": map[string]any{"after": t}})
	})
	return out, wrap("revoke source", err)
}
