package targeting

import (
	"cmp"
	"context"
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/rapportcrm/rapport/internal/customer"
	"github.com/rapportcrm/rapport/internal/errs"
	"github.com/rapportcrm/rapport/internal/experiment"
	"github.com/rapportcrm/rapport/internal/store"
)

// The outcomes every experiment is read on: whether the customer placed a
// completed order inside the attribution window, and the revenue of those
// orders.
const (
	OutcomeConversion = "conversion"
	OutcomeRevenue    = "revenue"
)

// ArmResult is one arm of an experiment.
type ArmResult struct {
	Arm string `json:"arm"`
	N   int    `json:"n"`
	// Rate holds the conversion rate and the revenue per customer.
	Rate               map[string]float64 `json:"rate"`
	Converted          int                `json:"converted"`
	Revenue            float64            `json:"revenue"`
	RevenuePerCustomer float64            `json:"revenue_per_customer"`
	// Outcomes counts the reps' recorded outcomes; ResponseRate is
	// (interested + bought) / recorded, absent for arms nobody contacts.
	Outcomes     map[string]int `json:"outcomes"`
	ResponseRate *float64       `json:"response_rate,omitempty"`
}

// Results is the reading of an experiment.
type Results struct {
	Experiment     store.Experiment        `json:"experiment"`
	List           store.TargetList        `json:"list"`
	WindowStart    time.Time               `json:"window_start"`
	WindowEnd      time.Time               `json:"window_end"`
	WindowComplete bool                    `json:"window_complete"`
	Confidence     float64                 `json:"confidence"`
	Arms           []ArmResult             `json:"arms"`
	Comparisons    []experiment.Comparison `json:"comparisons"`
	SRMPValue      float64                 `json:"srm_p_value"`
	SRM            experiment.SRM          `json:"srm"`
	Warnings       []string                `json:"warnings,omitempty"`
}

// window is a list's attribution window.
func window(l store.TargetList) (from, to time.Time) {
	return l.CreatedAt, l.CreatedAt.Add(time.Duration(l.AttributionDays) * 24 * time.Hour)
}

// ExperimentResults reads an experiment: per arm size, conversion rate,
// revenue per customer and rep outcomes; each arm against the control with
// uplift, 95% CI and p-value (two-proportion test for conversion, Welch's t
// for revenue); and the sample-ratio-mismatch check, with readings.
func (s *Service) ExperimentResults(ctx context.Context, id string) (Results, error) {
	exp, err := s.Store.Experiment(ctx, id)
	if err != nil {
		return Results{}, err
	}
	l, err := s.Store.List(ctx, exp.ListID)
	if err != nil {
		return Results{}, err
	}
	from, to := window(l)
	rows, err := s.Store.ListResults(ctx, l.ID, from, to)
	if err != nil {
		return Results{}, err
	}
	d := &experiment.Dataset{Outcomes: []string{OutcomeConversion, OutcomeRevenue}, Kinds: []experiment.Kind{experiment.Binary, experiment.Continuous},
		Values: [][]float64{make([]float64, len(rows)), make([]float64, len(rows))}}
	byArm := map[string]*ArmResult{}
	for _, a := range exp.Arms {
		byArm[a.Name] = &ArmResult{Arm: a.Name, Rate: map[string]float64{}, Outcomes: map[string]int{}}
	}
	for i, r := range rows {
		d.Arms = append(d.Arms, r.Arm)
		if r.Orders > 0 {
			d.Values[0][i] = 1
		}
		d.Values[1][i] = r.Revenue
		ar := byArm[r.Arm]
		if ar == nil {
			return Results{}, fmt.Errorf("targeting: list %s entry %s is in arm %q, not in experiment %s", l.ID, r.CustomerID, r.Arm, id)
		}
		ar.N++
		ar.Revenue += r.Revenue
		if r.Orders > 0 {
			ar.Converted++
		}
		if r.Outcome != "" {
			ar.Outcomes[r.Outcome]++
		}
	}
	d.Read = experiment.ReadReport{Rows: len(rows), Accepted: len(rows)}
	weights := make([]experiment.Arm, len(exp.Arms))
	for i, a := range exp.Arms {
		weights[i] = experiment.Arm{Name: a.Name, Weight: a.Weight}
	}
	rep, err := experiment.Analyze(d, experiment.Options{Control: exp.Control, Weights: weights})
	if err != nil {
		return Results{}, err
	}
	res := Results{Experiment: exp, List: l, WindowStart: from, WindowEnd: to, WindowComplete: !s.now().Before(to),
		Confidence: rep.Confidence, Comparisons: rep.Comparisons, SRMPValue: rep.SRMPValue, SRM: rep.SRM, Warnings: rep.Warnings}
	for _, a := range rep.Arms {
		ar := byArm[a.Arm]
		if ar.N > 0 {
			ar.Rate[OutcomeConversion] = float64(ar.Converted) / float64(ar.N)
			ar.RevenuePerCustomer = ar.Revenue / float64(ar.N)
			ar.Rate[OutcomeRevenue] = ar.RevenuePerCustomer
		}
		recorded := 0
		for _, n := range ar.Outcomes {
			recorded += n
		}
		if recorded > 0 {
			r := float64(ar.Outcomes["interested"]+ar.Outcomes["bought"]) / float64(recorded)
			ar.ResponseRate = &r
		}
		res.Arms = append(res.Arms, *ar)
	}
	if !res.WindowComplete {
		res.Warnings = append(res.Warnings, fmt.Sprintf("the attribution window runs until %s; results are interim / 归因窗口至 %s 结束，结果为中期数据",
			to.Format(time.DateOnly), to.Format(time.DateOnly)))
	}
	return res, nil
}

