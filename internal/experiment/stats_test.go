package experiment

import (
	"math"
	"math/rand/v2"
	"testing"
)

func near(t *testing.T, what string, got, want, tol float64) {
	t.Helper()
	if math.IsNaN(got) || math.Abs(got-want) > tol {
		t.Errorf("%s = %.10g, want %.10g ± %g", what, got, want, tol)
	}
}

// pearsonChiSquare2x2 computes Pearson's X² of the 2×2 table
// [[x0, n0−x0], [x1, n1−x1]] from observed and expected cells — the
// statistic R's prop.test(c(x0,x1), c(n0,n1), correct=FALSE) reports.
func pearsonChiSquare2x2(x0, n0, x1, n1 int) float64 {
	obs := [2][2]float64{{float64(x0), float64(n0 - x0)}, {float64(x1), float64(n1 - x1)}}
	n := float64(n0 + n1)
	rows := [2]float64{float64(n0), float64(n1)}
	cols := [2]float64{float64(x0 + x1), float64(n0 + n1 - x0 - x1)}
	chi := 0.0
	for i := range 2 {
		for j := range 2 {
			e := rows[i] * cols[j] / n
			chi += (obs[i][j] - e) * (obs[i][j] - e) / e
		}
	}
	return chi
}

func TestTwoProportionZSquaredIsPearsonChiSquare(t *testing.T) {
	cases := []struct {
		name           string
		x0, n0, x1, n1 int
	}{
		{"aspirin (Agresti)", 189, 11034, 104, 11037},
		{"Newcombe (a)", 48, 80, 56, 70},
		{"Hillstrom-like visit", 2262, 21306, 3236, 21307},
		{"small", 2, 10, 5, 10},
		{"zero control", 0, 29, 5, 56},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r, err := CompareProportions(Proportion{c.x0, c.n0}, Proportion{c.x1, c.n1}, 0.95)
			if err != nil {
				t.Fatal(err)
			}
			chi := pearsonChiSquare2x2(c.x0, c.n0, c.x1, c.n1)
			near(t, "z²", r.Z*r.Z, chi, 1e-9*chi)
			// Chi-square(1) survival is erfc(sqrt(x/2)).
			p := math.Erfc(math.Sqrt(chi / 2))
			near(t, "p", r.PValue, p, 1e-12+1e-9*p)
			// Wald interval by its formula.
			p0, p1 := float64(c.x0)/float64(c.n0), float64(c.x1)/float64(c.n1)
			se := math.Sqrt(p0*(1-p0)/float64(c.n0) + p1*(1-p1)/float64(c.n1))
			near(t, "uplift", r.Uplift, p1-p0, 1e-15)
			near(t, "ci low", r.CILow, p1-p0-1.959963984540054*se, 1e-12)
			near(t, "ci high", r.CIHigh, p1-p0+1.959963984540054*se, 1e-12)
			if (r.Uplift > 0) != (r.Z > 0) {
				t.Errorf("z %v has the wrong sign for uplift %v", r.Z, r.Uplift)
			}
		})
	}
}

// R 4.x: prop.test(c(104, 189), c(11037, 11034), correct = FALSE) on the
// Physicians' Health Study aspirin table (Agresti, Categorical Data
// Analysis, table 2.3) prints X-squared = 25.014, p-value = 5.692e-07 and
// a 95 percent confidence interval of -0.010724297 -0.004687751 for
// aspirin − placebo.
func TestTwoProportionMatchesRPropTestAspirin(t *testing.T) {
	r, err := CompareProportions(Proportion{189, 11034}, Proportion{104, 11037}, 0.95)
	if err != nil {
		t.Fatal(err)
	}
	near(t, "X-squared", r.Z*r.Z, 25.014, 0.0005)
	near(t, "p-value", r.PValue, 5.692e-07, 0.0005e-07)
	near(t, "ci low", r.CILow, -0.010724297, 5e-10)
	near(t, "ci high", r.CIHigh, -0.004687751, 5e-10)
}

