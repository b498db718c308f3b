package clv

import (
	"sync"
	"testing"
)

// Benchmarks of the BG/NBD + Gamma-Gamma fits, each beside its in-run
// peers: the same fit on one worker, and the same fit with gonum's central
// finite-difference gradient. Run with
//
//	go test ./internal/analytics/clv/ -run '^$' -bench . -benchtime 3x

var (
	synthOnce sync.Once
	synth     []Summary
	synthRep  []Summary
)

// synthetic1M is one million customers simulated from a CDNOW-like BG/NBD
// and Gamma-Gamma process with 26–52 weeks of history each.
func synthetic1M() ([]Summary, []Summary) {
	synthOnce.Do(func() {
		synth = SimulateBGNBD(BGNBD{R: 0.25, Alpha: 4.4, A: 0.8, B: 2.4}, observationTimes(1_000_000, 26, 52, 101), 102)
		SimulateSpend(GammaGamma{P: 6.25, Q: 3.74, Gamma: 15.44}, synth, 103)
		synthRep = SpendCustomers(synth)
	})
	return synth, synthRep
}

func benchFits(b *testing.B, cs, rep []Summary, opts ...Option) {
	b.Helper()
	for b.Loop() {
		if _, err := FitBGNBD(cs, opts...); err != nil {
			b.Fatal(err)
		}
		if _, err := FitGammaGamma(rep, opts...); err != nil {
			b.Fatal(err)
		}
	}
}

func fitVariants() []struct {
	name string
	opts []Option
} {
	return []struct {
		name string
		opts []Option
	}{
		{"analytic/all-cores", nil},
		{"analytic/1-worker", []Option{Workers(1)}},
		{"numerical-gradient/all-cores", []Option{NumericalGradient()}},
	}
}

func BenchmarkFitBGNBDGammaGamma1M(b *testing.B) {
	cs, rep := synthetic1M()
	for _, v := range fitVariants() {
		b.Run(v.name, func(b *testing.B) { benchFits(b, cs, rep, v.opts...) })
	}
}

func BenchmarkFitBGNBDGammaGammaCDNOW(b *testing.B) {
	s := cdnowSummaries(b)
	rep := SpendCustomers(s.Customers)
	for _, v := range fitVariants() {
		b.Run(v.name, func(b *testing.B) { benchFits(b, s.Customers, rep, v.opts...) })
	}
}

func BenchmarkFitParetoNBDCDNOW(b *testing.B) {
	s := cdnowSummaries(b)
	for b.Loop() {
		if _, err := FitParetoNBD(s.Customers); err != nil {
			b.Fatal(err)
		}
	}
}
