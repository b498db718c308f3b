package insight

import (
	"context"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/rapportcrm/rapport/internal/analytics/churn"
	"github.com/rapportcrm/rapport/internal/analytics/value"
	"github.com/rapportcrm/rapport/internal/errs"
	"github.com/rapportcrm/rapport/internal/store"
)

// Params are a fitted repeat-purchase model's parameters: r, alpha, a, b
// for BG/NBD; r, alpha, s, beta for Pareto/NBD.
type Params struct {
	R      float64 `json:"r"`
	Alpha  float64 `json:"alpha"`
	A      float64 `json:"a,omitempty"`
	B      float64 `json:"b,omitempty"`
	S      float64 `json:"s,omitempty"`
	Beta   float64 `json:"beta,omitempty"`
	LogLik float64 `json:"loglik"`
}

// SpendParams are the fitted Gamma-Gamma spend model's parameters.
type SpendParams struct {
	P         float64 `json:"p"`
	Q         float64 `json:"q"`
	Gamma     float64 `json:"gamma"`
	LogLik    float64 `json:"loglik"`
	MeanSpend float64 `json:"mean_spend"` // the population's expected transaction value
}

// HoldoutCheck compares the model, refitted on the history before the
// holdout period, with what customers actually did in it.
type HoldoutCheck struct {
	Days           int       `json:"days"`
	CalibrationEnd time.Time `json:"calibration_end"`
	Customers      int       `json:"customers"`
	Actual         float64   `json:"actual_repeat_purchases"`
	Predicted      float64   `json:"predicted_repeat_purchases"`
	ErrorPct       float64   `json:"error_pct"`
	MAE            float64   `json:"mae"`
	RMSE           float64   `json:"rmse"`
	Params         *Params   `json:"calibration_params"`
}

// Quantile is one point of a distribution.
type Quantile struct {
	Q     float64 `json:"q"`
	Value float64 `json:"value"`
}

// Bucket is one bar of a histogram: customers with From <= value < To.
type Bucket struct {
	From      float64 `json:"from"`
	To        float64 `json:"to"`
	Customers int     `json:"customers"`
}

// Distribution summarises per-customer values.
type Distribution struct {
	Customers int        `json:"customers"`
	Total     float64    `json:"total"`
	Mean      float64    `json:"mean"`
	Quantiles []Quantile `json:"quantiles"`
	Histogram []Bucket   `json:"histogram"`
}

// CLVReport is the lifetime-value model: parameters, fit date, holdout
// accuracy and the distribution of CLV over customers.
type CLVReport struct {
	FittedAt     time.Time         `json:"fitted_at"`
	Model        string            `json:"model"`
	Unit         string            `json:"unit"`
	HorizonDays  int               `json:"horizon_days"`
	DiscountRate float64           `json:"discount_rate"`
	Customers    int               `json:"customers"` // buyers the model was fitted on
	Repeaters    int               `json:"repeaters"`
	Params       *Params           `json:"params,omitempty"`
	Spend        *SpendParams      `json:"spend,omitempty"`
	Holdout      *HoldoutCheck     `json:"holdout,omitempty"`
	Churn        *ChurnModelReport `json:"churn,omitempty"`
	Distribution *Distribution     `json:"distribution,omitempty"`
	Note         string            `json:"note,omitempty"`
	Version      uint64            `json:"version"`
}

// CLV returns the lifetime-value model report.
func (s *Service) CLV(ctx context.Context) (CLVReport, error) {
	return cache(s, ctx, "clv", func(snap *snapshot) (CLVReport, error) {
		rep := snap.models.report
		if snap.models.tm != nil {
			var vals []float64
			for _, i := range snap.rank.live {
				if r := &snap.rows[i]; r.p().hasModel {
					vals = append(vals, r.p().clv)
				}
			}
			d := distribution(vals)
			rep.Distribution = &d
		}
		return rep, nil
	})
}