// Newcombe (1998), "Interval estimation for the difference between
// independent proportions", Statistics in Medicine 17:873–890, table II:
// method 1 (Wald) and method 10 (hybrid score) for four examples.
func TestDifferenceIntervalsMatchNewcombe1998(t *testing.T) {
	cases := []struct {
		name                   string
		x1, n1, x0, n0         int // treatment x1/n1 − control x0/n0
		waldLo, waldHi, lo, hi float64
	}{
		{"56/70-48/80", 56, 70, 48, 80, 0.0575, 0.3425, 0.0524, 0.3339},
		{"9/10-3/10", 9, 10, 3, 10, 0.2605, 0.9395, 0.1705, 0.8090},
		{"6/7-2/7", 6, 7, 2, 7, 0.1481, 0.9947, 0.0582, 0.8062},
		{"5/56-0/29", 5, 56, 0, 29, 0.0146, 0.1640, -0.0381, 0.1926},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r, err := CompareProportions(Proportion{c.x0, c.n0}, Proportion{c.x1, c.n1}, 0.95)
			if err != nil {
				t.Fatal(err)
			}
			near(t, "wald low", r.CILow, c.waldLo, 0.00005)
			near(t, "wald high", r.CIHigh, c.waldHi, 0.00005)
			near(t, "newcombe low", r.NewcombeLow, c.lo, 0.00005)
			near(t, "newcombe high", r.NewcombeHigh, c.hi, 0.00005)
		})
	}
}

// Newcombe (1998), "Two-sided confidence intervals for the single
// proportion", Statistics in Medicine 17:857–872, table I, method 3 (Wilson).
func TestWilsonIntervalMatchesNewcombe1998(t *testing.T) {
	cases := []struct {
		p      Proportion
		lo, hi float64
	}{
		{Proportion{81, 263}, 0.2553, 0.3662},
		{Proportion{15, 148}, 0.0624, 0.1605},
		{Proportion{0, 20}, 0, 0.1611},
		{Proportion{1, 29}, 0.0061, 0.1718},
	}
	for _, c := range cases {
		lo, hi := WilsonInterval(c.p, 0.95)
		near(t, "wilson low", lo, c.lo, 0.00005)
		near(t, "wilson high", hi, c.hi, 0.00005)
	}
}

func TestCompareProportionsEdgeCasesAndErrors(t *testing.T) {
	r, err := CompareProportions(Proportion{0, 100}, Proportion{0, 120}, 0)
	if err != nil {
		t.Fatal(err)
	}
	if r.PValue != 1 || r.Z != 0 || r.Uplift != 0 || r.Confidence != DefaultConfidence {
		t.Errorf("all-zero arms: %+v, want p 1, z 0, default confidence", r)
	}
	r, err = CompareProportions(Proportion{100, 100}, Proportion{120, 120}, 0.9)
	if err != nil || r.PValue != 1 {
		t.Errorf("all-one arms: %+v, %v", r, err)
	}
	// A 90% interval is narrower than a 99% one.
	r90, _ := CompareProportions(Proportion{20, 100}, Proportion{30, 100}, 0.90)
	r99, _ := CompareProportions(Proportion{20, 100}, Proportion{30, 100}, 0.99)
	near(t, "90% half-width", (r90.CIHigh-r90.CILow)/2, 1.6448536269514722*r90.SE, 1e-12)
	near(t, "99% half-width", (r99.CIHigh-r99.CILow)/2, 2.5758293035489004*r99.SE, 1e-12)
	for _, bad := range []struct {
		c, t Proportion
		conf float64
	}{
		{Proportion{0, 0}, Proportion{1, 10}, 0.95},
		{Proportion{11, 10}, Proportion{1, 10}, 0.95},
		{Proportion{1, 10}, Proportion{-1, 10}, 0.95},
		{Proportion{1, 10}, Proportion{1, 10}, 1},
		{Proportion{1, 10}, Proportion{1, 10}, -0.5},
		{Proportion{1, 10}, Proportion{1, 10}, math.NaN()},
	} {
		if _, err := CompareProportions(bad.c, bad.t, bad.conf); err == nil {
			t.Errorf("CompareProportions(%v, %v, %v) accepted", bad.c, bad.t, bad.conf)
		}
	}
}

