package experiment

import (
	"math"
	"math/rand/v2"
	"slices"

	"gonum.org/v1/gonum/stat/distuv"

	"github.com/rapportcrm/rapport/internal/errs"
)

// DefaultConfidence is the confidence level used when none is given.
const DefaultConfidence = 0.95

// Proportion is a binary outcome in one arm: Successes of N customers.
type Proportion struct {
	Successes int `json:"successes"`
	N         int `json:"n"`
}

// Rate is Successes/N (0 for an empty arm).
func (p Proportion) Rate() float64 {
	if p.N == 0 {
		return 0
	}
	return float64(p.Successes) / float64(p.N)
}

func (p Proportion) validate(role string) error {
	if p.N <= 0 || p.Successes < 0 || p.Successes > p.N {
		return errs.E(errs.Invalid, "experiment: %s arm has %d successes of %d; need 0 ≤ successes ≤ n and n > 0", role, p.Successes, p.N)
	}
	return nil
}

// ProportionTest compares a treatment rate with the control rate.
// Uplift is treatment − control, in proportion units (0.077 = 7.7 points).
type ProportionTest struct {
	ControlRate   float64 `json:"control_rate"`
	TreatmentRate float64 `json:"treatment_rate"`
	Uplift        float64 `json:"uplift"`
	// SE is the unpooled (Wald) standard error of the uplift; CILow and
	// CIHigh are uplift ± z·SE.
	SE     float64 `json:"se"`
	CILow  float64 `json:"ci_low"`
	CIHigh float64 `json:"ci_high"`
	// NewcombeLow and NewcombeHigh are Newcombe's hybrid score interval
	// (1998, method 10), better than Wald for small samples or rates near 0 or 1.
	NewcombeLow  float64 `json:"newcombe_low"`
	NewcombeHigh float64 `json:"newcombe_high"`
	// Z is the two-proportion z statistic with the pooled standard error;
	// Z² is Pearson's chi-square of the 2×2 table (R's prop.test with
	// correct=FALSE), and PValue is its two-sided p-value.
	Z          float64 `json:"z"`
	PValue     float64 `json:"p_value"`
	Confidence float64 `json:"confidence"`
}

// CompareProportions tests treatment against control at the given
// confidence level (0 means DefaultConfidence). When both arms are all 0 or
// all 1 the pooled SE is zero; the difference is then exactly zero and the
// test reports Z = 0, PValue = 1.
func CompareProportions(control, treatment Proportion, confidence float64) (ProportionTest, error) {
	confidence, err := checkConfidence(confidence)
	if err != nil {
		return ProportionTest{}, err
	}
	if err := control.validate("control"); err != nil {
		return ProportionTest{}, err
	}
	if err := treatment.validate("treatment"); err != nil {
		return ProportionTest{}, err
	}
	p0, p1 := control.Rate(), treatment.Rate()
	n0, n1 := float64(control.N), float64(treatment.N)
	d := p1 - p0
	z := normalQuantile(confidence)
	se := math.Sqrt(p0*(1-p0)/n0 + p1*(1-p1)/n1)
	t := ProportionTest{
		ControlRate: p0, TreatmentRate: p1, Uplift: d, SE: se,
		CILow: d - z*se, CIHigh: d + z*se, Confidence: confidence,
	}
	l0, u0 := WilsonInterval(control, confidence)
	l1, u1 := WilsonInterval(treatment, confidence)
	t.NewcombeLow = d - math.Hypot(p1-l1, u0-p0)
	t.NewcombeHigh = d + math.Hypot(u1-p1, p0-l0)

	pooled := float64(control.Successes+treatment.Successes) / (n0 + n1)
	seP := math.Sqrt(pooled * (1 - pooled) * (1/n0 + 1/n1))
	if seP == 0 {
		t.Z, t.PValue = 0, 1
		return t, nil
	}
	t.Z = d / seP
	t.PValue = math.Erfc(math.Abs(t.Z) / math.Sqrt2)
	return t, nil
}

// WilsonInterval is the Wilson score interval of one proportion.
func WilsonInterval(p Proportion, confidence float64) (low, high float64) {
	if p.N == 0 {
		return 0, 1
	}
	z := normalQuantile(confidence)
	n := float64(p.N)
	r := p.Rate()
	z2 := z * z
	centre := (r + z2/(2*n)) / (1 + z2/n)
	half := z / (1 + z2/n) * math.Sqrt(r*(1-r)/n+z2/(4*n*n))
	return max(0, centre-half), min(1, centre+half)
}

