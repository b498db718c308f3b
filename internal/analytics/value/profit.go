package value

import (
	"fmt"
	"math"
	"slices"
)

// CustomerCosts is what one customer brought and cost in a period.
type CustomerCosts struct {
	Revenue      float64        `json:"revenue"`
	GoodsCost    float64        `json:"goods_cost"`   // cost of goods sold
	Marketing    float64        `json:"marketing"`    // marketing spent on this customer
	Interactions map[string]int `json:"interactions"` // service contacts by kind, e.g. "call": 3
}

// Profit is one customer's profit and loss.
type Profit struct {
	Revenue   float64 `json:"revenue"`
	GoodsCost float64 `json:"goods_cost"`
	ServeCost float64 `json:"serve_cost"` // Σ interactions × unit cost of the kind
	Marketing float64 `json:"marketing"`
	Profit    float64 `json:"profit"` // revenue − goods − serve − marketing
	Margin    float64 `json:"margin"` // profit / revenue; 0 when revenue is 0
}

func (p *Profit) add(q Profit) {
	p.Revenue += q.Revenue
	p.GoodsCost += q.GoodsCost
	p.ServeCost += q.ServeCost
	p.Marketing += q.Marketing
	p.Profit += q.Profit
}

func (p *Profit) setMargin() {
	p.Margin = 0
	if p.Revenue != 0 {
		p.Margin = p.Profit / p.Revenue
	}
}

// ProfitReport counts the inputs that could not be costed in full.
type ProfitReport struct {
	// UnknownKinds counts interactions whose kind has no unit cost; they
	// add no cost, so the affected profits are overstated.
	UnknownKinds map[string]int `json:"unknown_kinds"`
	// BadRows counts customers with a NaN/infinite amount or a negative
	// interaction count; their Profit is left zero.
	BadRows []int `json:"bad_rows"`
}

// Profits computes each customer's profit: revenue − cost of goods − cost to
// serve (interactions by kind × unitCosts[kind]) − marketing.
func Profits(customers []CustomerCosts, unitCosts map[string]float64) ([]Profit, ProfitReport, error) {
	for kind, c := range unitCosts {
		if math.IsNaN(c) || math.IsInf(c, 0) || c < 0 {
			return nil, ProfitReport{}, fmt.Errorf("value: profits: unit cost of %q is %v", kind, c)
		}
	}
	out := make([]Profit, len(customers))
	rep := ProfitReport{UnknownKinds: map[string]int{}}
	for i, c := range customers {
		if !finite(c.Revenue) || !finite(c.GoodsCost) || !finite(c.Marketing) {
			rep.BadRows = append(rep.BadRows, i)
			continue
		}
		serve, bad := 0.0, false
		for kind, n := range c.Interactions {
			if n < 0 {
				bad = true
				break
			}
			unit, ok := unitCosts[kind]
			if !ok {
				rep.UnknownKinds[kind] += n
				continue
			}
			serve += float64(n) * unit
		}
		if bad {
			rep.BadRows = append(rep.BadRows, i)
			continue
		}
		p := Profit{Revenue: c.Revenue, GoodsCost: c.GoodsCost, ServeCost: serve, Marketing: c.Marketing}
		p.Profit = p.Revenue - p.GoodsCost - p.ServeCost - p.Marketing
		p.setMargin()
		out[i] = p
	}
	return out, rep, nil
}

func finite(f float64) bool { return !math.IsNaN(f) && !math.IsInf(f, 0) }

// SegmentProfit is the profit of one RFM segment.
type SegmentProfit struct {
	Segment   Segment `json:"id"`
	Label     Label   `json:"label"`
	Customers int     `json:"customers"`
	Profit
}

// ProfitBySegment sums profits (aligned with scores by customer index) per
// RFM segment, in Segments() order; unscored customers are left out.
func ProfitBySegment(profits []Profit, scores []RFMScore) ([]SegmentProfit, error) {
	if len(profits) != len(scores) {
		return nil, fmt.Errorf("value: profit by segment: %d profits, %d scores", len(profits), len(scores))
	}
	rows := make([]SegmentProfit, segmentCount)
	for i, p := range profits {
		s := scores[i].Segment
		if s == SegmentNone || s >= segmentCount {
			continue
		}
		rows[s].Customers++
		rows[s].add(p)
	}
	out := make([]SegmentProfit, 0, segmentCount-1)
	for _, s := range Segments() {
		r := rows[s]
		r.Segment, r.Label = s, s.Label()
		r.setMargin()
		out = append(out, r)
	}
	return out, nil
}

// ProfitByGroup sums profits per any grouping key (tier, channel, region),
// aligned by customer index; the groups come back sorted by profit, highest
// first, so the loss-makers are at the bottom.
func ProfitByGroup[K comparable](profits []Profit, keys []K) ([]GroupProfit[K], error) {
	if len(profits) != len(keys) {
		return nil, fmt.Errorf("value: profit by group: %d profits, %d keys", len(profits), len(keys))
	}
	at := map[K]int{}
	var out []GroupProfit[K]
	for i, p := range profits {
		j, ok := at[keys[i]]
		if !ok {
			j = len(out)
			at[keys[i]] = j
			out = append(out, GroupProfit[K]{Key: keys[i]})
		}
		out[j].Customers++
		out[j].add(p)
	}
	for i := range out {
		out[i].setMargin()
	}
	slices.SortStableFunc(out, func(a, b GroupProfit[K]) int { return -cmpFloat(a.Profit.Profit, b.Profit.Profit) })
	return out, nil
}

// GroupProfit is the profit of one group of customers.
type GroupProfit[K comparable] struct {
	Key       K   `json:"key"`
	Customers int `json:"customers"`
	Profit
}
