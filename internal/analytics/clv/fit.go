package clv

import (
	"errors"
	"fmt"
	"math"
	"runtime"
	"sync"
	"sync/atomic"

	"gonum.org/v1/gonum/diff/fd"
	"gonum.org/v1/gonum/optimize"
)

// chunkSize is the number of customers whose terms are summed together
// before chunk sums are added up in chunk order. It is fixed (not derived
// from the number of workers) so that every sum, and so every fit, is
// bit-identical whatever the parallelism.
const chunkSize = 8192

// FitInfo describes how an optimisation went.
type FitInfo struct {
	// Customers is the number of customers the model was fitted on.
	Customers int `json:"customers"`
	// Iterations and Evaluations count BFGS major iterations and
	// likelihood evaluations.
	Iterations  int `json:"iterations"`
	Evaluations int `json:"evaluations"`
	// Status is gonum's termination status, or LineSearchStalled when the
	// line search could no longer improve at a near-zero gradient.
	Status string `json:"status"`
	// Gradient is the largest absolute component of the gradient of the
	// mean negative log-likelihood (per customer, with respect to the log
	// parameters) at the returned optimum.
	Gradient float64 `json:"gradient"`
}

// Option tunes a fit.
type Option func(*fitConfig)

type fitConfig struct {
	workers      int
	numericalGrd bool
	init         []float64
}

// Workers sets how many goroutines evaluate the likelihood (default: all
// cores). It changes speed only, never the result.
func Workers(n int) Option { return func(c *fitConfig) { c.workers = n } }

// NumericalGradient makes the fit use gonum's central finite-difference
// gradient instead of the analytic one. It exists to measure the analytic
// gradient against a peer; results agree to optimiser tolerance.
func NumericalGradient() Option { return func(c *fitConfig) { c.numericalGrd = true } }

// StartAt sets the starting parameters of the fit (in the model's own
// order, e.g. r, alpha, a, b). They must be positive.
func StartAt(params ...float64) Option {
	return func(c *fitConfig) { c.init = append([]float64(nil), params...) }
}

func newFitConfig(opts []Option) fitConfig {
	c := fitConfig{workers: runtime.GOMAXPROCS(0)}
	for _, o := range opts {
		o(&c)
	}
	if c.workers < 1 {
		c.workers = 1
	}
	return c
}

// reduce computes out[j] = Σ over customers of the k terms that fn adds for
// customers [lo,hi). Chunk sums are combined in chunk order.
func reduce(n, k, workers int, buf []float64, fn func(lo, hi int, acc []float64)) []float64 {
	chunks := (n + chunkSize - 1) / chunkSize
	if cap(buf) < chunks*k {
		buf = make([]float64, chunks*k)
	}
	buf = buf[:chunks*k]
	clear(buf)
	run := func(c int) {
		lo := c * chunkSize
		fn(lo, min(lo+chunkSize, n), buf[c*k:(c+1)*k])
	}
	if workers <= 1 || chunks == 1 {
		for c := range chunks {
			run(c)
		}
	} else {
		var next atomic.Int64
		var wg sync.WaitGroup
		for range min(workers, chunks) {
			wg.Go(func() {
				for {
					c := int(next.Add(1) - 1)
					if c >= chunks {
						return
					}
					run(c)
				}
			})
		}
		wg.Wait()
	}
	for c := 1; c < chunks; c++ {
		for j := range k {
			buf[j] += buf[c*k+j]
		}
	}
	return buf[:k]
}

// objective evaluates a negative mean log-likelihood and its gradient with
// respect to the log-parameters in one pass.
type objective func(logParams, grad []float64) float64

