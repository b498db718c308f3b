package store_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/rapportcrm/rapport/internal/customer"
	"github.com/rapportcrm/rapport/internal/errs"
	"github.com/rapportcrm/rapport/internal/store"
)

// Both plans of ListCustomersScored (walk the list for a common tier, read
// the score index for a rare one) give the same pages as filtering by hand.
func TestListCustomersScoredMatchesAFilterByHand(t *testing.T) {
	forEachEngine(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		var cs []*customer.Customer
		scores := map[string]customer.Scores{}
		for i := range 300 {
			c := newCustomer(t, fmt.Sprintf("客户%03d", i))
			if i%2 == 0 {
				c.Kind = customer.Organization
			}
			cs = append(cs, c)
			tier := "bronze"
			if i%3 == 0 {
				tier = "silver"
			}
			if i%50 == 7 {
				tier = "platinum" // rare: 6 of 300
			}
			scores[c.ID] = customer.Scores{Tier: tier, RFMSegment: []string{"champions", "loyal", "lost"}[i%3], UpdatedAt: time.Now()}
		}
		if err := s.CreateCustomers(ctx, actor, cs); err != nil {
			t.Fatal(err)
		}
		if err := s.UpsertScores(ctx, scores); err != nil {
			t.Fatal(err)
		}
		cases := []struct {
			name string
			f    store.Filter
			sf   store.ScoreFilter
		}{
			{"common tier", store.Filter{Limit: 20}, store.ScoreFilter{Tier: "bronze"}},
			{"rare tier", store.Filter{Limit: 4}, store.ScoreFilter{Tier: "platinum"}},
			{"tier and segment by name", store.Filter{Limit: 7, Sort: "name"}, store.ScoreFilter{Tier: "silver", RFMSegment: "champions"}},
			{"segment and kind", store.Filter{Limit: 9, Kind: "organization"}, store.ScoreFilter{RFMSegment: "loyal"}},
			{"tier and a search", store.Filter{Limit: 5, Q: "客户1"}, store.ScoreFilter{Tier: "bronze"}},
			{"tier and a pinyin search", store.Filter{Limit: 5, Q: "kehu02"}, store.ScoreFilter{Tier: "silver"}},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				var want []string
				for i := len(cs) - 1; i >= 0; i-- {
					sc := scores[cs[i].ID]
					if (c.sf.Tier == "" || sc.Tier == c.sf.Tier) && (c.sf.RFMSegment == "" || sc.RFMSegment == c.sf.RFMSegment) &&
						(c.f.Kind == "" || string(cs[i].Kind) == c.f.Kind) &&
						strings.Contains(customer.SearchText(cs[i].Name, cs[i].Identities), customer.SearchQuery(c.f.Q)) {
						want = append(want, cs[i].Name)
					}
				}
				if len(want) == 0 {
					t.Fatal("the case matches nobody; it tests nothing")
				}
				if c.f.Sort == "name" {
					slices.SortFunc(want, func(a, b string) int { return cmpString(customer.SortKey(a), customer.SortKey(b)) })
				}
				var got []string
				f := c.f
				for {
					p, err := s.ListCustomersScored(ctx, f, c.sf)
					if err != nil {
						t.Fatal(err)
					}
					for _, x := range p.Items {
						got = append(got, x.Name)
						if x.Scores == nil || (c.sf.Tier != "" && x.Scores.Tier != c.sf.Tier) {
							t.Fatalf("%s has scores %+v", x.Name, x.Scores)
						}
					}
					if p.NextCursor == "" {
						break
					}
					f.Cursor = p.NextCursor
				}
				if !slices.Equal(got, want) {
					t.Fatalf("got %d customers %v\nwant %d %v", len(got), got, len(want), want)
				}
			})
		}
	})
}

