package value

import (
	"fmt"
	"math"
	"slices"
	"strconv"
)

// Tier is a level of the customer pyramid. Lower numbers are higher tiers;
// the zero value, TierNone, means "not tiered" (bad value or not a customer
// in that period).
type Tier uint8

// The pyramid's tiers, top first.
const (
	TierNone Tier = iota
	TierPlatinum
	TierGold
	TierSilver
	TierBronze
	tierCount
)

var tierInfo = [tierCount]struct {
	id    string
	label Label
}{
	TierNone:     {"none", Label{"None", "无"}},
	TierPlatinum: {"platinum", Label{"Platinum", "铂金"}},
	TierGold:     {"gold", Label{"Gold", "黄金"}},
	TierSilver:   {"silver", Label{"Silver", "白银"}},
	TierBronze:   {"bronze", Label{"Bronze", "青铜"}},
}

// Tiers lists the pyramid's tiers, top first (TierNone excluded).
func Tiers() []Tier { return []Tier{TierPlatinum, TierGold, TierSilver, TierBronze} }

// TierLabels maps every tier id (e.g. "gold") to its names.
func TierLabels() map[string]Label {
	m := make(map[string]Label, tierCount)
	for _, t := range tierInfo {
		m[t.id] = t.label
	}
	return m
}

// String returns the stable tier id, e.g. "gold".
func (t Tier) String() string {
	if t >= tierCount {
		return fmt.Sprintf("tier(%d)", uint8(t))
	}
	return tierInfo[t].id
}

// Label returns the tier's English and Chinese names.
func (t Tier) Label() Label {
	if t >= tierCount {
		return Label{EN: t.String(), ZH: t.String()}
	}
	return tierInfo[t].label
}

// MarshalText writes the tier id.
func (t Tier) MarshalText() ([]byte, error) { return []byte(t.String()), nil }

// TierCuts are the shares of customers, ranked by value, in each upper tier;
// whoever is left is bronze.
type TierCuts struct {
	Platinum float64 `json:"platinum"`
	Gold     float64 `json:"gold"`
	Silver   float64 `json:"silver"`
}

// DefaultTierCuts is the classic pyramid: top 1%, next 4%, next 15%, rest.
func DefaultTierCuts() TierCuts { return TierCuts{Platinum: 0.01, Gold: 0.04, Silver: 0.15} }

func (c TierCuts) validate() error {
	for _, v := range []float64{c.Platinum, c.Gold, c.Silver} {
		if !(v >= 0 && v <= 1) {
			return fmt.Errorf("value: tier cut %v is not a share between 0 and 1", v)
		}
	}
	if s := c.Platinum + c.Gold + c.Silver; s > 1+1e-12 {
		return fmt.Errorf("value: tier cuts add up to %v, more than 1", s)
	}
	return nil
}

// TierSummary is one level of the pyramid.
type TierSummary struct {
	Tier       Tier    `json:"id"`
	Label      Label   `json:"label"`
	Customers  int     `json:"customers"`
	Value      float64 `json:"value"`
	ValueShare float64 `json:"value_share"` // of the total over tiered customers
	MinValue   float64 `json:"min_value"`   // the entry threshold actually seen; 0 when empty
	MaxValue   float64 `json:"max_value"`
}

// TierResult is the pyramid for one set of values.
type TierResult struct {
	Tiers    []Tier        `json:"-"`         // per input value, same order
	Summary  []TierSummary `json:"summary"`   // platinum, gold, silver, bronze
	BadValue int           `json:"bad_value"` // NaN or infinite values: TierNone
}

