package store_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/rapportcrm/rapport/internal/customer"
	"github.com/rapportcrm/rapport/internal/store"
)

// searchAll pages through every match of f and returns the ids in order.
func searchAll(t *testing.T, s *store.Store, f store.Filter) []string {
	t.Helper()
	var ids []string
	seen := map[string]bool{}
	for {
		page, err := s.ListCustomers(context.Background(), f)
		if err != nil {
			t.Fatalf("q=%q: %v", f.Q, err)
		}
		for _, c := range page.Items {
			if seen[c.ID] {
				t.Fatalf("q=%q: %s on two pages", f.Q, c.ID)
			}
			seen[c.ID] = true
			ids = append(ids, c.ID)
		}
		if page.NextCursor == "" {
			return ids
		}
		f.Cursor = page.NextCursor
	}
}

// TestSearchMatchesSubstringOfSearchText checks every search plan (trigram
// index, pinyin then exact filter, scan for short or pattern-like queries)
// against the definition: a customer matches when its search text contains
// the normalized query; pages list the matches newest first, each once.
func TestSearchMatchesSubstringOfSearchText(t *testing.T) {
	forEachEngine(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		rng := rand.New(rand.NewPCG(1, 2))
		surnames := []rune("张章王李")
		given := []rune("伟玮明华")
		var cs []*customer.Customer
		for i := range 240 {
			name := string(surnames[rng.IntN(len(surnames))]) + string(given[rng.IntN(len(given))])
			if i%3 == 0 {
				name += string(given[rng.IntN(len(given))])
			}
			if i%17 == 0 {
				name = fmt.Sprintf("Shop %c*%d?[x]", 'A'+rune(i%5), i%4) // GLOB metacharacters are literal text
			}
			c := newCustomer(t, name,
				customer.Identity{Type: customer.IdentityEmail, Value: fmt.Sprintf("u%d@example%d.com", i, i%7)},
				customer.Identity{Type: customer.IdentityPhone, Value: fmt.Sprintf("+86139%08d", rng.IntN(1_000_000))})
			if i%29 == 0 {
				c.Identities = append(c.Identities, customer.Identity{Type: "external_id", Source: "shop", Value: fmt.Sprintf("SKU_%d%%x\\y", i)})
			}
			cs = append(cs, c)
		}
		if err := s.CreateCustomers(ctx, actor, cs); err != nil {
			t.Fatal(err)
		}
		// One deleted match is never listed.
		if err := s.DeleteCustomer(ctx, actor, cs[5].ID); err != nil {
			t.Fatal(err)
		}
		queries := []string{"张", "章", "张伟", "章伟", "伟明", "张伟明", "zhangwei", "ZhangWei", "zhang", "zw",
			"wang", "wei", "example3.com", "EXAMPLE3", "u1", "13", "139", "0042", "42", "4", "*", "?", "[x]", "a*1",
			"shop b", "?[", "_", "%", "sku_", "p_a", "p%1", "op_", "u1%", "%x\\y", "\\", "nobody", "u23@"}
		for i := range 10 {
			queries = append(queries, fmt.Sprintf("%04d", rng.IntN(10000)), fmt.Sprintf("%d", 100+i*37))
		}
		for _, q := range queries {
			var want []string
			norm := customer.SearchQuery(q)
			for i := len(cs) - 1; i >= 0; i-- { // newest first
				if i != 5 && strings.Contains(customer.SearchText(cs[i].Name, cs[i].Identities), norm) {
					want = append(want, cs[i].ID)
				}
			}
			// Windows smaller than, about and larger than the store reach
			// PostgreSQL's two plans (walk the newest, then the index).
			windows := []int{10_000}
			if s.Dialect() == store.Postgres {
				windows = []int{1, 7, 239, 10_000}
			}
			for _, window := range windows {
				restore := store.SetSearchWindow(window)
				for _, limit := range []int{1, 7, 50} {
					got := searchAll(t, s, store.Filter{Q: q, Limit: limit})
					if !slices.Equal(got, want) {
						t.Errorf("q=%q window %d limit %d: got %d matches, want %d (%v vs %v)", q, window, limit, len(got), len(want), got, want)
					}
				}
				restore()
			}
		}
	})
}

// TestSearchIgnoresScatteredTrigrams: the trigram index keeps no positions,
// so a customer holding every trigram of a query, but not the query as one
// substring, is a candidate the search must drop.
func TestSearchIgnoresScatteredTrigrams(t *testing.T) {
	forEachEngine(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		scattered := newCustomer(t, "abcx bcd", customer.Identity{Type: customer.IdentityEmail, Value: "x@example.com"})
		whole := newCustomer(t, "abcd", customer.Identity{Type: customer.IdentityEmail, Value: "y@example.com"})
		if err := s.CreateCustomers(ctx, actor, []*customer.Customer{scattered, whole}); err != nil {
			t.Fatal(err)
		}
		if got := searchAll(t, s, store.Filter{Q: "abcd", Limit: 50}); !slices.Equal(got, []string{whole.ID}) {
			t.Errorf("got %v, want only %s", got, whole.ID)
		}
	})
}
