package ingest_test

import (
	"context"
	"sync"
	"testing"
	"time"

	analytics "github.com/segmentio/analytics-go/v3"

	"github.com/rapportcrm/rapport/internal/customer"
	"github.com/rapportcrm/rapport/internal/store"
	"github.com/rapportcrm/rapport/internal/storetest"
)

// callback records what the Segment client says about each message.
type callback struct {
	mu       sync.Mutex
	ok       int
	failures []error
}

func (c *callback) Success(analytics.Message) { c.mu.Lock(); c.ok++; c.mu.Unlock() }
func (c *callback) Failure(_ analytics.Message, err error) {
	c.mu.Lock()
	c.failures = append(c.failures, err)
	c.mu.Unlock()
}

// TestSegmentGoClientLandsOnOneProfile drives the real Segment Go library
// (github.com/segmentio/analytics-go/v3) against the tracking API: an
// anonymous visit on two devices, identify, alias, an order, flushed in
// several batches. Everything must land on one merged profile.
func TestSegmentGoClientLandsOnOneProfile(t *testing.T) {
	for _, e := range storetest.Engines(t) {
		t.Run(e.Name, func(t *testing.T) {
			s := newServer(t, e)
			cb := &callback{}
			client, err := analytics.NewWithConfig(s.key, analytics.Config{Endpoint: s.url, BatchSize: 4, Interval: time.Hour, Callback: cb})
			if err != nil {
				t.Fatal(err)
			}
			msgs := []analytics.Message{
				analytics.Page{AnonymousId: "device-1", Name: "Home"},
				analytics.Track{AnonymousId: "device-1", Event: "Product Viewed", Properties: analytics.NewProperties().Set("sku", "45790-32")},
				analytics.Page{AnonymousId: "old-device", Name: "Pricing"},
				analytics.Identify{UserId: "user-7", AnonymousId: "device-1", Traits: analytics.NewTraits().SetEmail("Li.Na@Example.com").SetName("李娜").SetPhone("138 0013 8000")},
				analytics.Track{UserId: "user-7", Event: "Order Completed", Properties: analytics.NewProperties().
					Set("order_id", "S-1001").SetTotal(88.5).SetCurrency("CNY").
					// The library's Product type predates the e-commerce spec's
					// fields, so the products go in as plain maps.
					Set("products", []map[string]any{{"product_id": "p1", "sku": "45790-32", "name": "咖啡豆", "category": "coffee", "price": 44.25, "quantity": 2}})},
				analytics.Alias{PreviousId: "old-device", UserId: "user-7"},
				analytics.Group{UserId: "user-7", GroupId: "acme", Traits: analytics.NewTraits().SetName("Acme")},
				analytics.Screen{UserId: "user-7", Name: "Cart"},
			}
			for _, m := range msgs {
				if err := client.Enqueue(m); err != nil {
					t.Fatal(err)
				}
			}
			if err := client.Close(); err != nil { // flushes every batch
				t.Fatal(err)
			}
			if cb.ok != len(msgs) || len(cb.failures) > 0 {
				t.Fatalf("client reported %d ok of %d, failures %v", cb.ok, len(msgs), cb.failures)
			}
			ctx := context.Background()
			if err := s.svc.Flush(ctx); err != nil {
				t.Fatal(err)
			}
			c := customerOf(t, e.Store, customer.Identity{Type: customer.IdentityExternalID, Source: "web", Value: "user-7"})
			c, err = e.Store.Customer(ctx, c.ID)
			if err != nil {
				t.Fatal(err)
			}
			want := map[customer.Identity]bool{
				{Type: "external_id", Source: "web", Value: "user-7"}: true,
				{Type: "anonymous_id", Value: "device-1"}:             true,
				{Type: "anonymous_id", Value: "old-device"}:           true,
				{Type: "email", Value: "li.na@example.com"}:           true,
				{Type: "phone", Value: "+8613800138000"}:              true,
			}
			for _, id := range c.Identities {
				delete(want, id)
			}
			if len(want) > 0 || c.Name != "李娜" {
				t.Fatalf("profile %q %+v lacks %v", c.Name, c.Identities, want)
			}
			st, err := e.Store.CustomerStats(ctx, c.ID)
			if err != nil {
				t.Fatal(err)
			}
			if st.Events != int64(len(msgs)) || st.Orders != 1 || st.Revenue != 88.5 || st.FavouriteCategory != "coffee" || st.LastChannel != "web" {
				t.Fatalf("stats %+v", st)
			}
			page, err := e.Store.Timeline(ctx, c.ID, store.TimelineFilter{Types: []string{"page", "screen"}})
			if err != nil || len(page.Items) != 3 {
				t.Fatalf("page views on the profile %+v %v", page.Items, err)
			}
			live, err := e.Store.LiveCustomers(ctx)
			if err != nil || len(live) != 1 {
				t.Fatalf("%d live profiles, want 1 (%v)", len(live), err)
			}
		})
	}
}
