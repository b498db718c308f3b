package store_test

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"reflect"
	"testing"
	"time"

	"github.com/rapportcrm/rapport/internal/customer"
	"github.com/rapportcrm/rapport/internal/identity"
	"github.com/rapportcrm/rapport/internal/store"
	"github.com/rapportcrm/rapport/internal/storetest"
)

var t0 = time.Date(2025, 3, 1, 9, 0, 0, 0, time.UTC)

func newSource(t testing.TB, s *store.Store, name string) store.Source {
	t.Helper()
	src := store.Source{ID: customer.NewID(), Name: name, Prefix: "rwk_test", KeyHash: "hash-" + name, CreatedAt: t0}
	if err := s.CreateSource(context.Background(), actor, src); err != nil {
		t.Fatal(err)
	}
	return src
}

func userID(src store.Source, v string) customer.Identity {
	return customer.Identity{Type: customer.IdentityExternalID, Source: src.Name, Value: v}
}
func anonID(v string) customer.Identity {
	return customer.Identity{Type: customer.IdentityAnonymousID, Value: v}
}

func event(src store.Source, msg, typ, name string, at time.Time, ids ...customer.Identity) store.Event {
	e := store.Event{SourceID: src.ID, Source: src.Name, MessageID: msg, Type: typ, Name: name, At: at, ReceivedAt: at, Payload: []byte(`{"messageId":"` + msg + `"}`)}
	for _, id := range ids {
		e.Claims = append(e.Claims, identity.Claim{Identity: id})
	}
	return e
}

