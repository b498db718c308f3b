package clv

import (
	"errors"
	"fmt"
	"math"

	"gonum.org/v1/gonum/mathext"
)

// BGNBD is a fitted beta-geometric/NBD model (Fader, Hardie & Lee 2005):
// while alive a customer buys at a Poisson rate λ ~ Gamma(R, Alpha) and after
// each repeat purchase drops out with probability p ~ Beta(A, B).
type BGNBD struct {
	R, Alpha, A, B float64
	// LogLik is the total log-likelihood of the fitted data.
	LogLik float64
	Fit    FitInfo
}

// bgData holds the customers in the column layout the likelihood loop wants.
type bgData struct {
	n      int
	xi     []int32   // index into xs
	xs     []float64 // distinct repeat counts
	counts []float64 // customers per distinct count
	x, tx  []float64
	T      []float64
}

func newBGData(cs []Summary) (*bgData, error) {
	d := &bgData{n: len(cs), x: make([]float64, len(cs)), tx: make([]float64, len(cs)), T: make([]float64, len(cs))}
	xs := make([]int, len(cs))
	for i, c := range cs {
		if err := checkSummary(c); err != nil {
			return nil, err
		}
		xs[i] = c.X
		d.x[i] = float64(c.X)
		d.tx[i] = c.TX
		d.T[i] = c.T
	}
	d.xi, d.xs, d.counts = distinctCounts(xs)
	return d, nil
}

func checkSummary(c Summary) error {
	switch {
	case c.X < 0:
		return fmt.Errorf("customer %q: negative repeat count %d", c.ID, c.X)
	case !(c.T >= 0) || math.IsInf(c.T, 0):
		return fmt.Errorf("customer %q: T is %v", c.ID, c.T)
	case !(c.TX >= 0) || c.TX > c.T:
		return fmt.Errorf("customer %q: t_x %v outside [0, T=%v]", c.ID, c.TX, c.T)
	case c.X == 0 && c.TX != 0:
		return fmt.Errorf("customer %q: t_x %v with no repeat purchase", c.ID, c.TX)
	}
	return nil
}

// bgTables are the per-distinct-x terms of one evaluation.
type bgTables struct {
	base []float64 // A1+A2 of Fader-Hardie-Lee eq. (3)
	lnA4 []float64 // ln a − ln(b+x−1)
	inv  []float64 // 1/(b+x−1)
	buf  []float64
}

// negLL returns −LL/n and, when grad is non-nil, its gradient with respect
// to (ln r, ln α, ln a, ln b).
func (d *bgData) negLL(p []float64, grad []float64, workers int, tb *bgTables) float64 {
	r, alpha, a, b := math.Exp(p[0]), math.Exp(p[1]), math.Exp(p[2]), math.Exp(p[3])
	m := len(d.xs)
	if len(tb.base) != m {
		tb.base, tb.lnA4, tb.inv = make([]float64, m), make([]float64, m), make([]float64, m)
	}
	lnAlpha, lnA := math.Log(alpha), math.Log(a)
	lgR, lgAB, lgB := lgamma(r), lgamma(a+b), lgamma(b)
	var ll, gR, gAlpha, gA, gB float64
	var psiR, psiAB, psiB float64
	if grad != nil {
		psiR, psiAB, psiB = mathext.Digamma(r), mathext.Digamma(a+b), mathext.Digamma(b)
	}
	for k, x := range d.xs {
		tb.base[k] = lgamma(r+x) - lgR + r*lnAlpha + lgAB + lgamma(b+x) - lgB - lgamma(a+b+x)
		if x > 0 {
			tb.inv[k] = 1 / (b + x - 1)
			tb.lnA4[k] = lnA + math.Log(tb.inv[k])
		}
		n := d.counts[k]
		ll += n * tb.base[k]
		if grad != nil {
			gR += n * (mathext.Digamma(r+x) - psiR + lnAlpha)
			gAlpha += n * r / alpha
			psiABX := mathext.Digamma(a + b + x)
			gA += n * (psiAB - psiABX)
			gB += n * (psiAB + mathext.Digamma(b+x) - psiB - psiABX)
		}
	}
	const k = 5
	acc := reduce(d.n, k, workers, tb.buf, func(lo, hi int, acc []float64) {
		var sLL, sR, sAlpha, sW, sB float64
		xi, xv, txv, Tv := d.xi[lo:hi], d.x[lo:hi], d.tx[lo:hi], d.T[lo:hi]
		for i := range xi {
			x := xv[i]
			lnT := math.Log(alpha + Tv[i])
			rx := r + x
			a3 := -rx * lnT
			if x == 0 {
				sLL += a3
				sR -= lnT
				sAlpha -= rx / (alpha + Tv[i])
				continue
			}
			j := xi[i]
			lnTx := math.Log(alpha + txv[i])
			a4 := tb.lnA4[j] - rx*lnTx
			// w is the share of the "dropped out after the last purchase"
			// term in the likelihood.
			var w float64
			if a4 > a3 {
				e := math.Exp(a3 - a4)
				sLL += a4 + math.Log1p(e)
				w = 1 / (1 + e)
			} else {
				e := math.Exp(a4 - a3)
				sLL += a3 + math.Log1p(e)
				w = e / (1 + e)
			}
			sR -= (1-w)*lnT + w*lnTx
			sAlpha -= rx * ((1-w)/(alpha+Tv[i]) + w/(alpha+txv[i]))
			sW += w
			sB -= w * tb.inv[j]
		}
		acc[0], acc[1], acc[2], acc[3], acc[4] = sLL, sR, sAlpha, sW, sB
	})
	tb.buf = acc[:cap(acc)][:0]
	ll += acc[0]
	n := float64(d.n)
	if grad != nil {
		gR += acc[1]
		gAlpha += acc[2]
		gA += acc[3] / a
		gB += acc[4]
		grad[0] = -r * gR / n
		grad[1] = -alpha * gAlpha / n
		grad[2] = -a * gA / n
		grad[3] = -b * gB / n
	}
	return -ll / n
}

