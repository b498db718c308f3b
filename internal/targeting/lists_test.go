package targeting

import (
	"context"
	"errors"
	"math"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/rapportcrm/rapport/internal/customer"
	"github.com/rapportcrm/rapport/internal/errs"
	"github.com/rapportcrm/rapport/internal/experiment"
	"github.com/rapportcrm/rapport/internal/store"
	"github.com/rapportcrm/rapport/internal/storetest"
)

func near(t *testing.T, what string, got, want, tol float64) {
	t.Helper()
	if math.IsNaN(got) || math.Abs(got-want) > tol {
		t.Errorf("%s = %.10g, want %.10g ± %g", what, got, want, tol)
	}
}

// everyone is a segment holding every customer.
func everyone(t *testing.T, svc *Service) string {
	t.Helper()
	seg, err := svc.CreateSegment(context.Background(), store.SystemActor, "everyone", `orders >= 0`)
	if err != nil {
		t.Fatal(err)
	}
	return seg.ID
}

// buy gives each customer one completed order of the given total placed
// after the clock, inside any list's attribution window.
func buy(t *testing.T, st *store.Store, at time.Time, totals map[string]float64) {
	t.Helper()
	var os []customer.Order
	for id, total := range totals {
		os = append(os, customer.Order{ID: customer.NewID(), CustomerID: id, PlacedAt: at, Currency: "CNY", Total: total, Status: customer.OrderCompleted})
	}
	if err := st.Load(context.Background(), store.SystemActor, store.Dataset{Orders: os}); err != nil {
		t.Fatal(err)
	}
}

func armsOf(t *testing.T, st *store.Store, listID string) map[string][]string {
	t.Helper()
	rows, err := st.ListResults(context.Background(), listID, now, now)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]string{}
	for _, r := range rows {
		out[r.Arm] = append(out[r.Arm], r.CustomerID)
	}
	return out
}

func comparison(t *testing.T, r Results, outcome string) experiment.Comparison {
	t.Helper()
	for _, c := range r.Comparisons {
		if c.Outcome == outcome {
			return c
		}
	}
	t.Fatalf("no comparison on %s: %+v", outcome, r.Comparisons)
	return experiment.Comparison{}
}

// TestExperimentReadsNewcombesExample runs Newcombe (1998) table II's
// example 56/70 − 48/80 end to end: a list of 150 split 70 treatment / 80
// control, purchases by exactly 56 and 48 of them inside the window. The
// Wald interval for the difference is 0.0575 to 0.3425.
func TestExperimentReadsNewcombesExample(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e storetest.Engine) {
		w := seedWorld(t, e, 150)
		svc := service(w)
		ctx := context.Background()
		view, err := svc.CreateList(ctx, store.SystemActor, ListSpec{Name: "回访 A/B", SegmentID: everyone(t, svc), StratifyBy: "none",
			Arms: []store.ExperimentArm{{Name: "control", Weight: 80}, {Name: "treatment", Weight: 70}}, Control: "control"})
		if err != nil {
			t.Fatal(err)
		}
		arms := armsOf(t, w.st, view.ID)
		if len(arms["control"]) != 80 || len(arms["treatment"]) != 70 || view.Tasks != 70 {
			t.Fatalf("arms %d/%d, tasks %d", len(arms["control"]), len(arms["treatment"]), view.Tasks)
		}
		totals := map[string]float64{}
		for _, id := range arms["treatment"][:56] {
			totals[id] = 100
		}
		for _, id := range arms["control"][:48] {
			totals[id] = 100
		}
		buy(t, w.st, now.Add(24*time.Hour), totals)
		buy(t, w.st, now.Add(40*24*time.Hour), map[string]float64{arms["control"][60]: 100}) // after the window: not attributed
		res, err := svc.ExperimentResults(ctx, view.Experiment.ID)
		if err != nil {
			t.Fatal(err)
		}
		c := comparison(t, res, OutcomeConversion)
		near(t, "uplift", c.Uplift, 56.0/70-48.0/80, 1e-12)
		near(t, "wald low", c.CILow, 0.0575, 0.00005)
		near(t, "wald high", c.CIHigh, 0.3425, 0.00005)
		want, _ := experiment.CompareProportions(experiment.Proportion{Successes: 48, N: 80}, experiment.Proportion{Successes: 56, N: 70}, 0.95)
		near(t, "p-value", c.PValue, want.PValue, 1e-12)
		near(t, "srm p", res.SRMPValue, 1, 1e-9)
		if res.Arms[0].Arm != "control" || res.Arms[0].N != 80 || res.Arms[1].Converted != 56 || res.Arms[1].RevenuePerCustomer != 5600.0/70 {
			t.Fatalf("arms %+v", res.Arms)
		}
		if c.ReadingEN == "" || c.ReadingZH == "" || res.WindowComplete {
			t.Fatalf("readings %q %q, complete %v", c.ReadingEN, c.ReadingZH, res.WindowComplete)
		}
	})
}