func cmpString(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func TestSavedViewsArePerUserAndReplacedByName(t *testing.T) {
	forEachEngine(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		now := time.Now()
		for _, v := range []store.SavedView{
			{ID: customer.NewID(), UserID: "u1", Name: "上海", Query: "ak=city&av=上海", CreatedAt: now},
			{ID: customer.NewID(), UserID: "u1", Name: "VIP", Query: "tag=vip", CreatedAt: now},
			{ID: customer.NewID(), UserID: "u2", Name: "VIP", Query: "tag=vip&kind=person", CreatedAt: now},
			{ID: customer.NewID(), UserID: "u1", Name: "VIP", Query: "tag=vip&sort=name", CreatedAt: now},
		} {
			if err := s.SaveView(ctx, v); err != nil {
				t.Fatal(err)
			}
		}
		vs, err := s.SavedViews(ctx, "u1")
		if err != nil || len(vs) != 2 || vs[0].Name != "VIP" || vs[0].Query != "tag=vip&sort=name" || vs[1].Name != "上海" {
			t.Fatalf("u1 views = %+v, %v", vs, err)
		}
		if err := s.DeleteSavedView(ctx, "u2", vs[0].ID); !errs.Is(err, errs.NotFound) {
			t.Fatalf("another user deleted a view: %v", err)
		}
		if err := s.DeleteSavedView(ctx, "u1", vs[0].ID); err != nil {
			t.Fatal(err)
		}
		if vs, _ := s.SavedViews(ctx, "u1"); len(vs) != 1 {
			t.Fatalf("after delete: %+v", vs)
		}
	})
}

func TestWhatACustomerBought(t *testing.T) {
	forEachEngine(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		c := newCustomer(t, "王芳")
		day := time.Date(2025, 3, 1, 10, 0, 0, 0, time.UTC)
		orders := []customer.Order{
			{ID: customer.NewID(), CustomerID: c.ID, PlacedAt: day, Currency: "CNY", Total: 300, Status: customer.OrderCompleted,
				Items: []customer.OrderItem{{Name: "龙井", Category: "茶", Price: 100, Quantity: 2}, {Name: "茶杯", Category: "器具", Price: 100, Quantity: 1}}},
			{ID: customer.NewID(), CustomerID: c.ID, PlacedAt: day.AddDate(0, 1, 0), Currency: "CNY", Total: 150, Status: customer.OrderCompleted,
				Items: []customer.OrderItem{{Name: "龙井", Category: "茶", Price: 150, Quantity: 1}}},
			{ID: customer.NewID(), CustomerID: c.ID, PlacedAt: day.AddDate(0, 2, 0), Currency: "CNY", Total: 900, Status: customer.OrderRefunded,
				Items: []customer.OrderItem{{Name: "茶杯", Category: "器具", Price: 900, Quantity: 1}}},
		}
		if err := s.Load(ctx, actor, store.Dataset{Customers: []customer.Customer{*c}, Orders: orders}); err != nil {
			t.Fatal(err)
		}
		top, err := s.TopProducts(ctx, c.ID, 5)
		if err != nil {
			t.Fatal(err)
		}
		// Refunded orders do not count.
		if len(top) != 2 || top[0].Name != "龙井" || top[0].Revenue != 350 || top[0].Quantity != 3 || top[0].Orders != 2 ||
			!top[0].LastAt.Equal(day.AddDate(0, 1, 0)) || top[1].Name != "茶杯" || top[1].Revenue != 100 {
			t.Fatalf("top products = %+v", top)
		}
		cats, err := s.TopCategories(ctx, c.ID, 5)
		if err != nil || len(cats) != 2 || cats[0].Name != "茶" || cats[0].Revenue != 350 {
			t.Fatalf("top categories = %+v, %v", cats, err)
		}
		last, err := s.CustomerOrders(ctx, c.ID, 2)
		if err != nil || len(last) != 2 || last[0].Status != customer.OrderRefunded || len(last[1].Items) != 1 || last[1].Items[0].Name != "龙井" {
			t.Fatalf("last orders = %+v, %v", last, err)
		}
		refs, err := s.CustomerRefs(ctx, []string{c.ID, "missing"})
		if err != nil || len(refs) != 1 || refs[c.ID].Name != "王芳" {
			t.Fatalf("refs = %+v, %v", refs, err)
		}
	})
}

func TestIDsConditionSelectsExactlyThoseCustomers(t *testing.T) {
	forEachEngine(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		var cs []*customer.Customer
		for i := range 5 {
			cs = append(cs, newCustomer(t, fmt.Sprintf("客户%d", i)))
		}
		if err := s.CreateCustomers(ctx, store.SystemActor, cs); err != nil {
			t.Fatal(err)
		}
		want := []string{cs[1].ID, cs[3].ID}
		page, err := s.ListMatching(ctx, store.IDsCondition(append(want, "no-such-id")), "", "", 10)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, c := range page.Items {
			got = append(got, c.ID)
		}
		slices.Sort(got)
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Fatalf("got %v, want %v", got, want)
		}
		if page, err := s.ListMatching(ctx, store.IDsCondition(nil), "", "", 10); err != nil || len(page.Items) != 0 {
			t.Fatalf("no ids: %d customers, %v", len(page.Items), err)
		}
	})
}
