package main

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/rapportcrm/rapport/internal/auth"
	"github.com/rapportcrm/rapport/internal/customer"
	"github.com/rapportcrm/rapport/internal/demo"
	"github.com/rapportcrm/rapport/internal/identity"
	"github.com/rapportcrm/rapport/internal/store"
)

// demoPages are the shop's pages the demo visitors browse.
var demoPages = []struct{ path, title string }{
	{"/", "首页 / Home"},
	{"/new", "新品 / New arrivals"},
	{"/promotions", "优惠活动 / Promotions"},
	{"/membership", "会员中心 / Membership"},
	{"/help/delivery", "配送说明 / Delivery"},
}

// loadDemoEvents gives the demo web behaviour: page views and "Product
// Viewed" events over the last 60 days from a "web" source, for people
// with an email, more for recent buyers. They go through the same
// ingestion path as tracked events, so they resolve to the customers and
// update their stats, and segments such as
// `did "Product Viewed" at least 3 times in the last 30 days` have members.
func loadDemoEvents(ctx context.Context, s *store.Store, d *demo.Dataset, now time.Time, seed int64) (int, error) {
	src := store.Source{ID: customer.NewID(), Name: "web", Prefix: "rwk_demo", KeyHash: auth.HashSecret(auth.GeneratePassword()), CreatedAt: now}
	if err := s.CreateSource(ctx, store.SystemActor, src); err != nil {
		return 0, err
	}
	rng := rand.New(rand.NewPCG(uint64(seed), 0x7765_6221))
	lastOrder := map[string]time.Time{}
	for _, o := range d.Orders {
		if o.PlacedAt.After(lastOrder[o.CustomerID]) {
			lastOrder[o.CustomerID] = o.PlacedAt
		}
	}
	var batch []store.Event
	total := 0
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		if _, err := s.IngestEvents(ctx, batch); err != nil {
			return fmt.Errorf("demo events: %w", err)
		}
		total += len(batch)
		batch = batch[:0]
		return nil
	}
	for _, c := range d.Customers {
		if c.Kind != customer.Person {
			continue
		}
		email := ""
		for _, id := range c.Identities {
			if id.Type == "email" {
				email = id.Value
				break
			}
		}
		if email == "" {
			continue
		}
		// Recent buyers browse more; most others rarely come back.
		visits := 0
		if last, ok := lastOrder[c.ID]; ok && now.Sub(last) < 90*24*time.Hour {
			visits = 2 + rng.IntN(10)
		} else if rng.Float64() < 0.25 {
			visits = 1 + rng.IntN(3)
		}
		for v := range visits {
			at := now.Add(-time.Duration(rng.Float64() * 60 * 24 * float64(time.Hour)))
			page := demoPages[rng.IntN(len(demoPages))]
			batch = append(batch, demoEvent(src, c.ID, v, "p", email, at, "page", page.title,
				map[string]any{"path": page.path, "title": page.title}))
			if len(d.Products) > 0 && rng.Float64() < 0.7 {
				p := d.Products[rng.IntN(len(d.Products))]
				batch = append(batch, demoEvent(src, c.ID, v, "v", email, at.Add(time.Minute), "track", "Product Viewed",
					map[string]any{"product_id": p.ID, "sku": p.SKU, "name": p.NameZh, "category": p.Category, "price": p.Price}))
			}
		}
		if len(batch) >= 2000 {
			if err := flush(); err != nil {
				return total, err
			}
		}
	}
	return total, flush()
}

func demoEvent(src store.Source, customerID string, n int, kind, email string, at time.Time, typ, name string, props map[string]any) store.Event {
	id := fmt.Sprintf("demo-%s-%s%d", customerID, kind, n)
	msg := map[string]any{"type": typ, "messageId": id, "timestamp": at.Format(time.RFC3339), "properties": props,
		"context": map[string]any{"traits": map[string]any{"email": email}}}
	if typ == "page" {
		msg["name"] = name
	} else {
		msg["event"] = name
	}
	payload, _ := json.Marshal(msg)
	return store.Event{SourceID: src.ID, Source: src.Name, MessageID: id, Type: typ, Name: name, At: at, ReceivedAt: at, Payload: payload,
		Claims: []identity.Claim{{Identity: customer.Identity{Type: "email", Value: email}}}}
}