// TestExperimentRevenueReadsStudentsSleepData puts the sleep data of
// Student (1908) — R's t.test(extra ~ group, data = sleep): t = −1.8608,
// df = 17.776, p = 0.07939, CI −3.3654832 to 0.2054832 — into revenue per
// customer (shifted by 2 so every total is positive; a shift changes no
// difference).
func TestExperimentRevenueReadsStudentsSleepData(t *testing.T) {
	g1 := []float64{0.7, -1.6, -0.2, -1.2, -0.1, 3.4, 3.7, 0.8, 0.0, 2.0}
	g2 := []float64{1.9, 0.8, 1.1, 0.1, -0.1, 4.4, 5.5, 1.6, 4.6, 3.4}
	forEachEngine(t, func(t *testing.T, e storetest.Engine) {
		w := seedWorld(t, e, 20)
		svc := service(w)
		ctx := context.Background()
		view, err := svc.CreateList(ctx, store.SystemActor, ListSpec{Name: "sleep", SegmentID: everyone(t, svc), Holdout: 0.5, StratifyBy: "none"})
		if err != nil {
			t.Fatal(err)
		}
		arms := armsOf(t, w.st, view.ID)
		totals := map[string]float64{}
		for i, id := range arms["control"] {
			totals[id] = g1[i] + 2
		}
		for i, id := range arms["treatment"] {
			totals[id] = g2[i] + 2
		}
		buy(t, w.st, now.Add(time.Hour), totals)
		res, err := svc.ExperimentResults(ctx, view.Experiment.ID)
		if err != nil {
			t.Fatal(err)
		}
		c := comparison(t, res, OutcomeRevenue)
		near(t, "t", c.Welch.T, 1.8608, 0.00005)
		near(t, "df", c.Welch.DF, 17.776, 0.0005)
		near(t, "p", c.PValue, 0.07939, 0.000005)
		near(t, "ci low", c.CILow, -0.2054832, 5e-7)
		near(t, "ci high", c.CIHigh, 3.3654832, 5e-7)
		if c.Significant {
			t.Error("p = 0.079 read as significant")
		}
	})
}

