package value

import (
	"math"
	"slices"
	"testing"
)

func TestParetoOnAHandMadeExample(t *testing.T) {
	// Ten customers, total 100 (the -4 refunder counts as bringing nothing).
	values := []float64{5, 50, 0, 10, 20, -4, 5, 10, 0, 0, math.NaN()}
	c, err := Pareto(values, 10)
	if err != nil {
		t.Fatal(err)
	}
	if c.Customers != 10 || c.Total != 100 || c.NonPositive != 4 || c.BadValue != 1 {
		t.Fatalf("curve %+v", c)
	}
	want := []float64{0, 0.5, 0.7, 0.8, 0.9, 0.95, 1, 1, 1, 1, 1}
	for i, p := range c.Points {
		if !near(p.CustomerShare, float64(i)/10, 1e-12) || !near(p.ValueShare, want[i], 1e-12) {
			t.Errorf("point %d = %+v, want (%v, %v)", i, p, float64(i)/10, want[i])
		}
	}
	if got := c.Share(0.15); !near(got, 0.6, 1e-12) { // halfway through the second customer
		t.Errorf("top 15%% bring %v, want 0.6", got)
	}
	r := c.Reading(0.2, Label{EN: "revenue", ZH: "收入"})
	if r.EN != "The top 20% of customers bring 70% of revenue" || r.ZH != "前 20% 的客户贡献了 70% 的收入" {
		t.Errorf("reading %+v", r)
	}
	if got := c.Reading(0.015, Label{EN: "revenue", ZH: "收入"}).EN; got != "The top 1.5% of customers bring 7.5% of revenue" {
		t.Errorf("small shares keep a decimal: %q", got)
	}
	if _, err := Pareto(values, 0); err == nil {
		t.Error("zero points accepted")
	}
}

func TestDefaultPyramidCutsTopOneFourFifteenPercent(t *testing.T) {
	values := make([]float64, 200)
	for i := range values {
		values[i] = float64(i % 100) // every value twice: ties across tier edges
	}
	res, err := AssignTiers(values, DefaultTierCuts())
	if err != nil {
		t.Fatal(err)
	}
	wantCount := []int{2, 8, 30, 160}
	for i, s := range res.Summary {
		if s.Customers != wantCount[i] {
			t.Errorf("%v holds %d, want %d", s.Tier, s.Customers, wantCount[i])
		}
	}
	// Ranking is by value, ties in input order: 99 (positions 99, 199) platinum,
	// then 98, 98, 97, 97, 96, 96, 95, 95 gold.
	if res.Tiers[99] != TierPlatinum || res.Tiers[199] != TierPlatinum || res.Tiers[95] != TierGold || res.Tiers[94] != TierSilver {
		t.Errorf("tiers at 99/199/95/94: %v %v %v %v", res.Tiers[99], res.Tiers[199], res.Tiers[95], res.Tiers[94])
	}
	if g := res.Summary[1]; g.MaxValue != 98 || g.MinValue != 95 || g.Value != 2*(98+97+96+95) {
		t.Errorf("gold summary %+v", g)
	}
	total := 0.0
	for _, s := range res.Summary {
		total += s.ValueShare
	}
	if !near(total, 1, 1e-12) {
		t.Errorf("value shares add to %v", total)
	}
	if _, err := AssignTiers(values, TierCuts{Platinum: 0.5, Gold: 0.4, Silver: 0.2}); err == nil {
		t.Error("cuts above 100% accepted")
	}
	if l := TierGold.Label(); l.EN != "Gold" || l.ZH != "黄金" {
		t.Errorf("gold label %+v", l)
	}
}

func TestTierMigrationCountsMovesBothWays(t *testing.T) {
	before := []Tier{TierGold, TierSilver, TierBronze, TierNone, TierPlatinum, TierSilver}
	after := []Tier{TierPlatinum, TierSilver, TierNone, TierBronze, TierGold, TierGold}
	m, err := MigrateTiers(before, after)
	if err != nil {
		t.Fatal(err)
	}
	if m.Up != 3 || m.Down != 2 || m.Same != 1 {
		t.Errorf("up %d down %d same %d, want 3 2 1", m.Up, m.Down, m.Same)
	}
	if m.Matrix[TierGold][TierPlatinum] != 1 || m.Matrix[TierNone][TierBronze] != 1 || m.Matrix[TierBronze][TierNone] != 1 {
		t.Errorf("matrix %v", m.Matrix)
	}
	wantMoves := []Move{{0, TierGold, TierPlatinum}, {2, TierBronze, TierNone}, {3, TierNone, TierBronze},
		{4, TierPlatinum, TierGold}, {5, TierSilver, TierGold}}
	if !slices.Equal(m.Moves, wantMoves) {
		t.Errorf("moves %v", m.Moves)
	}
	if _, err := MigrateTiers(before, after[:2]); err == nil {
		t.Error("unaligned periods accepted")
	}
}

func TestUpgradeListRanksByTierGap(t *testing.T) {
	// 20 customers; cuts 5% / 10% / 25%: 1 platinum, 2 gold, 5 silver, 12 bronze.
	hist := make([]float64, 20)
	pred := make([]float64, 20)
	for i := range hist {
		hist[i] = float64(100 - i) // customer 0 is the best today
		pred[i] = hist[i]
	}
	// Predicted ranking: 19 (1000), 0, 6 (99.5), 1, 2, 3, 4, 10 (95.5), 5, …
	pred[19] = 1000 // bronze → platinum: gap 3
	pred[6] = 99.5  // silver → gold: gap 1
	pred[10] = 95.5 // bronze → silver: gap 1, lower predicted value than customer 6
	cuts := TierCuts{Platinum: 0.05, Gold: 0.10, Silver: 0.25}
	ups, err := UpgradeCandidates(hist, pred, cuts)
	if err != nil {
		t.Fatal(err)
	}
	var got []int
	for _, u := range ups {
		got = append(got, u.Customer)
		if u.Gap != int(u.Current)-int(u.Predicted) || u.Gap < 1 {
			t.Errorf("upgrade %+v has a wrong gap", u)
		}
	}
	if len(ups) == 0 || ups[0].Customer != 19 || ups[0].Gap != 3 || ups[0].Predicted != TierPlatinum {
		t.Fatalf("upgrades %+v, want customer 19 first (bronze → platinum)", ups)
	}
	if !slices.Equal(got, []int{19, 6, 10}) {
		t.Errorf("upgrade order %v, want [19 6 10]", got)
	}
}
