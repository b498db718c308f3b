package clv

import (
	"math"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/diff/fd"
	"gonum.org/v1/gonum/integrate/quad"
)

// observationTimes gives n customers observation windows spread evenly
// over [lo, hi], as a cohort acquired over a quarter would have.
func observationTimes(n int, lo, hi float64, seed uint64) []float64 {
	rng := rand.New(rand.NewPCG(seed, 1))
	T := make([]float64, n)
	for i := range T {
		T[i] = lo + (hi-lo)*rng.Float64()
	}
	return T
}

func TestFitsRecoverSimulatedParameters(t *testing.T) {
	const tol = 0.15
	t.Run("bgnbd", func(t *testing.T) {
		truth := BGNBD{R: 0.5, Alpha: 6, A: 0.7, B: 2.5}
		cs := SimulateBGNBD(truth, observationTimes(40000, 26, 52, 11), 12)
		m, err := FitBGNBD(cs)
		if err != nil {
			t.Fatal(err)
		}
		check(t, []string{"r", "alpha", "a", "b"}, []float64{m.R, m.Alpha, m.A, m.B},
			[]float64{truth.R, truth.Alpha, truth.A, truth.B}, tol)
	})
	t.Run("paretonbd", func(t *testing.T) {
		truth := ParetoNBD{R: 0.6, Alpha: 8, S: 0.8, Beta: 15}
		cs := SimulateParetoNBD(truth, observationTimes(15000, 26, 52, 21), 22)
		m, err := FitParetoNBD(cs)
		if err != nil {
			t.Fatal(err)
		}
		check(t, []string{"r", "alpha", "s", "beta"}, []float64{m.R, m.Alpha, m.S, m.Beta},
			[]float64{truth.R, truth.Alpha, truth.S, truth.Beta}, 0.25)
	})
	t.Run("gammagamma", func(t *testing.T) {
		truth := GammaGamma{P: 6, Q: 4, Gamma: 15}
		cs := SimulateBGNBD(BGNBD{R: 1, Alpha: 4, A: 0.5, B: 3}, observationTimes(40000, 26, 52, 31), 32)
		SimulateSpend(truth, cs, 33)
		m, err := FitGammaGamma(SpendCustomers(cs))
		if err != nil {
			t.Fatal(err)
		}
		check(t, []string{"p", "q", "gamma"}, []float64{m.P, m.Q, m.Gamma},
			[]float64{truth.P, truth.Q, truth.Gamma}, tol)
	})
}

func check(t *testing.T, names []string, got, want []float64, tol float64) {
	t.Helper()
	for i := range names {
		if !within(got[i], want[i], tol) {
			t.Errorf("%s = %.4f, simulated with %.4f (tolerance %.0f%%)", names[i], got[i], want[i], 100*tol)
		}
	}
}

func TestFitIsBitIdenticalWhateverTheWorkers(t *testing.T) {
	// More customers than several chunks, so the parallel path is taken.
	cs := SimulateBGNBD(BGNBD{R: 0.4, Alpha: 5, A: 0.8, B: 2.4}, observationTimes(5*chunkSize+123, 10, 52, 41), 42)
	SimulateSpend(GammaGamma{P: 5, Q: 3, Gamma: 20}, cs, 43)
	one, err := FitBGNBD(cs, Workers(1))
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range []int{2, 3, 8} {
		m, err := FitBGNBD(cs, Workers(w))
		if err != nil {
			t.Fatal(err)
		}
		if m != one {
			t.Errorf("bgnbd with %d workers %+v differs from 1 worker %+v", w, m, one)
		}
	}
	rep := SpendCustomers(cs)
	g1, err := FitGammaGamma(rep, Workers(1))
	if err != nil {
		t.Fatal(err)
	}
	g2, err := FitGammaGamma(rep, Workers(4))
	if err != nil {
		t.Fatal(err)
	}
	if g1 != g2 {
		t.Errorf("gamma-gamma differs across workers: %+v vs %+v", g1, g2)
	}
}

