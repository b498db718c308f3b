package store_test

import (
	"context"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/rapportcrm/rapport/internal/customer"
	"github.com/rapportcrm/rapport/internal/store"
)

func TestRefreshStatisticsAnalyzesTablesThatGrew(t *testing.T) {
	forEachEngine(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		now := time.Now().UTC()
		var d store.Dataset
		for i := range 3000 {
			d.Customers = append(d.Customers, customer.Customer{ID: customer.NewID(), Kind: customer.Person,
				Name: "客户" + strconv.Itoa(i), CreatedAt: now, UpdatedAt: now, Version: 1})
		}
		if err := s.Load(ctx, store.SystemActor, d); err != nil {
			t.Fatal(err)
		}
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
		now := time.Now().UTC()
		var d store.Dataset
		for i := range 500 {
			d.Customers = append(d.Customers, customer.Customer{ID: customer.NewID(), Kind: customer.Person,
				Name: "张伟" + strconv.Itoa(1000+i), CreatedAt: now, UpdatedAt: now, Version: 1})
		}
		if err := s.Load(ctx, store.SystemActor, d); err != nil {
			t.Fatal(err)
		}
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
