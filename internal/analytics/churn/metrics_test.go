package churn

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// bruteAUC counts every positive–negative pair: 1 when the positive
// scores higher, ½ for a tie.
func bruteAUC(scores, labels []float64) float64 {
	var wins, pairs float64
	for i := range scores {
		for j := range scores {
			if labels[i] != 1 || labels[j] != 0 {
				continue
			}
			pairs++
			switch {
			case scores[i] > scores[j]:
				wins++
			case scores[i] == scores[j]:
				wins += 0.5
			}
		}
	}
	return wins / pairs
}

func TestAUCMatchesPairwiseCountWithTies(t *testing.T) {
	cases := []struct {
		name           string
		scores, labels []float64
		want           float64
	}{
		{"perfect", []float64{0.1, 0.2, 0.8, 0.9}, []float64{0, 0, 1, 1}, 1},
		{"reversed", []float64{0.9, 0.8, 0.2, 0.1}, []float64{0, 0, 1, 1}, 0},
		{"all tied", []float64{0.5, 0.5, 0.5, 0.5}, []float64{0, 1, 0, 1}, 0.5},
		{"one tie across classes", []float64{0.1, 0.4, 0.4, 0.9}, []float64{0, 0, 1, 1}, 0.875},
		{"ties within a class only", []float64{0.3, 0.3, 0.7, 0.7}, []float64{0, 0, 1, 1}, 1},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := AUC(c.scores, c.labels); math.Abs(got-c.want) > 1e-15 {
				t.Errorf("AUC = %v, want %v", got, c.want)
			}
			if got := bruteAUC(c.scores, c.labels); math.Abs(got-c.want) > 1e-15 {
				t.Errorf("brute force = %v, want %v (case is wrong)", got, c.want)
			}
		})
	}
	// Random scores on a coarse grid, so ties are frequent.
	rng := rand.New(rand.NewPCG(7, 8))
	for trial := range 50 {
		n := 2 + rng.IntN(300)
		scores, labels := make([]float64, n), make([]float64, n)
		for i := range n {
			scores[i] = float64(rng.IntN(1+trial%12)) / 10
			if rng.Float64() < 0.3 {
				labels[i] = 1
			}
		}
		labels[0], labels[1] = 0, 1
		if got, want := AUC(scores, labels), bruteAUC(scores, labels); math.Abs(got-want) > 1e-12 {
			t.Fatalf("trial %d (n %d): AUC %v, pairwise count %v", trial, n, got, want)
		}
	}
}

func TestAUCIsNaNWithOneClass(t *testing.T) {
	if got := AUC([]float64{0.1, 0.2}, []float64{1, 1}); !math.IsNaN(got) {
		t.Errorf("AUC with no negative = %v, want NaN", got)
	}
}

func TestLogLossAndBrier(t *testing.T) {
	p := []float64{0.8, 0.3, 0, 1}
	y := []float64{1, 0, 0, 1}
	wantLL := -(math.Log(0.8) + math.Log(0.7) + math.Log1p(-probFloor) + math.Log(1-probFloor)) / 4
	if got := LogLoss(p, y); math.Abs(got-wantLL) > 1e-12 {
		t.Errorf("LogLoss = %v, want %v", got, wantLL)
	}
	if got, want := Brier(p, y), (0.04+0.09)/4; math.Abs(got-want) > 1e-15 {
		t.Errorf("Brier = %v, want %v", got, want)
	}
	// A certain wrong prediction is finite, not +Inf.
	if got := LogLoss([]float64{0}, []float64{1}); math.IsInf(got, 0) || got < 30 {
		t.Errorf("LogLoss of a certain miss = %v, want large and finite", got)
	}
}

func TestCalibrationBinsAreEqualCountAndOrdered(t *testing.T) {
	n := 1003
	p, y := make([]float64, n), make([]float64, n)
	for i := range n {
		p[(i*389)%n] = float64(i) / float64(n) // a permutation of the ranks
		if i%3 == 0 {
			y[(i*389)%n] = 1
		}
	}
	bins := Calibration(p, y, 10)
	if len(bins) != 10 {
		t.Fatalf("%d bins, want 10", len(bins))
	}
	total, pos := 0, 0.0
	for k, b := range bins {
		if b.N != 100 && b.N != 101 {
			t.Errorf("bin %d has %d rows, want 100 or 101", b.Bin, b.N)
		}
		if k > 0 && b.MinPredicted < bins[k-1].MaxPredicted {
			t.Errorf("bin %d starts at %v below the previous bin's max %v", b.Bin, b.MinPredicted, bins[k-1].MaxPredicted)
		}
		if b.MeanPredicted < b.MinPredicted || b.MeanPredicted > b.MaxPredicted {
			t.Errorf("bin %d mean %v outside [%v, %v]", b.Bin, b.MeanPredicted, b.MinPredicted, b.MaxPredicted)
		}
		total += b.N
		pos += b.Observed * float64(b.N)
	}
	if total != n || math.Abs(pos-335) > 1e-9 {
		t.Errorf("bins hold %d rows and %.3f positives, want %d and 335", total, pos, n)
	}
}

func TestStratifiedSplitKeepsEachLabelsShareAndIsDeterministic(t *testing.T) {
	labels := make([]float64, 1000)
	for i := range 270 {
		labels[i*3] = 1
	}
	train, test := StratifiedSplit(labels, 0.25, 42)
	if len(train)+len(test) != 1000 {
		t.Fatalf("split loses rows: %d + %d", len(train), len(test))
	}
	pos := 0
	for _, i := range test {
		pos += int(labels[i])
	}
	// round(0.25·270) = 68 churned and round(0.25·730) = 183 retained.
	if len(test) != 251 || pos != 68 {
		t.Errorf("test has %d rows, %d positive; want 251 and 68", len(test), pos)
	}
	if !slices.IsSorted(train) || !slices.IsSorted(test) {
		t.Error("split rows are not in ascending order")
	}
	train2, test2 := StratifiedSplit(labels, 0.25, 42)
	if !slices.Equal(train, train2) || !slices.Equal(test, test2) {
		t.Error("same seed gave a different split")
	}
	_, test3 := StratifiedSplit(labels, 0.25, 43)
	if slices.Equal(test, test3) {
		t.Error("a different seed gave the same split")
	}
}