func TestAnalyticGradientsMatchFiniteDifferences(t *testing.T) {
	cs := SimulateBGNBD(BGNBD{R: 0.4, Alpha: 5, A: 0.8, B: 2.4}, observationTimes(3000, 10, 52, 51), 52)
	SimulateSpend(GammaGamma{P: 5, Q: 3, Gamma: 20}, cs, 53)
	bg, err := newBGData(cs)
	if err != nil {
		t.Fatal(err)
	}
	gg, err := newGGData(SpendCustomers(cs))
	if err != nil {
		t.Fatal(err)
	}
	var tb bgTables
	tests := []struct {
		name string
		f    objective
		at   []float64
	}{
		{"bgnbd", func(p, g []float64) float64 { return bg.negLL(p, g, 2, &tb) }, []float64{math.Log(0.3), math.Log(7), math.Log(1.1), math.Log(1.9)}},
		{"bgnbd far", func(p, g []float64) float64 { return bg.negLL(p, g, 2, &tb) }, []float64{1, -1, 2, -0.5}},
		{"gammagamma", func(p, g []float64) float64 { return gg.negLL(p, g, 2) }, []float64{math.Log(3), math.Log(5), math.Log(12)}},
	}
	for _, tt := range tests {
		grad := make([]float64, len(tt.at))
		tt.f(tt.at, grad)
		num := fd.Gradient(nil, func(x []float64) float64 { return tt.f(x, nil) }, tt.at, &fd.Settings{Formula: fd.Central, Step: 1e-5})
		for i := range grad {
			if math.Abs(grad[i]-num[i]) > 1e-6*max(1, math.Abs(num[i])) {
				t.Errorf("%s: d/dlog(param %d) analytic %.9g, numerical %.9g", tt.name, i, grad[i], num[i])
			}
		}
	}
}

// TestParetoNBDLikelihoodMatchesIntegralForm checks the 2F1 formulation
// against the likelihood written as an integral over the death time:
//
//	L = Γ(r+x)α^r β^s/Γ(r) [ (α+T)^−(r+x) (β+T)^−s + s ∫_{t_x}^{T} (α+τ)^−(r+x) (β+τ)^−(s+1) dτ ]
func TestParetoNBDLikelihoodMatchesIntegralForm(t *testing.T) {
	params := []ParetoNBD{
		{R: 0.55, Alpha: 10.6, S: 0.61, Beta: 11.7}, // α < β
		{R: 0.8, Alpha: 20, S: 1.5, Beta: 3},        // α > β
		{R: 2, Alpha: 5, S: 1, Beta: 5},             // α = β
	}
	cases := []Summary{{X: 0, TX: 0, T: 38.9}, {X: 1, TX: 1.7, T: 38.9}, {X: 26, TX: 30.857143, T: 31}, {X: 4, TX: 20, T: 20}}
	for _, m := range params {
		for _, c := range cases {
			x := float64(c.X)
			f := func(tau float64) float64 {
				return math.Exp(-(m.R+x)*math.Log(m.Alpha+tau) - (m.S+1)*math.Log(m.Beta+tau))
			}
			integral := 0.0
			if c.T > c.TX {
				integral = quad.Fixed(f, c.TX, c.T, 200, nil, 0)
			}
			want := lgamma(m.R+x) - lgamma(m.R) + m.R*math.Log(m.Alpha) + m.S*math.Log(m.Beta) +
				math.Log(math.Exp(-(m.R+x)*math.Log(m.Alpha+c.T)-m.S*math.Log(m.Beta+c.T))+m.S*integral)
			got := m.LogLikelihood([]Summary{c})
			if math.Abs(got-want) > 1e-8*math.Abs(want) {
				t.Errorf("%+v %+v: loglik %.12g, integral form %.12g", m, c, got, want)
			}
		}
	}
}