// Baseline is what a list's response is compared with.
type Baseline struct {
	// Kind is "control" (the list's own control group) or "historical"
	// (the workspace's purchase rate over an equal window before the list).
	Kind string  `json:"kind"`
	Rate float64 `json:"rate"`
	N    int64   `json:"n"`
}

// BoardRow is one list on the success board.
type BoardRow struct {
	ListID         string    `json:"list_id"`
	Name           string    `json:"name"`
	InitiativeID   string    `json:"initiative_id,omitempty"`
	ExperimentID   string    `json:"experiment_id,omitempty"`
	CreatedAt      time.Time `json:"created_at"`
	WindowComplete bool      `json:"window_complete"`
	Size           int       `json:"size"`
	Treated        int       `json:"treated"`
	Contacted      int       `json:"contacted"`
	Responded      int       `json:"responded"`
	ResponseRate   *float64  `json:"response_rate,omitempty"`
	ConversionRate float64   `json:"conversion_rate"`
	Baseline       Baseline  `json:"baseline"`
	// Lift is the conversion rate minus the baseline, in proportion
	// points; the interval and p-value exist only against a control group.
	Lift               float64  `json:"lift"`
	LiftLow            *float64 `json:"lift_ci_low,omitempty"`
	LiftHigh           *float64 `json:"lift_ci_high,omitempty"`
	PValue             *float64 `json:"p_value,omitempty"`
	RevenueAttributed  float64  `json:"revenue_attributed"`
	IncrementalRevenue *float64 `json:"incremental_revenue,omitempty"`
	IncrementalLow     *float64 `json:"incremental_revenue_ci_low,omitempty"`
	IncrementalHigh    *float64 `json:"incremental_revenue_ci_high,omitempty"`
	Cost               float64  `json:"cost"`
	// Return is (incremental revenue, or attributed revenue without a
	// control, minus cost) / cost; absent when no cost was entered.
	Return    *float64 `json:"return,omitempty"`
	ReadingEN string   `json:"reading_en"`
	ReadingZH string   `json:"reading_zh"`

	incrementalSE float64
}

// Board is the success board: every list's response against its baseline.
type Board struct {
	Lists []BoardRow `json:"lists"`
}

// SuccessBoard reads every list.
func (s *Service) SuccessBoard(ctx context.Context) (Board, error) {
	lists, err := s.Store.Lists(ctx, "")
	if err != nil {
		return Board{}, err
	}
	costs, err := s.Store.Costs(ctx)
	if err != nil {
		return Board{}, err
	}
	b := Board{Lists: []BoardRow{}}
	for _, l := range lists {
		row, err := s.boardRow(ctx, l, costs)
		if err != nil {
			return Board{}, err
		}
		b.Lists = append(b.Lists, row)
	}
	return b, nil
}

// BoardRow is one list's row of the success board, read alone (the list
// page shows it without reading every other list).
func (s *Service) BoardRow(ctx context.Context, listID string) (BoardRow, error) {
	l, err := s.Store.List(ctx, listID)
	if err != nil {
		return BoardRow{}, err
	}
	costs, err := s.Store.Costs(ctx)
	if err != nil {
		return BoardRow{}, err
	}
	return s.boardRow(ctx, l, costs)
}

func ptr(v float64) *float64 { return &v }

