package store

import "context"

// CopyRows runs copyRows in a transaction of its own: whether the rows
// went by COPY, and its error.
func (s *Store) CopyRows(ctx context.Context, table string, cols []string, rows [][]any) (copied bool, err error) {
	err = s.tx(ctx, func(tx *Tx) error {
		copied, err = copyRows(ctx, tx, table, cols, rows, "")
		return err
	})
	return copied, err
}

// Exec runs a statement on the writer, for tests that set up rows directly.
func (s *Store) Exec(ctx context.Context, query string, args ...any) (int64, error) {
	var n int64
	err := s.tx(ctx, func(tx *Tx) error {
		r, err := tx.ExecContext(ctx, query, args...)
		if err == nil {
			n, err = r.RowsAffected()
		}
		return err
	})
	return n, err
}

// QueryString reads one text value on the writer, for tests that check
// what the engine stored.
func (s *Store) QueryString(ctx context.Context, query string, args ...any) (string, error) {
	var v string
	err := s.write.QueryRowContext(ctx, query, args...).Scan(&v)
	return v, err
}