// Moments summarises a continuous outcome in one arm.
type Moments struct {
	N    int     `json:"n"`
	Mean float64 `json:"mean"`
	// Variance is the sample variance (divisor N−1); 0 when N < 2.
	Variance float64 `json:"variance"`
}

// Summarize computes the moments of xs in one pass (Welford's method, which
// keeps revenue sums with large means accurate).
func Summarize(xs []float64) Moments {
	var m welford
	for _, x := range xs {
		m.add(x)
	}
	return m.moments()
}

type welford struct {
	n       int
	mean, s float64
}

func (w *welford) add(x float64) {
	w.n++
	d := x - w.mean
	w.mean += d / float64(w.n)
	w.s += d * (x - w.mean)
}

func (w welford) moments() Moments {
	m := Moments{N: w.n, Mean: w.mean}
	if w.n > 1 {
		m.Variance = w.s / float64(w.n-1)
	}
	return m
}

// MeanTest compares a treatment mean with the control mean by Welch's
// unequal-variance t-test. Difference is treatment − control.
type MeanTest struct {
	ControlMean   float64 `json:"control_mean"`
	TreatmentMean float64 `json:"treatment_mean"`
	Difference    float64 `json:"difference"`
	SE            float64 `json:"se"`
	T             float64 `json:"t"`
	// DF is the Welch–Satterthwaite degrees of freedom.
	DF         float64 `json:"df"`
	CILow      float64 `json:"ci_low"`
	CIHigh     float64 `json:"ci_high"`
	PValue     float64 `json:"p_value"`
	Confidence float64 `json:"confidence"`
}

// CompareMeans runs Welch's t-test of treatment against control at the
// given confidence (0 means DefaultConfidence). Both arms need N ≥ 2. When
// both variances are zero the standard error is zero: the test then reports
// PValue 1 for equal means and 0 otherwise, the interval collapses to the
// difference, and DF falls back to N₀+N₁−2.
func CompareMeans(control, treatment Moments, confidence float64) (MeanTest, error) {
	confidence, err := checkConfidence(confidence)
	if err != nil {
		return MeanTest{}, err
	}
	if control.N < 2 || treatment.N < 2 {
		return MeanTest{}, errs.E(errs.Invalid, "experiment: Welch test needs at least 2 customers per arm, got control %d and treatment %d", control.N, treatment.N)
	}
	n0, n1 := float64(control.N), float64(treatment.N)
	v0, v1 := control.Variance/n0, treatment.Variance/n1
	d := treatment.Mean - control.Mean
	t := MeanTest{ControlMean: control.Mean, TreatmentMean: treatment.Mean, Difference: d, Confidence: confidence}
	t.SE = math.Sqrt(v0 + v1)
	if t.SE == 0 {
		t.DF = n0 + n1 - 2
		t.CILow, t.CIHigh = d, d
		t.PValue = 1
		if d != 0 {
			t.T, t.PValue = math.Copysign(math.Inf(1), d), 0
		}
		return t, nil
	}
	t.T = d / t.SE
	t.DF = (v0 + v1) * (v0 + v1) / (v0*v0/(n0-1) + v1*v1/(n1-1))
	st := distuv.StudentsT{Mu: 0, Sigma: 1, Nu: t.DF}
	q := st.Quantile(1 - (1-confidence)/2)
	t.CILow, t.CIHigh = d-q*t.SE, d+q*t.SE
	t.PValue = 2 * st.Survival(math.Abs(t.T))
	return t, nil
}

