package experiment

import (
	"fmt"
	"math"
	"strings"
	"testing"
)

const messyCSV = `customer_id,arm,visit,spend,converted
1,control,1,0,no
2,control,0,12.5,No
3,treatment,yes,30,TRUE
4,,1,0,false
5,treatment,1,abc,false
6,treatment,,3,false
7,control,true,0,yes
8,treatment
9,treatment,0,yes,false
10,treatment,FALSE,7.25,0
`

func TestReadCSVDetectsKindsAndCountsBadRows(t *testing.T) {
	d, err := ReadCSV(strings.NewReader(messyCSV), CSVOptions{ArmCol: "arm", OutcomeCols: []string{"visit", "spend", "converted"}})
	if err != nil {
		t.Fatal(err)
	}
	if got := fmt.Sprint(d.Kinds); got != "[binary continuous binary]" {
		t.Errorf("kinds %s", got)
	}
	r := d.Read
	if r.Rows != 10 || r.Accepted != 5 || r.Rejected != 5 {
		t.Errorf("rows %d accepted %d rejected %d, want 10/5/5", r.Rows, r.Accepted, r.Rejected)
	}
	want := map[string]int{ReasonMissingArm: 1, ReasonBadOutcome: 2, ReasonMissingOutcome: 1, ReasonShortRow: 1}
	if fmt.Sprint(r.ByReason) != fmt.Sprint(want) {
		t.Errorf("by reason %v, want %v", r.ByReason, want)
	}
	lines := []int{}
	for _, f := range r.First {
		lines = append(lines, f.Line)
	}
	if fmt.Sprint(lines) != "[5 6 7 9 10]" {
		t.Errorf("rejected lines %v, want [5 6 7 9 10] (%v)", lines, r.First)
	}
	if fmt.Sprint(d.Arms) != "[control control treatment control treatment]" {
		t.Errorf("arms %v", d.Arms)
	}
	if fmt.Sprint(d.Values) != "[[1 0 1 1 0] [0 12.5 30 0 7.25] [0 0 1 1 0]]" {
		t.Errorf("values %v", d.Values)
	}
}

func TestReadCSVRejectsUnknownArmsAndMissingColumns(t *testing.T) {
	d, err := ReadCSV(strings.NewReader("arm,y\na,1\nb,0\nzz,1\n"), CSVOptions{ArmCol: "arm", OutcomeCols: []string{"y"}, AllowedArms: []string{"a", "b"}})
	if err != nil {
		t.Fatal(err)
	}
	if d.Read.ByReason[ReasonUnknownArm] != 1 || d.Read.Accepted != 2 {
		t.Errorf("report %+v", d.Read)
	}
	for _, opt := range []CSVOptions{
		{ArmCol: "nope", OutcomeCols: []string{"y"}},
		{ArmCol: "arm", OutcomeCols: []string{"nope"}},
		{ArmCol: "arm", OutcomeCols: []string{"y", "y"}},
		{ArmCol: "arm"},
	} {
		if _, err := ReadCSV(strings.NewReader("arm,y\na,1\n"), opt); err == nil {
			t.Errorf("options %+v accepted", opt)
		}
	}
	if _, err := ReadCSV(strings.NewReader(""), CSVOptions{ArmCol: "arm", OutcomeCols: []string{"y"}}); err == nil {
		t.Error("empty file accepted")
	}
}

// dataset builds rows for arms with the given successes of n on a binary
// outcome "visit" and a continuous "spend" that is 10 for successes, 0 else.
func dataset(arms []string, successes, n []int) *Dataset {
	d := &Dataset{Outcomes: []string{"visit", "spend"}, Kinds: []Kind{Binary, Continuous}, Values: make([][]float64, 2)}
	for i, a := range arms {
		for r := range n[i] {
			v := 0.0
			if r < successes[i] {
				v = 1
			}
			d.Arms = append(d.Arms, a)
			d.Values[0] = append(d.Values[0], v)
			d.Values[1] = append(d.Values[1], 10*v+float64(r%3))
		}
	}
	d.Read = ReadReport{Rows: len(d.Arms), Accepted: len(d.Arms)}
	return d
}

func TestAnalyzeComparesEveryArmWithControl(t *testing.T) {
	d := dataset([]string{"womens", "control", "mens"}, []int{3236, 2262, 3894}, []int{21387, 21306, 21307})
	rep, err := Analyze(d, Options{Control: "control"})
	if err != nil {
		t.Fatal(err)
	}
	var order []string
	for _, a := range rep.Arms {
		order = append(order, fmt.Sprintf("%s:%d", a.Arm, a.N))
	}
	if fmt.Sprint(order) != "[control:21306 mens:21307 womens:21387]" {
		t.Errorf("arms %v", order)
	}
	near(t, "control visit rate", rep.Arms[0].Rate["visit"], 2262.0/21306, 1e-15)
	if len(rep.Comparisons) != 4 {
		t.Fatalf("%d comparisons, want 2 arms × 2 outcomes", len(rep.Comparisons))
	}
	for _, c := range rep.Comparisons {
		var want float64
		switch c.Kind {
		case Binary:
			p, _ := CompareProportions(Proportion{2262, 21306}, Proportion{map[string]int{"mens": 3894, "womens": 3236}[c.Arm], map[string]int{"mens": 21307, "womens": 21387}[c.Arm]}, 0.95)
			want = p.Uplift
			near(t, c.Arm+" p", c.PValue, p.PValue, 1e-300)
		case Continuous:
			if c.Welch == nil {
				t.Fatalf("%s spend has no Welch test", c.Arm)
			}
			want = c.Welch.TreatmentMean - c.Welch.ControlMean
		}
		near(t, c.Arm+" "+c.Outcome+" uplift", c.Uplift, want, 1e-12)
		if !c.Significant || c.PValueHolm < c.PValue {
			t.Errorf("%s %s: significant %v, p %g, holm %g", c.Arm, c.Outcome, c.Significant, c.PValue, c.PValueHolm)
		}
		if c.ReadingEN == "" || c.ReadingZH == "" {
			t.Errorf("%s %s has no reading", c.Arm, c.Outcome)
		}
	}
	// 21306/21307/21387 on an equal plan: chi-square by hand.
	e := (21306.0 + 21307 + 21387) / 3
	chi := ((21306-e)*(21306-e) + (21307-e)*(21307-e) + (21387-e)*(21387-e)) / e
	near(t, "srm p", rep.SRMPValue, math.Exp(-chi/2), 1e-12)
	if rep.SRM.Mismatch {
		t.Errorf("balanced arms flagged: %+v", rep.SRM)
	}
}

