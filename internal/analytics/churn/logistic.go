package churn

import (
	"errors"
	"fmt"
	"math"
	"runtime"
	"sync"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas64"
	"gonum.org/v1/gonum/diff/fd"
	"gonum.org/v1/gonum/mat"
	"gonum.org/v1/gonum/optimize"
)

// Solver names a way to fit the logistic regression.
type Solver string

// Solvers. IRLS (Newton's method with the exact Hessian) is the default;
// the LBFGS variants exist as peers for checking and benchmarking.
const (
	IRLS           Solver = "irls"
	LBFGS          Solver = "lbfgs"           // gonum LBFGS, analytic gradient
	LBFGSNumerical Solver = "lbfgs-numerical" // gonum LBFGS, central finite-difference gradient
)

// DefaultLambda is the default L2 penalty on the standardized coefficients.
const DefaultLambda = 1.0

// chunkRows is the fixed work unit of the parallel evaluation; partial
// sums are added in chunk order so results do not depend on Workers.
const chunkRows = 4096

// FitOptions tune FitLogistic.
type FitOptions struct {
	// Lambda is the L2 penalty λ in −loglik + λ/2·Σβⱼ² (the intercept is
	// not penalized). Zero means DefaultLambda; negative means none.
	Lambda float64
	// Solver defaults to IRLS.
	Solver Solver
	// Workers is the number of goroutines; zero means GOMAXPROCS.
	Workers int
	// MaxIter caps the iterations; zero means 100 for IRLS, 2000 for LBFGS.
	MaxIter int
}

// Fit is a fitted logistic regression on a design matrix.
type Fit struct {
	// Beta holds the intercept then one coefficient per feature.
	Beta   []float64
	Lambda float64
	Solver Solver
	// LogLik is the training log-likelihood at Beta; Objective adds the
	// penalty (it is what the solver maximised).
	LogLik, Objective float64
	Iterations        int
	// Evaluations counts passes over the data.
	Evaluations int
	Converged   bool
}

// FitLogistic fits P(y=1|x) = 1/(1+exp(−x·β)) to the row-major n×d design
// matrix X (first column the intercept) by penalized maximum likelihood.
func FitLogistic(X, y []float64, d int, opts FitOptions) (Fit, error) {
	n := len(y)
	if d < 1 || len(X) != n*d {
		return Fit{}, fmt.Errorf("churn: fit logistic: design is %d values, want %d×%d", len(X), n, d)
	}
	if n == 0 {
		return Fit{}, errors.New("churn: fit logistic: no rows")
	}
	pos := 0.0
	for _, v := range y {
		if v != 0 && v != 1 {
			return Fit{}, fmt.Errorf("churn: fit logistic: label %v is not 0 or 1", v)
		}
		pos += v
	}
	if pos == 0 || pos == float64(n) {
		return Fit{}, errors.New("churn: fit logistic: training labels are all one class")
	}
	lambda := opts.Lambda
	switch {
	case lambda == 0:
		lambda = DefaultLambda
	case lambda < 0:
		lambda = 0
	}
	workers := opts.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	ev := newEvaluator(X, y, d, workers)
	// Start from the base rate, so the first step is already sensible.
	beta := make([]float64, d)
	beta[0] = math.Log(pos / (float64(n) - pos))
	switch opts.Solver {
	case IRLS, "":
		return fitIRLS(ev, beta, lambda, orDefault(opts.MaxIter, 100))
	case LBFGS, LBFGSNumerical:
		return fitLBFGS(ev, beta, lambda, orDefault(opts.MaxIter, 2000), opts.Solver == LBFGSNumerical)
	}
	return Fit{}, fmt.Errorf("churn: fit logistic: unknown solver %q", opts.Solver)
}

// orDefault reads a count option: zero means def, negative means none.
func orDefault(v, def int) int {
	switch {
	case v == 0:
		return def
	case v < 0:
		return 0
	}
	return v
}

// penalize turns a log-likelihood (and its gradient and negative Hessian,
// when given) into the penalized objective.
func penalize(ll float64, g, H, beta []float64, lambda float64) float64 {
	d := len(beta)
	for j := 1; j < d; j++ {
		ll -= lambda / 2 * beta[j] * beta[j]
		if g != nil {
			g[j] -= lambda * beta[j]
		}
		if H != nil {
			H[j*d+j] += lambda
		}
	}
	return ll
}

