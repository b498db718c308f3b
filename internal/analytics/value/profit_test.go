package value

import (
	"math"
	"slices"
	"testing"
)

func TestProfitsSubtractGoodsServiceAndMarketing(t *testing.T) {
	unit := map[string]float64{"call": 5, "email": 0.5, "return": 12}
	customers := []CustomerCosts{
		{Revenue: 1000, GoodsCost: 600, Marketing: 50, Interactions: map[string]int{"call": 4, "email": 10}},
		{Revenue: 200, GoodsCost: 120, Marketing: 40, Interactions: map[string]int{"call": 6, "return": 2}},
		{Revenue: 300, GoodsCost: 150, Interactions: map[string]int{"chat": 3}},
		{Revenue: math.NaN()},
		{Revenue: 10, Interactions: map[string]int{"call": -1}},
	}
	ps, rep, err := Profits(customers, unit)
	if err != nil {
		t.Fatal(err)
	}
	want := []Profit{
		{Revenue: 1000, GoodsCost: 600, ServeCost: 25, Marketing: 50, Profit: 325, Margin: 0.325},
		{Revenue: 200, GoodsCost: 120, ServeCost: 54, Marketing: 40, Profit: -14, Margin: -0.07},
		{Revenue: 300, GoodsCost: 150, Profit: 150, Margin: 0.5},
		{}, {},
	}
	for i := range want {
		if ps[i] != want[i] {
			t.Errorf("customer %d: %+v, want %+v", i, ps[i], want[i])
		}
	}
	if rep.UnknownKinds["chat"] != 3 || !slices.Equal(rep.BadRows, []int{3, 4}) {
		t.Errorf("report %+v", rep)
	}

	scores := []RFMScore{{Segment: SegmentChampions}, {Segment: SegmentAtRisk}, {Segment: SegmentChampions}, {}, {}}
	seg, err := ProfitBySegment(ps, scores)
	if err != nil {
		t.Fatal(err)
	}
	if c := seg[0]; c.Segment != SegmentChampions || c.Customers != 2 || c.Profit.Profit != 475 || c.Revenue != 1300 {
		t.Errorf("champions %+v", c)
	}
	if r := seg[SegmentAtRisk-1]; r.Customers != 1 || r.Profit.Profit != -14 {
		t.Errorf("at risk %+v", r)
	}
	groups, err := ProfitByGroup(ps[:3], []Tier{TierGold, TierBronze, TierGold})
	if err != nil {
		t.Fatal(err)
	}
	if len(groups) != 2 || groups[0].Key != TierGold || groups[0].Profit.Profit != 475 || groups[1].Profit.Profit != -14 {
		t.Errorf("groups %+v", groups)
	}
	if _, _, err := Profits(customers, map[string]float64{"call": -1}); err == nil {
		t.Error("negative unit cost accepted")
	}
}