func TestNewCustomerConditionalEqualsUnconditional(t *testing.T) {
	models := []TransactionModel{
		BGNBD{R: 0.24, Alpha: 4.4, A: 0.79, B: 2.43},
		ParetoNBD{R: 0.55, Alpha: 10.6, S: 0.61, Beta: 11.7},
		ParetoNBD{R: 0.55, Alpha: 10.6, S: 1, Beta: 11.7},
	}
	for _, m := range models {
		for _, h := range []float64{0.5, 10, 52, 200} {
			c, u := m.ExpectedTransactions(h, 0, 0, 0), m.UnconditionalExpected(h)
			if !within(c, u, 1e-9) {
				t.Errorf("%T %+v: E[Y(%v)|new] = %.10g, E[X(%v)] = %.10g", m, m, h, c, h, u)
			}
		}
		if p := m.PAlive(0, 0, 0); math.Abs(p-1) > 1e-12 {
			t.Errorf("%T: P(alive) of a new customer = %v, want 1", m, p)
		}
	}
}

func TestPAliveFallsAsSilenceGrows(t *testing.T) {
	models := []TransactionModel{
		BGNBD{R: 0.24, Alpha: 4.4, A: 0.79, B: 2.43},
		ParetoNBD{R: 0.55, Alpha: 10.6, S: 0.61, Beta: 11.7},
	}
	for _, m := range models {
		prev := 1.0
		for _, T := range []float64{15, 20, 40, 80} {
			p := m.PAlive(5, 10, T)
			if !(p < prev) || p <= 0 {
				t.Errorf("%T: P(alive | x=5, t_x=10, T=%v) = %v, previous %v", m, T, p, prev)
			}
			prev = p
		}
	}
}

func TestFitsRejectInvalidInput(t *testing.T) {
	bad := []Summary{{ID: "a", X: 1, TX: 5, T: 3}}
	if _, err := FitBGNBD(bad); err == nil {
		t.Error("bgnbd accepted t_x > T")
	}
	if _, err := FitParetoNBD(bad); err == nil {
		t.Error("paretonbd accepted t_x > T")
	}
	if _, err := FitBGNBD(nil); err == nil {
		t.Error("bgnbd accepted no customers")
	}
	if _, err := FitGammaGamma([]Summary{{ID: "b", X: 0, T: 3}}); err == nil {
		t.Error("gamma-gamma accepted a customer with no repeat purchase")
	}
	if _, err := FitGammaGamma(nil); err == nil {
		t.Error("gamma-gamma accepted no customers")
	}
	if _, err := CLV(BGNBD{R: 1, Alpha: 1, A: 1.5, B: 1}, Summary{T: 1}, 10, Horizon{Periods: 0, PeriodLength: 1}); err == nil {
		t.Error("CLV accepted zero periods")
	}
}

func TestCLVDiscountsLaterPeriods(t *testing.T) {
	m := BGNBD{R: 0.24, Alpha: 4.4, A: 0.79, B: 2.43}
	c := Summary{X: 3, TX: 20, T: 30}
	undiscounted, err := CLV(m, c, 10, Horizon{Periods: 12, PeriodLength: 4, DiscountRate: 0})
	if err != nil {
		t.Fatal(err)
	}
	if want := 10 * m.ExpectedTransactions(48, 3, 20, 30); !within(undiscounted, want, 1e-12) {
		t.Errorf("undiscounted CLV %v, want spend × E[Y(48)] = %v", undiscounted, want)
	}
	discounted, err := CLV(m, c, 10, Horizon{Periods: 12, PeriodLength: 4, DiscountRate: 0.05})
	if err != nil {
		t.Fatal(err)
	}
	if !(discounted < undiscounted) || !(discounted > undiscounted/math.Pow(1.05, 12)) {
		t.Errorf("discounted CLV %v outside (%v, %v)", discounted, undiscounted/math.Pow(1.05, 12), undiscounted)
	}
}
