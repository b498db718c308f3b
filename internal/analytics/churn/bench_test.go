package churn

import (
	"bytes"
	"math/rand/v2"
	"sync"
	"testing"
)

// Benchmarks of the logistic fit on 100,000 rows × 20 features, each
// solver beside its in-run peers: IRLS (exact Hessian) on all cores and on
// one worker, and gonum's LBFGS with the analytic gradient and with a
// central finite-difference gradient. Run with
//
//	go test ./internal/analytics/churn/ -run '^$' -bench . -benchtime 5x

const benchRows, benchFeatures = 100_000, 20

var (
	benchOnce sync.Once
	benchX    []float64
	benchY    []float64
)

// benchDesign draws 100,000 customers with 14 standard-normal and 6
// binary (p 0.3, centred) features and labels from a logistic model with
// coefficients in [−0.6, 0.6] and a base rate near 27%.
func benchDesign() ([]float64, []float64) {
	benchOnce.Do(func() {
		rng := rand.New(rand.NewPCG(100, 1))
		d := benchFeatures + 1
		beta := make([]float64, d)
		beta[0] = -1.1
		for j := 1; j < d; j++ {
			beta[j] = 1.2*rng.Float64() - 0.6
		}
		benchX = make([]float64, benchRows*d)
		benchY = make([]float64, benchRows)
		for i := range benchRows {
			row := benchX[i*d : (i+1)*d]
			row[0] = 1
			eta := beta[0]
			for j := 1; j < d; j++ {
				if j <= 14 {
					row[j] = rng.NormFloat64()
				} else if rng.Float64() < 0.3 {
					row[j] = 0.7
				} else {
					row[j] = -0.3
				}
				eta += beta[j] * row[j]
			}
			if rng.Float64() < sigmoid(eta) {
				benchY[i] = 1
			}
		}
	})
	return benchX, benchY
}

func BenchmarkFit100kx20(b *testing.B) {
	X, y := benchDesign()
	for _, v := range []struct {
		name string
		opts FitOptions
	}{
		{"irls/all-cores", FitOptions{Solver: IRLS}},
		{"irls/1-worker", FitOptions{Solver: IRLS, Workers: 1}},
		{"lbfgs-analytic/all-cores", FitOptions{Solver: LBFGS}},
		{"lbfgs-numerical/all-cores", FitOptions{Solver: LBFGSNumerical}},
	} {
		b.Run(v.name, func(b *testing.B) {
			var f Fit
			for b.Loop() {
				var err error
				if f, err = FitLogistic(X, y, benchFeatures+1, v.opts); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(f.Iterations), "iters")
			b.ReportMetric(float64(f.Evaluations), "passes")
		})
	}
}

// BenchmarkAnalyzeTelecom100k is the whole pipeline on a 100,000-row
// telecom table (11 columns, 35 features): CSV read, profile, split,
// encode, IRLS fit, scoring and reasons for the test rows.
func BenchmarkAnalyzeTelecom100k(b *testing.B) {
	data, _ := telecomCSV(100_000, 7)
	for b.Loop() {
		tab, err := ReadCSV(bytes.NewReader(data), ReadOptions{LabelCol: "churn", IDCol: "customer_id"})
		if err != nil {
			b.Fatal(err)
		}
		if _, _, err := Analyze(tab, Options{Seed: 1}); err != nil {
			b.Fatal(err)
		}
	}
}
