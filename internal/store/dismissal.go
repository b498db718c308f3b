package store

import (
	"context"
	"time"

	"github.com/rapportcrm/rapport/internal/errs"
)

// DuplicatePair is two customers, in id order, so a pair has one key
// whichever way round it was found.
type DuplicatePair struct{ A, B string }

// PairOf orders two customer ids into a pair.
func PairOf(x, y string) DuplicatePair {
	if y < x {
		x, y = y, x
	}
	return DuplicatePair{A: x, B: y}
}

// DismissDuplicate records that two customers are not the same person, so
// the duplicate review stops suggesting them. Dismissing a pair twice is
// not an error.
func (s *Store) DismissDuplicate(ctx context.Context, a Actor, x, y string) error {
	if x == y || x == "" || y == "" {
		return errs.Validation(errs.FieldError{Field: "b", Message: "a pair needs two different customers", Value: y})
	}
	p := PairOf(x, y)
	err := s.tx(ctx, func(tx *Tx) error {
		for _, id := range []string{p.A, p.B} {
			if _, err := s.customer(ctx, tx, id); err != nil {
				return err
			}
		}
		res, err := tx.ExecContext(ctx, `INSERT INTO duplicate_dismissals (a_id, b_id, dismissed_by, created_at) VALUES ($1, $2, $3, $4)
			ON CONFLICT (a_id, b_id) DO NOTHING`, p.A, p.B, a.ID, ts(time.Now()))
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil || n == 0 {
			return err
		}
		return s.audit(ctx, tx, a, "dismiss_duplicate", "customer", p.A, p.A, map[string]any{"not_duplicate_of": map[string]any{"after": p.B}})
	})
	return wrap("dismiss duplicate", err)
}

// DismissedDuplicates returns every pair marked "not duplicates".
func (s *Store) DismissedDuplicates(ctx context.Context) (map[DuplicatePair]bool, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT a_id, b_id FROM duplicate_dismissals`)
	if err != nil {
		return nil, wrap("list dismissed duplicates", err)
	}
	defer rows.Close()
	out := map[DuplicatePair]bool{}
	for rows.Next() {
		var p DuplicatePair
		if err := rows.Scan(&p.A, &p.B); err != nil {
			return nil, wrap("list dismissed duplicates", err)
		}
		out[p] = true
	}
	return out, wrap("list dismissed duplicates", rows.Err())
}
