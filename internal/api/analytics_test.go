package api_test

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/rapportcrm/rapport/internal/auth"
	"github.com/rapportcrm/rapport/internal/customer"
	"github.com/rapportcrm/rapport/internal/store"
)

// loadShop writes a small shop: 120 customers in two cities, repeat
// purchases at their own rates, bread bought with butter.
func loadShop(t *testing.T, st *store.Store) []string {
	t.Helper()
	now := time.Now().UTC().Truncate(time.Second)
	rng := rand.New(rand.NewPCG(3, 4))
	var ids []string
	d := store.Dataset{Fields: []customer.Field{{Key: "city", Type: customer.FieldEnum, Options: []string{"上海", "北京"}, CreatedAt: now}}}
	for i := range 120 {
		id := customer.NewID()
		ids = append(ids, id)
		created := now.AddDate(0, 0, -400+i)
		city := []string{"上海", "北京"}[i%2]
		d.Customers = append(d.Customers, customer.Customer{ID: id, Kind: customer.Person, Name: fmt.Sprintf("客户%d", i),
			Attributes: map[string]any{"city": city}, Tags: []string{}, CreatedAt: created, UpdatedAt: created, Version: 1})
		// Poisson purchases at the customer's own rate until they drop out.
		rate := 0.02 + rng.ExpFloat64()*0.08 // per day
		drop := 0.02 + 0.4*rng.Float64()*rng.Float64()
		at := created
		for k := 0; at.Before(now); k++ {
			items := []customer.OrderItem{{ProductID: "coffee", Name: "咖啡", Price: 30, Quantity: 1, UnitCost: 8}}
			if (i+k)%3 == 0 {
				items = append(items, customer.OrderItem{ProductID: "bread", Name: "面包", Price: 12, Quantity: 1, UnitCost: 5},
					customer.OrderItem{ProductID: "butter", Name: "黄油", Price: 18, Quantity: 1, UnitCost: 9})
			}
			total := 0.0
			for _, it := range items {
				total += it.Price
			}
			d.Orders = append(d.Orders, customer.Order{ID: customer.NewID(), CustomerID: id, PlacedAt: at, Currency: "CNY", Total: total, Status: customer.OrderCompleted, Source: "web", Items: items})
			if rng.Float64() < drop {
				break
			}
			at = at.Add(time.Duration(rng.ExpFloat64() / rate * 24 * float64(time.Hour))).Truncate(time.Second)
		}
	}
	if err := st.Load(context.Background(), store.SystemActor, d); err != nil {
		t.Fatal(err)
	}
	return ids
}

func TestAnalyticsEndpointsAnswerAnalystsAndRefuseReps(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		ids := loadShop(t, e.store)
		for _, path := range []string{"/api/v1/analytics/rfm", "/api/v1/analytics/tiers", "/api/v1/analytics/pareto", "/api/v1/analytics/clv",
			"/api/v1/analytics/cohorts", "/api/v1/analytics/associations", "/api/v1/analytics/profitability", "/api/v1/settings/business"} {
			if r := e.do(auth.Rep, "GET", path, nil); r.status != 403 {
				t.Fatalf("rep GET %s: %d", path, r.status)
			}
			if r := e.do("", "GET", path, nil); r.status != 401 {
				t.Fatalf("anonymous GET %s: %d", path, r.status)
			}
			r := e.do(auth.Viewer, "GET", path, nil)
			if r.status != 200 {
				t.Fatalf("viewer GET %s: %d %s", path, r.status, r.body)
			}
		}
		rfm := e.do(auth.Analyst, "GET", "/api/v1/analytics/rfm", nil).json(t)
		segs := rfm["segments"].([]any)
		first := segs[0].(map[string]any)
		if first["id"] != "champions" || first["label"].(map[string]any)["zh"] != "冠军客户" || len(rfm["grid"].([]any)) != 5 {
			t.Fatalf("rfm: %v", first)
		}
		clv := e.do(auth.Analyst, "GET", "/api/v1/analytics/clv", nil).json(t)
		if clv["params"] == nil || clv["fitted_at"] == nil || clv["distribution"] == nil {
			t.Fatalf("clv: %v", clv)
		}
		par := e.do(auth.Manager, "GET", "/api/v1/analytics/pareto", nil).json(t)
		if !strings.Contains(par["revenue"].(map[string]any)["reading"].(map[string]any)["zh"].(string), "前 20%") {
			t.Fatalf("pareto reading: %v", par["revenue"].(map[string]any)["reading"])
		}
		tiers := e.do(auth.Analyst, "GET", "/api/v1/analytics/tiers?from=2000-01-01/2100-01-01&to=2000-01-01/2100-01-01", nil)
		if tiers.status != 200 || tiers.json(t)["migration"].(map[string]any)["up"].(float64) != 0 {
			t.Fatalf("tiers with the same period twice: %d %s", tiers.status, tiers.body)
		}
		if r := e.do(auth.Analyst, "GET", "/api/v1/analytics/tiers?from=2025-13-01/2025-01-01", nil); r.status != 422 || !strings.Contains(string(r.body), "query.from") {
			t.Fatalf("bad period: %d %s", r.status, r.body)
		}
		as := e.do(auth.Analyst, "GET", "/api/v1/analytics/associations?customer_id="+ids[1], nil).json(t)
		if len(as["rules"].([]any)) == 0 || as["bought"] == nil {
			t.Fatalf("associations: %v", as)
		}
		if r := e.do(auth.Analyst, "GET", "/api/v1/analytics/associations?customer_id=nobody", nil); r.status != 404 {
			t.Fatalf("associations for an unknown customer: %d", r.status)
		}
		ci := e.do(auth.Analyst, "GET", "/api/v1/analytics/customers/"+ids[5], nil).json(t)
		if ci["tier_label"] == nil || ci["rfm_segment_label"] == nil {
			t.Fatalf("customer insight: %v", ci)
		}
		// Per-customer scores ride on the customer resource itself.
		c := e.do(auth.Rep, "GET", "/api/v1/customers/"+ids[5], nil).json(t)
		sc, _ := c["scores"].(map[string]any)
		if sc == nil || sc["tier"] == nil || sc["rfm_segment"] == nil || sc["clv"] == nil || sc["p_alive"] == nil || sc["expected_next_purchase"] == nil || sc["churn_risk"] == nil {
			t.Fatalf("customer scores: %v", c["scores"])
		}
	})
}

