package clv

import (
	"errors"
	"fmt"
	"math"

	"gonum.org/v1/gonum/mathext"
)

// GammaGamma is a fitted Gamma-Gamma spend model (Fader, Hardie & Lee 2005,
// "RFM and CLV"; Hardie's note 025): a transaction's value is
// Gamma(P, ν) with ν ~ Gamma(Q, Gamma) across customers.
type GammaGamma struct {
	P, Q, Gamma float64
	// LogLik is the total log-likelihood of the mean spends of the fitted
	// customers.
	LogLik float64
	Fit    FitInfo
}

type ggData struct {
	n      int
	xi     []int32
	xs     []float64
	counts []float64
	x, m   []float64
	// Sums over customers of terms that do not depend on the parameters.
	sumLnM, sumXLnXM float64
	buf              []float64
	tab              []float64
}

// SpendCustomers returns the customers the Gamma-Gamma model can use: those
// with at least one repeat transaction and a positive mean repeat value.
func SpendCustomers(customers []Summary) []Summary {
	var out []Summary
	for _, c := range customers {
		if c.X > 0 && c.Zbar > 0 && !math.IsInf(c.Zbar, 0) {
			out = append(out, c)
		}
	}
	return out
}

func newGGData(cs []Summary) (*ggData, error) {
	d := &ggData{n: len(cs), x: make([]float64, len(cs)), m: make([]float64, len(cs))}
	xs := make([]int, len(cs))
	for i, c := range cs {
		if c.X <= 0 || !(c.Zbar > 0) || math.IsInf(c.Zbar, 0) {
			return nil, fmt.Errorf("customer %q: needs x > 0 and a positive mean spend, has x=%d zbar=%v (use SpendCustomers)", c.ID, c.X, c.Zbar)
		}
		xs[i] = c.X
		x := float64(c.X)
		d.x[i], d.m[i] = x, c.Zbar
		lnM := math.Log(c.Zbar)
		d.sumLnM += lnM
		d.sumXLnXM += x * (lnM + math.Log(x))
	}
	d.xi, d.xs, d.counts = distinctCounts(xs)
	return d, nil
}

// negLL returns −LL/n and, when grad is non-nil, its gradient with respect
// to (ln p, ln q, ln γ). Per customer:
//
//	ln Γ(px+q) − ln Γ(px) − ln Γ(q) + q ln γ + (px−1) ln m + px ln x − (px+q) ln(xm+γ)
func (d *ggData) negLL(lp []float64, grad []float64, workers int) float64 {
	p, q, v := math.Exp(lp[0]), math.Exp(lp[1]), math.Exp(lp[2])
	lnV := math.Log(v)
	n := float64(d.n)
	ll := n*(-lgamma(q)+q*lnV) + p*d.sumXLnXM - d.sumLnM
	var gP, gQ float64
	gV := n * q / v
	gP += d.sumXLnXM
	gQ += n * (lnV - mathext.Digamma(q))
	for k, x := range d.xs {
		c := d.counts[k]
		ll += c * (lgamma(p*x+q) - lgamma(p*x))
		if grad != nil {
			psiPXQ := mathext.Digamma(p*x + q)
			gP += c * x * (psiPXQ - mathext.Digamma(p*x))
			gQ += c * psiPXQ
		}
	}
	const k = 4
	acc := reduce(d.n, k, workers, d.buf, func(lo, hi int, acc []float64) {
		var sL, sXL, sInv, sXInv float64
		xv, mv := d.x[lo:hi], d.m[lo:hi]
		for i := range xv {
			x := xv[i]
			den := x*mv[i] + v
			l := math.Log(den)
			inv := 1 / den
			sL += l
			sXL += x * l
			sInv += inv
			sXInv += x * inv
		}
		acc[0], acc[1], acc[2], acc[3] = sL, sXL, sInv, sXInv
	})
	d.buf = acc[:cap(acc)][:0]
	// −(px+q) ln(xm+γ) summed: −p Σ x l − q Σ l.
	ll -= p*acc[1] + q*acc[0]
	if grad != nil {
		gP -= acc[1]
		gQ -= acc[0]
		gV -= p*acc[3] + q*acc[2]
		grad[0] = -p * gP / n
		grad[1] = -q * gQ / n
		grad[2] = -v * gV / n
	}
	return -ll / n
}

// FitGammaGamma fits the Gamma-Gamma spend model on the repeat customers
// (see SpendCustomers); every customer passed must have X > 0 and Zbar > 0.
func FitGammaGamma(customers []Summary, opts ...Option) (GammaGamma, error) {
	if len(customers) == 0 {
		return GammaGamma{}, errors.New("clv: fit gammagamma: no customers with repeat purchases")
	}
	d, err := newGGData(customers)
	if err != nil {
		return GammaGamma{}, fmt.Errorf("clv: fit gammagamma: %w", err)
	}
	cfg := newFitConfig(opts)
	init := cfg.init
	if init == nil {
		init = ggStart(d)
	}
	f := func(p, grad []float64) float64 { return d.negLL(p, grad, cfg.workers) }
	est, info, err := minimizeLog(f, init, cfg.numericalGrd)
	if err != nil {
		return GammaGamma{}, fmt.Errorf("clv: fit gammagamma: %w", err)
	}
	m := GammaGamma{P: est[0], Q: est[1], Gamma: est[2]}
	info.Customers = d.n
	m.Fit = info
	m.LogLik = -d.negLL([]float64{math.Log(m.P), math.Log(m.Q), math.Log(m.Gamma)}, nil, cfg.workers) * float64(d.n)
	return m, nil
}

// ggStart picks starting values by the method of moments on the mean
// spends: with q=3 the population mean is pγ/2; p is set to 1.
func ggStart(d *ggData) []float64 {
	mean := 0.0
	for _, m := range d.m {
		mean += m
	}
	mean /= float64(d.n)
	return []float64{1, 3, 2 * mean}
}

// LogLikelihood is the total log-likelihood of the customers' mean spends
// under g, or NaN when a customer has no repeat purchase or no positive
// mean spend.
func (g GammaGamma) LogLikelihood(customers []Summary) float64 {
	d, err := newGGData(customers)
	if err != nil || d.n == 0 {
		return math.NaN()
	}
	return -d.negLL([]float64{math.Log(g.P), math.Log(g.Q), math.Log(g.Gamma)}, nil, 1) * float64(d.n)
}

// ExpectedSpend is the expected value of a customer's transaction given x
// repeat transactions of mean value zbar: a weighted mean of the population
// mean pγ/(q−1) and zbar. With x = 0 it is the population mean. It is
// +Inf when q ≤ 1 (the population mean does not exist).
func (g GammaGamma) ExpectedSpend(x int, zbar float64) float64 {
	if g.Q <= 1 {
		return math.Inf(1)
	}
	px := g.P * float64(x)
	if x == 0 {
		zbar = 0
	}
	return g.P * (g.Gamma + float64(x)*zbar) / (px + g.Q - 1)
}
