package store

import (
	"context"
	"strings"
)

// RefreshStatistics re-analyzes the tables whose planner statistics have
// gone stale, and returns their names. PostgreSQL's autovacuum does this
// when it is on, but it may be off (it is on some test and managed
// servers), and the search by keys (search_postgres.go) chooses between
// an index and a walk of the newest customers by those statistics: after
// a million customers arrived through the API with no analyze, 张伟 took
// 160 ms instead of ~5. A table is stale when more than a tenth of its
// rows (and at least 1,000) changed since its last analyze, autovacuum's
// own default rule. SQLite needs nothing: its searches do not depend on
// statistics.
func (s *Store) RefreshStatistics(ctx context.Context) ([]string, error) {
	if s.dialect == SQLite {
		return nil, nil
	}
	rows, err := s.read.QueryContext(ctx, `SELECT relname FROM pg_stat_user_tables
		WHERE schemaname = current_schema() AND n_mod_since_analyze > 1000 + 0.1 * n_live_tup ORDER BY relname`)
	if err != nil {
		return nil, wrap("refresh statistics", err)
	}
	var stale []string
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			rows.Close()
			return nil, wrap("refresh statistics", err)
		}
		stale = append(stale, name)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, wrap("refresh statistics", err)
	}
	for _, name := range stale {
		// An identifier cannot be a parameter; the name comes from the
		// catalog and is quoted.
		if _, err := s.write.ExecContext(ctx, `ANALYZE `+quoteIdent(name)); err != nil {
			return nil, wrap("refresh statistics", err)
		}
	}
	return stale, nil
}

// quoteIdent quotes a PostgreSQL identifier.
func quoteIdent(name string) string {
	return `"` + strings.ReplaceAll(name, `"`, `""`) + `"`
}

// MergeSearchIndexes moves the entries waiting in the pending lists of
// this schema's GIN indexes (the search trigrams and keys) into the
// indexes proper, and returns how many list pages it emptied. PostgreSQL
// adds new entries to a GIN index's pending list, merged only once the
// list outgrows gin_pending_list_limit (4 MB) or the index is vacuumed —
// and every search reads the whole list. After a million customers came
// in through the API with autovacuum off, the lists held 185–492 pages,
// and a lookup of one key took 3.7 ms instead of 0.7 (a range search makes
// several). A smaller limit would keep them short but doubled the cost of
// the inserts themselves (200,000 rows: 6.2 s with the default, 12.7 s
// with 256 kB); merging when a burst is over costs what the merge would
// have cost anyway. Only indexes the current role owns are merged (the
// function requires it; a role that does not own them leaves them to the
// database's own vacuum). SQLite needs nothing: FTS5 merges its own
// segments.
func (s *Store) MergeSearchIndexes(ctx context.Context) (int64, error) {
	if s.dialect == SQLite {
		return 0, nil
	}
	var pages int64
	if err := s.write.QueryRowContext(ctx, mergeSearchIndexesQuery).Scan(&pages); err != nil {
		return 0, wrap("merge search indexes", err)
	}
	return pages, nil
}

// mergeSearchIndexesQuery merges the pending lists of the GIN indexes of
// the current schema that the current role may merge (it owns them, or is
// a member of their owner), and sums the pages emptied.
const mergeSearchIndexesQuery = `SELECT COALESCE(sum(gin_clean_pending_list(c.oid::regclass)), 0) FROM pg_class c
	JOIN pg_am am ON am.oid = c.relam JOIN pg_namespace n ON n.oid = c.relnamespace
	WHERE c.relkind = 'i' AND am.amname = 'gin' AND n.nspname = current_schema()
	AND pg_has_role(c.relowner, 'USAGE')`
