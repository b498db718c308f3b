package clv

import (
	"errors"
	"fmt"
	"math"

	"gonum.org/v1/gonum/mathext"
)

// ParetoNBD is a fitted Pareto/NBD model (Schmittlein, Morrison & Colombo
// 1987): while alive a customer buys at a Poisson rate λ ~ Gamma(R, Alpha)
// and has an exponential lifetime with rate μ ~ Gamma(S, Beta).
type ParetoNBD struct {
	R, Alpha, S, Beta float64
	// LogLik is the total log-likelihood of the fitted data.
	LogLik float64
	Fit    FitInfo
}

// pnbdLogTerms returns the logs of the two terms of the likelihood bracket
// in Fader & Hardie's "A Note on Deriving the Pareto/NBD Model" (eq. 22):
// alive through T, and died between t_x and T. The 2F1 is always called
// with argument |α−β|/(max(α,β)+t) in [0, 1), the form that keeps the
// series convergent.
func pnbdLogTerms(r, alpha, s, beta, x, tx, T float64) (alive, died float64) {
	alive = -(r+x)*math.Log(alpha+T) - s*math.Log(beta+T)
	if tx >= T {
		return alive, math.Inf(-1)
	}
	rsx := r + s + x
	maxAB, b := alpha, s+1
	if alpha < beta {
		maxAB, b = beta, r+x
	}
	d := math.Abs(alpha - beta)
	l1 := math.Log(mathext.Hypergeo(rsx, b, rsx+1, d/(maxAB+tx))) - rsx*math.Log(maxAB+tx)
	l2 := math.Log(mathext.Hypergeo(rsx, b, rsx+1, d/(maxAB+T))) - rsx*math.Log(maxAB+T)
	if !(l1 > l2) {
		// Equal up to rounding: the died-in-(t_x,T] term vanishes.
		return alive, math.Inf(-1)
	}
	died = math.Log(s/rsx) + logSubExp(l1, l2)
	return alive, died
}

type pnbdData struct {
	n     int
	x, tx []float64
	T     []float64
	buf   []float64
}

// negLL returns −LL/n at log-parameters p.
func (d *pnbdData) negLL(p []float64, workers int) float64 {
	r, alpha, s, beta := math.Exp(p[0]), math.Exp(p[1]), math.Exp(p[2]), math.Exp(p[3])
	head := -lgamma(r) + r*math.Log(alpha) + s*math.Log(beta)
	acc := reduce(d.n, 1, workers, d.buf, func(lo, hi int, acc []float64) {
		var sum float64
		for i := lo; i < hi; i++ {
			x := d.x[i]
			alive, died := pnbdLogTerms(r, alpha, s, beta, x, d.tx[i], d.T[i])
			sum += lgamma(r+x) + logAddExp(alive, died)
		}
		acc[0] = sum
	})
	d.buf = acc[:cap(acc)][:0]
	n := float64(d.n)
	return -(acc[0] + n*head) / n
}

func newPNBDData(cs []Summary) (*pnbdData, error) {
	d := &pnbdData{n: len(cs), x: make([]float64, len(cs)), tx: make([]float64, len(cs)), T: make([]float64, len(cs))}
	for i, c := range cs {
		if err := checkSummary(c); err != nil {
			return nil, err
		}
		d.x[i], d.tx[i], d.T[i] = float64(c.X), c.TX, c.T
	}
	return d, nil
}

// FitParetoNBD fits a Pareto/NBD model by maximum likelihood. The
// likelihood needs 2F1 with parameters that move with r and s, whose
// parameter derivatives have no closed form, so this fit uses central
// finite differences for the gradient (the BG/NBD and Gamma-Gamma fits are
// analytic).
func FitParetoNBD(customers []Summary, opts ...Option) (ParetoNBD, error) {
	if len(customers) == 0 {
		return ParetoNBD{}, errors.New("clv: fit paretonbd: no customers")
	}
	d, err := newPNBDData(customers)
	if err != nil {
		return ParetoNBD{}, fmt.Errorf("clv: fit paretonbd: %w", err)
	}
	cfg := newFitConfig(opts)
	init := cfg.init
	if init == nil {
		mt := meanT(customers)
		init = []float64{1, mt, 1, mt}
	}
	f := func(p, _ []float64) float64 { return d.negLL(p, cfg.workers) }
	est, info, err := minimizeLog(f, init, true)
	if err != nil {
		return ParetoNBD{}, fmt.Errorf("clv: fit paretonbd: %w", err)
	}
	m := ParetoNBD{R: est[0], Alpha: est[1], S: est[2], Beta: est[3]}
	info.Customers = d.n
	m.Fit = info
	m.LogLik = m.LogLikelihood(customers)
	return m, nil
}

// LogLikelihood is the total log-likelihood of the customers under m, or
// NaN when a summary is invalid.
func (m ParetoNBD) LogLikelihood(customers []Summary) float64 {
	d, err := newPNBDData(customers)
	if err != nil || d.n == 0 {
		return math.NaN()
	}
	p := []float64{math.Log(m.R), math.Log(m.Alpha), math.Log(m.S), math.Log(m.Beta)}
	return -d.negLL(p, 1) * float64(d.n)
}

// PAlive is the probability that a customer with x repeat purchases, the
// last at t_x, observed for T, is still active.
func (m ParetoNBD) PAlive(x int, tx, T float64) float64 {
	alive, died := pnbdLogTerms(m.R, m.Alpha, m.S, m.Beta, float64(x), tx, T)
	return 1 / (1 + math.Exp(died-alive))
}

// ExpectedTransactions is the expected number of transactions in the next
// t time units of a customer with history (x, t_x, T).
func (m ParetoNBD) ExpectedTransactions(t float64, x int, tx, T float64) float64 {
	if t <= 0 {
		return 0
	}
	fx := float64(x)
	bt := m.Beta + T
	return (m.R + fx) * bt / (m.Alpha + T) * survivalIntegral(m.S, math.Log(bt/(bt+t))) * m.PAlive(x, tx, T)
}

// survivalIntegral returns (1 − e^{(s−1)·l}) / (s−1), with its limit −l at
// s = 1; l = ln(β/(β+t)).
func survivalIntegral(s, l float64) float64 {
	if math.Abs(s-1) < 1e-12 {
		return -l
	}
	return -math.Expm1((s-1)*l) / (s - 1)
}

// UnconditionalExpected is E[X(t)], the expected number of repeat
// transactions in (0, t] of a customer just acquired.
func (m ParetoNBD) UnconditionalExpected(t float64) float64 {
	if t <= 0 {
		return 0
	}
	return m.R * m.Beta / m.Alpha * survivalIntegral(m.S, math.Log(m.Beta/(m.Beta+t)))
}