func TestListsGoToRepsAndOutcomesComeBack(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e storetest.Engine) {
		w := seedWorld(t, e, 200)
		svc := service(w)
		ctx := context.Background()
		segID := everyone(t, svc)
		reps := []string{"rep-a", "rep-b", "rep-c"}
		due := now.Add(7 * 24 * time.Hour)
		view, err := svc.CreateList(ctx, store.SystemActor, ListSpec{Name: "高价值回访", SegmentID: segID, Holdout: 0.2, Reps: reps,
			Script: "问候并介绍新品", DueAt: &due, AttributionDays: 30})
		if err != nil {
			t.Fatal(err)
		}
		// Split within each tier: the control total is 40 give or take one per tier.
		nControl := len(armsOf(t, w.st, view.ID)["control"])
		if view.Size != 200 || view.Tasks != 200-nControl || math.Abs(float64(nControl-40)) >= 4 || view.Experiment == nil || view.Experiment.StratifyBy != "tier" {
			t.Fatalf("list %+v experiment %+v", view.TargetList, view.Experiment)
		}
		// Stratified by tier: each tier's control share is within one customer of 20%.
		rows, _ := w.st.ListResults(ctx, view.ID, now, now)
		perTier := map[string][2]int{}
		for _, r := range rows {
			c := perTier[r.Stratum]
			c[0]++
			if r.Arm == "control" {
				c[1]++
			}
			perTier[r.Stratum] = c
			if len(r.Features) != len(FeatureNames) {
				t.Fatalf("entry %s has features %v", r.CustomerID, r.Features)
			}
		}
		for tier, c := range perTier {
			if math.Abs(float64(c[1])-0.2*float64(c[0])) >= 1 {
				t.Errorf("tier %q: %d of %d in control", tier, c[1], c[0])
			}
		}
		counts := map[string]int{}
		all, err := w.st.Tasks(ctx, store.TaskFilter{ListID: view.ID, Limit: 1000})
		if err != nil {
			t.Fatal(err)
		}
		for _, tk := range all {
			counts[tk.AssigneeID]++
			if tk.Script != "问候并介绍新品" || tk.DueAt == nil || !tk.DueAt.Equal(due) || tk.Status != store.TaskOpen {
				t.Fatalf("task %+v", tk)
			}
		}
		if len(counts) != 3 || counts["rep-a"] < 53 || counts["rep-a"] > 54 || counts["rep-b"] < 53 || counts["rep-c"] < 53 {
			t.Fatalf("round robin gave %v", counts)
		}
		mine, _ := w.st.Tasks(ctx, store.TaskFilter{AssigneeID: "rep-a", Status: store.TaskOpen, Limit: 1000})
		// Another rep may not record on rep-a's task.
		_, err = svc.RecordOutcome(ctx, store.Actor{ID: "rep-b", Kind: "user"}, "rep-b", true, mine[0].ID, "bought", "")
		if !errs.Is(err, errs.Forbidden) {
			t.Fatalf("another rep recorded: %v", err)
		}
		if _, err := svc.RecordOutcome(ctx, store.Actor{ID: "rep-a", Kind: "user"}, "rep-a", true, mine[0].ID, "won", ""); !errs.Is(err, errs.Invalid) {
			t.Fatalf("unknown outcome accepted: %v", err)
		}
		outcomes := []string{"reached", "interested", "bought", "declined", "not_reachable", "interested", "bought", "reached", "declined", "bought"}
		for i, o := range outcomes {
			tk, err := svc.RecordOutcome(ctx, store.Actor{ID: "rep-a", Kind: "user"}, "rep-a", true, mine[i].ID, o, "备注")
			if err != nil || tk.Status != store.TaskDone || tk.Outcome != o {
				t.Fatalf("record %s: %+v %v", o, tk, err)
			}
		}
		// From the customer page: the customer's open task.
		tk, err := svc.RecordCustomerOutcome(ctx, store.Actor{ID: "rep-a", Kind: "user"}, "rep-a", true, mine[10].CustomerID, "", "interested", "")
		if err != nil || tk.ID != mine[10].ID {
			t.Fatalf("customer-page outcome: %+v %v", tk, err)
		}
		// Purchases: every contacted "bought" customer, and a few others.
		totals := map[string]float64{}
		for _, tk := range mine[:11] {
			totals[tk.CustomerID] = 200
		}
		arms := armsOf(t, w.st, view.ID)
		for _, id := range arms["control"][:2] {
			totals[id] = 50
		}
		buy(t, w.st, now.Add(48*time.Hour), totals)
		if _, err := svc.AddCost(ctx, store.SystemActor, store.Cost{ListID: view.ID, Hours: 10, HourlyRate: 50, Money: 100}); err != nil {
			t.Fatal(err)
		}
		board, err := svc.SuccessBoard(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(board.Lists) != 1 {
			t.Fatalf("board %+v", board)
		}
		b := board.Lists[0]
		nTreated := 200 - nControl
		if b.Treated != nTreated || b.Contacted != 11 || b.Responded != 6 || b.Baseline.Kind != "control" || b.Baseline.N != int64(nControl) {
			t.Fatalf("board row %+v", b)
		}
		near(t, "response rate", *b.ResponseRate, 6.0/11, 1e-12)
		near(t, "conversion", b.ConversionRate, 11/float64(nTreated), 1e-12)
		near(t, "baseline", b.Baseline.Rate, 2/float64(nControl), 1e-12)
		near(t, "lift", b.Lift, 11/float64(nTreated)-2/float64(nControl), 1e-12)
		near(t, "cost", b.Cost, 600, 1e-9)
		near(t, "revenue attributed", b.RevenueAttributed, 2200, 1e-9)
		inc := (2200/float64(nTreated) - 100/float64(nControl)) * float64(nTreated)
		near(t, "incremental revenue", *b.IncrementalRevenue, inc, 1e-9)
		near(t, "return", *b.Return, (inc-600)/600, 1e-9)
		if b.LiftLow == nil || *b.LiftLow > b.Lift || b.ReadingEN == "" || b.ReadingZH == "" {
			t.Fatalf("board row %+v", b)
		}
	})
}