// minimizeLog minimises f over log-parameters with BFGS. It caches the last
// evaluation because gonum asks for the value and the gradient at the same
// point separately.
func minimizeLog(f objective, init []float64, numerical bool) ([]float64, FitInfo, error) {
	dim := len(init)
	x0 := make([]float64, dim)
	for i, v := range init {
		if !(v > 0) || math.IsInf(v, 0) {
			return nil, FitInfo{}, fmt.Errorf("starting parameter %d is %v, want positive", i, v)
		}
		x0[i] = math.Log(v)
	}
	evals := 0
	lastX := make([]float64, dim)
	lastG := make([]float64, dim)
	lastF := math.NaN()
	eval := func(x []float64) {
		if evals > 0 && equal(x, lastX) {
			return
		}
		evals++
		copy(lastX, x)
		lastF = f(x, lastG)
		if math.IsNaN(lastF) {
			lastF = math.Inf(1)
		}
	}
	prob := optimize.Problem{
		Func: func(x []float64) float64 {
			if numerical {
				evals++
				v := f(x, nil)
				if math.IsNaN(v) {
					return math.Inf(1)
				}
				return v
			}
			eval(x)
			return lastF
		},
	}
	if numerical {
		prob.Grad = func(grad, x []float64) {
			fd.Gradient(grad, prob.Func, x, &fd.Settings{Formula: fd.Central, Step: 1e-6})
		}
	} else {
		prob.Grad = func(grad, x []float64) {
			eval(x)
			copy(grad, lastG)
		}
	}
	settings := &optimize.Settings{
		GradientThreshold: 1e-8,
		Converger:         &optimize.FunctionConverge{Absolute: 1e-13, Relative: 1e-13, Iterations: 20},
		MajorIterations:   1000,
	}
	res, err := optimize.Minimize(prob, x0, settings, &optimize.BFGS{})
	if res == nil {
		return nil, FitInfo{}, fmt.Errorf("optimize: %w", err)
	}
	info := FitInfo{Iterations: res.Stats.MajorIterations, Evaluations: evals, Status: res.Status.String(), Gradient: maxAbs(res.Gradient)}
	if math.IsInf(res.F, 0) || math.IsNaN(res.F) {
		return nil, info, errors.New("likelihood is not finite at the optimum")
	}
	// A line search that can no longer improve near the optimum is a normal
	// end for a flat likelihood; only fail when the gradient is still large.
	if err != nil {
		if info.Gradient > 1e-5 {
			return nil, info, fmt.Errorf("optimize: %w (status %v, gradient %.3g)", err, res.Status, info.Gradient)
		}
		info.Status = "LineSearchStalled"
	}
	out := make([]float64, dim)
	for i, v := range res.X {
		out[i] = math.Exp(v)
	}
	return out, info, nil
}

func equal(a, b []float64) bool {
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func maxAbs(v []float64) float64 {
	m := 0.0
	for _, x := range v {
		m = max(m, math.Abs(x))
	}
	return m
}

// logAddExp returns log(exp(a)+exp(b)) without overflow.
func logAddExp(a, b float64) float64 {
	if math.IsInf(a, -1) {
		return b
	}
	if math.IsInf(b, -1) {
		return a
	}
	if a < b {
		a, b = b, a
	}
	return a + math.Log1p(math.Exp(b-a))
}

// logSubExp returns log(exp(a)-exp(b)) for a >= b.
func logSubExp(a, b float64) float64 {
	if math.IsInf(b, -1) {
		return a
	}
	return a + math.Log(-math.Expm1(b-a))
}

func lgamma(x float64) float64 {
	v, _ := math.Lgamma(x)
	return v
}

// distinctCounts maps each customer's repeat count to an index into a table
// of distinct counts, so that terms depending only on x (log-gamma and
// digamma values) are computed once per distinct x per evaluation.
func distinctCounts(xs []int) (idx []int32, values []float64, counts []float64) {
	pos := make(map[int]int32)
	idx = make([]int32, len(xs))
	for i, x := range xs {
		j, ok := pos[x]
		if !ok {
			j = int32(len(values))
			pos[x] = j
			values = append(values, float64(x))
			counts = append(counts, 0)
		}
		idx[i] = j
		counts[j]++
	}
	return idx, values, counts
}