// BootstrapMeanDifference is the percentile bootstrap interval of
// mean(treatment) − mean(control): resamples pairs of resampled arms drawn
// with a PCG generator seeded by seed, so the same inputs and seed always
// give the same interval.
func BootstrapMeanDifference(control, treatment []float64, resamples int, confidence float64, seed uint64) (low, high float64, err error) {
	confidence, err = checkConfidence(confidence)
	if err != nil {
		return 0, 0, err
	}
	if len(control) == 0 || len(treatment) == 0 {
		return 0, 0, errs.E(errs.Invalid, "experiment: bootstrap needs customers in both arms")
	}
	if resamples < 100 {
		return 0, 0, errs.E(errs.Invalid, "experiment: bootstrap needs at least 100 resamples, got %d", resamples)
	}
	rng := rand.New(rand.NewPCG(seed, 0x9e3779b97f4a7c15))
	resampleMean := func(xs []float64) float64 {
		s := 0.0
		n := len(xs)
		for range n {
			s += xs[rng.IntN(n)]
		}
		return s / float64(n)
	}
	diffs := make([]float64, resamples)
	for i := range diffs {
		diffs[i] = resampleMean(treatment) - resampleMean(control)
	}
	slices.Sort(diffs)
	alpha := 1 - confidence
	return quantileSorted(diffs, alpha/2), quantileSorted(diffs, 1-alpha/2), nil
}

// quantileSorted is the type-7 (linear interpolation) sample quantile.
func quantileSorted(xs []float64, p float64) float64 {
	h := p * float64(len(xs)-1)
	lo := int(math.Floor(h))
	if lo >= len(xs)-1 {
		return xs[len(xs)-1]
	}
	return xs[lo] + (h-float64(lo))*(xs[lo+1]-xs[lo])
}

// SRMTest is the sample-ratio-mismatch check: Pearson's chi-square
// goodness of fit of the observed arm sizes to the planned split. A small
// PValue (below 0.001 by common practice) means assignment or logging is
// broken and the comparisons should not be trusted.
type SRMTest struct {
	Observed  []int     `json:"observed"`
	Expected  []float64 `json:"expected"`
	ChiSquare float64   `json:"chi_square"`
	DF        int       `json:"df"`
	PValue    float64   `json:"p_value"`
}

// SampleRatioMismatch tests observed arm sizes against weights (same
// order). Weights are relative and must be positive.
func SampleRatioMismatch(observed []int, weights []float64) (SRMTest, error) {
	if len(observed) < 2 || len(observed) != len(weights) {
		return SRMTest{}, errs.E(errs.Invalid, "experiment: SRM needs at least two arms and one weight per arm, got %d arms and %d weights", len(observed), len(weights))
	}
	total, wsum := 0, 0.0
	for i, o := range observed {
		if o < 0 {
			return SRMTest{}, errs.E(errs.Invalid, "experiment: SRM: negative arm size %d", o)
		}
		if usableWeight(weights[i]) == 0 {
			return SRMTest{}, errs.E(errs.Invalid, "experiment: SRM: weight %v is not positive and finite", weights[i])
		}
		total += o
		wsum += weights[i]
	}
	if total == 0 {
		return SRMTest{}, errs.E(errs.Invalid, "experiment: SRM: no customers in any arm")
	}
	t := SRMTest{Observed: slices.Clone(observed), Expected: make([]float64, len(observed)), DF: len(observed) - 1}
	for i, o := range observed {
		e := float64(total) * weights[i] / wsum
		t.Expected[i] = e
		t.ChiSquare += (float64(o) - e) * (float64(o) - e) / e
	}
	t.PValue = distuv.ChiSquared{K: float64(t.DF)}.Survival(t.ChiSquare)
	return t, nil
}

// HolmAdjust returns Holm's step-down adjusted p-values (same order), which
// keep the family-wise error rate when several arms are compared with the
// control.
func HolmAdjust(p []float64) []float64 {
	m := len(p)
	idx := make([]int, m)
	for i := range idx {
		idx[i] = i
	}
	slices.SortStableFunc(idx, func(a, b int) int {
		switch {
		case p[a] < p[b]:
			return -1
		case p[a] > p[b]:
			return 1
		}
		return 0
	})
	out := make([]float64, m)
	running := 0.0
	for rank, i := range idx {
		adj := min(1, float64(m-rank)*p[i])
		running = max(running, adj)
		out[i] = running
	}
	return out
}

func checkConfidence(c float64) (float64, error) {
	if c == 0 {
		return DefaultConfidence, nil
	}
	if !(c > 0 && c < 1) {
		return 0, errs.E(errs.Invalid, "experiment: confidence %v must be between 0 and 1", c)
	}
	return c, nil
}

// normalQuantile is the two-sided critical value z for a confidence level.
func normalQuantile(confidence float64) float64 {
	return distuv.UnitNormal.Quantile(1 - (1-confidence)/2)
}