func (s *Service) boardRow(ctx context.Context, l store.TargetList, costs []store.Cost) (BoardRow, error) {
	from, to := window(l)
	rows, err := s.Store.ListResults(ctx, l.ID, from, to)
	if err != nil {
		return BoardRow{}, err
	}
	exp, err := s.Store.ExperimentOfList(ctx, l.ID)
	if err != nil {
		return BoardRow{}, err
	}
	r := BoardRow{ListID: l.ID, Name: l.Name, InitiativeID: l.InitiativeID, CreatedAt: l.CreatedAt, WindowComplete: !s.now().Before(to), Size: len(rows)}
	var treatedRev, controlRev []float64
	var treatedConv, controlConv int
	for _, e := range rows {
		if exp != nil && e.Arm == exp.Control {
			controlRev = append(controlRev, e.Revenue)
			if e.Orders > 0 {
				controlConv++
			}
			continue
		}
		r.Treated++
		treatedRev = append(treatedRev, e.Revenue)
		r.RevenueAttributed += e.Revenue
		if e.Orders > 0 {
			treatedConv++
		}
		if e.Outcome != "" {
			r.Contacted++
			if Responded(e.Outcome) {
				r.Responded++
			}
		}
	}
	for _, c := range costs {
		if c.ListID == l.ID {
			r.Cost += c.Total()
		}
	}
	if r.Contacted > 0 {
		r.ResponseRate = ptr(float64(r.Responded) / float64(r.Contacted))
	}
	if r.Treated > 0 {
		r.ConversionRate = float64(treatedConv) / float64(r.Treated)
	}
	gain := r.RevenueAttributed
	if exp != nil && len(controlRev) > 0 && r.Treated > 0 {
		r.ExperimentID = exp.ID
		r.Baseline = Baseline{Kind: "control", Rate: float64(controlConv) / float64(len(controlRev)), N: int64(len(controlRev))}
		pt, err := experiment.CompareProportions(experiment.Proportion{Successes: controlConv, N: len(controlRev)},
			experiment.Proportion{Successes: treatedConv, N: r.Treated}, experiment.DefaultConfidence)
		if err != nil {
			return BoardRow{}, err
		}
		r.Lift, r.LiftLow, r.LiftHigh, r.PValue = pt.Uplift, ptr(pt.CILow), ptr(pt.CIHigh), ptr(pt.PValue)
		if len(controlRev) > 1 && r.Treated > 1 {
			mt, err := experiment.CompareMeans(experiment.Summarize(controlRev), experiment.Summarize(treatedRev), experiment.DefaultConfidence)
			if err == nil {
				n := float64(r.Treated)
				r.IncrementalRevenue, r.IncrementalLow, r.IncrementalHigh = ptr(mt.Difference*n), ptr(mt.CILow*n), ptr(mt.CIHigh*n)
				r.incrementalSE = mt.SE * n
				gain = mt.Difference * n
			}
		}
		r.ReadingEN = fmt.Sprintf("Contacted customers bought at %.1f%% against %.1f%% in the control group: %+.1f points (95%% CI %+.1f to %+.1f, p = %.3g)%s.",
			100*r.ConversionRate, 100*r.Baseline.Rate, 100*r.Lift, 100*pt.CILow, 100*pt.CIHigh, pt.PValue, significance(pt.PValue, false))
		r.ReadingZH = fmt.Sprintf("接触组购买率 %.1f%%，对照组 %.1f%%：%+.1f 个百分点（95%% 置信区间 %+.1f 至 %+.1f，p = %.3g）%s。",
			100*r.ConversionRate, 100*r.Baseline.Rate, 100*r.Lift, 100*pt.CILow, 100*pt.CIHigh, pt.PValue, significance(pt.PValue, true))
	} else {
		buyers, customers, err := s.Store.PurchaseRate(ctx, from.Add(-(to.Sub(from))), from)
		if err != nil {
			return BoardRow{}, err
		}
		r.Baseline = Baseline{Kind: "historical", N: customers}
		if customers > 0 {
			r.Baseline.Rate = float64(buyers) / float64(customers)
		}
		r.Lift = r.ConversionRate - r.Baseline.Rate
		r.ReadingEN = fmt.Sprintf("List customers bought at %.1f%% against the workspace's %.1f%% over the %d days before the list: %+.1f points; without a control group this is not a measured effect.",
			100*r.ConversionRate, 100*r.Baseline.Rate, l.AttributionDays, 100*r.Lift)
		r.ReadingZH = fmt.Sprintf("名单客户购买率 %.1f%%，工作区在名单前 %d 天的购买率为 %.1f%%：%+.1f 个百分点；没有对照组，这不是经测量的效果。",
			100*r.ConversionRate, l.AttributionDays, 100*r.Baseline.Rate, 100*r.Lift)
	}
	if r.Cost > 0 {
		r.Return = ptr((gain - r.Cost) / r.Cost)
	}
	return r, nil
}

