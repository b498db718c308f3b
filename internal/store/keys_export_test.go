package store

import (
	"context"
	"strings"
)

// ExplainKeyLookups returns the plans of ingestion's two key lookups —
// stored messageIds of a source, identity owners of a type and source —
// for the given keys, as the engine would run them now.
func (s *Store) ExplainKeyLookups(ctx context.Context, source string, keys []string) (messages, owners string, err error) {
	explain := "EXPLAIN QUERY PLAN "
	if s.dialect == Postgres {
		explain = "EXPLAIN "
	}
	plan := func(query string, fixed []any) (string, error) {
		q, args := s.keysQuery(query, fixed, keys)
		rows, err := s.write.QueryContext(ctx, explain+q, args...)
		if err != nil {
			return "", err
		}
		defer rows.Close()
		cols, _ := rows.Columns()
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
	if messages, err = plan(storedMessagesQuery, []any{source}); err != nil {
		return "", "", err
	}
	owners, err = plan(identityOwnersQuery, []any{"email", ""})
	return messages, owners, err
}

// InsertRows writes rows the way the store's bulk writes do (COPY or
// multi-row INSERTs), in one transaction.
func (s *Store) InsertRows(ctx context.Context, table string, cols []string, rows [][]any) error {
	return s.tx(ctx, func(tx *Tx) error { return insertChunked(ctx, tx, table, cols, rows, "") })
}
