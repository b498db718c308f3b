package insight_test

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/csv"
	"errors"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/rapportcrm/rapport/internal/analytics/value"
	"github.com/rapportcrm/rapport/internal/customer"
	"github.com/rapportcrm/rapport/internal/errs"
	"github.com/rapportcrm/rapport/internal/insight"
	"github.com/rapportcrm/rapport/internal/store"
	"github.com/rapportcrm/rapport/internal/storetest"
)

type fixture struct {
	eng storetest.Engine
	h   history
	svc *insight.Service
}

func setup(t *testing.T, n int, opts insight.Options) []fixture {
	t.Helper()
	h := generate(n, 7)
	var out []fixture
	for _, eng := range storetest.Engines(t) {
		h.load(t, eng.Store)
		opts := opts
		opts.Now = func() time.Time { return h.now }
		out = append(out, fixture{eng: eng, h: h, svc: insight.New(eng.Store, opts)})
	}
	return out
}

func each(t *testing.T, n int, opts insight.Options, fn func(t *testing.T, f fixture)) {
	for _, f := range setup(t, n, opts) {
		t.Run(f.eng.Name, func(t *testing.T) { fn(t, f) })
	}
}

func TestRefitScoresEveryBuyerLikeThePureRecompute(t *testing.T) {
	each(t, 600, insight.Options{}, func(t *testing.T, f fixture) {
		ctx := context.Background()
		rep, err := f.svc.Refit(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if rep.Customers != len(f.h.customers) || rep.Orders != len(f.h.orders) || rep.ScoresWrote != len(f.h.customers) {
			t.Fatalf("refit saw %d customers, %d orders, wrote %d; want %d, %d, %d", rep.Customers, rep.Orders, rep.ScoresWrote,
				len(f.h.customers), len(f.h.orders), len(f.h.customers))
		}
		if rep.Model.Params == nil || rep.Model.Spend == nil || rep.Model.Holdout == nil {
			t.Fatalf("models not all fitted: %+v", rep.Model)
		}

		// The pure path: aggregate the generated order log in memory and rank it.
		ids := make([]string, len(f.h.customers))
		pos := map[string]int32{}
		for i, c := range f.h.customers {
			ids[i], pos[c.ID] = c.ID, int32(i)
		}
		var orders []value.Order
		for _, o := range f.h.orders {
			orders = append(orders, value.Order{Customer: pos[o.CustomerID], At: o.PlacedAt.Unix(), Amount: o.Total})
		}
		aggs, _ := value.FromOrders(orders, ids)
		p := insight.DefaultProfile()
		want, err := value.ScoreRFM(aggs, value.RFMOptions{AsOf: f.h.now, Window: time.Duration(p.RFMWindowDays) * 24 * time.Hour})
		if err != nil {
			t.Fatal(err)
		}
		var buyers []float64
		for _, a := range aggs {
			if a.Orders > 0 {
				buyers = append(buyers, a.Revenue)
			}
		}
		tiers, err := value.AssignTiers(buyers, p.TierCuts)
		if err != nil {
			t.Fatal(err)
		}
		b := 0
		withCLV := 0
		for i, c := range f.h.customers {
			got, err := f.eng.Store.Customer(ctx, c.ID)
			if err != nil {
				t.Fatal(err)
			}
			sc := got.Scores
			if sc == nil {
				t.Fatalf("customer %d has no scores", i)
			}
			w := want.Scores[i]
			seg := ""
			if w.Segment != value.SegmentNone {
				seg = w.Segment.String()
			}
			if sc.RFMSegment != seg || sc.R != int(w.R) || sc.F != int(w.F) || sc.M != int(w.M) {
				t.Fatalf("customer %d: stored RFM %s %d%d%d, pure recompute %s %d%d%d", i, sc.RFMSegment, sc.R, sc.F, sc.M, seg, w.R, w.F, w.M)
			}
			if aggs[i].Orders > 0 {
				if sc.Tier != tiers.Tiers[b].String() {
					t.Fatalf("customer %d: tier %q, pure %q", i, sc.Tier, tiers.Tiers[b])
				}
				b++
				if sc.CLV == nil || sc.PAlive == nil || sc.ChurnRisk == nil || sc.ExpectedNextPurchase == nil {
					t.Fatalf("buyer %d lacks model scores: %+v", i, sc)
				}
				if *sc.PAlive < 0 || *sc.PAlive > 1 || *sc.CLV < 0 {
					t.Fatalf("buyer %d: p_alive %v clv %v", i, *sc.PAlive, *sc.CLV)
				}
				if !sc.ExpectedNextPurchase.After(aggs[i].LastOrder) {
					t.Fatalf("buyer %d: next purchase %v not after last %v", i, sc.ExpectedNextPurchase, aggs[i].LastOrder)
				}
				withCLV++
			}
			if st, ok := c.Attributes["status"]; ok && sc.ChurnRisk == nil {
				t.Fatalf("contractual customer %d (%v) has no churn risk", i, st)
			}
		}
		if withCLV == 0 {
			t.Fatal("no buyer was scored")
		}
	})
}

func TestReportsAgreeWithScoresAndModels(t *testing.T) {
	each(t, 500, insight.Options{}, func(t *testing.T, f fixture) {
		ctx := context.Background()
		if _, err := f.svc.SetProfile(ctx, insight.Profile{PurchaseCycleDays: 30, ChurnAttribute: "status", ChurnValue: "cancelled"}); err != nil {
			t.Fatal(err)
		}
		rfm, err := f.svc.RFM(ctx)
		if err != nil {
			t.Fatal(err)
		}
		sum := 0
		for _, s := range rfm.Segments {
			sum += s.Customers
			if s.Label.EN == "" || s.Label.ZH == "" {
				t.Fatalf("segment %s has no bilingual label", s.Segment)
			}
		}
		grid := 0
		for _, line := range rfm.Grid {
			for _, c := range line {
				grid += c.Customers
			}
		}
		if grid != rfm.Ranked || sum != rfm.Ranked+rfm.Skipped.OutsideWindow || rfm.Customers != len(f.h.customers) {
			t.Fatalf("grid %d, segments %d, ranked %d, outside window %d", grid, sum, rfm.Ranked, rfm.Skipped.OutsideWindow)
		}

		tiers, err := f.svc.Tiers(ctx, insight.TierQuery{})
		if err != nil {
			t.Fatal(err)
		}
		buyers := 0
		for _, s := range tiers.Historical {
			buyers += s.Customers
		}
		if tiers.Historical[0].Customers != int(0.01*float64(buyers)+0.5) {
			t.Fatalf("platinum %d of %d buyers, want 1%%", tiers.Historical[0].Customers, buyers)
		}
		for _, u := range tiers.Upgrades {
			if u.Predicted >= u.Current || u.Gap < 1 {
				t.Fatalf("upgrade %+v does not climb", u)
			}
		}

		par, err := f.svc.Pareto(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(par.Revenue.Reading.EN, "20%") || !strings.Contains(par.Revenue.Reading.ZH, "20%") || par.Predicted == nil {
			t.Fatalf("pareto reading %+v", par.Revenue.Reading)
		}
		if s := par.Revenue.Curve.Share(0.2); s < 0.2 || s > 1 {
			t.Fatalf("top 20%% bring %v", s)
		}

		c, err := f.svc.CLV(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if c.Params == nil || c.Params.R <= 0 || c.Params.A <= 0 || c.Holdout == nil || c.Distribution == nil || c.Distribution.Customers == 0 {
			t.Fatalf("clv report incomplete: %+v", c)
		}
		if c.Churn == nil || c.Churn.AUC <= 0.6 {
			t.Fatalf("contractual churn model: %+v", c.Churn)
		}
		// The holdout forecast of repeat purchases is in the right range.
		if c.Holdout.Actual == 0 || c.Holdout.ErrorPct < -60 || c.Holdout.ErrorPct > 60 {
			t.Fatalf("holdout: %+v", c.Holdout)
		}

		co, err := f.svc.Cohorts(ctx)
		if err != nil {
			t.Fatal(err)
		}
		acquired := 0
		for _, k := range co.Cohorts {
			acquired += k.Customers
			if k.Retention[0] != 1 {
				t.Fatalf("cohort %s retention starts at %v", k.Label, k.Retention[0])
			}
		}
		if acquired != buyers || co.Period != "month" {
			t.Fatalf("cohorts hold %d customers (%s), want %d buyers by month", acquired, co.Period, buyers)
		}

		prof, err := f.svc.Profitability(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var goods float64
		for _, o := range f.h.orders {
			for _, it := range o.Items {
				goods += it.Quantity * it.UnitCost
			}
		}
		if d := prof.Total.GoodsCost - goods; d > 1e-6*goods || d < -1e-6*goods {
			t.Fatalf("cost of goods %v, generated %v", prof.Total.GoodsCost, goods)
		}
		if prof.UncostedInteractions["service"] == 0 {
			t.Fatalf("service contacts should be reported uncosted without unit costs: %+v", prof.UncostedInteractions)
		}
	})
}

func TestCostToServeMakesHeavyCallersUnprofitable(t *testing.T) {
	each(t, 300, insight.Options{}, func(t *testing.T, f fixture) {
		ctx := context.Background()
		p := insight.Profile{PurchaseCycleDays: 21, CostToServe: map[string]float64{"service": 400, "call": 300}, MarketingCostPerCustomer: 5}
		if _, err := f.svc.SetProfile(ctx, p); err != nil {
			t.Fatal(err)
		}
		prof, err := f.svc.Profitability(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if prof.Total.ServeCost <= 0 || prof.Total.Marketing != 5*float64(len(f.h.customers)) || prof.UnprofitableCustomers == 0 {
			t.Fatalf("profit %+v, unprofitable customers %d", prof.Total, prof.UnprofitableCustomers)
		}
		flagged := 0
		for _, s := range prof.Segments {
			if s.Unprofitable != (s.Customers > 0 && s.Profit.Profit < 0) {
				t.Fatalf("segment %s flag %v with profit %v", s.Segment, s.Unprofitable, s.Profit.Profit)
			}
			if s.Unprofitable {
				flagged++
			}
		}
		if flagged != len(prof.UnprofitableSegments) || flagged == 0 {
			t.Fatalf("%d segments flagged, %d listed; with these costs some segment must lose money", flagged, len(prof.UnprofitableSegments))
		}
		got, err := f.svc.Profile(ctx)
		if err != nil || got.TimeUnit != "week" || got.LapsedAfterDays != 63 {
			t.Fatalf("effective profile %+v, %v", got, err)
		}
	})
}

func TestProfileRejectsBadValuesWithFieldErrors(t *testing.T) {
	f := setup(t, 10, insight.Options{})[0]
	_, err := f.svc.SetProfile(context.Background(), insight.Profile{PurchaseCycleDays: -1, TimeUnit: "fortnight",
		TierCuts: value.TierCuts{Platinum: 0.5, Gold: 0.4, Silver: 0.2}, CostToServe: map[string]float64{"call": -2}, ChurnAttribute: "status"})
	var e *errs.Error
	if !errors.As(err, &e) || e.Kind != errs.Invalid {
		t.Fatalf("want a validation error, got %v", err)
	}
	var fields []string
	for _, fe := range e.Fields {
		fields = append(fields, fe.Field)
	}
	for _, want := range []string{"body.purchase_cycle_days", "body.time_unit", "body.tier_cuts", "body.cost_to_serve.call", "body.churn_value"} {
		if !slices.Contains(fields, want) {
			t.Errorf("no field error for %s in %v", want, fields)
		}
	}
}

func TestTierMigrationBetweenTwoPeriods(t *testing.T) {
	each(t, 400, insight.Options{}, func(t *testing.T, f fixture) {
		from, _ := insight.ParseInterval("2024-01-01/2024-06-30")
		to, _ := insight.ParseInterval("2025-01-01/2025-06-30")
		rep, err := f.svc.Tiers(context.Background(), insight.TierQuery{From: &from, To: &to})
		if err != nil {
			t.Fatal(err)
		}
		m := rep.Migration
		if m == nil || m.Up+m.Down != m.Total || m.Up == 0 || m.Down == 0 {
			t.Fatalf("migration %+v", m)
		}
		// Customers who bought in the first period only fell out of the pyramid.
		inA, inB := map[string]bool{}, map[string]bool{}
		for _, o := range f.h.orders {
			if from.Start.Unix() <= o.PlacedAt.Unix() && o.PlacedAt.Before(from.End.AddDate(0, 0, 1)) {
				inA[o.CustomerID] = true
			}
			if to.Start.Unix() <= o.PlacedAt.Unix() && o.PlacedAt.Before(to.End.AddDate(0, 0, 1)) {
				inB[o.CustomerID] = true
			}
		}
		gone := 0
		for id := range inA {
			if !inB[id] {
				gone++
			}
		}
		if m.Matrix[1][0]+m.Matrix[2][0]+m.Matrix[3][0]+m.Matrix[4][0] != gone {
			t.Fatalf("%d customers dropped to none, want %d", m.Matrix[1][0]+m.Matrix[2][0]+m.Matrix[3][0]+m.Matrix[4][0], gone)
		}
		if _, err := insight.ParseInterval("2025-02-01/2025-01-01"); err == nil {
			t.Fatal("a backwards interval was accepted")
		}
	})
}

func TestAssociationsFindBreadAndButterAndSuggestIt(t *testing.T) {
	each(t, 300, insight.Options{}, func(t *testing.T, f fixture) {
		ctx := context.Background()
		rep, err := f.svc.Associations(ctx, insight.AssociationQuery{})
		if err != nil {
			t.Fatal(err)
		}
		if len(rep.Rules) == 0 || rep.Baskets != len(f.h.orders) {
			t.Fatalf("%d rules over %d baskets (want %d)", len(rep.Rules), rep.Baskets, len(f.h.orders))
		}
		top := rep.Rules[0]
		pair := []string{top.If, top.Then}
		slices.Sort(pair)
		if pair[0] != "bread" || pair[1] != "butter" || top.Lift <= 1.5 {
			t.Fatalf("strongest rule %+v, want bread ↔ butter", top)
		}
		// A customer who bought bread but never butter is offered butter.
		bought := map[string]map[string]bool{}
		for _, o := range f.h.orders {
			if bought[o.CustomerID] == nil {
				bought[o.CustomerID] = map[string]bool{}
			}
			for _, it := range o.Items {
				bought[o.CustomerID][it.ProductID] = true
			}
		}
		for id, b := range bought {
			if b["bread"] && !b["butter"] {
				rep, err := f.svc.Associations(ctx, insight.AssociationQuery{CustomerID: id})
				if err != nil {
					t.Fatal(err)
				}
				if len(rep.Suggestions) == 0 || rep.Suggestions[0].Item != "butter" {
					t.Fatalf("suggestions for a bread buyer: %+v", rep.Suggestions)
				}
				ci, err := f.svc.Customer(ctx, id)
				if err != nil || len(ci.CrossSell) == 0 || ci.TierLabel.ZH == "" {
					t.Fatalf("customer insight %+v, %v", ci, err)
				}
				return
			}
		}
		t.Fatal("no bread-only buyer in the generated history")
	})
}

func TestPivotTotalsAndExports(t *testing.T) {
	each(t, 400, insight.Options{}, func(t *testing.T, f fixture) {
		ctx := context.Background()
		res, err := f.svc.Pivot(ctx, insight.PivotRequest{Measures: []string{"customers", "revenue", "orders", "clv"}, Dimensions: []string{"tier", "city"}})
		if err != nil {
			t.Fatal(err)
		}
		var customers, revenue, orders float64
		for _, r := range res.Rows {
			customers += r.Values[0]
			revenue += r.Values[1]
			orders += r.Values[2]
		}
		var genRevenue float64
		for _, o := range f.h.orders {
			genRevenue += o.Total
		}
		if int(customers) != len(f.h.customers) || res.Totals[0] != customers || int(orders) != len(f.h.orders) || abs(revenue-genRevenue) > 1e-6*genRevenue {
			t.Fatalf("pivot sums customers %v orders %v revenue %v; want %d, %d, %v", customers, orders, revenue, len(f.h.customers), len(f.h.orders), genRevenue)
		}
		if res.Rows[0].Keys[0] != "platinum" {
			t.Fatalf("first row %v, want the platinum tier first", res.Rows[0].Keys)
		}

		// Revenue by period adds up to the same total, and filters apply.
		byPeriod, err := f.svc.Pivot(ctx, insight.PivotRequest{Measures: []string{"revenue", "customers"}, Dimensions: []string{"period"},
			Filters: []insight.PivotFilter{{Dimension: "city", Values: []string{"上海"}}}})
		if err != nil {
			t.Fatal(err)
		}
		var shanghai float64
		for _, o := range f.h.orders {
			for _, c := range f.h.customers {
				if c.ID == o.CustomerID && c.Attributes["city"] == "上海" {
					shanghai += o.Total
				}
			}
		}
		if abs(byPeriod.Totals[0]-shanghai) > 1e-6*shanghai || len(byPeriod.Rows) < 12 {
			t.Fatalf("Shanghai revenue by period %v over %d periods, want %v", byPeriod.Totals[0], len(byPeriod.Rows), shanghai)
		}

		// Drill-down: the customers behind a cell are as many as it counts,
		// for dimensions no customer filter expresses too.
		for _, dim := range []string{"predicted_tier", "channel", "period"} {
			cells, err := f.svc.Pivot(ctx, insight.PivotRequest{Measures: []string{"customers"}, Dimensions: []string{dim}})
			if err != nil {
				t.Fatal(err)
			}
			for _, row := range cells.Rows {
				ids, total, err := f.svc.PivotCustomers(ctx, []insight.PivotFilter{{Dimension: dim, Values: []string{row.Keys[0]}}}, 5)
				if err != nil {
					t.Fatal(err)
				}
				if float64(total) != row.Values[0] || len(ids) != min(total, 5) {
					t.Fatalf("%s = %q: %d customers (%d ids), the pivot counts %v", dim, row.Keys[0], total, len(ids), row.Values[0])
				}
			}
		}
		// A period cell holds exactly those who ordered in it.
		label := byPeriod.Rows[len(byPeriod.Rows)-1].Keys[0]
		ids, total, err := f.svc.PivotCustomers(ctx, []insight.PivotFilter{{Dimension: "period", Values: []string{label}}, {Dimension: "city", Values: []string{"上海"}}}, 1000)
		if err != nil || total != len(ids) {
			t.Fatalf("period drill: %d of %d, %v", len(ids), total, err)
		}
		if float64(total) != byPeriod.Rows[len(byPeriod.Rows)-1].Values[1] {
			t.Fatalf("period %s drill has %d customers, the pivot counts %v", label, total, byPeriod.Rows[len(byPeriod.Rows)-1].Values[1])
		}
		if _, _, err := f.svc.PivotCustomers(ctx, []insight.PivotFilter{{Dimension: "shoe_size", Values: []string{"42"}}}, 5); err == nil {
			t.Fatal("drill on an unknown dimension went through")
		}

		var buf bytes.Buffer
		if err := res.WriteCSV(&buf); err != nil {
			t.Fatal(err)
		}
		recs, err := csv.NewReader(strings.NewReader(strings.TrimPrefix(buf.String(), "\ufeff"))).ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		if strings.Join(recs[0], ",") != "tier,city,customers,revenue,orders,clv" || len(recs) != len(res.Rows)+2 || recs[len(recs)-1][0] != "Total / 合计" {
			t.Fatalf("csv header %v, %d lines", recs[0], len(recs))
		}
		if recs[1][0] != res.Rows[0].Keys[0] || recs[1][2] != strconv.FormatFloat(res.Rows[0].Values[0], 'f', -1, 64) {
			t.Fatalf("csv first row %v, pivot %+v", recs[1], res.Rows[0])
		}

		buf.Reset()
		if err := res.WriteXLSX(&buf); err != nil {
			t.Fatal(err)
		}
		x, err := excelize.OpenReader(&buf)
		if err != nil {
			t.Fatal(err)
		}
		rows, err := x.GetRows("Pivot")
		if err != nil {
			t.Fatal(err)
		}
		if len(rows) != len(recs) || rows[1][1] != recs[1][1] || rows[0][3] != "revenue" {
			t.Fatalf("xlsx has %d rows (csv %d), first %v", len(rows), len(recs), rows[1])
		}
		if v, _ := strconv.ParseFloat(rows[len(rows)-1][2], 64); v != res.Totals[0] {
			t.Fatalf("xlsx total customers %v, want %v", rows[len(rows)-1][2], res.Totals[0])
		}

		_, err = f.svc.Pivot(ctx, insight.PivotRequest{Measures: []string{"smiles"}, Dimensions: []string{"tier", "tier", "colour", "owner"}})
		var e *errs.Error
		if !errors.As(err, &e) || len(e.Fields) < 4 {
			t.Fatalf("bad pivot: %v", err)
		}
		// An enum attribute is a dimension.
		if _, err := f.svc.Pivot(ctx, insight.PivotRequest{Measures: []string{"customers"}, Dimensions: []string{"status", "tag"}}); err != nil {
			t.Fatal(err)
		}
	})
}

func TestRefreshRescoresACustomerAfterAnOrderIsWritten(t *testing.T) {
	each(t, 200, insight.Options{}, func(t *testing.T, f fixture) {
		ctx := context.Background()
		if _, err := f.svc.Refit(ctx); err != nil {
			t.Fatal(err)
		}
		id := oneTimeBuyer(t, f)
		before := scores(t, f.eng.Store, id)
		if before.PAlive == nil || *before.PAlive != 1 {
			t.Fatalf("a one-time buyer has P(alive) %v, want 1", before.PAlive)
		}
		v := f.svc.Version()
		writeOrder(t, f, id, 120)
		n, err := f.svc.Refresh(ctx)
		if err != nil || n != 1 {
			t.Fatalf("refresh: %d customers, %v", n, err)
		}
		after := scores(t, f.eng.Store, id)
		if after.PAlive == nil || *after.PAlive >= 1 || after.R != 5 || after.F < before.F || !after.ExpectedNextPurchase.After(f.h.now) {
			t.Fatalf("scores after a repeat purchase: before %+v after %+v", before, after)
		}
		if f.svc.Version() == v {
			t.Fatal("the data version did not change")
		}
		if n, _ := f.svc.Refresh(ctx); n != 0 {
			t.Fatalf("the queue still held %d customers", n)
		}
	})
}

func TestBackgroundRefresherKeepsScoresFresh(t *testing.T) {
	var mu sync.Mutex
	var listeners []chan []string
	opts := insight.Options{RefreshEvery: 20 * time.Millisecond, AfterRefresh: func(ids []string) {
		mu.Lock()
		defer mu.Unlock()
		for _, l := range listeners {
			select {
			case l <- ids:
			default:
			}
		}
	}}
	each(t, 150, opts, func(t *testing.T, f fixture) {
		events := make(chan []string, 64)
		mu.Lock()
		listeners = append(listeners, events)
		mu.Unlock()
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { f.svc.Run(ctx); close(done) }()
		defer func() { cancel(); <-done }()
		await := func(id string, ok func() bool) {
			t.Helper()
			timeout := time.After(60 * time.Second)
			for {
				select {
				case ids := <-events:
					if slices.Contains(ids, id) && ok() {
						return
					}
				case <-timeout:
					t.Fatalf("customer %s was not refreshed", id)
				}
			}
		}
		// The first refit scores everyone.
		id := oneTimeBuyerAfter(t, f, await)
		// An order written by another process reaches the stale queue only.
		writeOrder(t, f, id, 90)
		await(id, func() bool { s := scores(t, f.eng.Store, id); return s.PAlive != nil && *s.PAlive < 1 })
		// A write through the store notifies the service directly.
		in := customer.Interaction{ID: customer.NewID(), CustomerID: id, Kind: "call", At: f.h.now, Summary: "回访", CreatedAt: f.h.now}
		for len(events) > 0 {
			<-events
		}
		if err := f.eng.Store.AddInteraction(ctx, store.SystemActor, in); err != nil {
			t.Fatal(err)
		}
		await(id, func() bool { return true })
	})
}

func oneTimeBuyerAfter(t *testing.T, f fixture, await func(string, func() bool)) string {
	t.Helper()
	var id string
	for _, c := range f.h.customers {
		n := 0
		for _, o := range f.h.orders {
			if o.CustomerID == c.ID {
				n++
			}
		}
		if n == 1 {
			id = c.ID
			break
		}
	}
	await(id, func() bool { return scores(t, f.eng.Store, id).PAlive != nil })
	return id
}

// oneTimeBuyer finds a customer with a single purchase.
func oneTimeBuyer(t *testing.T, f fixture) string {
	t.Helper()
	for _, c := range f.h.customers {
		n := 0
		for _, o := range f.h.orders {
			if o.CustomerID == c.ID {
				n++
			}
		}
		if n == 1 {
			return c.ID
		}
	}
	t.Fatal("no one-time buyer")
	return ""
}

func scores(t *testing.T, st *store.Store, id string) customer.Scores {
	t.Helper()
	c, err := st.Customer(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	if c.Scores == nil {
		return customer.Scores{}
	}
	return *c.Scores
}

// writeOrder records a completed order the way an order write path does,
// through a separate connection (as another process would): the order row,
// the customer's maintained stats, and the stale-score queue, in one
// transaction.
func writeOrder(t *testing.T, f fixture, customerID string, total float64) {
	t.Helper()
	driver, dsn, ph := "pgx", f.eng.Config.URL, func(n int) string { return "$" + strconv.Itoa(n) }
	if f.eng.Name == "sqlite" {
		driver, dsn, ph = "sqlite", "file:"+filepath.Join(f.eng.Config.DataDir, "rapport.db")+"?_pragma=busy_timeout(10000)", func(int) string { return "?" }
	}
	db, err := sql.Open(driver, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	at := f.h.now.Add(-time.Hour).UTC().Format("2006-01-02T15:04:05.000000Z")
	tx, err := db.Begin()
	if err != nil {
		t.Fatal(err)
	}
	q := func(s string, args ...any) {
		for i := len(args); i >= 1; i-- {
			s = strings.ReplaceAll(s, "$"+strconv.Itoa(i), ph(i))
		}
		if _, err := tx.Exec(s, args...); err != nil {
			tx.Rollback()
			t.Fatalf("%s: %v", s, err)
		}
	}
	q(`INSERT INTO orders (id, customer_id, source, placed_at, currency, total, status, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
		customer.NewID(), customerID, "web", at, "CNY", total, "completed", at)
	q(`UPDATE customer_stats SET orders = orders + 1, revenue = revenue + $1, last_order_at = $2, last_seen = $3 WHERE customer_id = $4`, total, at, at, customerID)
	q(`INSERT INTO score_queue (customer_id, queued_at) VALUES ($1, $2)`, customerID, at)
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
}

func abs(x float64) float64 {
	if x < 0 {
		return -x
	}
	return x
}