func TestBusinessProfileNeedsSettingsPermissionAndValidates(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		got := e.do(auth.Viewer, "GET", "/api/v1/settings/business", nil).json(t)
		if got["purchase_cycle_days"].(float64) != 30 || got["time_unit"] != "week" {
			t.Fatalf("default profile: %v", got)
		}
		body := `{"purchase_cycle_days": 1500, "discount_rate": 0.08, "cost_to_serve": {"service": 50}}`
		if r := e.do(auth.Manager, "PUT", "/api/v1/settings/business", body); r.status != 403 {
			t.Fatalf("manager PUT: %d", r.status)
		}
		r := e.do(auth.Admin, "PUT", "/api/v1/settings/business", body)
		if r.status != 200 {
			t.Fatalf("admin PUT: %d %s", r.status, r.body)
		}
		got = e.do(auth.Analyst, "GET", "/api/v1/settings/business", nil).json(t)
		if got["time_unit"] != "month" || got["horizon_days"].(float64) != 4500 || got["lapsed_after_days"].(float64) != 4500 {
			t.Fatalf("a car dealer's profile: %v", got)
		}
		bad := e.do(auth.Admin, "PUT", "/api/v1/settings/business", `{"purchase_cycle_days": 30, "tier_cuts": {"platinum": 0.6, "gold": 0.3, "silver": 0.2}, "cost_to_serve": {"call": -1}}`)
		if bad.status != 422 || !strings.Contains(string(bad.body), "body.tier_cuts") || !strings.Contains(string(bad.body), "body.cost_to_serve.call") {
			t.Fatalf("bad profile: %d %s", bad.status, bad.body)
		}
	})
}

func TestPivotExportsCSVAndXLSX(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		loadShop(t, e.store)
		req := `{"measures": ["customers", "revenue"], "dimensions": ["city"]}`
		js := e.do(auth.Analyst, "POST", "/api/v1/analytics/pivot", req)
		if js.status != 200 {
			t.Fatalf("pivot: %d %s", js.status, js.body)
		}
		m := js.json(t)
		if len(m["rows"].([]any)) != 2 || m["totals"].([]any)[0].(float64) != 120 {
			t.Fatalf("pivot json: %s", js.body)
		}
		c := e.do(auth.Analyst, "POST", "/api/v1/analytics/pivot?format=csv", req)
		lines := strings.Split(strings.TrimSpace(strings.TrimPrefix(string(c.body), "\ufeff")), "\n")
		if c.status != 200 || !strings.HasPrefix(c.header.Get("Content-Type"), "text/csv") || lines[0] != "city,customers,revenue" ||
			!strings.HasPrefix(lines[1], "上海,60,") || !strings.HasPrefix(lines[3], "Total / 合计,120,") {
			t.Fatalf("csv: %d %q", c.status, lines)
		}
		x := e.do(auth.Analyst, "POST", "/api/v1/analytics/pivot?format=xlsx", req)
		f, err := excelize.OpenReader(bytes.NewReader(x.body))
		if err != nil {
			t.Fatalf("xlsx: %v (%d)", err, x.status)
		}
		rows, _ := f.GetRows("Pivot")
		if len(rows) != 4 || rows[2][0] != "北京" || rows[2][1] != "60" {
			t.Fatalf("xlsx rows: %v", rows)
		}
		if r := e.do(auth.Analyst, "POST", "/api/v1/analytics/pivot", `{"measures": ["customers"], "dimensions": ["colour"]}`); r.status != 422 || !strings.Contains(string(r.body), "body.dimensions[0]") {
			t.Fatalf("bad dimension: %d %s", r.status, r.body)
		}
		if r := e.do(auth.Rep, "POST", "/api/v1/analytics/pivot", req); r.status != 403 {
			t.Fatalf("rep pivot: %d", r.status)
		}
	})
}