// FitBGNBD fits a BG/NBD model by maximum likelihood.
func FitBGNBD(customers []Summary, opts ...Option) (BGNBD, error) {
	if len(customers) == 0 {
		return BGNBD{}, errors.New("clv: fit bgnbd: no customers")
	}
	d, err := newBGData(customers)
	if err != nil {
		return BGNBD{}, fmt.Errorf("clv: fit bgnbd: %w", err)
	}
	cfg := newFitConfig(opts)
	init := cfg.init
	if init == nil {
		init = []float64{1, meanT(customers), 1, 1}
	}
	var tb bgTables
	f := func(p, grad []float64) float64 { return d.negLL(p, grad, cfg.workers, &tb) }
	est, info, err := minimizeLog(f, init, cfg.numericalGrd)
	if err != nil {
		return BGNBD{}, fmt.Errorf("clv: fit bgnbd: %w", err)
	}
	m := BGNBD{R: est[0], Alpha: est[1], A: est[2], B: est[3]}
	info.Customers = d.n
	m.Fit = info
	m.LogLik = m.LogLikelihood(customers)
	return m, nil
}

func meanT(cs []Summary) float64 {
	s := 0.0
	for _, c := range cs {
		s += c.T
	}
	m := s / float64(len(cs))
	if !(m > 0) {
		return 1
	}
	return m
}

func (m BGNBD) logParams() []float64 {
	return []float64{math.Log(m.R), math.Log(m.Alpha), math.Log(m.A), math.Log(m.B)}
}

// LogLikelihood is the total log-likelihood of the customers under m, or
// NaN when a summary is invalid.
func (m BGNBD) LogLikelihood(customers []Summary) float64 {
	d, err := newBGData(customers)
	if err != nil || d.n == 0 {
		return math.NaN()
	}
	var tb bgTables
	return -d.negLL(m.logParams(), nil, 1, &tb) * float64(d.n)
}

// PAlive is the probability that a customer with x repeat purchases, the
// last at t_x, observed for T, is still active.
func (m BGNBD) PAlive(x int, tx, T float64) float64 {
	if x == 0 {
		return 1
	}
	fx := float64(x)
	lnOdds := math.Log(m.A/(m.B+fx-1)) + (m.R+fx)*(math.Log(m.Alpha+T)-math.Log(m.Alpha+tx))
	return 1 / (1 + math.Exp(lnOdds))
}

// ExpectedTransactions is the expected number of transactions in the next
// t time units of a customer with history (x, t_x, T) (FHL 2005 eq. 10).
func (m BGNBD) ExpectedTransactions(t float64, x int, tx, T float64) float64 {
	if t <= 0 {
		return 0
	}
	fx := float64(x)
	r, alpha, a, b := m.R, m.Alpha, m.A, m.B
	z := t / (alpha + T + t)
	h := mathext.Hypergeo(r+fx, b+fx, a+b+fx-1, z)
	lnRatio := (r + fx) * math.Log((alpha+T)/(alpha+T+t))
	num := (a + b + fx - 1) / (a - 1) * (1 - math.Exp(lnRatio)*h)
	den := 1.0
	if x > 0 {
		den += a / (b + fx - 1) * math.Exp((r+fx)*(math.Log(alpha+T)-math.Log(alpha+tx)))
	}
	return num / den
}

// UnconditionalExpected is E[X(t)], the expected number of repeat
// transactions in (0, t] of a customer just acquired (FHL 2005 eq. 7).
func (m BGNBD) UnconditionalExpected(t float64) float64 {
	if t <= 0 {
		return 0
	}
	r, alpha, a, b := m.R, m.Alpha, m.A, m.B
	h := mathext.Hypergeo(r, b, a+b-1, t/(alpha+t))
	return (a + b - 1) / (a - 1) * (1 - math.Exp(r*math.Log(alpha/(alpha+t)))*h)
}
