package store_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/rapportcrm/rapport/internal/customer"
	"github.com/rapportcrm/rapport/internal/store"
)

// createInBulk writes cs as one bulk import chunk.
func createInBulk(t *testing.T, b *store.Bulk, cs ...*customer.Customer) {
	t.Helper()
	_, err := b.ImportChunk(context.Background(), actor, "", store.ImportKeys{}, false, func(store.ImportLookup) (store.ImportWrite, error) {
		var w store.ImportWrite
		for _, c := range cs {
			w.Create = append(w.Create, store.ImportNew{Customer: c})
		}
		return w, nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func searchIDs(t *testing.T, s *store.Store, q string) []string {
	t.Helper()
	return searchAll(t, s, store.Filter{Q: q, Limit: 50})
}

// TestBulkImportIsSearchableAfterEnd: a bulk import's customers are found
// by search once it ends, with the search text they have then (renamed or
// removed meanwhile), and the search index stays consistent.
func TestBulkImportIsSearchableAfterEnd(t *testing.T) {
	forEachEngine(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		indexed := newCustomer(t, "bulkbefore")
		if err := s.CreateCustomers(ctx, actor, []*customer.Customer{indexed}); err != nil {
			t.Fatal(err)
		}
		b, err := s.BeginBulk(ctx)
		if err != nil {
			t.Fatal(err)
		}
		kept, renamed, purged := newCustomer(t, "bulkalpha"), newCustomer(t, "bulkbeta"), newCustomer(t, "bulkgamma")
		createInBulk(t, b, kept, renamed)
		createInBulk(t, b, purged)
		// Written by others while the import runs: a customer created
		// outside it is searchable at once; an imported one renamed or
		// purged is indexed as it is when the import ends.
		outside := newCustomer(t, "bulkoutside")
		if err := s.CreateCustomers(ctx, actor, []*customer.Customer{outside}); err != nil {
			t.Fatal(err)
		}
		if got := searchIDs(t, s, "bulkoutside"); !slices.Equal(got, []string{outside.ID}) {
			t.Fatalf("customer created beside the import: got %v", got)
		}
		if _, err := s.UpdateCustomer(ctx, actor, renamed.ID, 1, func(c *customer.Customer) error { c.Name = "bulkdelta"; return nil }); err != nil {
			t.Fatal(err)
		}
		if _, err := s.UpdateCustomer(ctx, actor, indexed.ID, 1, func(c *customer.Customer) error { c.Name = "bulkepsilon"; return nil }); err != nil {
			t.Fatal(err)
		}
		if err := s.DeleteCustomer(ctx, actor, purged.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := s.PurgeDeleted(ctx, time.Now().Add(store.RestoreWindow+time.Hour)); err != nil {
			t.Fatal(err)
		}
		if err := b.End(ctx); err != nil {
			t.Fatal(err)
		}
		for q, want := range map[string][]string{
			"bulkalpha": {kept.ID}, "bulkbeta": nil, "bulkdelta": {renamed.ID}, "bulkgamma": nil,
			"bulkbefore": nil, "bulkepsilon": {indexed.ID}, "bulk": {outside.ID, renamed.ID, kept.ID, indexed.ID},
		} {
			if got := searchIDs(t, s, q); !slices.Equal(got, want) {
				t.Errorf("q=%q: got %v, want %v", q, got, want)
			}
		}
		if n, err := s.SearchBacklog(ctx); err != nil || n != 0 {
			t.Errorf("backlog after End: %d, %v", n, err)
		}
		if err := s.CheckSearchIndex(ctx); err != nil {
			t.Errorf("search index: %v", err)
		}
	})
}

// TestKilledBulkImportIsIndexedOnOpen: an import that never reached End
// (the process was killed) leaves its committed customers in the backlog;
// the next Open indexes them.
func TestKilledBulkImportIsIndexedOnOpen(t *testing.T) {
	ctx := context.Background()
	cfg := store.Config{DataDir: t.TempDir()}
	s, err := store.Open(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	b, err := s.BeginBulk(ctx)
	if err != nil {
		t.Fatal(err)
	}
	c := newCustomer(t, "bulkkilled")
	createInBulk(t, b, c)
	if n, err := s.SearchBacklog(ctx); err != nil || n != 1 {
		t.Fatalf("backlog before the kill: %d, %v", n, err)
	}
	if err := s.Close(); err != nil { // no End
		t.Fatal(err)
	}
	s, err = store.Open(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if got := searchIDs(t, s, "bulkkilled"); !slices.Equal(got, []string{c.ID}) {
		t.Errorf("after reopening: got %v, want %s", got, c.ID)
	}
	if n, err := s.SearchBacklog(ctx); err != nil || n != 0 {
		t.Errorf("backlog after reopening: %d, %v", n, err)
	}
	if err := s.CheckSearchIndex(ctx); err != nil {
		t.Errorf("search index: %v", err)
	}
}
