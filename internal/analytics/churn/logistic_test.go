package churn

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

// trueModel is the logistic model the synthetic customers are drawn from,
// on the raw scale of the CSV columns.
var trueModel = struct {
	intercept float64
	numeric   map[string]float64
	plan      map[string]float64
}{
	intercept: -1.0,
	numeric:   map[string]float64{"tenure": -0.05, "charges": 0.02, "calls": 0.4, "noise": 0},
	plan:      map[string]float64{"basic": 0.8, "plus": 0, "premium": -0.7},
}

// syntheticCSV draws n customers: tenure U(0, 60), charges N(70, 20),
// calls Poisson-ish 0–6, a noise column, and a plan, with churn drawn
// from trueModel. It returns the CSV and each row's true probability.
func syntheticCSV(n int, seed uint64) (string, []float64) {
	rng := rand.New(rand.NewPCG(seed, 1))
	plans := []string{"basic", "plus", "premium"}
	var b strings.Builder
	b.WriteString("customer,tenure,charges,calls,noise,plan,churn\n")
	p := make([]float64, n)
	for i := range n {
		tenure := math.Floor(rng.Float64() * 60)
		charges := 70 + 20*rng.NormFloat64()
		calls := float64(rng.IntN(4) + rng.IntN(4))
		noise := rng.NormFloat64()
		plan := plans[rng.IntN(3)]
		m := trueModel
		eta := m.intercept + m.numeric["tenure"]*tenure + m.numeric["charges"]*charges + m.numeric["calls"]*calls + m.plan[plan]
		p[i] = sigmoid(eta)
		y := 0
		if rng.Float64() < p[i] {
			y = 1
		}
		fmt.Fprintf(&b, "c%06d,%g,%.2f,%g,%.4f,%s,%d\n", i, tenure, charges, calls, noise, plan, y)
	}
	return b.String(), p
}

// expectedAUC is the Bayes AUC: the AUC a scorer that knows the true
// probabilities p is expected to reach, Σ pᵢ(1−pⱼ)[pᵢ>pⱼ] (½ for ties)
// over ordered pairs i≠j, divided by Σ pᵢ(1−pⱼ).
func expectedAUC(p []float64) float64 {
	s := slices.Clone(p)
	slices.Sort(s)
	// With p sorted, the pairs (i above j) weigh pᵢ(1−pⱼ); accumulate the
	// negatives' weight below each i.
	var num, den, below float64
	var sumP, sumQ, sumPQ float64
	for i := 0; i < len(s); {
		j := i
		for j < len(s) && s[j] == s[i] {
			j++
		}
		var tp, tq, tpq float64 // this tie group
		for k := i; k < j; k++ {
			tp += s[k]
			tq += 1 - s[k]
			tpq += s[k] * (1 - s[k])
		}
		num += tp*below + 0.5*(tp*tq-tpq)
		below += tq
		sumP += tp
		sumQ += tq
		sumPQ += tpq
		i = j
	}
	den = sumP*sumQ - sumPQ
	return num / den
}

func TestExpectedAUCMatchesPairSum(t *testing.T) {
	p := []float64{0.1, 0.5, 0.5, 0.9, 0.3}
	var num, den float64
	for i := range p {
		for j := range p {
			if i == j {
				continue
			}
			w := p[i] * (1 - p[j])
			den += w
			switch {
			case p[i] > p[j]:
				num += w
			case p[i] == p[j]:
				num += w / 2
			}
		}
	}
	if got := expectedAUC(p); math.Abs(got-num/den) > 1e-12 {
		t.Errorf("expectedAUC = %v, pair sum %v", got, num/den)
	}
}