func TestBoardFallsBackToTheHistoricalRateWithoutAControl(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e storetest.Engine) {
		w := seedWorld(t, e, 100)
		svc := service(w)
		ctx := context.Background()
		view, err := svc.CreateList(ctx, store.SystemActor, ListSpec{Name: "top clv", Score: "clv", TopN: 10, Assign: AssignOwner, Reps: []string{"rep-z"}})
		if err != nil {
			t.Fatal(err)
		}
		if view.Size != 10 || view.Source != "score" || view.Experiment != nil {
			t.Fatalf("list %+v", view)
		}
		rows, _ := w.st.ListResults(ctx, view.ID, now, now)
		for i := 1; i < len(rows); i++ {
			if *rows[i].Score > *rows[i-1].Score {
				t.Fatalf("entries not by descending clv: %v then %v", *rows[i-1].Score, *rows[i].Score)
			}
		}
		buyers, customers, err := w.st.PurchaseRate(ctx, now.Add(-30*24*time.Hour), now)
		if err != nil || buyers == 0 {
			t.Fatalf("purchase rate %d/%d %v", buyers, customers, err)
		}
		board, err := svc.SuccessBoard(ctx)
		if err != nil {
			t.Fatal(err)
		}
		b := board.Lists[0]
		if b.Baseline.Kind != "historical" || b.Baseline.N != 100 || b.LiftLow != nil || b.IncrementalRevenue != nil {
			t.Fatalf("board row %+v", b)
		}
		near(t, "historical rate", b.Baseline.Rate, float64(buyers)/float64(customers), 1e-12)
		one, err := svc.BoardRow(ctx, view.ID)
		if err != nil || !reflect.DeepEqual(one, b) {
			t.Fatalf("BoardRow = %+v, %v; the board's row is %+v", one, err, b)
		}
		if _, err := svc.BoardRow(ctx, "no-such-list"); !errs.Is(err, errs.NotFound) {
			t.Fatalf("BoardRow of a missing list: %v", err)
		}
	})
}

