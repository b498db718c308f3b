package store

import (
	"context"
	"strings"
)

// ExplainKeyLookups returns the plans of ingestion's two key lookups —
// stored messageIds of a source, identity owners of a type and source —
// for the given keys, as the engine would run them now.
func (s *Store) ExplainKeyLookups(ctx context.Context, source string, keys []string) (messages, owners string, err error) {
	q, args := s.keysQuery(storedMessagesQuery, []any{source}, keys)
	if messages, err = s.explain(ctx, q, args...); err != nil {
		return "", "", err
	}
	q, args = s.keysQuery(identityOwnersQuery, []any{"email", ""}, keys)
	owners, err = s.explain(ctx, q, args...)
	return messages, owners, err
}

// explain returns the engine's plan for query, one line per plan row: the
// text columns of SQLite's EXPLAIN QUERY PLAN, PostgreSQL's EXPLAIN.
func (s *Store) explain(ctx context.Context, query string, args ...any) (string, error) {
	prefix := "EXPLAIN QUERY PLAN "
	if s.dialect == Postgres {
		prefix = "EXPLAIN "
	}
	rows, err := s.read.QueryContext(ctx, prefix+query, args...)
	if err != nil {
		return "", err
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return "", err
	}
	var lines []string
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			return "", err
		}
		for _, v := range vals {
			if b, ok := v.([]byte); ok {
				v = string(b)
			}
			if t, ok := v.(string); ok {
				lines = append(lines, t)
			}
		}
	}
	return strings.Join(lines, "\n"), rows.Err()
}

// InsertRows writes rows the way the store's bulk writes do (COPY or
// multi-row INSERTs), in one transaction.
func (s *Store) InsertRows(ctx context.Context, table string, cols []string, rows [][]any) error {
	return s.tx(ctx, func(tx *Tx) error { return insertChunked(ctx, tx, table, cols, rows, "") })
}