// Student's sleep data (R's datasets::sleep). R:
//
//	t.test(extra ~ group, data = sleep)
//	t = -1.8608, df = 17.776, p-value = 0.07939
//	95 percent confidence interval: -3.3654832  0.2054832
//	mean in group 1 0.75, mean in group 2 2.33
//
// R reports group 1 − group 2; here group 1 is the control, so signs flip.
func TestWelchMatchesRSleepData(t *testing.T) {
	g1 := []float64{0.7, -1.6, -0.2, -1.2, -0.1, 3.4, 3.7, 0.8, 0.0, 2.0}
	g2 := []float64{1.9, 0.8, 1.1, 0.1, -0.1, 4.4, 5.5, 1.6, 4.6, 3.4}
	r, err := CompareMeans(Summarize(g1), Summarize(g2), 0.95)
	if err != nil {
		t.Fatal(err)
	}
	near(t, "control mean", r.ControlMean, 0.75, 1e-12)
	near(t, "treatment mean", r.TreatmentMean, 2.33, 1e-12)
	near(t, "t", r.T, 1.8608, 0.00005)
	near(t, "df", r.DF, 17.776, 0.0005)
	near(t, "p", r.PValue, 0.07939, 0.000005)
	near(t, "ci low", r.CILow, -0.2054832, 5e-8)
	near(t, "ci high", r.CIHigh, 3.3654832, 5e-8)

	// The same numbers from the textbook formulas, two-pass moments.
	mean := func(xs []float64) float64 {
		s := 0.0
		for _, x := range xs {
			s += x
		}
		return s / float64(len(xs))
	}
	variance := func(xs []float64) float64 {
		m, s := mean(xs), 0.0
		for _, x := range xs {
			s += (x - m) * (x - m)
		}
		return s / float64(len(xs)-1)
	}
	a, b := variance(g1)/10, variance(g2)/10
	wantT := (mean(g2) - mean(g1)) / math.Sqrt(a+b)
	wantDF := (a + b) * (a + b) / (a*a/9 + b*b/9)
	near(t, "t by formula", r.T, wantT, 1e-12)
	near(t, "df by formula", r.DF, wantDF, 1e-10)
}

// Examples 1 and 2 of Wikipedia's "Welch's t-test" article, which print
// t, ν and p to 2–3 digits.
func TestWelchMatchesWikipediaExamples(t *testing.T) {
	cases := []struct {
		name     string
		a1, a2   []float64
		t, df, p float64
	}{
		{"equal n, equal variance",
			[]float64{27.5, 21.0, 19.0, 23.6, 17.0, 17.9, 16.9, 20.1, 21.9, 22.6, 23.1, 19.6, 19.0, 21.7, 21.4},
			[]float64{27.1, 22.0, 20.8, 23.4, 23.4, 23.5, 25.8, 22.0, 24.8, 20.2, 21.9, 22.1, 22.9, 20.5, 24.4},
			-2.46, 25.0, 0.021},
		{"unequal n and variance",
			[]float64{17.2, 20.9, 22.6, 18.1, 21.7, 21.4, 23.5, 24.2, 14.7, 21.8},
			[]float64{21.5, 22.8, 21.0, 23.0, 21.6, 23.6, 22.5, 20.7, 23.4, 21.8, 20.7, 21.7, 21.5, 22.5, 23.6, 21.5, 22.5, 23.5, 21.5, 21.8},
			-1.57, 9.9, 0.149},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			// Wikipedia reports mean(A1) − mean(A2): A2 is the control.
			r, err := CompareMeans(Summarize(c.a2), Summarize(c.a1), 0.95)
			if err != nil {
				t.Fatal(err)
			}
			near(t, "t", r.T, c.t, 0.005)
			near(t, "p", r.PValue, c.p, 0.0005)
			near(t, "df", r.DF, c.df, 0.05)
		})
	}
}