// AssignTiers ranks customers by value (historical revenue, predicted CLV,
// anything larger-is-better) and cuts the ranking into the pyramid. The top
// round(Platinum·n) customers are platinum, the next round((Platinum+Gold)·n)
// − that are gold, and so on; equal values are ordered by input position, so
// tier sizes are exact and repeatable.
func AssignTiers(values []float64, cuts TierCuts) (TierResult, error) {
	if err := cuts.validate(); err != nil {
		return TierResult{}, fmt.Errorf("value: tiers: %w", err)
	}
	res := TierResult{Tiers: make([]Tier, len(values))}
	elig := make([]uint32, 0, len(values))
	for i, v := range values {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			res.BadValue++
			continue
		}
		elig = append(elig, uint32(i))
	}
	n := len(elig)
	keys := make([]uint64, n)
	for j, i := range elig {
		keys[j] = ^floatKey(values[i]) // descending
	}
	order := radixOrder(keys)
	bound := func(share float64) int { return int(math.Floor(share*float64(n) + 0.5)) }
	b1 := bound(cuts.Platinum)
	b2 := max(b1, bound(cuts.Platinum+cuts.Gold))
	b3 := max(b2, bound(cuts.Platinum+cuts.Gold+cuts.Silver))
	sum := make([]TierSummary, 0, 4)
	for _, t := range Tiers() {
		sum = append(sum, TierSummary{Tier: t, Label: t.Label()})
	}
	total := 0.0
	for pos, j := range order {
		i := elig[j]
		t := TierBronze
		switch {
		case pos < b1:
			t = TierPlatinum
		case pos < b2:
			t = TierGold
		case pos < b3:
			t = TierSilver
		}
		res.Tiers[i] = t
		s := &sum[t-1]
		v := values[i]
		if s.Customers == 0 {
			s.MaxValue = v
		}
		s.MinValue = v // ranking is descending
		s.Customers++
		s.Value += v
		total += v
	}
	if total != 0 {
		for i := range sum {
			sum[i].ValueShare = sum[i].Value / total
		}
	}
	res.Summary = sum
	return res, nil
}

// ParetoPoint is one point of the concentration curve.
type ParetoPoint struct {
	CustomerShare float64 `json:"customer_share"` // top x of customers (0..1)
	ValueShare    float64 `json:"value_share"`    // share of value they bring (0..1)
}

// ParetoCurve is the share of value brought by the top x% of customers.
type ParetoCurve struct {
	Points      []ParetoPoint `json:"points"`
	Customers   int           `json:"customers"`
	Total       float64       `json:"total"`        // sum of positive values
	NonPositive int           `json:"non_positive"` // customers with value <= 0 (count, add nothing)
	BadValue    int           `json:"bad_value"`    // NaN or infinite: left out
	cum         []float64     // cum[k]: sum of the top k values; for Share
}

// Pareto builds the curve at points+1 evenly spaced customer shares
// (0, 1/points, …, 1). Values at or below zero (net refunders) count as
// customers who bring nothing; the curve interpolates linearly between
// whole customers, so it is exact wherever x·n is a whole number.
func Pareto(values []float64, points int) (ParetoCurve, error) {
	if points < 1 {
		return ParetoCurve{}, fmt.Errorf("value: pareto: need at least 1 point, got %d", points)
	}
	var c ParetoCurve
	sorted := make([]float64, 0, len(values))
	for _, v := range values {
		switch {
		case math.IsNaN(v) || math.IsInf(v, 0):
			c.BadValue++
			continue
		case v <= 0:
			c.NonPositive++
			v = 0
		}
		sorted = append(sorted, v)
	}
	slices.SortFunc(sorted, func(a, b float64) int { return -cmpFloat(a, b) })
	c.Customers = len(sorted)
	c.cum = make([]float64, len(sorted)+1)
	for k, v := range sorted {
		c.cum[k+1] = c.cum[k] + v
	}
	c.Total = c.cum[len(sorted)]
	c.Points = make([]ParetoPoint, points+1)
	for i := range c.Points {
		x := float64(i) / float64(points)
		c.Points[i] = ParetoPoint{CustomerShare: x, ValueShare: c.Share(x)}
	}
	return c, nil
}

func cmpFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// Share returns the share of value brought by the top x (0..1) of customers.
func (c *ParetoCurve) Share(x float64) float64 {
	n := len(c.cum) - 1
	if n <= 0 || c.Total <= 0 || !(x > 0) {
		return 0
	}
	if x >= 1 {
		return 1
	}
	pos := x * float64(n)
	k := int(pos)
	sum := c.cum[k]
	if frac := pos - float64(k); frac > 0 {
		sum += frac * (c.cum[k+1] - c.cum[k])
	}
	return sum / c.Total
}

// Reading says in both languages what the top x of customers bring, e.g.
// "The top 20% of customers bring 76% of revenue" / "前 20% 的客户贡献了 76% 的收入".
// metric names the value, e.g. Label{"revenue", "收入"} or
// Label{"predicted value", "预测价值"}.
func (c *ParetoCurve) Reading(x float64, metric Label) Label {
	top, share := formatPercent(x), formatPercent(c.Share(x))
	return Label{
		EN: fmt.Sprintf("The top %s of customers bring %s of %s", top, share, metric.EN),
		ZH: fmt.Sprintf("前 %s 的客户贡献了 %s 的%s", top, share, metric.ZH),
	}
}