func significance(p float64, zh bool) string {
	sig := p < 1-experiment.DefaultConfidence
	switch {
	case zh && sig:
		return "；显著"
	case zh:
		return "；不显著"
	case sig:
		return "; significant"
	}
	return "; not significant"
}

// PortfolioRow is one initiative, measured.
type PortfolioRow struct {
	store.Initiative
	Lists              int      `json:"lists"`
	Controlled         int      `json:"controlled_lists"`
	Cost               float64  `json:"cost"`
	RevenueAttributed  float64  `json:"revenue_attributed"`
	IncrementalRevenue *float64 `json:"incremental_revenue,omitempty"`
	IncrementalLow     *float64 `json:"incremental_revenue_ci_low,omitempty"`
	IncrementalHigh    *float64 `json:"incremental_revenue_ci_high,omitempty"`
	// ReturnPerCost is incremental revenue per unit of cost, with its 95%
	// interval; absent without a control group or a cost.
	ReturnPerCost     *float64 `json:"return_per_cost,omitempty"`
	ReturnPerCostLow  *float64 `json:"return_per_cost_ci_low,omitempty"`
	ReturnPerCostHigh *float64 `json:"return_per_cost_ci_high,omitempty"`
	// Flag is scale, stop, continue or measure.
	Flag      string `json:"flag"`
	ReadingEN string `json:"reading_en"`
	ReadingZH string `json:"reading_zh"`
}

// Portfolio is every initiative ranked by measured return per unit cost.
type Portfolio struct {
	Initiatives []PortfolioRow `json:"initiatives"`
}

// Portfolio ranks initiatives by incremental revenue per unit cost (from
// their lists' control groups) and flags which to scale (the whole 95%
// interval pays back the cost), stop (the whole interval falls short),
// continue (undecided) or measure (no control group or no cost yet).
func (s *Service) Portfolio(ctx context.Context) (Portfolio, error) {
	ins, err := s.Store.Initiatives(ctx)
	if err != nil {
		return Portfolio{}, err
	}
	board, err := s.SuccessBoard(ctx)
	if err != nil {
		return Portfolio{}, err
	}
	costs, err := s.Store.Costs(ctx)
	if err != nil {
		return Portfolio{}, err
	}
	z := 1.959963984540054
	p := Portfolio{Initiatives: []PortfolioRow{}}
	for _, in := range ins {
		row := PortfolioRow{Initiative: in}
		for _, c := range costs {
			if c.InitiativeID == in.ID {
				row.Cost += c.Total()
			}
		}
		var inc, variance float64
		for _, l := range board.Lists {
			if l.InitiativeID != in.ID {
				continue
			}
			row.Lists++
			row.Cost += l.Cost
			row.RevenueAttributed += l.RevenueAttributed
			if l.IncrementalRevenue != nil {
				row.Controlled++
				inc += *l.IncrementalRevenue
				variance += l.incrementalSE * l.incrementalSE
			}
		}
		if row.Controlled > 0 {
			sd := math.Sqrt(variance)
			row.IncrementalRevenue, row.IncrementalLow, row.IncrementalHigh = ptr(inc), ptr(inc-z*sd), ptr(inc+z*sd)
		}
		switch {
		case row.Controlled == 0:
			row.Flag = "measure"
			row.ReadingEN = "No list of this initiative has a control group yet: its effect is not measured."
			row.ReadingZH = "该举措的名单尚无对照组：效果未经测量。"
		case row.Cost <= 0:
			row.Flag = "measure"
			row.ReadingEN = fmt.Sprintf("Incremental revenue %.0f (95%% CI %.0f to %.0f); enter its costs to compare the return.", inc, *row.IncrementalLow, *row.IncrementalHigh)
			row.ReadingZH = fmt.Sprintf("增量收入 %.0f（95%% 置信区间 %.0f 至 %.0f）；请录入成本以比较回报。", inc, *row.IncrementalLow, *row.IncrementalHigh)
		default:
			row.ReturnPerCost = ptr(inc / row.Cost)
			row.ReturnPerCostLow, row.ReturnPerCostHigh = ptr(*row.IncrementalLow/row.Cost), ptr(*row.IncrementalHigh/row.Cost)
			switch {
			case *row.ReturnPerCostLow > 1:
				row.Flag = "scale"
			case *row.ReturnPerCostHigh < 1:
				row.Flag = "stop"
			default:
				row.Flag = "continue"
			}
			en := map[string]string{"scale": "scale it: even the low end of the interval pays back the cost",
				"stop": "stop it: even the high end of the interval does not pay back the cost", "continue": "keep measuring: the interval straddles break-even"}
			zh := map[string]string{"scale": "建议扩大：区间下限也能收回成本", "stop": "建议停止：区间上限也收不回成本", "continue": "继续测量：区间跨越盈亏平衡点"}
			row.ReadingEN = fmt.Sprintf("Each 1 spent returned %.2f in incremental revenue (95%% CI %.2f to %.2f); %s.", *row.ReturnPerCost, *row.ReturnPerCostLow, *row.ReturnPerCostHigh, en[row.Flag])
			row.ReadingZH = fmt.Sprintf("每投入 1 元带来增量收入 %.2f 元（95%% 置信区间 %.2f 至 %.2f）；%s。", *row.ReturnPerCost, *row.ReturnPerCostLow, *row.ReturnPerCostHigh, zh[row.Flag])
		}
		p.Initiatives = append(p.Initiatives, row)
	}
	slices.SortStableFunc(p.Initiatives, func(a, b PortfolioRow) int {
		switch {
		case a.ReturnPerCost == nil && b.ReturnPerCost == nil:
			return 0
		case a.ReturnPerCost == nil:
			return 1
		case b.ReturnPerCost == nil:
			return -1
		}
		return cmp.Compare(*b.ReturnPerCost, *a.ReturnPerCost)
	})
	return p, nil
}