func TestWelchAgreesWithClosedFormStudentT(t *testing.T) {
	// With equal n and variance the Welch df is 2(n−1); for 2 df the t
	// survival has the closed form ½(1 − t/√(t²+2)).
	ctl := Moments{N: 2, Mean: 1, Variance: 2}
	trt := Moments{N: 2, Mean: 4, Variance: 2}
	r, err := CompareMeans(ctl, trt, 0.95)
	if err != nil {
		t.Fatal(err)
	}
	near(t, "df", r.DF, 2, 1e-12)
	tt := 3 / math.Sqrt(2)
	near(t, "t", r.T, tt, 1e-12)
	near(t, "p", r.PValue, 1-tt/math.Sqrt(tt*tt+2), 1e-10)
	// Quantile for 2 df at 0.975 is 4.302652729911275.
	near(t, "ci half-width", (r.CIHigh-r.CILow)/2, 4.302652729911275*r.SE, 1e-9)
}

func TestCompareMeansEdgeCasesAndErrors(t *testing.T) {
	if _, err := CompareMeans(Moments{N: 1}, Moments{N: 5, Variance: 1}, 0.95); err == nil {
		t.Error("control of one customer accepted")
	}
	r, err := CompareMeans(Moments{N: 5, Mean: 3}, Moments{N: 5, Mean: 3}, 0.95)
	if err != nil || r.PValue != 1 || r.CILow != 0 || r.CIHigh != 0 {
		t.Errorf("identical constant arms: %+v, %v", r, err)
	}
	r, err = CompareMeans(Moments{N: 5, Mean: 3}, Moments{N: 5, Mean: 4}, 0.95)
	if err != nil || r.PValue != 0 || r.CILow != 1 || r.DF != 8 {
		t.Errorf("different constant arms: %+v, %v", r, err)
	}
	if _, err := CompareMeans(Moments{N: 5, Variance: 1}, Moments{N: 5, Variance: 1}, 2); err == nil {
		t.Error("confidence 2 accepted")
	}
}

func TestSummarizeIsAccurateForLargeMeans(t *testing.T) {
	// Revenue-like values around 1e9 with unit spread: a naive sum of
	// squares loses every digit of the variance.
	xs := []float64{1e9 + 4, 1e9 + 7, 1e9 + 13, 1e9 + 16}
	m := Summarize(xs)
	near(t, "mean", m.Mean, 1e9+10, 1e-6)
	near(t, "variance", m.Variance, 30, 1e-6)
	if z := Summarize(nil); z.N != 0 || z.Variance != 0 {
		t.Errorf("empty: %+v", z)
	}
}

func TestBootstrapIsSeededAndAgreesWithWelch(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 7))
	ctl := make([]float64, 4000)
	trt := make([]float64, 4000)
	for i := range ctl {
		ctl[i] = 10 + 3*rng.NormFloat64()
		trt[i] = 10.5 + 3*rng.NormFloat64()
	}
	lo, hi, err := BootstrapMeanDifference(ctl, trt, 2000, 0.95, 42)
	if err != nil {
		t.Fatal(err)
	}
	lo2, hi2, _ := BootstrapMeanDifference(ctl, trt, 2000, 0.95, 42)
	if lo != lo2 || hi != hi2 {
		t.Errorf("same seed gave [%v, %v] then [%v, %v]", lo, hi, lo2, hi2)
	}
	lo3, hi3, _ := BootstrapMeanDifference(ctl, trt, 2000, 0.95, 43)
	if lo == lo3 && hi == hi3 {
		t.Error("different seeds gave the identical interval")
	}
	w, err := CompareMeans(Summarize(ctl), Summarize(trt), 0.95)
	if err != nil {
		t.Fatal(err)
	}
	// For near-normal data the percentile interval tracks Welch's: both
	// ends within 15% of the Welch half-width.
	half := (w.CIHigh - w.CILow) / 2
	near(t, "bootstrap low", lo, w.CILow, 0.15*half)
	near(t, "bootstrap high", hi, w.CIHigh, 0.15*half)
	if _, _, err := BootstrapMeanDifference(nil, trt, 2000, 0.95, 1); err == nil {
		t.Error("empty control accepted")
	}
	if _, _, err := BootstrapMeanDifference(ctl, trt, 10, 0.95, 1); err == nil {
		t.Error("10 resamples accepted")
	}
}