// distribution summarises vals (sorted in place).
func distribution(vals []float64) Distribution {
	d := Distribution{Customers: len(vals), Quantiles: []Quantile{}, Histogram: []Bucket{}}
	if len(vals) == 0 {
		return d
	}
	slices.Sort(vals)
	for _, v := range vals {
		d.Total += v
	}
	d.Mean = d.Total / float64(len(vals))
	for _, q := range []float64{0.1, 0.25, 0.5, 0.75, 0.9, 0.99, 1} {
		d.Quantiles = append(d.Quantiles, Quantile{Q: q, Value: vals[min(len(vals)-1, int(math.Ceil(q*float64(len(vals))))-1+boolInt(q == 0))]})
	}
	// Ten buckets up to the 99th percentile, the tail in the last one.
	lo, hi := vals[0], vals[min(len(vals)-1, int(0.99*float64(len(vals))))]
	if hi <= lo {
		hi = vals[len(vals)-1]
	}
	if hi <= lo {
		d.Histogram = append(d.Histogram, Bucket{From: lo, To: lo, Customers: len(vals)})
		return d
	}
	w := (hi - lo) / 10
	for b := range 10 {
		d.Histogram = append(d.Histogram, Bucket{From: lo + float64(b)*w, To: lo + float64(b+1)*w})
	}
	d.Histogram[9].To = vals[len(vals)-1]
	for _, v := range vals {
		b := min(9, int((v-lo)/w))
		d.Histogram[b].Customers++
	}
	return d
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// GridCell is one cell of the R × FM segment grid.
type GridCell struct {
	R         int           `json:"r"`
	FM        int           `json:"fm"`
	Segment   value.Segment `json:"segment"`
	Label     value.Label   `json:"label"`
	Customers int           `json:"customers"`
}

// RFMReport is the RFM segmentation of every customer.
type RFMReport struct {
	AsOf            time.Time              `json:"as_of"`
	WindowDays      int                    `json:"window_days"`
	Customers       int                    `json:"customers"`
	Ranked          int                    `json:"ranked"`
	Lapsed          int                    `json:"lapsed"`
	LapsedAfterDays int                    `json:"lapsed_after_days"`
	Segments        []value.SegmentSummary `json:"segments"`
	Skipped         value.RFMSkips         `json:"skipped"`
	Grid            [][]GridCell           `json:"grid"` // rows R = 5..1, columns FM = 1..5
	Version         uint64                 `json:"version"`
}

// RFM returns segment counts and revenue with bilingual names and the grid.
func (s *Service) RFM(ctx context.Context) (RFMReport, error) {
	return cache(s, ctx, "rfm", func(snap *snapshot) (RFMReport, error) {
		rk := snap.rank
		rep := RFMReport{AsOf: rk.asOf, WindowDays: snap.profile.RFMWindowDays, Customers: len(rk.live), Ranked: rk.rfm.Ranked,
			Lapsed: rk.lapsed, LapsedAfterDays: snap.profile.LapsedAfterDays, Segments: rk.rfm.Segments, Skipped: rk.rfm.Skipped}
		var counts [5][5]int
		for _, sc := range rk.rfm.Scores {
			if sc.R > 0 {
				counts[5-sc.R][(sc.F+sc.M+1)/2-1]++
			}
		}
		grid := value.DefaultSegmentGrid()
		for ri := range 5 {
			r := 5 - ri
			var line []GridCell
			for fm := 1; fm <= 5; fm++ {
				seg := grid[r-1][fm-1]
				line = append(line, GridCell{R: r, FM: fm, Segment: seg, Label: seg.Label(), Customers: counts[ri][fm-1]})
			}
			rep.Grid = append(rep.Grid, line)
		}
		return rep, nil
	})
}

// Interval is a closed range of calendar dates.
type Interval struct {
	Start time.Time `json:"start"`
	End   time.Time `json:"end"` // inclusive
}

// ParseInterval reads "YYYY-MM-DD/YYYY-MM-DD" (ISO 8601 interval of dates).
func ParseInterval(s string) (Interval, error) {
	a, b, ok := strings.Cut(s, "/")
	if !ok {
		a, b, ok = strings.Cut(s, "..")
	}
	if !ok {
		return Interval{}, fmt.Errorf("%q is not START/END (e.g. 2024-01-01/2024-12-31)", s)
	}
	start, err1 := time.Parse(time.DateOnly, strings.TrimSpace(a))
	end, err2 := time.Parse(time.DateOnly, strings.TrimSpace(b))
	if err1 != nil || err2 != nil {
		return Interval{}, fmt.Errorf("%q: dates must be YYYY-MM-DD", s)
	}
	if end.Before(start) {
		return Interval{}, fmt.Errorf("%q ends before it starts", s)
	}
	return Interval{Start: start, End: end}, nil
}

func (iv Interval) contains(unix int64) bool {
	return unix >= iv.Start.Unix() && unix < iv.End.Unix()+86400
}

// TierQuery asks for the migration between two periods and the length of
// the upgrade list.
type TierQuery struct {
	From, To     *Interval
	UpgradeLimit int // zero means 100
}

// UpgradeRow is a customer predicted to climb the pyramid.
type UpgradeRow struct {
	CustomerID string     `json:"customer_id"`
	Name       string     `json:"name"`
	Current    value.Tier `json:"current"`
	Predicted  value.Tier `json:"predicted"`
	Gap        int        `json:"gap"`
	Historical float64    `json:"historical_value"`
	Future     float64    `json:"predicted_value"`
}

// MoveRow is one customer who changed tier between the two periods.
type MoveRow struct {
	CustomerID string     `json:"customer_id"`
	Name       string     `json:"name"`
	From       value.Tier `json:"from"`
	To         value.Tier `json:"to"`
}

// MigrationReport is the tier-to-tier movement between two periods, each
// customer tiered by the revenue they brought within the period.
type MigrationReport struct {
	From   Interval    `json:"from"`
	To     Interval    `json:"to"`
	Tiers  []TierLabel `json:"tiers"`  // rows and columns of Matrix: none, platinum … bronze
	Matrix [][]int     `json:"matrix"` // Matrix[from][to]
	Up     int         `json:"up"`
	Down   int         `json:"down"`
	Same   int         `json:"same"`
	Moves  []MoveRow   `json:"moves"` // up to 500, in customer order
	Total  int         `json:"moves_total"`
}

// TierLabel names a tier.
type TierLabel struct {
	ID    value.Tier  `json:"id"`
	Label value.Label `json:"label"`
}

// TierReport is the customer pyramid by historical and by predicted value.
type TierReport struct {
	Cuts       value.TierCuts      `json:"cuts"`
	Historical []value.TierSummary `json:"historical"`
	Predicted  []value.TierSummary `json:"predicted"`
	Upgrades   []UpgradeRow        `json:"upgrades"`
	UpgradeAll int                 `json:"upgrades_total"`
	Migration  *MigrationReport    `json:"migration,omitempty"`
	Version    uint64              `json:"version"`
}

// Tiers returns the pyramids, the upgrade list and, when q names two
// periods, the migration between them.
func (s *Service) Tiers(ctx context.Context, q TierQuery) (TierReport, error) {
	if (q.From == nil) != (q.To == nil) {
		return TierReport{}, errs.Validation(errs.FieldError{Field: "query.to", Message: "give both from and to periods, or neither"})
	}
	limit := q.UpgradeLimit
	if limit <= 0 {
		limit = 100
	}
	rep, err := cache(s, ctx, fmt.Sprintf("tiers/%d", limit), func(snap *snapshot) (TierReport, error) {
		rk := snap.rank
		rep := TierReport{Cuts: snap.profile.TierCuts, Historical: rk.hist.Summary, Predicted: rk.pred.Summary, Upgrades: []UpgradeRow{}}
		hv, pv := make([]float64, len(rk.buyers)), make([]float64, len(rk.buyers))
		for j, k := range rk.buyers {
			r := &snap.rows[rk.live[k]]
			hv[j], pv[j] = r.p().revenue, r.p().clv
		}
		if snap.models.tm != nil {
			ups, err := value.UpgradeCandidates(hv, pv, snap.profile.TierCuts)
			if err != nil {
				return rep, err
			}
			rep.UpgradeAll = len(ups)
			for _, u := range ups[:min(limit, len(ups))] {
				r := &snap.rows[rk.live[rk.buyers[u.Customer]]]
				rep.Upgrades = append(rep.Upgrades, UpgradeRow{CustomerID: snap.ids.str(r.id), Name: r.name, Current: u.Current, Predicted: u.Predicted,
					Gap: u.Gap, Historical: u.Historical, Future: u.Future})
			}
		}
		return rep, nil
	})
	if err != nil || q.From == nil {
		return rep, err
	}
	key := fmt.Sprintf("migration/%d/%d/%d/%d", q.From.Start.Unix(), q.From.End.Unix(), q.To.Start.Unix(), q.To.End.Unix())
	mig, err := cache(s, ctx, key, func(snap *snapshot) (MigrationReport, error) {
		log, err := s.orderLog(ctx, snap)
		if err != nil {
			return MigrationReport{}, err
		}
		return migration(snap, log, *q.From, *q.To)
	})
	if err != nil {
		return rep, err
	}
	rep.Migration = &mig
	return rep, nil
}

func migration(snap *snapshot, log *orderLog, from, to Interval) (MigrationReport, error) {
	n := len(snap.rows)
	a, b := make([]float64, n), make([]float64, n)
	for k, c := range log.cust {
		if from.contains(log.at[k]) {
			a[c] += log.amt[k]
		}
		if to.contains(log.at[k]) {
			b[c] += log.amt[k]
		}
	}
	cuts := snap.profile.TierCuts
	tierPositive := func(vals []float64) ([]value.Tier, error) {
		var idx []int
		var pos []float64
		for i, v := range vals {
			if v > 0 && !snap.rows[i].dead {
				idx = append(idx, i)
				pos = append(pos, v)
			}
		}
		res, err := value.AssignTiers(pos, cuts)
		if err != nil {
			return nil, err
		}
		out := make([]value.Tier, len(vals))
		for j, i := range idx {
			out[i] = res.Tiers[j]
		}
		return out, nil
	}
	ta, err := tierPositive(a)
	if err != nil {
		return MigrationReport{}, err
	}
	tb, err := tierPositive(b)
	if err != nil {
		return MigrationReport{}, err
	}
	// Only customers tiered in at least one of the periods take part.
	var before, after []value.Tier
	var who []int
	for i := range ta {
		if ta[i] != value.TierNone || tb[i] != value.TierNone {
			before, after, who = append(before, ta[i]), append(after, tb[i]), append(who, i)
		}
	}
	m, err := value.MigrateTiers(before, after)
	if err != nil {
		return MigrationReport{}, err
	}
	rep := MigrationReport{From: from, To: to, Up: m.Up, Down: m.Down, Same: m.Same, Total: len(m.Moves), Moves: []MoveRow{}}
	all := append([]value.Tier{value.TierNone}, value.Tiers()...)
	for _, t := range all {
		rep.Tiers = append(rep.Tiers, TierLabel{ID: t, Label: t.Label()})
		line := make([]int, len(all))
		for j, u := range all {
			line[j] = m.Matrix[t][u]
		}
		rep.Matrix = append(rep.Matrix, line)
	}
	for _, mv := range m.Moves[:min(500, len(m.Moves))] {
		r := &snap.rows[who[mv.Customer]]
		rep.Moves = append(rep.Moves, MoveRow{CustomerID: snap.ids.str(r.id), Name: r.name, From: mv.From, To: mv.To})
	}
	return rep, nil
}

// ParetoSide is the concentration curve of one value with its reading.
type ParetoSide struct {
	Curve   value.ParetoCurve `json:"curve"`
	Reading value.Label       `json:"reading"` // what the top 20% bring
	Top1    value.Label       `json:"reading_top_1pct"`
}

// ParetoReport is the Pareto curve of historical revenue and, once a model
// is fitted, of predicted value.
type ParetoReport struct {
	Revenue   ParetoSide  `json:"revenue"`
	Predicted *ParetoSide `json:"predicted,omitempty"`
	Version   uint64      `json:"version"`
}

// Pareto returns the share of value brought by the top x% of customers.
func (s *Service) Pareto(ctx context.Context) (ParetoReport, error) {
	return cache(s, ctx, "pareto", func(snap *snapshot) (ParetoReport, error) {
		rk := snap.rank
		hv, pv := make([]float64, len(rk.buyers)), make([]float64, len(rk.buyers))
		for j, k := range rk.buyers {
			r := &snap.rows[rk.live[k]]
			hv[j], pv[j] = r.p().revenue, r.p().clv
		}
		side := func(vals []float64, metric value.Label) (ParetoSide, error) {
			c, err := value.Pareto(vals, 100)
			if err != nil {
				return ParetoSide{}, err
			}
			return ParetoSide{Curve: c, Reading: c.Reading(0.2, metric), Top1: c.Reading(0.01, metric)}, nil
		}
		var rep ParetoReport
		var err error
		if rep.Revenue, err = side(hv, value.Label{EN: "revenue", ZH: "收入"}); err != nil {
			return rep, err
		}
		if snap.models.tm != nil {
			p, err := side(pv, value.Label{EN: "predicted value", ZH: "预测价值"})
			if err != nil {
				return rep, err
			}
			rep.Predicted = &p
		}
		return rep, nil
	})
}

// CohortReport is the acquisition-cohort retention matrix and the
// repeat-revenue curves, in the business's period.
type CohortReport struct {
	value.CohortTable
	Version uint64 `json:"version"`
}

// Cohorts returns the acquisition-cohort report.
func (s *Service) Cohorts(ctx context.Context) (CohortReport, error) {
	return cache(s, ctx, "cohorts", func(snap *snapshot) (CohortReport, error) {
		log, err := s.orderLog(ctx, snap)
		if err != nil {
			return CohortReport{}, err
		}
		orders := make([]value.Order, len(log.cust))
		for k := range log.cust {
			orders[k] = value.Order{Customer: log.cust[k], At: log.at[k], Amount: log.amt[k]}
		}
		t, err := value.Cohorts(orders, len(snap.rows), value.CohortOptions{PeriodDays: snap.profile.CohortPeriodDays})
		if err != nil {
			return CohortReport{}, errs.E(errs.Invalid, "cohorts: %v", err)
		}
		if t.Cohorts == nil {
			t.Cohorts = []value.Cohort{}
		}
		return CohortReport{CohortTable: t}, nil
	})
}

// AssociationQuery sets the rule thresholds and, optionally, a customer to
// suggest products for.
type AssociationQuery struct {
	Level         string  // "product" (default) or "category"
	MinSupport    float64 // zero means 0.01
	MinConfidence float64 // zero means 0.1
	Limit         int     // rules listed; zero means 100
	CustomerID    string
}

// AssociationReport lists product association rules and, for a customer,
// cross-sell suggestions.
type AssociationReport struct {
	Level         string                     `json:"level"`
	MinSupport    float64                    `json:"min_support"`
	MinConfidence float64                    `json:"min_confidence"`
	Baskets       int                        `json:"baskets"`
	RulesTotal    int                        `json:"rules_total"`
	Rules         []value.Rule[string]       `json:"rules"`
	Names         map[string]string          `json:"names"` // item id → display name
	CustomerID    string                     `json:"customer_id,omitempty"`
	Bought        []string                   `json:"bought,omitempty"`
	Suggestions   []value.Suggestion[string] `json:"suggestions,omitempty"`
	Version       uint64                     `json:"version"`
}

type ruleCache struct {
	set   value.RuleSet[string]
	names map[string]string
}

// Associations returns association rules between products (or categories)
// bought in the same order, and cross-sell suggestions for q.CustomerID.
func (s *Service) Associations(ctx context.Context, q AssociationQuery) (AssociationReport, error) {
	if q.Level == "" {
		q.Level = "product"
	}
	if q.Level != "product" && q.Level != "category" {
		return AssociationReport{}, errs.Validation(errs.FieldError{Field: "query.level", Message: "must be product or category", Value: q.Level})
	}
	if q.MinSupport == 0 {
		q.MinSupport = 0.01
	}
	if q.MinConfidence == 0 {
		q.MinConfidence = 0.1
	}
	if q.Limit <= 0 {
		q.Limit = 100
	}
	key := fmt.Sprintf("rules/%s/%g/%g", q.Level, q.MinSupport, q.MinConfidence)
	rc, err := cache(s, ctx, key, func(snap *snapshot) (ruleCache, error) {
		var baskets [][]string
		names := map[string]string{}
		cur := ""
		err := s.store.ScanCompletedOrderItems(ctx, nil, func(it *store.AnalyticsItem) error {
			k := itemKey(it, q.Level)
			if k == "" {
				return nil
			}
			if it.OrderID != cur || len(baskets) == 0 {
				cur = it.OrderID
				baskets = append(baskets, nil)
			}
			baskets[len(baskets)-1] = append(baskets[len(baskets)-1], k)
			if _, ok := names[k]; !ok {
				names[k] = cmpOr(it.Name, k)
				if q.Level == "category" {
					names[k] = k
				}
			}
			return nil
		})
		if err != nil {
			return ruleCache{}, err
		}
		set, err := value.AssociationRules(baskets, value.RuleOptions{MinSupport: q.MinSupport, MinConfidence: q.MinConfidence})
		if err != nil {
			return ruleCache{}, errs.Validation(errs.FieldError{Field: "query.min_support", Message: err.Error()})
		}
		return ruleCache{set: set, names: names}, nil
	})
	if err != nil {
		return AssociationReport{}, err
	}
	rep := AssociationReport{Level: q.Level, MinSupport: q.MinSupport, MinConfidence: q.MinConfidence, Baskets: rc.set.Baskets,
		RulesTotal: len(rc.set.Rules), Rules: rc.set.Rules[:min(q.Limit, len(rc.set.Rules))], Names: map[string]string{}, Version: s.Version()}
	if rep.Rules == nil {
		rep.Rules = []value.Rule[string]{}
	}
	for _, r := range rep.Rules {
		rep.Names[r.If], rep.Names[r.Then] = rc.names[r.If], rc.names[r.Then]
	}
	if q.CustomerID != "" {
		bought, err := s.bought(ctx, q.CustomerID, q.Level)
		if err != nil {
			return AssociationReport{}, err
		}
		rep.CustomerID, rep.Bought = q.CustomerID, bought
		rep.Suggestions = value.CrossSell(rc.set.Rules, bought, 10)
		if rep.Suggestions == nil {
			rep.Suggestions = []value.Suggestion[string]{}
		}
		for _, sg := range rep.Suggestions {
			rep.Names[sg.Item], rep.Names[sg.Because] = rc.names[sg.Item], rc.names[sg.Because]
		}
	}
	return rep, nil
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// itemKey is what an order line counts as in a basket.
func itemKey(it *store.AnalyticsItem, level string) string {
	if level == "category" {
		return it.Category
	}
	return cmpOr(it.ProductID, cmpOr(it.SKU, it.Name))
}

// bought lists the distinct items a customer has bought.
func (s *Service) bought(ctx context.Context, customerID, level string) ([]string, error) {
	snap, err := s.current(ctx)
	if err != nil {
		return nil, err
	}
	s.mu.RLock()
	_, ok := snap.lookup(customerID)
	s.mu.RUnlock()
	if !ok {
		return nil, errs.E(errs.NotFound, "customer %s not found", customerID)
	}
	var out []string
	err = s.store.ScanCompletedOrderItems(ctx, []string{customerID}, func(it *store.AnalyticsItem) error {
		if k := itemKey(it, level); k != "" {
			out = append(out, k)
		}
		return nil
	})
	slices.Sort(out)
	return slices.Compact(out), err
}

// SegmentProfitRow is an RFM segment's profit, flagged when it loses money.
type SegmentProfitRow struct {
	value.SegmentProfit
	Unprofitable bool `json:"unprofitable"`
}

// TierProfitRow is a tier's profit, flagged when it loses money.
type TierProfitRow struct {
	Tier      value.Tier  `json:"id"`
	Label     value.Label `json:"label"`
	Customers int         `json:"customers"`
	value.Profit
	Unprofitable bool `json:"unprofitable"`
}

// ProfitabilityReport is revenue − cost of goods − cost to serve −
// marketing, per RFM segment and per tier.
type ProfitabilityReport struct {
	Total                 value.Profit       `json:"total"`
	Customers             int                `json:"customers"`
	UnprofitableCustomers int                `json:"unprofitable_customers"`
	Segments              []SegmentProfitRow `json:"segments"`
	Tiers                 []TierProfitRow    `json:"tiers"`
	UnprofitableSegments  []value.Segment    `json:"unprofitable_segments"`
	CostToServe           map[string]float64 `json:"cost_to_serve"`
	MarketingPerCustomer  float64            `json:"marketing_cost_per_customer"`
	UncostedInteractions  map[string]int     `json:"uncosted_interactions"` // kinds with no unit cost in the profile
	BadRows               int                `json:"bad_rows"`
	Version               uint64             `json:"version"`
}

// profits computes every live customer's profit, aligned with rank.live.
func profits(snap *snapshot) ([]value.Profit, value.ProfitReport, error) {
	costs := make([]value.CustomerCosts, len(snap.rank.live))
	for k, i := range snap.rank.live {
		r := &snap.rows[i]
		costs[k] = value.CustomerCosts{Revenue: r.p().revenue, GoodsCost: r.p().goods, Marketing: snap.marketing(r), Interactions: r.x().kinds}
	}
	return value.Profits(costs, snap.profile.CostToServe)
}

// Profitability returns profit per segment and per tier.
func (s *Service) Profitability(ctx context.Context) (ProfitabilityReport, error) {
	return cache(s, ctx, "profit", func(snap *snapshot) (ProfitabilityReport, error) {
		ps, pr, err := profits(snap)
		if err != nil {
			return ProfitabilityReport{}, err
		}
		rk := snap.rank
		rep := ProfitabilityReport{Customers: len(ps), CostToServe: snap.profile.CostToServe, MarketingPerCustomer: snap.profile.MarketingCostPerCustomer,
			UncostedInteractions: pr.UnknownKinds, BadRows: len(pr.BadRows), UnprofitableSegments: []value.Segment{}}
		for _, p := range ps {
			rep.Total.Revenue += p.Revenue
			rep.Total.GoodsCost += p.GoodsCost
			rep.Total.ServeCost += p.ServeCost
			rep.Total.Marketing += p.Marketing
			rep.Total.Profit += p.Profit
			if p.Profit < 0 {
				rep.UnprofitableCustomers++
			}
		}
		if rep.Total.Revenue != 0 {
			rep.Total.Margin = rep.Total.Profit / rep.Total.Revenue
		}
		segs, err := value.ProfitBySegment(ps, rk.rfm.Scores)
		if err != nil {
			return rep, err
		}
		for _, sp := range segs {
			row := SegmentProfitRow{SegmentProfit: sp, Unprofitable: sp.Customers > 0 && sp.Profit.Profit < 0}
			if row.Unprofitable {
				rep.UnprofitableSegments = append(rep.UnprofitableSegments, sp.Segment)
			}
			rep.Segments = append(rep.Segments, row)
		}
		groups, err := value.ProfitByGroup(ps, rk.tier)
		if err != nil {
			return rep, err
		}
		byTier := map[value.Tier]value.GroupProfit[value.Tier]{}
		for _, g := range groups {
			byTier[g.Key] = g
		}
		for _, t := range append(value.Tiers(), value.TierNone) {
			g := byTier[t]
			if t == value.TierNone && g.Customers == 0 {
				continue
			}
			rep.Tiers = append(rep.Tiers, TierProfitRow{Tier: t, Label: t.Label(), Customers: g.Customers, Profit: g.Profit,
				Unprofitable: g.Customers > 0 && g.Profit.Profit < 0})
		}
		return rep, nil
	})
}

// CustomerInsight is everything the models say about one customer, for
// the customer page: scores with labels, why the churn risk is what it is,
// profit and what to offer next.
type CustomerInsight struct {
	CustomerID           string                     `json:"customer_id"`
	Tier                 value.Tier                 `json:"tier"`
	TierLabel            value.Label                `json:"tier_label"`
	PredictedTier        value.Tier                 `json:"predicted_tier"`
	Segment              value.Segment              `json:"rfm_segment"`
	SegmentLabel         value.Label                `json:"rfm_segment_label"`
	R                    int                        `json:"r"`
	F                    int                        `json:"f"`
	M                    int                        `json:"m"`
	RecencyDays          int                        `json:"recency_days"`
	CLV                  *float64                   `json:"clv,omitempty"`
	PAlive               *float64                   `json:"p_alive,omitempty"`
	ChurnRisk            *float64                   `json:"churn_risk,omitempty"`
	ChurnReasons         []churn.Contribution       `json:"churn_reasons,omitempty"`
	ExpectedNextPurchase *time.Time                 `json:"expected_next_purchase,omitempty"`
	Overdue              bool                       `json:"overdue"`
	Lapsed               bool                       `json:"lapsed"`
	Profit               value.Profit               `json:"profit"`
	CrossSell            []value.Suggestion[string] `json:"cross_sell"`
	CrossSellNames       map[string]string          `json:"cross_sell_names,omitempty"` // item id → display name
	Version              uint64                     `json:"version"`
}

// Customer returns the models' view of one customer.
func (s *Service) Customer(ctx context.Context, id string) (CustomerInsight, error) {
	snap, err := s.current(ctx)
	if err != nil {
		return CustomerInsight{}, err
	}
	s.mu.RLock()
	i, ok := snap.lookup(id)
	if !ok || snap.rows[i].dead {
		s.mu.RUnlock()
		return CustomerInsight{}, errs.E(errs.NotFound, "customer %s not found", id)
	}
	now := s.opts.Now().UTC()
	r := snap.rows[i]
	sc := snap.scoresOf(i, now)
	out := CustomerInsight{CustomerID: id, CLV: sc.CLV, PAlive: sc.PAlive, ChurnRisk: sc.ChurnRisk, ChurnReasons: r.x().reasons,
		ExpectedNextPurchase: sc.ExpectedNextPurchase, R: sc.R, F: sc.F, M: sc.M, RecencyDays: -1, Version: s.Version(), CrossSell: []value.Suggestion[string]{}}
	if k := snap.rank.at(i); k >= 0 {
		out.Tier, out.PredictedTier = snap.rank.tier[k], snap.rank.ptier[k]
		out.Segment = snap.rank.rfm.Scores[k].Segment
		out.RecencyDays = int(snap.rank.rfm.Scores[k].RecencyDays)
	}
	out.TierLabel, out.SegmentLabel = out.Tier.Label(), out.Segment.Label()
	prof, _, err := value.Profits([]value.CustomerCosts{{Revenue: r.p().revenue, GoodsCost: r.p().goods, Marketing: snap.marketing(&r), Interactions: r.x().kinds}}, snap.profile.CostToServe)
	s.mu.RUnlock()
	if err != nil {
		return out, err
	}
	out.Profit = prof[0]
	if out.ExpectedNextPurchase != nil {
		out.Overdue = now.After(*out.ExpectedNextPurchase)
	}
	out.Lapsed = r.p().orders > 0 && now.Unix()-r.p().last > int64(snap.profile.LapsedAfterDays)*86400
	if r.p().orders > 0 {
		a, err := s.Associations(ctx, AssociationQuery{CustomerID: id})
		if err != nil {
			return out, err
		}
		out.CrossSell, out.CrossSellNames = a.Suggestions, a.Names
	}
	return out, nil
}

// orderLog is the completed-order log in compact form, row-indexed.
type orderLog struct {
	cust    []int32
	at      []int64
	amt     []float64
	src     []uint16
	sources []string
}

// orderLog loads (or returns the cached) order log for the snapshot. The
// caller holds the read lock (it runs inside a cache computation).
func (s *Service) orderLog(ctx context.Context, snap *snapshot) (*orderLog, error) {
	v := s.version.Load()
	s.cacheMu.Lock()
	if c, ok := s.cache["orderlog"]; ok && c.version == v {
		s.cacheMu.Unlock()
		return c.val.(*orderLog), nil
	}
	s.cacheMu.Unlock()
	log := &orderLog{}
	srcID := map[string]uint16{}
	fd := snap.finder()
	err := s.store.ScanCompletedOrders(ctx, nil, func(o *store.AnalyticsOrder) error {
		i, ok := fd.lookup(o.CustomerID)
		if !ok {
			return nil
		}
		id, ok := srcID[o.Source]
		if !ok && len(log.sources) < math.MaxUint16 {
			id = uint16(len(log.sources))
			srcID[o.Source] = id
			log.sources = append(log.sources, o.Source)
		}
		log.cust = append(log.cust, i)
		log.at = append(log.at, o.PlacedAt.Unix())
		log.amt = append(log.amt, o.Total)
		log.src = append(log.src, id)
		return nil
	})
	if err != nil {
		return nil, err
	}
	s.cacheMu.Lock()
	s.cache["orderlog"] = cached{version: v, val: log}
	s.cacheMu.Unlock()
	return log, nil
}

// cache returns the cached result of key for the current data version, or
// computes it from the snapshot (under the read lock) and caches it.
func cache[T any](s *Service, ctx context.Context, key string, compute func(snap *snapshot) (T, error)) (T, error) {
	var val T
	err := s.readSnapshot(ctx, func(snap *snapshot) error {
		v := s.version.Load()
		s.cacheMu.Lock()
		if c, ok := s.cache[key]; ok && c.version == v {
			s.cacheMu.Unlock()
			val = c.val.(T)
			return nil
		}
		s.cacheMu.Unlock()
		var err error
		if val, err = compute(snap); err != nil {
			return err
		}
		setVersion(&val, v)
		s.cacheMu.Lock()
		if len(s.cache) > 256 {
			clear(s.cache)
		}
		s.cache[key] = cached{version: v, val: val}
		s.cacheMu.Unlock()
		return nil
	})
	return val, err
}

// readSnapshot runs fn on the current snapshot under the read lock (a
// refit that finished meanwhile is the one read).
func (s *Service) readSnapshot(ctx context.Context, fn func(snap *snapshot) error) error {
	snap, err := s.current(ctx)
	if err != nil {
		return err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.snap != nil {
		snap = s.snap
	}
	return fn(snap)
}

// setVersion stamps reports that carry a Version field.
func setVersion(v any, version uint64) {
	switch r := v.(type) {
	case *CLVReport:
		r.Version = version
	case *RFMReport:
		r.Version = version
	case *TierReport:
		r.Version = version
	case *ParetoReport:
		r.Version = version
	case *CohortReport:
		r.Version = version
	case *ProfitabilityReport:
		r.Version = version
	case *PivotResult:
		r.Version = version
	}
}