func ingest(t testing.TB, s *store.Store, evs ...store.Event) store.IngestResult {
	t.Helper()
	res, err := s.IngestEvents(context.Background(), evs)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func ownerOf(t testing.TB, s *store.Store, id customer.Identity) string {
	t.Helper()
	page, err := s.ListCustomers(context.Background(), store.Filter{Q: id.Value, Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range page.Items {
		for _, x := range c.Identities {
			if x == id {
				return c.ID
			}
		}
	}
	t.Fatalf("nobody owns %v", id)
	return ""
}

func TestIdentifyCarriesAnonymousHistoryAndUndoRestoresIt(t *testing.T) {
	for _, e := range storetest.Engines(t) {
		t.Run(e.Name, func(t *testing.T) {
			s, ctx := e.Store, context.Background()
			web := newSource(t, s, "web")
			ingest(t, s, event(web, "m1", "page", "Home", t0, anonID("visitor-1")),
				event(web, "m2", "page", "Pricing", t0.Add(time.Minute), anonID("visitor-1")))
			ingest(t, s, event(web, "m3", "track", "Signed In", t0.Add(time.Hour), userID(web, "u-42")))
			visitor, user := ownerOf(t, s, anonID("visitor-1")), ownerOf(t, s, userID(web, "u-42"))
			if visitor == user {
				t.Fatal("an anonymous visitor and a user with nothing in common were joined")
			}
			res := ingest(t, s, event(web, "m4", "identify", "", t0.Add(2*time.Hour), userID(web, "u-42"), anonID("visitor-1")))
			if res.Merges != 1 || res.Customers != 0 {
				t.Fatalf("identify: %+v", res)
			}
			if got := ownerOf(t, s, anonID("visitor-1")); got != user {
				t.Fatalf("visitor's id owned by %s, want the user %s", got, user)
			}
			st, err := s.CustomerStats(ctx, user)
			if err != nil {
				t.Fatal(err)
			}
			if st.Events != 4 || !st.FirstSeen.Equal(t0) || !st.LastSeen.Equal(t0.Add(2*time.Hour)) || st.LastChannel != "web" {
				t.Fatalf("merged stats %+v", st)
			}
			merges, err := s.Merges(ctx, user, 10)
			if err != nil || len(merges) != 1 || merges[0].LoserID != visitor || merges[0].Rule != "auto:anonymous_id" {
				t.Fatalf("merges %+v %v", merges, err)
			}
			if _, err := s.UndoMerge(ctx, actor, merges[0].ID); err != nil {
				t.Fatal(err)
			}
			if got := ownerOf(t, s, anonID("visitor-1")); got != visitor {
				t.Fatalf("after undo the visitor id is owned by %s, want %s", got, visitor)
			}
			for id, want := range map[string]int64{visitor: 2, user: 2} {
				st, err := s.CustomerStats(ctx, id)
				if err != nil || st.Events != want {
					t.Fatalf("after undo %s has %d events (%v), want %d", id, st.Events, err, want)
				}
			}
			page, err := s.Timeline(ctx, visitor, store.TimelineFilter{})
			if err != nil || len(page.Items) != 2 || page.Items[0].Name != "Pricing" || page.Items[1].Name != "Home" {
				t.Fatalf("visitor timeline after undo %+v %v", page.Items, err)
			}
			if _, err := s.UndoMerge(ctx, actor, merges[0].ID); err == nil {
				t.Fatal("a merge was undone twice")
			}
		})
	}
}

func TestDuplicateMessageIDIsStoredOnce(t *testing.T) {
	for _, e := range storetest.Engines(t) {
		t.Run(e.Name, func(t *testing.T) {
			s := e.Store
			web, app := newSource(t, s, "web"), newSource(t, s, "app")
			first := ingest(t, s, event(web, "same", "track", "A", t0, anonID("x")), event(web, "same", "track", "A", t0, anonID("x")))
			again := ingest(t, s, event(web, "same", "track", "A", t0, anonID("x")), event(app, "same", "track", "A", t0, anonID("x")))
			if first.Stored != 1 || first.Duplicates != 1 || again.Stored != 1 || again.Duplicates != 1 {
				t.Fatalf("first %+v, again %+v", first, again)
			}
			st, _ := s.CustomerStats(context.Background(), ownerOf(t, s, anonID("x")))
			if st.Events != 2 {
				t.Fatalf("events counted %d, want 2 (one per source)", st.Events)
			}
		})
	}
}

func order(cid, source, ext string, at time.Time, total float64, items ...customer.OrderItem) customer.Order {
	return customer.Order{ID: customer.NewID(), CustomerID: cid, ExternalID: ext, Source: source, PlacedAt: at, Currency: "CNY", Total: total,
		Status: customer.OrderCompleted, Items: items}
}

func TestCreateOrdersIsIdempotentAndRefundsReverseStats(t *testing.T) {
	for _, e := range storetest.Engines(t) {
		t.Run(e.Name, func(t *testing.T) {
			s, ctx := e.Store, context.Background()
			c := newCustomer(t, "王芳")
			if err := s.CreateCustomers(ctx, actor, []*customer.Customer{c}); err != nil {
				t.Fatal(err)
			}
			coffee := customer.OrderItem{Category: "coffee", Price: 40, Quantity: 2}
			tea := customer.OrderItem{Category: "tea", Price: 30, Quantity: 1}
			batch := []customer.Order{
				order(c.ID, "shop", "A-1", t0, 80, coffee),
				order(c.ID, "shop", "A-2", t0.Add(2*time.Hour), 30, tea), // same day as A-1
				order(c.ID, "shop", "A-3", t0.Add(72*time.Hour), 110, coffee, tea),
				order(c.ID, "shop", "A-1", t0, 80, coffee), // repeated in the call
			}
			n, err := s.CreateOrders(ctx, actor, batch)
			if err != nil || n != 3 {
				t.Fatalf("created %d, %v", n, err)
			}
			if n, err := s.CreateOrders(ctx, actor, batch); err != nil || n != 0 {
				t.Fatalf("re-run created %d, %v", n, err)
			}
			st, _ := s.CustomerStats(ctx, c.ID)
			want := customer.Stats{Orders: 3, Revenue: 220, AverageOrderValue: 220.0 / 3, PurchaseDays: 2, FavouriteCategory: "coffee", LastChannel: "shop",
				Repeat: customer.RepeatSummary{Frequency: 1, RecencyDays: 3, MeanRepeatValue: 110}}
			if st.Orders != want.Orders || st.Revenue != want.Revenue || st.PurchaseDays != want.PurchaseDays || st.FavouriteCategory != want.FavouriteCategory ||
				st.LastChannel != want.LastChannel || st.Repeat.Frequency != 1 || st.Repeat.RecencyDays != 3 || st.Repeat.MeanRepeatValue != 110 ||
				math.Abs(st.AverageOrderValue-want.AverageOrderValue) > 1e-9 || !st.LastOrderAt.Equal(t0.Add(72*time.Hour)) {
				t.Fatalf("stats %+v\nwant %+v", st, want)
			}
			if err := s.RefundOrder(ctx, actor, "shop", "A-3"); err != nil {
				t.Fatal(err)
			}
			st, _ = s.CustomerStats(ctx, c.ID)
			if st.Orders != 2 || st.Revenue != 110 || st.PurchaseDays != 1 || st.Repeat.Frequency != 0 || !st.LastOrderAt.Equal(t0.Add(2*time.Hour)) || st.FavouriteCategory != "coffee" {
				t.Fatalf("after refund %+v", st)
			}
		})
	}
}

// TestRecomputeEqualsIncremental builds a random history through every
// write path (event batches with orders and refunds, API orders, notes,
// interactions, merges and undone merges), then rebuilds the stats from
// the log and expects exactly what the incremental path kept.
func TestRecomputeEqualsIncremental(t *testing.T) {
	for _, e := range storetest.Engines(t) {
		t.Run(e.Name, func(t *testing.T) {
			s, ctx := e.Store, context.Background()
			rng := rand.New(rand.NewPCG(7, 11))
			sources := []store.Source{newSource(t, s, "web"), newSource(t, s, "ios"), newSource(t, s, "pos")}
			cats := []string{"coffee", "tea", "cups", ""}
			msg := 0
			for round := 0; round < 12; round++ {
				var evs []store.Event
				for i := 0; i < 60; i++ {
					src := sources[rng.IntN(len(sources))]
					at := t0.Add(time.Duration(rng.IntN(90*24)) * time.Hour).Add(time.Duration(rng.IntN(3)) * time.Second)
					var ids []customer.Identity
					if rng.IntN(3) > 0 {
						ids = append(ids, anonID(fmt.Sprint("a", rng.IntN(40))))
					}
					if len(ids) == 0 || rng.IntN(3) == 0 {
						ids = append(ids, userID(src, fmt.Sprint("u", rng.IntN(25))))
					}
					if rng.IntN(8) == 0 {
						ids = append(ids, customer.Identity{Type: customer.IdentityEmail, Value: fmt.Sprintf("p%d@example.com", rng.IntN(20))})
					}
					msg++
					ev := event(src, fmt.Sprint("m", msg), "track", "Viewed", at, ids...)
					switch rng.IntN(6) {
					case 0:
						ev.Name = "Order Completed"
						o := order("", src.Name, fmt.Sprint("o", rng.IntN(150)), at, float64(rng.IntN(20000))/100)
						for k := rng.IntN(3); k > 0; k-- {
							o.Items = append(o.Items, customer.OrderItem{Category: cats[rng.IntN(len(cats))], Price: float64(rng.IntN(5000)) / 100, Quantity: float64(1 + rng.IntN(3))})
						}
						ev.Order = &o
					case 1:
						ev.Name = "Order Refunded"
						ev.Refund = &store.Refund{Source: src.Name, ExternalID: fmt.Sprint("o", rng.IntN(150)), At: at, Total: 5, Currency: "CNY"}
					}
					if rng.IntN(10) == 0 {
						msg-- // a retry of the previous message
					}
					evs = append(evs, ev)
				}
				ingest(t, s, evs...)
				ids := liveIDs(t, s)
				c := ids[rng.IntN(len(ids))]
				switch round % 4 {
				case 0:
					if _, err := s.CreateOrders(ctx, actor, []customer.Order{order(c, "", "", t0.Add(time.Duration(rng.IntN(2000))*time.Hour), 12.5,
						customer.OrderItem{Category: "tea", Price: 12.5, Quantity: 1})}); err != nil {
						t.Fatal(err)
					}
				case 1:
					if err := s.AddNote(ctx, actor, customer.Note{ID: customer.NewID(), CustomerID: c, Body: "n", CreatedAt: t0.Add(time.Duration(rng.IntN(3000)) * time.Hour)}); err != nil {
						t.Fatal(err)
					}
					if err := s.AddInteraction(ctx, actor, customer.Interaction{ID: customer.NewID(), CustomerID: c, Kind: "call", Summary: "s",
						At: t0.Add(time.Duration(rng.IntN(3000)) * time.Hour), CreatedAt: t0}); err != nil {
						t.Fatal(err)
					}
				case 2:
					other := ids[rng.IntN(len(ids))]
					if other != c {
						m, err := s.MergeCustomers(ctx, actor, c, other)
						if err != nil {
							t.Fatal(err)
						}
						if rng.IntN(2) == 0 {
							if _, err := s.UndoMerge(ctx, actor, m.ID); err != nil {
								t.Fatal(err)
							}
						}
					}
				}
			}
			now := time.Now()
			incremental, err := s.AllStats(ctx, now)
			if err != nil {
				t.Fatal(err)
			}
			if err := s.RecomputeStats(ctx); err != nil {
				t.Fatal(err)
			}
			rebuilt, err := s.AllStats(ctx, now)
			if err != nil {
				t.Fatal(err)
			}
			orders := 0
			for id, want := range rebuilt {
				got, ok := incremental[id]
				if !ok {
					t.Fatalf("customer %s has no incremental stats; rebuilt %+v", id, want)
				}
				if !sameStats(got, want) {
					t.Fatalf("customer %s\nincremental %+v\nrebuilt     %+v", id, got, want)
				}
				orders += int(want.Orders)
			}
			for id, got := range incremental {
				if _, ok := rebuilt[id]; !ok && (got.Orders != 0 || got.Events != 0 || got.Interactions != 0 || got.FirstSeen != nil) {
					t.Fatalf("customer %s has incremental stats %+v the log does not support", id, got)
				}
			}
			if len(rebuilt) < 20 || orders < 20 {
				t.Fatalf("history too thin to prove anything: %d customers, %d orders", len(rebuilt), orders)
			}
		})
	}
}

func liveIDs(t testing.TB, s *store.Store) []string {
	t.Helper()
	cs, err := s.LiveCustomers(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, c := range cs {
		ids = append(ids, c.ID)
	}
	return ids
}

func sameStats(a, b customer.Stats) bool {
	near := func(x, y float64) bool { return math.Abs(x-y) <= 1e-6*max(1, math.Abs(x), math.Abs(y)) }
	if !near(a.Revenue, b.Revenue) || !near(a.AverageOrderValue, b.AverageOrderValue) || !near(a.Repeat.MeanRepeatValue, b.Repeat.MeanRepeatValue) {
		return false
	}
	a.Revenue, a.AverageOrderValue, a.Repeat.MeanRepeatValue = 0, 0, 0
	b.Revenue, b.AverageOrderValue, b.Repeat.MeanRepeatValue = 0, 0, 0
	return reflect.DeepEqual(a, b)
}

func TestTimelinePagesThroughEveryKindAndFilters(t *testing.T) {
	for _, e := range storetest.Engines(t) {
		t.Run(e.Name, func(t *testing.T) {
			s, ctx := e.Store, context.Background()
			web, pos := newSource(t, s, "web"), newSource(t, s, "pos")
			var evs []store.Event
			for i := 0; i < 7; i++ {
				evs = append(evs, event(web, fmt.Sprint("p", i), "page", fmt.Sprint("Page ", i), t0.Add(time.Duration(i)*time.Minute), userID(web, "u1")))
			}
			ingest(t, s, evs...)
			c := ownerOf(t, s, userID(web, "u1"))
			if _, err := s.CreateOrders(ctx, actor, []customer.Order{order(c, pos.Name, "R-1", t0.Add(3*time.Minute), 9.9)}); err != nil {
				t.Fatal(err)
			}
			if err := s.AddNote(ctx, actor, customer.Note{ID: customer.NewID(), CustomerID: c, Body: "VIP", CreatedAt: t0.Add(30 * time.Second)}); err != nil {
				t.Fatal(err)
			}
			var all []store.TimelineItem
			cursor := ""
			for pages := 0; ; pages++ {
				page, err := s.Timeline(ctx, c, store.TimelineFilter{Limit: 3, Cursor: cursor})
				if err != nil {
					t.Fatal(err)
				}
				all = append(all, page.Items...)
				if cursor = page.NextCursor; cursor == "" {
					break
				}
				if pages > 5 {
					t.Fatal("pagination does not end")
				}
			}
			if len(all) != 9 {
				t.Fatalf("got %d items over pages, want 9", len(all))
			}
			for i := 1; i < len(all); i++ {
				if all[i].Time.After(all[i-1].Time) {
					t.Fatalf("items out of order at %d: %v after %v", i, all[i].Time, all[i-1].Time)
				}
			}
			orders, err := s.Timeline(ctx, c, store.TimelineFilter{Types: []string{"order", "note"}})
			if err != nil || len(orders.Items) != 2 || orders.Items[0].Type != "order" || orders.Items[0].Data["total"] != 9.9 || orders.Items[1].Type != "note" {
				t.Fatalf("orders and notes %+v %v", orders.Items, err)
			}
			fromPOS, err := s.Timeline(ctx, c, store.TimelineFilter{Source: "pos"})
			if err != nil || len(fromPOS.Items) != 1 || fromPOS.Items[0].Name != "R-1" {
				t.Fatalf("source filter %+v %v", fromPOS.Items, err)
			}
			if _, err := s.Timeline(ctx, c, store.TimelineFilter{Types: []string{"bogus"}}); err == nil {
				t.Fatal("unknown kind accepted")
			}
		})
	}
}

// TestIngestQueuesScoresOnlyForWhatScoresRead: scores read orders, names
// and interactions, so a new profile, a profile named by identify and an
// order queue a score refresh, and a page view on a known profile does
// not (queueing every active visitor re-scored a busy site for nothing).
func TestIngestQueuesScoresOnlyForWhatScoresRead(t *testing.T) {
	for _, e := range storetest.Engines(t) {
		t.Run(e.Name, func(t *testing.T) {
			s, ctx := e.Store, context.Background()
			web := newSource(t, s, "web")
			queued := func() map[string]bool {
				t.Helper()
				ids, err := s.StaleScores(ctx, 100)
				if err != nil {
					t.Fatal(err)
				}
				m := map[string]bool{}
				for _, id := range ids {
					m[id] = true
				}
				return m
			}
			scored := func(id string) {
				t.Helper()
				if err := s.UpsertScores(ctx, map[string]customer.Scores{id: {Tier: "low", UpdatedAt: t0}}); err != nil {
					t.Fatal(err)
				}
			}
			ingest(t, s, event(web, "q1", "page", "Home", t0, anonID("v1")))
			v1 := ownerOf(t, s, anonID("v1"))
			if !queued()[v1] {
				t.Fatal("a new profile was not queued for scoring")
			}
			scored(v1)
			ingest(t, s, event(web, "q2", "page", "Pricing", t0.Add(time.Minute), anonID("v1")),
				event(web, "q3", "track", "Product Viewed", t0.Add(2*time.Minute), anonID("v1")))
			if queued()[v1] {
				t.Fatal("page views on a known profile queued a score refresh")
			}
			named := event(web, "q4", "identify", "", t0.Add(3*time.Minute), anonID("v1"))
			named.ProfileName = "王芳"
			ingest(t, s, named)
			if !queued()[v1] {
				t.Fatal("a profile named by identify was not queued for scoring")
			}
			scored(v1)
			buy := event(web, "q5", "track", "Order Completed", t0.Add(4*time.Minute), anonID("v1"))
			o := order("", "web", "ord-q5", t0.Add(4*time.Minute), 88)
			buy.Order = &o
			ingest(t, s, buy)
			if !queued()[v1] {
				t.Fatal("an order was not queued for scoring")
			}
		})
	}
}