// formatPercent writes a share as a whole percentage, keeping one decimal
// below 10% where rounding would hide it (1.5%, not 2%).
func formatPercent(x float64) string {
	p := x * 100
	if p < 10 && math.Abs(p-math.Round(p)) >= 0.05 {
		return strconv.FormatFloat(math.Round(p*10)/10, 'f', 1, 64) + "%"
	}
	return strconv.FormatFloat(math.Round(p), 'f', 0, 64) + "%"
}

// Move is one customer's change of tier between two periods.
type Move struct {
	Customer int  `json:"customer"` // index into the inputs
	From     Tier `json:"from"`
	To       Tier `json:"to"`
}

// Migration is the tier-to-tier movement between two periods.
type Migration struct {
	// Matrix[from][to] counts customers; index 0 is TierNone (not tiered in
	// that period: newly acquired in row 0, gone in column 0).
	Matrix [tierCount][tierCount]int `json:"matrix"`
	Up     int                       `json:"up"`
	Down   int                       `json:"down"`
	Same   int                       `json:"same"`
	Moves  []Move                    `json:"moves"` // every customer whose tier changed, in input order
}

// MigrateTiers compares the tiers of the same customers (aligned by index)
// in two periods. Moving from TierNone into a tier counts as up, dropping out
// to TierNone as down.
func MigrateTiers(before, after []Tier) (Migration, error) {
	if len(before) != len(after) {
		return Migration{}, fmt.Errorf("value: tier migration: %d customers before, %d after", len(before), len(after))
	}
	var m Migration
	for i := range before {
		f, t := before[i], after[i]
		if f >= tierCount || t >= tierCount {
			return Migration{}, fmt.Errorf("value: tier migration: customer %d has unknown tier", i)
		}
		m.Matrix[f][t]++
		switch {
		case f == t:
			m.Same++
			continue
		case rankOf(t) < rankOf(f):
			m.Up++
		default:
			m.Down++
		}
		m.Moves = append(m.Moves, Move{Customer: i, From: f, To: t})
	}
	return m, nil
}

// rankOf orders tiers top first, TierNone last.
func rankOf(t Tier) int {
	if t == TierNone {
		return int(tierCount)
	}
	return int(t)
}

// Upgrade is a customer whose predicted value puts them in a higher tier
// than their history does: the people worth investing in now.
type Upgrade struct {
	Customer   int     `json:"customer"` // index into the inputs
	Current    Tier    `json:"current"`
	Predicted  Tier    `json:"predicted"`
	Gap        int     `json:"gap"` // tiers to climb
	Historical float64 `json:"historical_value"`
	Future     float64 `json:"predicted_value"`
}

// UpgradeCandidates tiers the customers by historical value and, separately,
// by predicted future value (e.g. CLV) with the same cuts, and lists those
// predicted to sit higher than they do now: largest gap first, then highest
// predicted value, then input order.
func UpgradeCandidates(historical, predicted []float64, cuts TierCuts) ([]Upgrade, error) {
	if len(historical) != len(predicted) {
		return nil, fmt.Errorf("value: upgrades: %d historical values, %d predicted", len(historical), len(predicted))
	}
	now, err := AssignTiers(historical, cuts)
	if err != nil {
		return nil, fmt.Errorf("value: upgrades: historical: %w", err)
	}
	next, err := AssignTiers(predicted, cuts)
	if err != nil {
		return nil, fmt.Errorf("value: upgrades: predicted: %w", err)
	}
	var out []Upgrade
	for i := range historical {
		c, p := now.Tiers[i], next.Tiers[i]
		if c == TierNone || p == TierNone || p >= c {
			continue
		}
		out = append(out, Upgrade{Customer: i, Current: c, Predicted: p, Gap: int(c) - int(p),
			Historical: historical[i], Future: predicted[i]})
	}
	slices.SortStableFunc(out, func(a, b Upgrade) int {
		if a.Gap != b.Gap {
			return b.Gap - a.Gap
		}
		return -cmpFloat(a.Future, b.Future)
	})
	return out, nil
}
