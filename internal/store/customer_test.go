package store_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rapportcrm/rapport/internal/customer"
	"github.com/rapportcrm/rapport/internal/errs"
	"github.com/rapportcrm/rapport/internal/store"
	"github.com/rapportcrm/rapport/internal/storetest"
)

var actor = store.Actor{ID: "u1", Kind: "user"}

func newCustomer(t testing.TB, name string, ids ...customer.Identity) *customer.Customer {
	t.Helper()
	now := time.Now().UTC()
	c := &customer.Customer{ID: customer.NewID(), Kind: customer.Person, Name: name, Identities: ids,
		Attributes: map[string]any{}, Tags: []string{}, CreatedAt: now, UpdatedAt: now, Version: 1}
	return c
}

func forEachEngine(t *testing.T, fn func(t *testing.T, s *store.Store)) {
	for _, e := range storetest.Engines(t) {
		t.Run(e.Name, func(t *testing.T) { fn(t, e.Store) })
	}
}

func TestCreateAndGetCustomer(t *testing.T) {
	forEachEngine(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		c := newCustomer(t, "张伟", customer.Identity{Type: "email", Value: "zhang.wei@example.com"},
			customer.Identity{Type: "phone", Value: "+8613800138000"},
			customer.Identity{Type: "external_id", Source: "shop", Value: "A-1"})
		c.Tags = []string{"vip"}
		c.Attributes = map[string]any{"city": "上海"}
		if err := s.CreateCustomers(ctx, actor, []*customer.Customer{c}); err != nil {
			t.Fatal(err)
		}
		got, err := s.Customer(ctx, c.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.Name != "张伟" || len(got.Identities) != 3 || got.Tags[0] != "vip" || got.Attributes["city"] != "上海" || got.Version != 1 {
			t.Fatalf("round trip lost data: %+v", got)
		}
		if _, err := s.Customer(ctx, "nope"); !errs.Is(err, errs.NotFound) {
			t.Fatalf("missing customer: want not found, got %v", err)
		}
		// The same identity cannot identify a second customer.
		d := newCustomer(t, "Another", customer.Identity{Type: "email", Value: "zhang.wei@example.com"})
		if err := s.CreateCustomers(ctx, actor, []*customer.Customer{d}); !errs.Is(err, errs.Conflict) {
			t.Fatalf("duplicate identity: want conflict, got %v", err)
		}
		if _, err := s.Customer(ctx, d.ID); !errs.Is(err, errs.NotFound) {
			t.Fatal("a rejected create must not leave a partial record")
		}
		// external ids are unique per source only.
		e := newCustomer(t, "Other source", customer.Identity{Type: "external_id", Source: "erp", Value: "A-1"})
		if err := s.CreateCustomers(ctx, actor, []*customer.Customer{e}); err != nil {
			t.Fatalf("same external id from another source: %v", err)
		}
		entries, err := s.Audit(ctx, c.ID, 0, 10)
		if err != nil || len(entries) != 1 || entries[0].Action != "create" {
			t.Fatalf("audit: %v %+v", err, entries)
		}
	})
}

func TestBatchCreateIsAllOrNothing(t *testing.T) {
	forEachEngine(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		a := newCustomer(t, "A", customer.Identity{Type: "email", Value: "same@example.com"})
		b := newCustomer(t, "B", customer.Identity{Type: "email", Value: "same@example.com"})
		err := s.CreateCustomers(ctx, actor, []*customer.Customer{a, b})
		var e *errs.Error
		if !errs.Is(err, errs.Conflict) {
			t.Fatalf("want conflict, got %v", err)
		}
		_ = e
		if _, err := s.Customer(ctx, a.ID); !errs.Is(err, errs.NotFound) {
			t.Fatal("first item of a failed batch was written")
		}
	})
}

func TestSearchFindsChinesePinyinEmailAndPhone(t *testing.T) {
	forEachEngine(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		zw := newCustomer(t, "张伟", customer.Identity{Type: "email", Value: "weiz@corp.cn"}, customer.Identity{Type: "phone", Value: "+8613800138000"})
		ls := newCustomer(t, "李四", customer.Identity{Type: "email", Value: "lisi@example.com"})
		al := newCustomer(t, "Alice Smith", customer.Identity{Type: "phone", Value: "+14155550132"})
		org := newCustomer(t, "上海华联超市有限公司")
		org.Kind = customer.Organization
		if err := s.CreateCustomers(ctx, actor, []*customer.Customer{zw, ls, al, org}); err != nil {
			t.Fatal(err)
		}
		for _, tc := range []struct {
			q    string
			want []string
		}{
			{"张", []string{zw.ID}},
			{"zhangwei", []string{zw.ID}},
			{"ZhangWei", []string{zw.ID}},
			{"corp.cn", []string{zw.ID}},
			{"8000", []string{zw.ID}},
			{"example", []string{ls.ID}},
			{"alice", []string{al.ID}},
			{"华联", []string{org.ID}},
			{"100%", nil},
			{"nobody", nil},
		} {
			page, err := s.ListCustomers(ctx, store.Filter{Q: tc.q})
			if err != nil {
				t.Fatalf("q=%s: %v", tc.q, err)
			}
			var got []string
			for _, c := range page.Items {
				got = append(got, c.ID)
			}
			if fmt.Sprint(got) != fmt.Sprint(tc.want) {
				t.Errorf("q=%q: got %v want %v", tc.q, got, tc.want)
			}
		}
		page, err := s.ListCustomers(ctx, store.Filter{Kind: "organization"})
		if err != nil || len(page.Items) != 1 || page.Items[0].ID != org.ID {
			t.Fatalf("kind filter: %v %+v", err, page.Items)
		}
	})
}