func fitIRLS(ev *evaluator, beta []float64, lambda float64, maxIter int) (Fit, error) {
	d := ev.d
	f := Fit{Lambda: lambda, Solver: IRLS}
	ll, g, H := ev.eval(beta, true)
	f.Evaluations++
	obj := penalize(ll, g, H, beta, lambda)
	step := make([]float64, d)
	next := make([]float64, d)
	for f.Iterations = 1; f.Iterations <= maxIter; f.Iterations++ {
		if err := solveSPD(H, g, d, step); err != nil {
			return f, fmt.Errorf("churn: fit logistic: newton step %d: %w", f.Iterations, err)
		}
		// Newton's step with halving: the penalized likelihood is concave,
		// but a full step from far away can overshoot.
		t := 1.0
		var nll, nobj float64
		var ng, nH []float64
		for range 40 {
			for j := range next {
				next[j] = beta[j] + t*step[j]
			}
			nll, ng, nH = ev.eval(next, true)
			f.Evaluations++
			nobj = penalize(nll, ng, nH, next, lambda)
			if nobj >= obj-1e-12*math.Abs(obj) {
				break
			}
			t /= 2
		}
		moved := 0.0
		for j := range beta {
			moved = math.Max(moved, math.Abs(next[j]-beta[j])/(1+math.Abs(beta[j])))
		}
		gain := nobj - obj
		copy(beta, next)
		ll, g, H, obj = nll, ng, nH, nobj
		if moved < 1e-9 || math.Abs(gain) < 1e-13*math.Abs(obj) && moved < 1e-6 {
			f.Converged = true
			break
		}
	}
	f.Iterations = min(f.Iterations, maxIter)
	f.Beta, f.LogLik, f.Objective = beta, ll, obj
	return f, nil
}

// solveSPD solves H·x = g for the symmetric positive semi-definite d×d H.
// A singular H (no penalty and collinear features, such as every level of
// a one-hot column beside the intercept) gets a growing ridge on its
// diagonal until it factorizes, which picks the smallest step.
func solveSPD(H, g []float64, d int, x []float64) error {
	var chol mat.Cholesky
	scale := 0.0
	for j := range d {
		scale = math.Max(scale, H[j*d+j])
	}
	A := H
	for jitter := 0.0; jitter <= scale; jitter = math.Max(2*jitter, 1e-10*scale) {
		if jitter > 0 {
			A = make([]float64, len(H))
			copy(A, H)
			for j := range d {
				A[j*d+j] += jitter
			}
		}
		if chol.Factorize(mat.NewSymDense(d, A)) {
			return chol.SolveVecTo(mat.NewVecDense(d, x), mat.NewVecDense(d, g))
		}
		if scale == 0 {
			break
		}
	}
	return errors.New("hessian is not positive definite")
}

func fitLBFGS(ev *evaluator, beta []float64, lambda float64, maxIter int, numerical bool) (Fit, error) {
	n := float64(ev.n)
	f := Fit{Lambda: lambda, Solver: LBFGS}
	if numerical {
		f.Solver = LBFGSNumerical
	}
	// Minimise the mean penalized negative log-likelihood so the gradient
	// threshold means the same at any n.
	obj := func(b []float64) float64 {
		f.Evaluations++
		ll, _, _ := ev.eval(b, false)
		return -penalize(ll, nil, nil, b, lambda) / n
	}
	p := optimize.Problem{Func: obj}
	if numerical {
		p.Grad = func(grad, b []float64) {
			fd.Gradient(grad, obj, b, &fd.Settings{Formula: fd.Central})
		}
	} else {
		p.Grad = func(grad, b []float64) {
			f.Evaluations++
			ll, g, _ := ev.eval(b, false)
			penalize(ll, g, nil, b, lambda)
			for j := range grad {
				grad[j] = -g[j] / n
			}
		}
	}
	settings := &optimize.Settings{
		GradientThreshold: 1e-9,
		MajorIterations:   maxIter,
		Converger:         &optimize.FunctionConverge{Absolute: 1e-14, Relative: 1e-14, Iterations: 20},
	}
	res, err := optimize.Minimize(p, beta, settings, &optimize.LBFGS{})
	if res == nil {
		return f, fmt.Errorf("churn: fit logistic: lbfgs: %w", err)
	}
	f.Iterations = res.Stats.MajorIterations
	f.Beta = res.X
	ll, g, _ := ev.eval(f.Beta, false)
	f.LogLik = ll
	f.Objective = penalize(ll, g, nil, f.Beta, lambda)
	// The line search can stop at the limit of floating-point precision
	// with an error; judge convergence by the final (mean) gradient.
	gmax := 0.0
	for _, v := range g {
		gmax = math.Max(gmax, math.Abs(v)/n)
	}
	f.Converged = gmax < 1e-6 || err == nil && (res.Status == optimize.GradientThreshold || res.Status == optimize.FunctionConvergence)
	return f, nil
}