// InitiativeSpec describes a new initiative.
type InitiativeSpec struct {
	Name       string
	Hypothesis string
	SegmentID  string
	Budget     float64
	Stage      string
}

// CreateInitiative validates and stores an initiative (stage explore by default).
func (s *Service) CreateInitiative(ctx context.Context, a store.Actor, sp InitiativeSpec) (store.Initiative, error) {
	var fe []errs.FieldError
	if sp.Name == "" || len(sp.Name) > 200 {
		fe = append(fe, errs.FieldError{Field: "body.name", Message: "must be 1–200 bytes / 名称须为 1–200 字节", Value: sp.Name})
	}
	if sp.Stage == "" {
		sp.Stage = "explore"
	}
	if !slices.Contains(store.InitiativeStages, sp.Stage) {
		fe = append(fe, errs.FieldError{Field: "body.stage", Message: "must be explore, pilot, scale or stopped / 须为 explore、pilot、scale 或 stopped", Value: sp.Stage})
	}
	if sp.Budget < 0 || math.IsNaN(sp.Budget) || math.IsInf(sp.Budget, 0) {
		fe = append(fe, errs.FieldError{Field: "body.budget", Message: "must be a non-negative number / 须为非负数", Value: sp.Budget})
	}
	if len(fe) > 0 {
		return store.Initiative{}, errs.Validation(fe...)
	}
	in := store.Initiative{ID: customer.NewID(), Name: sp.Name, Hypothesis: sp.Hypothesis, SegmentID: sp.SegmentID, Budget: sp.Budget, Stage: sp.Stage, CreatedAt: s.now()}
	return in, s.Store.CreateInitiative(ctx, a, &in)
}

// SetStage moves an initiative along explore → pilot → scale, or stops it.
func (s *Service) SetStage(ctx context.Context, a store.Actor, id, stage string) (store.Initiative, error) {
	if !slices.Contains(store.InitiativeStages, stage) {
		return store.Initiative{}, errs.Validation(errs.FieldError{Field: "body.stage", Message: "must be explore, pilot, scale or stopped / 须为 explore、pilot、scale 或 stopped", Value: stage})
	}
	return s.Store.SetInitiativeStage(ctx, a, id, stage, s.now())
}

// AddCost records people-hours × rate and money spent on an initiative or a list.
func (s *Service) AddCost(ctx context.Context, a store.Actor, c store.Cost) (store.Cost, error) {
	var fe []errs.FieldError
	for _, f := range []struct {
		name string
		v    float64
	}{{"hours", c.Hours}, {"hourly_rate", c.HourlyRate}, {"money", c.Money}} {
		if f.v < 0 || math.IsNaN(f.v) || math.IsInf(f.v, 0) {
			fe = append(fe, errs.FieldError{Field: "body." + f.name, Message: "must be a non-negative number / 须为非负数", Value: f.v})
		}
	}
	if (c.InitiativeID == "") == (c.ListID == "") {
		fe = append(fe, errs.FieldError{Field: "body.initiative_id", Message: "name exactly one of initiative_id or list_id / initiative_id 与 list_id 须且仅须指定一个"})
	}
	if len(fe) > 0 {
		return c, errs.Validation(fe...)
	}
	c.ID, c.CreatedAt = customer.NewID(), s.now()
	return c, s.Store.AddCost(ctx, a, c)
}