func TestCursorPaginationVisitsEveryCustomerOnce(t *testing.T) {
	forEachEngine(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		var cs []*customer.Customer
		for i := range 23 {
			c := newCustomer(t, fmt.Sprintf("王%c", '一'+rune(i)))
			c.Tags = []string{"t"}
			if i%2 == 0 {
				c.Tags = []string{"even", "t"}
			}
			cs = append(cs, c)
		}
		if err := s.CreateCustomers(ctx, actor, cs); err != nil {
			t.Fatal(err)
		}
		for _, f := range []store.Filter{{Limit: 5}, {Limit: 5, Sort: "name"}, {Limit: 4, Q: "王"}, {Limit: 3, Tag: "even"}} {
			seen := map[string]bool{}
			pages := 0
			for {
				page, err := s.ListCustomers(ctx, f)
				if err != nil {
					t.Fatal(err)
				}
				pages++
				for _, c := range page.Items {
					if seen[c.ID] {
						t.Fatalf("%+v: %s seen twice", f, c.Name)
					}
					seen[c.ID] = true
				}
				if page.NextCursor == "" {
					break
				}
				f.Cursor = page.NextCursor
			}
			want := 23
			if f.Tag == "even" {
				want = 12
			}
			if len(seen) != want {
				t.Fatalf("%+v: saw %d customers in %d pages, want %d", f, len(seen), pages, want)
			}
		}
		if _, err := s.ListCustomers(ctx, store.Filter{Cursor: "garbage!"}); !errs.Is(err, errs.Invalid) {
			t.Fatalf("bad cursor: want invalid, got %v", err)
		}
	})
}

func TestConcurrentWritersLoseNoUpdate(t *testing.T) {
	forEachEngine(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		c := newCustomer(t, "Counter")
		if err := s.CreateCustomers(ctx, actor, []*customer.Customer{c}); err != nil {
			t.Fatal(err)
		}
		// Each writer adds its own tag with read–modify–write under If-Match,
		// retrying on a stale version; every tag must survive.
		const writers = 8
		var wg sync.WaitGroup
		for w := range writers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				tag := fmt.Sprintf("w%d", w)
				for {
					cur, err := s.Customer(ctx, c.ID)
					if err != nil {
						t.Error(err)
						return
					}
					_, err = s.UpdateCustomer(ctx, actor, c.ID, cur.Version, func(x *customer.Customer) error {
						x.Tags = append(x.Tags, tag)
						return nil
					})
					if errs.Is(err, errs.PreconditionFailed) {
						continue
					}
					if err != nil {
						t.Error(err)
					}
					return
				}
			}()
		}
		wg.Wait()
		got, err := s.Customer(ctx, c.ID)
		if err != nil {
			t.Fatal(err)
		}
		if len(got.Tags) != writers || got.Version != writers+1 {
			t.Fatalf("lost update: tags %v version %d", got.Tags, got.Version)
		}
	})
}

func TestStaleUpdateIsRejected(t *testing.T) {
	forEachEngine(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		c := newCustomer(t, "Old name")
		if err := s.CreateCustomers(ctx, actor, []*customer.Customer{c}); err != nil {
			t.Fatal(err)
		}
		if _, err := s.UpdateCustomer(ctx, actor, c.ID, 1, func(x *customer.Customer) error { x.Name = "New"; return nil }); err != nil {
			t.Fatal(err)
		}
		_, err := s.UpdateCustomer(ctx, actor, c.ID, 1, func(x *customer.Customer) error { x.Name = "Stale"; return nil })
		if !errs.Is(err, errs.PreconditionFailed) {
			t.Fatalf("want precondition failed, got %v", err)
		}
		got, _ := s.Customer(ctx, c.ID)
		if got.Name != "New" {
			t.Fatalf("stale write landed: %s", got.Name)
		}
		entries, _ := s.Audit(ctx, c.ID, 0, 10)
		var changes map[string]map[string]string
		if len(entries) == 2 {
			json.Unmarshal(entries[0].Changes, &changes)
		}
		if changes["name"]["before"] != "Old name" || changes["name"]["after"] != "New" || len(changes) != 1 {
			t.Fatalf("audit of update: %+v", entries)
		}
	})
}