// evaluator computes the log-likelihood, its gradient and the negative
// Hessian XᵀWX over fixed row chunks on several goroutines.
type evaluator struct {
	X, y    []float64
	n, d    int
	workers int
	chunks  int
	// per-chunk partial results, summed in chunk order
	ll []float64
	g  [][]float64
	H  [][]float64
}

func newEvaluator(X, y []float64, d, workers int) *evaluator {
	n := len(y)
	chunks := (n + chunkRows - 1) / chunkRows
	ev := &evaluator{X: X, y: y, n: n, d: d, workers: min(workers, chunks), chunks: chunks,
		ll: make([]float64, chunks), g: make([][]float64, chunks), H: make([][]float64, chunks)}
	for c := range chunks {
		ev.g[c] = make([]float64, d)
	}
	return ev
}

// eval returns the log-likelihood and its gradient at beta, and with
// hessian the upper triangle of XᵀWX (row-major d×d, fresh slices).
func (ev *evaluator) eval(beta []float64, hessian bool) (float64, []float64, []float64) {
	d := ev.d
	if hessian {
		for c := range ev.H {
			if ev.H[c] == nil {
				ev.H[c] = make([]float64, d*d)
			}
		}
	}
	work := make(chan int)
	var wg sync.WaitGroup
	for range ev.workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			eta := make([]float64, chunkRows)
			var A []float64
			if hessian {
				A = make([]float64, chunkRows*d)
			}
			for c := range work {
				ev.chunk(c, beta, hessian, eta, A)
			}
		}()
	}
	for c := range ev.chunks {
		work <- c
	}
	close(work)
	wg.Wait()
	ll := 0.0
	g := make([]float64, d)
	var H []float64
	if hessian {
		H = make([]float64, d*d)
	}
	for c := range ev.chunks {
		ll += ev.ll[c]
		for j, v := range ev.g[c] {
			g[j] += v
		}
		if hessian {
			for j, v := range ev.H[c] {
				H[j] += v
			}
		}
	}
	if hessian { // mirror the upper triangle for solvers that read all of it
		for i := range d {
			for j := i + 1; j < d; j++ {
				H[j*d+i] = H[i*d+j]
			}
		}
	}
	return ll, g, H
}

func (ev *evaluator) chunk(c int, beta []float64, hessian bool, eta, A []float64) {
	d := ev.d
	lo := c * chunkRows
	hi := min(lo+chunkRows, ev.n)
	m := hi - lo
	Xc := blas64.General{Rows: m, Cols: d, Stride: d, Data: ev.X[lo*d : hi*d]}
	eta = eta[:m]
	blas64.Gemv(blas.NoTrans, 1, Xc, blas64.Vector{N: d, Inc: 1, Data: beta}, 0, blas64.Vector{N: m, Inc: 1, Data: eta})
	ll := 0.0
	for i, e := range eta {
		yi := ev.y[lo+i]
		ll += yi*e - log1pExp(e)
		p := sigmoid(e)
		if hessian {
			w := math.Sqrt(p * (1 - p))
			row := ev.X[(lo+i)*d : (lo+i+1)*d]
			ar := A[i*d : (i+1)*d]
			for j, x := range row {
				ar[j] = w * x
			}
		}
		eta[i] = yi - p // residual, reused for the gradient
	}
	ev.ll[c] = ll
	blas64.Gemv(blas.Trans, 1, Xc, blas64.Vector{N: m, Inc: 1, Data: eta}, 0, blas64.Vector{N: d, Inc: 1, Data: ev.g[c]})
	if hessian {
		blas64.Syrk(blas.Trans, 1, blas64.General{Rows: m, Cols: d, Stride: d, Data: A[:m*d]},
			0, blas64.Symmetric{Uplo: blas.Upper, N: d, Stride: d, Data: ev.H[c]})
	}
}

func sigmoid(e float64) float64 {
	if e >= 0 {
		return 1 / (1 + math.Exp(-e))
	}
	z := math.Exp(e)
	return z / (1 + z)
}

// log1pExp is log(1+exp(e)) without overflow.
func log1pExp(e float64) float64 {
	if e > 0 {
		return e + math.Log1p(math.Exp(-e))
	}
	return math.Log1p(math.Exp(e))
}
