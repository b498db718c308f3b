package targeting

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/rapportcrm/rapport/internal/customer"
	"github.com/rapportcrm/rapport/internal/store"
	"github.com/rapportcrm/rapport/internal/storetest"
)

// startLive wires a real-time matcher to the store as serve does.
func startLive(t *testing.T, w *world) (*Service, *Live) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	live := NewLive(w.st, nil, "CN")
	live.Now, live.RefreshEvery = func() time.Time { return now }, -1
	if err := live.Load(ctx); err != nil {
		t.Fatal(err)
	}
	w.st.OnChange(live.Notify)
	done := make(chan struct{})
	go func() { live.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	svc := service(w)
	svc.Live = live
	return svc, live
}

func events(t *testing.T, st *store.Store, customerID string) []store.MembershipEvent {
	t.Helper()
	es, err := st.MembershipEvents(context.Background(), customerID, "", 100)
	if err != nil {
		t.Fatal(err)
	}
	return es
}

func TestMembershipFollowsEveryWrite(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e storetest.Engine) {
		w := seedWorld(t, e, 60)
		svc, live := startLive(t, w)
		ctx := context.Background()
		seg, err := svc.CreateSegment(ctx, store.SystemActor, "上海 VIP", `city = "上海" and tag = "vip"`)
		if err != nil {
			t.Fatal(err)
		}
		recent, err := svc.CreateSegment(ctx, store.SystemActor, "recent buyers", `orders_30d > 0`)
		if err != nil {
			t.Fatal(err)
		}
		// An outsider: not in the segment now.
		var id string
		for _, cid := range w.ids {
			c, _ := w.st.Customer(ctx, cid)
			if c.Attributes["city"] != "上海" {
				id = cid
				break
			}
		}
		update := func(attrs map[string]any, tags []string) {
			t.Helper()
			c, err := w.st.Customer(ctx, id)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := w.st.UpdateCustomer(ctx, store.SystemActor, id, c.Version, func(c *customer.Customer) error {
				for k, v := range attrs {
					c.Attributes[k] = v
				}
				c.Tags = tags
				return nil
			}); err != nil {
				t.Fatal(err)
			}
			if err := live.Flush(ctx); err != nil {
				t.Fatal(err)
			}
		}
		update(map[string]any{"city": "上海"}, []string{"vip"})
		es := events(t, w.st, id)
		if len(es) != 1 || es[0].Change != "enter" || es[0].SegmentID != seg.ID {
			t.Fatalf("after entering: %+v", es)
		}
		update(map[string]any{"city": "上海"}, []string{"vip", "wechat"}) // still in: no event
		if es := events(t, w.st, id); len(es) != 1 {
			t.Fatalf("a write that keeps membership logged %+v", es)
		}
		update(nil, []string{"wechat"})
		es = events(t, w.st, id)
		if len(es) != 2 || es[0].Change != "leave" || es[0].SegmentID != seg.ID {
			t.Fatalf("after leaving: %+v", es)
		}
		// An order changes behaviour; the ingest path notifies as the store's writers do.
		if err := w.st.Load(ctx, store.SystemActor, store.Dataset{Orders: []customer.Order{{ID: customer.NewID(), CustomerID: id,
			PlacedAt: now.Add(-time.Hour), Currency: "CNY", Total: 10, Status: customer.OrderCompleted}}}); err != nil {
			t.Fatal(err)
		}
		live.Notify(ctx, []string{id})
		if err := live.Flush(ctx); err != nil {
			t.Fatal(err)
		}
		es = events(t, w.st, id)
		if len(es) != 3 || es[0].Change != "enter" || es[0].SegmentID != recent.ID {
			t.Fatalf("after ordering: %+v", es)
		}
		// Each entry and exit is on the customer's timeline, newest first.
		tl, err := w.st.Timeline(ctx, id, store.TimelineFilter{Types: []string{"segment"}})
		if err != nil {
			t.Fatal(err)
		}
		if len(tl.Items) != 3 {
			t.Fatalf("timeline has %d segment items, want 3: %+v", len(tl.Items), tl.Items)
		}
		for i, want := range []struct{ change, seg, name string }{{"enter", recent.ID, "recent buyers"}, {"leave", seg.ID, "上海 VIP"}, {"enter", seg.ID, "上海 VIP"}} {
			d := tl.Items[i].Data
			if tl.Items[i].Type != "segment" || d["change"] != want.change || d["segment_id"] != want.seg || d["segment_name"] != want.name || tl.Items[i].Name != want.name {
				t.Errorf("timeline item %d = %+v, want %s %s", i, tl.Items[i], want.change, want.name)
			}
		}
		if err := w.st.DeleteCustomer(ctx, store.SystemActor, id); err != nil {
			t.Fatal(err)
		}
		if err := live.Flush(ctx); err != nil {
			t.Fatal(err)
		}
		es = events(t, w.st, id)
		if len(es) != 4 || es[0].Change != "leave" || es[0].SegmentID != recent.ID {
			t.Fatalf("after deletion: %+v", es)
		}
		// The materialized membership agrees with a fresh evaluation.
		for _, g := range []string{seg.ID, recent.ID} {
			var evaluated, recorded []string
			for _, read := range []func(context.Context, string, string, string, int) (store.Page, error){svc.Members, svc.MaterializedMembers} {
				cursor := ""
				var got []string
				for {
					page, err := read(ctx, g, "", cursor, 7)
					if err != nil {
						t.Fatal(err)
					}
					for _, c := range page.Items {
						got = append(got, c.ID)
					}
					if cursor = page.NextCursor; cursor == "" {
						break
					}
				}
				slices.Sort(got)
				evaluated, recorded = recorded, got
			}
			if len(recorded) == 0 || !slices.Equal(evaluated, recorded) {
				t.Fatalf("segment %s: evaluated %d members, recorded %d", g, len(evaluated), len(recorded))
			}
			stored, err := w.st.Segment(ctx, g)
			if err != nil {
				t.Fatal(err)
			}
			n, err := svc.CountMembers(ctx, g, "")
			if err != nil || stored.MemberCount != n {
				t.Fatalf("segment %s: materialized %d, evaluated %d (%v)", g, stored.MemberCount, n, err)
			}
			entered, left, err := svc.Refresh(ctx, g)
			if err != nil || entered != 0 || left != 0 {
				t.Fatalf("refresh found drift: +%d -%d (%v)", entered, left, err)
			}
		}
	})
}

func TestRefreshLogsWhoTimeMovedAcrossAWindow(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e storetest.Engine) {
		w := seedWorld(t, e, 80)
		svc := service(w)
		ctx := context.Background()
		seg, err := svc.CreateSegment(ctx, store.SystemActor, "recent", `orders_30d > 0`)
		if err != nil {
			t.Fatal(err)
		}
		before := seg.MemberCount
		later := now.Add(20 * 24 * time.Hour) // nobody orders for 20 days
		svc.Now = func() time.Time { return later }
		want, err := svc.CountMembers(ctx, seg.ID, "")
		if err != nil {
			t.Fatal(err)
		}
		entered, left, err := svc.Refresh(ctx, seg.ID)
		if err != nil {
			t.Fatal(err)
		}
		if entered != 0 || left == 0 || before-left != want {
			t.Fatalf("before %d, after %d: entered %d left %d", before, want, entered, left)
		}
		log, err := w.st.MembershipEvents(ctx, "", seg.ID, 1000)
		if err != nil || int64(len(log)) != left {
			t.Fatalf("log has %d events (%v), want %d", len(log), err, left)
		}
	})
}
