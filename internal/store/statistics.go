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