func TestSampleRatioMismatch(t *testing.T) {
	cases := []struct {
		name     string
		observed []int
		weights  []float64
		chi, p   float64
	}{
		// Two arms: chi-square(1) survival is erfc(sqrt(x/2)).
		{"50/50 balanced-ish", []int{50_000, 49_000}, []float64{1, 1},
			2 * 500.0 * 500 / 49_500, math.Erfc(math.Sqrt(2 * 500.0 * 500 / 49_500 / 2))},
		{"80/20 plan", []int{8000, 2100}, []float64{0.8, 0.2},
			80.0*80/8080 + 80.0*80/2020, math.Erfc(math.Sqrt((80.0*80/8080 + 80.0*80/2020) / 2))},
		// Three arms: chi-square(2) survival is exp(−x/2).
		{"three arms", []int{1000, 1100, 900}, []float64{1, 1, 1}, 20, math.Exp(-10)},
		{"exact fit", []int{300, 300, 600}, []float64{1, 1, 2}, 0, 1},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r, err := SampleRatioMismatch(c.observed, c.weights)
			if err != nil {
				t.Fatal(err)
			}
			near(t, "chi-square", r.ChiSquare, c.chi, 1e-9)
			near(t, "p", r.PValue, c.p, 1e-12+1e-9*c.p)
			if r.DF != len(c.observed)-1 {
				t.Errorf("df %d", r.DF)
			}
		})
	}
	for _, bad := range []struct {
		o []int
		w []float64
	}{
		{[]int{10}, []float64{1}},
		{[]int{10, 10}, []float64{1}},
		{[]int{10, -1}, []float64{1, 1}},
		{[]int{0, 0}, []float64{1, 1}},
		{[]int{10, 10}, []float64{1, 0}},
	} {
		if _, err := SampleRatioMismatch(bad.o, bad.w); err == nil {
			t.Errorf("SampleRatioMismatch(%v, %v) accepted", bad.o, bad.w)
		}
	}
}

// Kohavi, Tang & Xu, "Trustworthy Online Controlled Experiments" (2020),
// chapter 3: control 821,588 vs treatment 815,482 users on a 50/50 design
// has a sample ratio of 0.993 and a p-value of 1.8E-6.
func TestSampleRatioMismatchMatchesKohaviExample(t *testing.T) {
	r, err := SampleRatioMismatch([]int{821_588, 815_482}, []float64{50, 50})
	if err != nil {
		t.Fatal(err)
	}
	near(t, "p", r.PValue, 1.8e-6, 0.05e-6)
	if r.PValue >= SRMAlpha {
		t.Errorf("p %v not flagged", r.PValue)
	}
}

func TestHolmAdjustMatchesRPAdjust(t *testing.T) {
	// R: p.adjust(c(0.01, 0.04, 0.03, 0.005), "holm") = 0.03 0.06 0.06 0.02
	got := HolmAdjust([]float64{0.01, 0.04, 0.03, 0.005})
	want := []float64{0.03, 0.06, 0.06, 0.02}
	for i := range want {
		near(t, "holm", got[i], want[i], 1e-15)
	}
	if got := HolmAdjust([]float64{0.6, 0.9}); got[0] != 1 || got[1] != 1 {
		t.Errorf("capped at 1: %v", got)
	}
}