func TestFitRecoversKnownCoefficientsAndBayesAUC(t *testing.T) {
	data, trueP := syntheticCSV(40000, 11)
	tab, err := ReadCSV(strings.NewReader(data), ReadOptions{LabelCol: "churn", IDCol: "customer"})
	if err != nil {
		t.Fatal(err)
	}
	rep, _, err := Analyze(tab, Options{Seed: 5})
	if err != nil {
		t.Fatal(err)
	}
	if !rep.Converged || rep.NTrain != 30000 || rep.NTest != 10000 {
		t.Fatalf("converged %v, n_train %d, n_test %d; want true, 30000, 10000", rep.Converged, rep.NTrain, rep.NTest)
	}
	coef := map[string]Coefficient{}
	for _, c := range rep.Coefficients {
		coef[c.Feature] = c
	}
	for name, want := range trueModel.numeric {
		got := coef[name].PerUnit
		// Standard errors here are ≈ 0.002 (tenure), 0.0008 (charges),
		// 0.012 (calls); allow about four of them plus the tiny ridge bias.
		tol := map[string]float64{"tenure": 0.008, "charges": 0.004, "calls": 0.05, "noise": 0.06}[name]
		if math.Abs(got-want) > tol {
			t.Errorf("%s: per-unit coefficient %.4f, true %.4f (±%.3f)", name, got, want, tol)
		}
		if want != 0 && math.Signbit(got) != math.Signbit(want) {
			t.Errorf("%s: sign of %.4f differs from true %.4f", name, got, want)
		}
	}
	// One-hot levels: the difference between two levels' per-unit
	// coefficients is the difference of their effects.
	for _, pair := range [][2]string{{"basic", "plus"}, {"premium", "plus"}, {"basic", "premium"}} {
		got := coef["plan="+pair[0]].PerUnit - coef["plan="+pair[1]].PerUnit
		want := trueModel.plan[pair[0]] - trueModel.plan[pair[1]]
		if math.Abs(got-want) > 0.15 {
			t.Errorf("plan %s − %s: %.3f, true %.3f", pair[0], pair[1], got, want)
		}
	}
	// Held-out AUC against what the true model achieves on the same rows
	// (oracle) and in expectation (Bayes AUC).
	_, test := StratifiedSplit(tab.Labels, 0.25, 5)
	pt := pick(trueP, test)
	oracle := AUC(pt, pick(tab.Labels, test))
	bayes := expectedAUC(pt)
	t.Logf("AUC %.4f, oracle %.4f, Bayes %.4f, logloss %.4f (baseline %.4f)", rep.AUC, oracle, bayes, rep.LogLoss, rep.BaselineLogLoss)
	if rep.AUC < oracle-0.005 || rep.AUC > oracle+0.005 {
		t.Errorf("AUC %.4f, the true model scores %.4f on the same rows", rep.AUC, oracle)
	}
	if math.Abs(rep.AUC-bayes) > 0.015 {
		t.Errorf("AUC %.4f, Bayes AUC %.4f", rep.AUC, bayes)
	}
	if rep.LogLoss >= rep.BaselineLogLoss || rep.Brier >= rep.BaselineBrier {
		t.Errorf("logloss %.4f / brier %.4f not better than the base rate's %.4f / %.4f", rep.LogLoss, rep.Brier, rep.BaselineLogLoss, rep.BaselineBrier)
	}
	// Calibration: each decile's mean prediction is near its observed rate.
	for _, b := range rep.Calibration {
		se := math.Sqrt(b.MeanPredicted*(1-b.MeanPredicted)/float64(b.N)) + 0.005
		if math.Abs(b.MeanPredicted-b.Observed) > 4*se {
			t.Errorf("decile %d: predicted %.3f, observed %.3f (n %d)", b.Bin, b.MeanPredicted, b.Observed, b.N)
		}
	}
}