func TestPortfolioRanksInitiativesByReturnPerCost(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e storetest.Engine) {
		w := seedWorld(t, e, 400)
		svc := service(w)
		ctx := context.Background()
		segID := everyone(t, svc)
		mk := func(name string) store.Initiative {
			in, err := svc.CreateInitiative(ctx, store.SystemActor, InitiativeSpec{Name: name, Hypothesis: "回访能带来复购", SegmentID: segID, Budget: 5000})
			if err != nil {
				t.Fatal(err)
			}
			return in
		}
		good, bad, unmeasured := mk("电话回访"), mk("短信群发"), mk("门店活动")
		list := func(in store.Initiative) ListView {
			v, err := svc.CreateList(ctx, store.SystemActor, ListSpec{Name: in.Name, SegmentID: segID, InitiativeID: in.ID, Holdout: 0.5, StratifyBy: "none"})
			if err != nil {
				t.Fatal(err)
			}
			return v
		}
		lg, lb := list(good), list(bad)
		if _, err := svc.CreateList(ctx, store.SystemActor, ListSpec{Name: "no control", SegmentID: segID, InitiativeID: unmeasured.ID}); err != nil {
			t.Fatal(err)
		}
		// The good initiative's treated customers all spend 100; its control nothing.
		totals := map[string]float64{}
		for _, id := range armsOf(t, w.st, lg.ID)["treatment"] {
			totals[id] = 100
		}
		buy(t, w.st, now.Add(time.Hour), totals)
		// The bad one: both arms alike.
		totals = map[string]float64{}
		for i, id := range armsOf(t, w.st, lb.ID)["treatment"] {
			totals[id] = float64(10 + i%7)
		}
		for i, id := range armsOf(t, w.st, lb.ID)["control"] {
			totals[id] = float64(10 + i%7)
		}
		buy(t, w.st, now.Add(2*time.Hour), totals)
		for _, c := range []store.Cost{{InitiativeID: good.ID, Hours: 40, HourlyRate: 100}, {InitiativeID: bad.ID, Money: 5000}, {ListID: lg.ID, Money: 1000}} {
			if _, err := svc.AddCost(ctx, store.SystemActor, c); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := svc.AddCost(ctx, store.SystemActor, store.Cost{Hours: -1}); !errs.Is(err, errs.Invalid) {
			t.Fatalf("bad cost accepted: %v", err)
		}
		p, err := svc.Portfolio(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(p.Initiatives) != 3 {
			t.Fatalf("portfolio %+v", p)
		}
		g, b, u := p.Initiatives[0], p.Initiatives[1], p.Initiatives[2]
		if g.ID != good.ID || b.ID != bad.ID || u.ID != unmeasured.ID {
			t.Fatalf("order %s %s %s", g.Name, b.Name, u.Name)
		}
		near(t, "good cost", g.Cost, 5000, 1e-9)
		// Recompute the incremental revenue from the entries: the treated
		// mean minus the control mean, times the treated. (Control customers
		// may have bought through the other list: attribution is per
		// customer and window, not per contact.)
		rows, _ := w.st.ListResults(ctx, lg.ID, now, now.Add(30*24*time.Hour))
		var sum [2]float64
		var n [2]int
		for _, r := range rows {
			k := 0
			if r.Arm == "control" {
				k = 1
			}
			sum[k] += r.Revenue
			n[k]++
		}
		inc := (sum[0]/float64(n[0]) - sum[1]/float64(n[1])) * float64(n[0])
		near(t, "good incremental revenue", *g.IncrementalRevenue, inc, 1e-6)
		near(t, "good return", *g.ReturnPerCost, inc/5000, 1e-9)
		if g.Flag != "scale" || b.Flag != "stop" || u.Flag != "measure" || g.ReadingZH == "" {
			t.Fatalf("flags %s %s %s", g.Flag, b.Flag, u.Flag)
		}
		in, err := svc.SetStage(ctx, store.SystemActor, good.ID, "scale")
		if err != nil || in.Stage != "scale" {
			t.Fatalf("stage %+v %v", in, err)
		}
		if _, err := svc.SetStage(ctx, store.SystemActor, good.ID, "bigger"); !errs.Is(err, errs.Invalid) {
			t.Fatalf("bad stage accepted: %v", err)
		}
	})
}

