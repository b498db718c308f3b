package value

import (
	"cmp"
	"fmt"
	"slices"
)

// RuleOptions are the thresholds for association rules.
type RuleOptions struct {
	MinSupport    float64 // share of baskets holding both items (0..1)
	MinConfidence float64 // P(consequent | antecedent) (0..1)
}

// Rule is "customers who buy If also buy Then".
type Rule[T cmp.Ordered] struct {
	If         T       `json:"if"`
	Then       T       `json:"then"`
	Count      int     `json:"count"`      // baskets holding both
	Support    float64 `json:"support"`    // Count / baskets
	Confidence float64 `json:"confidence"` // Count / baskets holding If
	Lift       float64 `json:"lift"`       // Confidence / support of Then
}

// RuleSet is the result of AssociationRules.
type RuleSet[T cmp.Ordered] struct {
	Baskets      int       `json:"baskets"`       // non-empty baskets counted
	EmptyBaskets int       `json:"empty_baskets"` // skipped
	Rules        []Rule[T] `json:"rules"`         // by lift, then confidence, then count (descending)
}

// AssociationRules finds pair rules A → B over baskets (one basket per order,
// holding product or category ids; repeats inside a basket count once).
// Pairs are counted only among items that meet MinSupport on their own
// (Apriori pruning: a pair is never more frequent than its items).
func AssociationRules[T cmp.Ordered](baskets [][]T, opts RuleOptions) (RuleSet[T], error) {
	if !(opts.MinSupport >= 0 && opts.MinSupport <= 1) || !(opts.MinConfidence >= 0 && opts.MinConfidence <= 1) {
		return RuleSet[T]{}, fmt.Errorf("value: association rules: support %v and confidence %v must be shares between 0 and 1",
			opts.MinSupport, opts.MinConfidence)
	}
	var rs RuleSet[T]
	ids := map[T]int32{}
	var items []T
	var single []int
	dense := make([][]int32, 0, len(baskets))
	for _, b := range baskets {
		d := make([]int32, 0, len(b))
		for _, it := range b {
			id, ok := ids[it]
			if !ok {
				id = int32(len(items))
				ids[it] = id
				items = append(items, it)
				single = append(single, 0)
			}
			d = append(d, id)
		}
		slices.Sort(d)
		d = slices.Compact(d)
		if len(d) == 0 {
			rs.EmptyBaskets++
			continue
		}
		for _, id := range d {
			single[id]++
		}
		dense = append(dense, d)
	}
	rs.Baskets = len(dense)
	if rs.Baskets == 0 {
		return rs, nil
	}
	n := float64(rs.Baskets)
	frequent := func(count int) bool { return float64(count)/n >= opts.MinSupport }

	pairs := map[uint64]int{}
	var keep []int32
	for _, d := range dense {
		keep = keep[:0]
		for _, id := range d {
			if frequent(single[id]) {
				keep = append(keep, id)
			}
		}
		for i := 0; i < len(keep); i++ {
			for j := i + 1; j < len(keep); j++ {
				pairs[uint64(keep[i])<<32|uint64(keep[j])]++
			}
		}
	}
	for key, count := range pairs {
		if !frequent(count) {
			continue
		}
		a, b := int32(key>>32), int32(uint32(key))
		for _, dir := range [2][2]int32{{a, b}, {b, a}} {
			x, y := dir[0], dir[1]
			conf := float64(count) / float64(single[x])
			if conf < opts.MinConfidence {
				continue
			}
			rs.Rules = append(rs.Rules, Rule[T]{
				If: items[x], Then: items[y], Count: count,
				Support:    float64(count) / n,
				Confidence: conf,
				Lift:       conf / (float64(single[y]) / n),
			})
		}
	}
	slices.SortFunc(rs.Rules, func(p, q Rule[T]) int {
		if c := cmp.Compare(q.Lift, p.Lift); c != 0 {
			return c
		}
		if c := cmp.Compare(q.Confidence, p.Confidence); c != 0 {
			return c
		}
		if c := cmp.Compare(q.Count, p.Count); c != 0 {
			return c
		}
		if c := cmp.Compare(p.If, q.If); c != 0 {
			return c
		}
		return cmp.Compare(p.Then, q.Then)
	})
	return rs, nil
}

// Suggestion is an item to offer a customer, with the rule that argues for it.
type Suggestion[T cmp.Ordered] struct {
	Item       T       `json:"item"`
	Because    T       `json:"because"` // the bought item of the strongest rule
	Confidence float64 `json:"confidence"`
	Lift       float64 `json:"lift"`
}

// CrossSell suggests up to limit items the customer has not bought, each
// scored by its strongest rule from an item they did buy: highest confidence
// first, then lift. Only rules with lift above 1 (a real association) count.
func CrossSell[T cmp.Ordered](rules []Rule[T], bought []T, limit int) []Suggestion[T] {
	have := make(map[T]bool, len(bought))
	for _, b := range bought {
		have[b] = true
	}
	best := map[T]Suggestion[T]{}
	for _, r := range rules {
		if !have[r.If] || have[r.Then] || r.Lift <= 1 {
			continue
		}
		cur, ok := best[r.Then]
		if !ok || r.Confidence > cur.Confidence || (r.Confidence == cur.Confidence && r.Lift > cur.Lift) {
			best[r.Then] = Suggestion[T]{Item: r.Then, Because: r.If, Confidence: r.Confidence, Lift: r.Lift}
		}
	}
	out := make([]Suggestion[T], 0, len(best))
	for _, s := range best {
		out = append(out, s)
	}
	slices.SortFunc(out, func(p, q Suggestion[T]) int {
		if c := cmp.Compare(q.Confidence, p.Confidence); c != 0 {
			return c
		}
		if c := cmp.Compare(q.Lift, p.Lift); c != 0 {
			return c
		}
		return cmp.Compare(p.Item, q.Item)
	})
	if limit >= 0 && len(out) > limit {
		out = out[:limit]
	}
	return out
}
