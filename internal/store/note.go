package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/rapportcrm/rapport/internal/customer"
	"github.com/rapportcrm/rapport/internal/errs"
)

// liveCustomer fails with NotFound unless the customer exists and is not deleted.
func liveCustomer(ctx context.Context, tx *Tx, id string) error {
	var n int
	if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM customers WHERE id = $1 AND deleted_at IS NULL`, id).Scan(&n); err != nil {
		return err
	}
	if n == 0 {
		return errs.E(errs.NotFound, "customer %s not found", id)
	}
	return nil
}

// AddNote stores a note on a customer.
func (s *Store) AddNote(ctx context.Context, a Actor, n customer.Note) error {
	err := s.tx(ctx, func(tx *Tx) error {
		if err := liveCustomer(ctx, tx, n.CustomerID); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO notes (id, customer_id, author_id, body, created_at) VALUES ($1, $2, $3, $4, $5)`,
			n.ID, n.CustomerID, nullString(n.AuthorID), n.Body, ts(n.CreatedAt)); err != nil {
			return err
		}
		if err := touchSeen(ctx, tx, n.CustomerID, n.CreatedAt); err != nil {
			return err
		}
		return s.audit(ctx, tx, a, "create", "note", n.ID, n.CustomerID, map[string]any{"body": map[string]any{"after": n.Body}})
	})
	if err == nil {
		s.changed(ctx, n.CustomerID)
	}
	return wrap("add note", err)
}

// Notes lists a customer's notes, newest first.
func (s *Store) Notes(ctx context.Context, customerID string, limit int) ([]customer.Note, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT id, customer_id, author_id, body, created_at FROM notes
		WHERE customer_id = $1 ORDER BY created_at DESC, id DESC LIMIT $2`, customerID, limit)
	if err != nil {
		return nil, fmt.Errorf("store: list notes: %w", err)
	}
	defer rows.Close()
	out := []customer.Note{}
	for rows.Next() {
		var n customer.Note
		var author sql.NullString
		var at dbTime
		if err := rows.Scan(&n.ID, &n.CustomerID, &author, &n.Body, &at); err != nil {
			return nil, fmt.Errorf("store: list notes: %w", err)
		}
		n.AuthorID, n.CreatedAt = author.String, at.Time
		out = append(out, n)
	}
	return out, rows.Err()
}

// AddInteraction stores an interaction and counts it in the customer's stats.
func (s *Store) AddInteraction(ctx context.Context, a Actor, in customer.Interaction) error {
	err := s.tx(ctx, func(tx *Tx) error {
		if err := liveCustomer(ctx, tx, in.CustomerID); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO interactions (id, customer_id, user_id, kind, at, summary, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
			in.ID, in.CustomerID, nullString(in.UserID), in.Kind, ts(in.At), in.Summary, ts(in.CreatedAt)); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO customer_stats (customer_id, interactions) VALUES ($1, 1)
			ON CONFLICT (customer_id) DO UPDATE SET interactions = customer_stats.interactions + 1`, in.CustomerID); err != nil {
			return err
		}
		if err := touchSeen(ctx, tx, in.CustomerID, in.At); err != nil {
			return err
		}
		if err := MarkScoresStale(ctx, tx, in.CustomerID); err != nil {
			return err
		}
		return s.audit(ctx, tx, a, "create", "interaction", in.ID, in.CustomerID,
			map[string]any{"kind": map[string]any{"after": in.Kind}, "summary": map[string]any{"after": in.Summary}})
	})
	if err == nil {
		s.changed(ctx, in.CustomerID)
	}
	return wrap("add interaction", err)
}

// Interactions lists a customer's interactions, most recent first.
func (s *Store) Interactions(ctx context.Context, customerID string, limit int) ([]customer.Interaction, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT id, customer_id, user_id, kind, at, summary, created_at FROM interactions
		WHERE customer_id = $1 ORDER BY at DESC, id DESC LIMIT $2`, customerID, limit)
	if err != nil {
		return nil, fmt.Errorf("store: list interactions: %w", err)
	}
	defer rows.Close()
	out := []customer.Interaction{}
	for rows.Next() {
		var in customer.Interaction
		var user sql.NullString
		var at, created dbTime
		if err := rows.Scan(&in.ID, &in.CustomerID, &user, &in.Kind, &at, &in.Summary, &created); err != nil {
			return nil, fmt.Errorf("store: list interactions: %w", err)
		}
		in.UserID, in.At, in.CreatedAt = user.String, at.Time, created.Time
		out = append(out, in)
	}
	return out, rows.Err()
}

// touchSeen moves a customer's first/last seen times to include at.
func touchSeen(ctx context.Context, tx *Tx, customerID string, at time.Time) error {
	t := ts(at)
	_, err := tx.ExecContext(ctx, `INSERT INTO customer_stats (customer_id, first_seen, last_seen) VALUES ($1, $2, $2)
		ON CONFLICT (customer_id) DO UPDATE SET
			first_seen = CASE WHEN customer_stats.first_seen IS NULL OR customer_stats.first_seen > excluded.first_seen THEN excluded.first_seen ELSE customer_stats.first_seen END,
			last_seen = CASE WHEN customer_stats.last_seen IS NULL OR customer_stats.last_seen < excluded.last_seen THEN excluded.last_seen ELSE customer_stats.last_seen END`,
		customerID, t)
	return err
}