func TestDeleteAndRestore(t *testing.T) {
	forEachEngine(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		c := newCustomer(t, "Gone Soon", customer.Identity{Type: "email", Value: "gone@example.com"})
		if err := s.CreateCustomers(ctx, actor, []*customer.Customer{c}); err != nil {
			t.Fatal(err)
		}
		if err := s.DeleteCustomer(ctx, actor, c.ID); err != nil {
			t.Fatal(err)
		}
		page, _ := s.ListCustomers(ctx, store.Filter{Q: "gone"})
		if len(page.Items) != 0 {
			t.Fatal("deleted customer still listed")
		}
		if err := s.DeleteCustomer(ctx, actor, c.ID); !errs.Is(err, errs.NotFound) {
			t.Fatalf("second delete: %v", err)
		}
		got, err := s.RestoreCustomer(ctx, actor, c.ID)
		if err != nil || got.DeletedAt != nil || len(got.Identities) != 1 {
			t.Fatalf("restore: %v %+v", err, got)
		}
		if n, err := s.PurgeDeleted(ctx, time.Now().Add(31*24*time.Hour)); err != nil || n != 0 {
			t.Fatalf("purge must keep live customers: %d %v", n, err)
		}
		s.DeleteCustomer(ctx, actor, c.ID)
		if n, err := s.PurgeDeleted(ctx, time.Now().Add(31*24*time.Hour)); err != nil || n != 1 {
			t.Fatalf("purge after the window: %d %v", n, err)
		}
	})
}

func TestNotesInteractionsAndStats(t *testing.T) {
	forEachEngine(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		c := newCustomer(t, "Busy")
		if err := s.CreateCustomers(ctx, actor, []*customer.Customer{c}); err != nil {
			t.Fatal(err)
		}
		t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
		if err := s.AddNote(ctx, actor, customer.Note{ID: customer.NewID(), CustomerID: c.ID, AuthorID: "u1", Body: "喜欢绿茶", CreatedAt: t0}); err != nil {
			t.Fatal(err)
		}
		for i, k := range []string{"call", "visit"} {
			if err := s.AddInteraction(ctx, actor, customer.Interaction{ID: customer.NewID(), CustomerID: c.ID, Kind: k, At: t0.Add(time.Duration(i+1) * time.Hour), Summary: k, CreatedAt: t0}); err != nil {
				t.Fatal(err)
			}
		}
		if err := s.AddNote(ctx, actor, customer.Note{ID: customer.NewID(), CustomerID: "missing", Body: "x", CreatedAt: t0}); !errs.Is(err, errs.NotFound) {
			t.Fatalf("note on missing customer: %v", err)
		}
		notes, _ := s.Notes(ctx, c.ID, 10)
		ins, _ := s.Interactions(ctx, c.ID, 10)
		if len(notes) != 1 || notes[0].Body != "喜欢绿茶" || len(ins) != 2 || ins[0].Kind != "visit" {
			t.Fatalf("notes %+v interactions %+v", notes, ins)
		}
		got, _ := s.Customer(ctx, c.ID)
		if got.Stats.Interactions != 2 || !got.Stats.FirstSeen.Equal(t0) || !got.Stats.LastSeen.Equal(t0.Add(2*time.Hour)) {
			t.Fatalf("incremental stats: %+v", got.Stats)
		}
		if err := s.RecomputeStats(ctx); err != nil {
			t.Fatal(err)
		}
		again, _ := s.Customer(ctx, c.ID)
		if fmt.Sprint(again.Stats) != fmt.Sprint(got.Stats) {
			t.Fatalf("recompute differs from incremental: %+v vs %+v", again.Stats, got.Stats)
		}
	})
}

func TestConcurrentListsDoNotExhaustThePool(t *testing.T) {
	forEachEngine(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		var cs []*customer.Customer
		for i := range 30 {
			cs = append(cs, newCustomer(t, fmt.Sprintf("王%d", i), customer.Identity{Type: "email", Value: fmt.Sprintf("w%d@example.com", i)}))
		}
		if err := s.CreateCustomers(ctx, actor, cs); err != nil {
			t.Fatal(err)
		}
		// More concurrent lists than pooled connections: each must finish.
		ctx, cancel := context.WithTimeout(ctx, 20*time.Second)
		defer cancel()
		var wg sync.WaitGroup
		for range 64 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if _, err := s.ListCustomers(ctx, store.Filter{Q: "王", Limit: 10}); err != nil {
					t.Error(err)
				}
			}()
		}
		wg.Wait()
	})
}