func TestSolversAgreeAndWorkersDoNotChangeTheFit(t *testing.T) {
	data, _ := syntheticCSV(9000, 3)
	tab, err := ReadCSV(strings.NewReader(data), ReadOptions{LabelCol: "churn", IDCol: "customer"})
	if err != nil {
		t.Fatal(err)
	}
	all := make([]int, len(tab.Rows))
	for i := range all {
		all[i] = i
	}
	enc, err := FitEncoder(tab, Profile(tab), all, EncodeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	X := enc.Design(tab, all)
	d := len(enc.Features()) + 1
	ref, err := FitLogistic(X, tab.Labels, d, FitOptions{Solver: IRLS, Workers: 1})
	if err != nil || !ref.Converged {
		t.Fatalf("IRLS: %v, converged %v", err, ref.Converged)
	}
	cases := []struct {
		opts FitOptions
		tol  float64
	}{
		{FitOptions{Solver: IRLS, Workers: 3}, 0}, // bit-identical
		{FitOptions{Solver: LBFGS}, 1e-4},
		{FitOptions{Solver: LBFGSNumerical}, 1e-3},
	}
	for _, c := range cases {
		t.Run(fmt.Sprintf("%s/%d", c.opts.Solver, c.opts.Workers), func(t *testing.T) {
			f, err := FitLogistic(X, tab.Labels, d, c.opts)
			if err != nil || !f.Converged {
				t.Fatalf("err %v, converged %v", err, f.Converged)
			}
			for j := range ref.Beta {
				if math.Abs(f.Beta[j]-ref.Beta[j]) > c.tol {
					t.Errorf("β[%d] = %.8f, IRLS %.8f (tol %g)", j, f.Beta[j], ref.Beta[j], c.tol)
				}
			}
			if f.Objective > ref.Objective+1e-9*math.Abs(ref.Objective) {
				t.Errorf("objective %.10f above IRLS optimum %.10f", f.Objective, ref.Objective)
			}
		})
	}
}

func TestLargerPenaltyShrinksCoefficients(t *testing.T) {
	data, _ := syntheticCSV(3000, 4)
	tab, _ := ReadCSV(strings.NewReader(data), ReadOptions{LabelCol: "churn", IDCol: "customer"})
	norm := func(lambda float64) float64 {
		rep, _, err := Analyze(tab, Options{Fit: FitOptions{Lambda: lambda}})
		if err != nil {
			t.Fatal(err)
		}
		s := 0.0
		for _, c := range rep.Coefficients {
			s += c.Coef * c.Coef
		}
		return s
	}
	unpen, def, strong := norm(-1), norm(0), norm(1000)
	if !(unpen > def && def > strong) {
		t.Errorf("Σβ²: λ=0 %.4f, λ=1 %.4f, λ=1000 %.4f; want decreasing", unpen, def, strong)
	}
}

func TestScoreGivesReasonsThatAddUpToTheRisk(t *testing.T) {
	data, _ := syntheticCSV(6000, 9)
	tab, _ := ReadCSV(strings.NewReader(data), ReadOptions{LabelCol: "churn", IDCol: "customer"})
	_, m, err := Analyze(tab, Options{Seed: 1, TopK: 10})
	if err != nil {
		t.Fatal(err)
	}
	risky := Row{"tenure": "1", "charges": "130", "calls": "6", "noise": "0", "plan": "basic"}
	safe := Row{"tenure": "59", "charges": "40", "calls": "0", "noise": "0", "plan": "premium"}
	pr, why := m.Score(risky)
	ps, whySafe := m.Score(safe)
	if pr < 0.8 || ps > 0.1 {
		t.Errorf("risky customer p %.3f, safe p %.3f; want > 0.8 and < 0.1", pr, ps)
	}
	if len(whySafe) != 0 {
		t.Errorf("safe customer has risk reasons %+v", whySafe)
	}
	cols := map[string]Contribution{}
	for k, c := range why {
		cols[c.Column] = c
		if k > 0 && c.Contribution > why[k-1].Contribution {
			t.Errorf("reasons out of order: %+v", why)
		}
	}
	for _, col := range []string{"tenure", "charges", "calls", "plan"} {
		if cols[col].Contribution <= 0 {
			t.Errorf("risky customer: %s is not a reason (%+v)", col, why)
		}
	}
	if c := cols["plan"]; c.Feature != "plan=basic" || c.Value != "basic" {
		t.Errorf("plan reason %+v, want feature plan=basic value basic", c)
	}
	// Contributions are coefficient × standardized value, so they and the
	// intercept add up to the log-odds.
	eta := m.Intercept()
	for _, c := range why {
		eta += c.Contribution
	}
	// Only positive columns are listed; noise is ≈ 0 here.
	if math.Abs(eta-math.Log(pr/(1-pr))) > 0.05 {
		t.Errorf("intercept + reasons = %.4f, log-odds %.4f", eta, math.Log(pr/(1-pr)))
	}
	// Messy values in a new row are imputed, not fatal.
	p, _ := m.Score(Row{"tenure": "n/a", "charges": "1,0x", "plan": "unheard-of"})
	if math.IsNaN(p) || p <= 0 || p >= 1 {
		t.Errorf("messy row p = %v", p)
	}
}