func TestAnalyzeSRMUsesPlannedWeights(t *testing.T) {
	d := dataset([]string{"control", "treatment"}, []int{10, 20}, []int{1000, 9000})
	rep, err := Analyze(d, Options{Control: "control", Weights: []Arm{{"treatment", 9}, {"control", 1}}})
	if err != nil {
		t.Fatal(err)
	}
	if rep.SRMPValue != 1 || rep.SRM.Mismatch {
		t.Errorf("exact 10/90 plan: p %v", rep.SRMPValue)
	}
	rep, err = Analyze(d, Options{Control: "control"})
	if err != nil {
		t.Fatal(err)
	}
	if !rep.SRM.Mismatch || !strings.Contains(rep.SRM.ReadingEN, "mismatch") || !strings.Contains(rep.SRM.ReadingZH, "失衡") {
		t.Errorf("10/90 against an equal plan not flagged: %+v", rep.SRM)
	}
	// A planned arm with nobody in it is a mismatch, not a crash.
	rep, err = Analyze(d, Options{Control: "control", Weights: []Arm{{"control", 1}, {"treatment", 9}, {"ghost", 1}}})
	if err != nil {
		t.Fatal(err)
	}
	if !rep.SRM.Mismatch || len(rep.Warnings) != 2 {
		t.Errorf("empty planned arm: srm %+v, warnings %v", rep.SRM, rep.Warnings)
	}
}

func TestAnalyzeRejectsBadOptions(t *testing.T) {
	d := dataset([]string{"control", "treatment"}, []int{1, 2}, []int{10, 10})
	for name, opt := range map[string]Options{
		"no control":         {},
		"unknown control":    {Control: "ctrl"},
		"bad confidence":     {Control: "control", Confidence: 95},
		"arm not in weights": {Control: "control", Weights: []Arm{{"control", 1}, {"other", 1}}},
	} {
		if _, err := Analyze(d, opt); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	one := dataset([]string{"control"}, []int{1}, []int{10})
	if _, err := Analyze(one, Options{Control: "control"}); err == nil {
		t.Error("single arm accepted")
	}
}

func TestAnalyzeBootstrapIsReproducible(t *testing.T) {
	d := dataset([]string{"control", "treatment"}, []int{100, 150}, []int{1000, 1000})
	opt := Options{Control: "control", BootstrapResamples: 500, Seed: 9}
	a, err := Analyze(d, opt)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := Analyze(d, opt)
	ca, cb := a.Comparisons[1], b.Comparisons[1]
	if ca.Kind != Continuous || ca.BootstrapLow == nil || *ca.BootstrapLow != *cb.BootstrapLow || *ca.BootstrapHigh != *cb.BootstrapHigh {
		t.Fatalf("bootstrap not reproducible: %+v vs %+v", ca, cb)
	}
	if !(*ca.BootstrapLow < ca.Uplift && ca.Uplift < *ca.BootstrapHigh) {
		t.Errorf("bootstrap [%v, %v] misses the difference %v", *ca.BootstrapLow, *ca.BootstrapHigh, ca.Uplift)
	}
	if a.Comparisons[0].BootstrapLow != nil {
		t.Error("binary comparison got a bootstrap interval")
	}
}

func TestReadingsInEnglishAndChinese(t *testing.T) {
	cases := []struct {
		c      Comparison
		en, zh string
	}{
		{Comparison{Outcome: "visit", Kind: Binary, Uplift: 0.0771, CILow: 0.0718, CIHigh: 0.0826, PValue: 1e-40, Significant: true},
			"+7.7 points visit rate, 95% CI 7.2–8.3; significant (p < 0.001)",
			"visit 比率提升 7.7 个百分点，95% 置信区间 7.2–8.3；显著（p < 0.001）"},
		{Comparison{Outcome: "conversion", Kind: Binary, Uplift: -0.00042, CILow: -0.00101, CIHigh: 0.00017, PValue: 0.1634},
			"-0.04 points conversion rate, 95% CI -0.10 to 0.02; not significant (p = 0.163)",
			"conversion 比率下降 0.04 个百分点，95% 置信区间 -0.10 至 0.02；不显著（p = 0.163）"},
		{Comparison{Outcome: "spend", Kind: Continuous, Uplift: 0.6101, CILow: 0.3512, CIHigh: 0.8690, PValue: 0.0123, Significant: true},
			"+0.61 spend per customer (mean), 95% CI 0.35–0.87; significant (p = 0.012)",
			"人均 spend 增加 0.61，95% 置信区间 0.35–0.87；显著（p = 0.012）"},
	}
	for _, c := range cases {
		en, zh := c.c.Reading(0.95)
		if en != c.en {
			t.Errorf("english:\n got %s\nwant %s", en, c.en)
		}
		if zh != c.zh {
			t.Errorf("chinese:\n got %s\nwant %s", zh, c.zh)
		}
	}
}