func TestLoadDatasetBuildsTagsAndStats(t *testing.T) {
	forEachEngine(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		org := *newCustomer(t, "Northwind Traders Ltd")
		org.Kind = customer.Organization
		p := *newCustomer(t, "王芳", customer.Identity{Type: "email", Value: "wf@example.com"})
		p.Tags = []string{"vip", "线下门店"}
		p.Memberships = []customer.Membership{{PersonID: p.ID, OrganizationID: org.ID, Role: "采购经理"}}
		t0 := time.Date(2025, 3, 1, 10, 0, 0, 0, time.UTC)
		orders := []customer.Order{
			{ID: customer.NewID(), CustomerID: p.ID, PlacedAt: t0, Currency: "CNY", Total: 100, Status: customer.OrderCompleted,
				Items: []customer.OrderItem{{SKU: "T1", Name: "龙井", Category: "茶叶", Price: 50, Quantity: 2}}},
			{ID: customer.NewID(), CustomerID: p.ID, PlacedAt: t0.Add(48 * time.Hour), Currency: "CNY", Total: 30, Status: customer.OrderCompleted},
			{ID: customer.NewID(), CustomerID: p.ID, PlacedAt: t0.Add(72 * time.Hour), Currency: "CNY", Total: 999, Status: customer.OrderRefunded},
		}
		if err := s.Load(ctx, store.SystemActor, store.Dataset{Customers: []customer.Customer{org, p}, Orders: orders}); err != nil {
			t.Fatal(err)
		}
		page, err := s.ListCustomers(ctx, store.Filter{Tag: "线下门店"})
		if err != nil || len(page.Items) != 1 || page.Items[0].ID != p.ID {
			t.Fatalf("tag filter after load: %v %+v", err, page.Items)
		}
		got, err := s.Customer(ctx, p.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.Stats.Orders != 2 || got.Stats.Revenue != 130 || !got.Stats.LastOrderAt.Equal(t0.Add(48*time.Hour)) {
			t.Fatalf("stats after load: %+v", got.Stats)
		}
		if len(got.Memberships) != 1 || got.Memberships[0].Role != "采购经理" {
			t.Fatalf("memberships after load: %+v", got.Memberships)
		}
		o, _ := s.Customer(ctx, org.ID)
		if len(o.Memberships) != 1 {
			t.Fatalf("organization side of the membership: %+v", o.Memberships)
		}
	})
}

func TestTakenIdentitiesAreNamedAndNothingOfTheBatchIsWritten(t *testing.T) {
	forEachEngine(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		email := customer.Identity{Type: customer.IdentityEmail, Value: "taken@example.com"}
		first := newCustomer(t, "先到", email)
		if err := s.CreateCustomers(ctx, actor, []*customer.Customer{first}); err != nil {
			t.Fatal(err)
		}
		fieldOf := func(err error) string {
			var e *errs.Error
			if !errors.As(err, &e) || e.Kind != errs.Conflict || len(e.Fields) != 1 {
				t.Fatalf("want one conflict field error, got %v", err)
			}
			return e.Fields[0].Field + ": " + e.Fields[0].Message
		}
		// Item 2's second identity belongs to a stored customer.
		batch := []*customer.Customer{
			newCustomer(t, "甲", customer.Identity{Type: customer.IdentityEmail, Value: "a@example.com"}),
			newCustomer(t, "乙", customer.Identity{Type: customer.IdentityEmail, Value: "b@example.com"}),
			newCustomer(t, "丙", customer.Identity{Type: customer.IdentityPhone, Value: "+8613800138000"}, email),
		}
		got := fieldOf(s.CreateCustomers(ctx, actor, batch))
		if want := "body.items[2].identities[1].value: email taken@example.com already identifies customer " + first.ID; got != want {
			t.Fatalf("error %q, want %q", got, want)
		}
		// The same identity twice in one batch.
		twice := []*customer.Customer{
			newCustomer(t, "丁", customer.Identity{Type: customer.IdentityEmail, Value: "d@example.com"}),
			newCustomer(t, "戊", customer.Identity{Type: customer.IdentityEmail, Value: "d@example.com"}),
		}
		if got := fieldOf(s.CreateCustomers(ctx, actor, twice)); !strings.HasPrefix(got, "body.items[1].identities[0].value: email d@example.com already identifies customer "+twice[0].ID) {
			t.Fatalf("error %q", got)
		}
		live, err := s.LiveCustomers(ctx)
		if err != nil || len(live) != 1 {
			t.Fatalf("%d customers stored, want only the first (%v)", len(live), err)
		}
	})
}
