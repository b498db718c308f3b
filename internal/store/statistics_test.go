package store_test

import (
	"context"
	"database/sql"
	"net/url"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/rapportcrm/rapport/internal/customer"
	"github.com/rapportcrm/rapport/internal/store"
	"github.com/rapportcrm/rapport/internal/storetest"
)

// loadPeople loads n people named prefix followed by 1000, 1001, ….
func loadPeople(t *testing.T, s *store.Store, n int, prefix string) {
	t.Helper()
	now := time.Now().UTC()
	var d store.Dataset
	for i := range n {
		d.Customers = append(d.Customers, customer.Customer{ID: customer.NewID(), Kind: customer.Person,
			Name: prefix + strconv.Itoa(1000+i), CreatedAt: now, UpdatedAt: now, Version: 1})
	}
	if err := s.Load(context.Background(), store.SystemActor, d); err != nil {
		t.Fatal(err)
	}
}

func TestRefreshStatisticsAnalyzesTablesThatGrew(t *testing.T) {
	forEachEngine(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		loadPeople(t, s, 3000, "客户")
		stale, err := s.RefreshStatistics(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if s.Dialect() == store.SQLite {
			if len(stale) != 0 {
				t.Fatalf("SQLite names tables: %v", stale)
			}
			return
		}
		// The cumulative statistics reach pg_stat_user_tables within a
		// second or so; until they do, a table does not look stale.
		for deadline := time.Now().Add(10 * time.Second); !slices.Contains(stale, "customers") && time.Now().Before(deadline); {
			time.Sleep(200 * time.Millisecond)
			if stale, err = s.RefreshStatistics(ctx); err != nil {
				t.Fatal(err)
			}
		}
		if !slices.Contains(stale, "customers") {
			t.Fatalf("3,000 new customers and customers was not analyzed: %v", stale)
		}
	})
}

// New customers' search entries wait in the GIN indexes' pending lists,
// which every search reads; MergeSearchIndexes moves them into the
// indexes, and the customers are still found.
func TestMergeSearchIndexesEmptiesThePendingLists(t *testing.T) {
	forEachEngine(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		loadPeople(t, s, 500, "张伟")
		pages, err := s.MergeSearchIndexes(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if s.Dialect() == store.SQLite {
			if pages != 0 {
				t.Fatalf("SQLite merged %d pages", pages)
			}
		} else if pages == 0 {
			t.Fatal("500 new customers and no pending search entries were merged")
		}
		if again, err := s.MergeSearchIndexes(ctx); err != nil || again != 0 {
			t.Fatalf("second merge: %d pages, %v; want 0, nil", again, err)
		}
		for _, q := range []string{"张伟", "zhangwei", "1234"} {
			page, err := s.ListCustomers(ctx, store.Filter{Q: q, Limit: 10})
			if err != nil {
				t.Fatal(err)
			}
			if len(page.Items) == 0 {
				t.Fatalf("q=%s found nothing after the merge", q)
			}
		}
	})
}

// Merging a GIN index's pending list takes its owner: a role that does not
// own the search indexes (a read-only reporting role, say) merges none of
// them, rather than failing every 10 s; the owner merges them all.
func TestMergeSearchIndexesLeavesIndexesItDoesNotOwn(t *testing.T) {
	e, ok := storetest.Postgres(t)
	if !ok {
		t.Skip("RAPPORT_TEST_POSTGRES is not set")
	}
	ctx := context.Background()
	loadPeople(t, e.Store, 500, "张伟")
	owner, err := sql.Open("pgx", e.Config.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer owner.Close()
	role := "rapport_test_reader_" + strconv.FormatInt(time.Now().UnixNano(), 36)
	if _, err := owner.ExecContext(ctx, `CREATE ROLE `+role+` LOGIN`); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		owner.Exec(`DROP OWNED BY ` + role)
		owner.Exec(`DROP ROLE ` + role)
	})
	var schema string
	if err := owner.QueryRowContext(ctx, `SELECT current_schema()`).Scan(&schema); err != nil {
		t.Fatal(err)
	}
	if _, err := owner.ExecContext(ctx, `GRANT USAGE ON SCHEMA `+schema+` TO `+role); err != nil {
		t.Fatal(err)
	}
	u, err := url.Parse(e.Config.URL)
	if err != nil {
		t.Fatal(err)
	}
	u.User = url.User(role)
	reader, err := sql.Open("pgx", u.String())
	if err != nil {
		t.Fatal(err)
	}
	defer reader.Close()
	var pages int64
	if err := reader.QueryRowContext(ctx, store.MergeSearchIndexesQuery).Scan(&pages); err != nil || pages != 0 {
		t.Fatalf("a role that owns nothing: %d pages merged, %v; want 0, nil", pages, err)
	}
	// What the filter spares it.
	if _, err := reader.ExecContext(ctx, `SELECT gin_clean_pending_list('customers_search'::regclass)`); err == nil {
		t.Fatal("gin_clean_pending_list ran for a role that does not own the index")
	}
	if err := owner.QueryRowContext(ctx, store.MergeSearchIndexesQuery).Scan(&pages); err != nil || pages == 0 {
		t.Fatalf("the owner: %d pages merged, %v; want the new customers' entries", pages, err)
	}
}