func TestPredictiveLoopLearnsFromTheLastRound(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e storetest.Engine) {
		w := seedWorld(t, e, 400)
		svc := service(w)
		ctx := context.Background()
		segID := everyone(t, svc)
		// Customers respond when their p_alive is above the median: the
		// signal to learn. The median keeps enough responders outside the
		// model's picks for the random arm to convert too.
		responders := map[string]bool{}
		facts, _ := w.st.LoadFacts(ctx, w.ids, store.FactNeeds{})
		var alive []float64
		for _, f := range facts {
			if f.Customer.Scores != nil && f.Customer.Scores.PAlive != nil {
				alive = append(alive, *f.Customer.Scores.PAlive)
			}
		}
		slices.Sort(alive)
		median := alive[len(alive)/2]
		for id, f := range facts {
			if f.Customer.Scores != nil && f.Customer.Scores.PAlive != nil && *f.Customer.Scores.PAlive > median {
				responders[id] = true
			}
		}
		respond := func(listID string, at time.Time) {
			totals := map[string]float64{}
			for arm, ids := range armsOf(t, w.st, listID) {
				for _, id := range ids {
					if arm != "control" && responders[id] {
						totals[id] = 80
					}
				}
			}
			buy(t, w.st, at, totals)
		}
		_, err := svc.PredictiveRound(ctx, store.SystemActor, RoundSpec{Name: "round 0", SegmentID: segID, Size: 50})
		if !errs.Is(err, errs.Invalid) {
			t.Fatalf("a model was fitted without past results: %v", err)
		}
		first, err := svc.CreateList(ctx, store.SystemActor, ListSpec{Name: "round 1 (random)", SegmentID: segID, Holdout: 0.5})
		if err != nil {
			t.Fatal(err)
		}
		respond(first.ID, now.Add(time.Hour))
		svc.Now = func() time.Time { return now.Add(31 * 24 * time.Hour) }
		round, err := svc.PredictiveRound(ctx, store.SystemActor, RoundSpec{Name: "round 2", SegmentID: segID, Size: 100, RandomSize: 100})
		if err != nil {
			t.Fatal(err)
		}
		m := round.Model
		treated := len(armsOf(t, w.st, first.ID)["treatment"])
		if m.TrainRows != treated || m.Lists[0] != first.ID || m.AUC < 0.8 {
			t.Fatalf("model %+v", m)
		}
		if beta := m.Beta[1+5]; beta <= 0 { // p_alive
			t.Fatalf("p_alive coefficient %v, want positive", beta)
		}
		arms := armsOf(t, w.st, round.List.ID)
		// The hold-out is split within each tier, so the total can be off by
		// less than one customer per tier (4 tiers here).
		if len(arms[ArmModel])+len(arms[ArmControl]) != 100 || math.Abs(float64(len(arms[ArmControl])-20)) >= 4 || len(arms[ArmRandom]) != 100 ||
			round.List.Source != "predictive" || round.LastRound != nil {
			t.Fatalf("arms %d/%d/%d source %s", len(arms[ArmModel]), len(arms[ArmControl]), len(arms[ArmRandom]), round.List.Source)
		}
		respond(round.List.ID, now.Add(32*24*time.Hour))
		svc.Now = func() time.Time { return now.Add(62 * 24 * time.Hour) }
		rep, err := svc.RoundReport(ctx, round.List.ID)
		if err != nil {
			t.Fatal(err)
		}
		if rep.TopDecile.N != 10 || rep.Random.N != 100 || !rep.WindowComplete || rep.Model.Rate <= rep.Random.Rate || rep.TopDecileLift <= 0 {
			t.Fatalf("report %+v", rep)
		}
		if rep.ContactEffect == nil || rep.ContactEffect.Uplift <= 0 || rep.ModelVsRandom == nil || rep.ReadingZH == "" {
			t.Fatalf("report %+v", rep)
		}
		next, err := svc.PredictiveRound(ctx, store.SystemActor, RoundSpec{Name: "round 3", SegmentID: segID, Size: 100, RandomSize: 50})
		if err != nil {
			t.Fatal(err)
		}
		if next.LastRound == nil || next.LastRound.ListID != round.List.ID || next.Model.TrainRows != treated+len(arms[ArmModel])+100 {
			t.Fatalf("next round %+v", next.LastRound)
		}
		var ae *errs.Error
		if _, err := svc.PredictiveRound(ctx, store.SystemActor, RoundSpec{SegmentID: segID}); !errors.As(err, &ae) || ae.Fields[0].Field != "body.size" {
			t.Fatalf("size 0 accepted: %v", err)
		}
	})
}
