package churn

import (
	"cmp"
	"math"
	"math/rand/v2"
	"slices"
)

// AUC is the area under the ROC curve of scores against 0/1 labels, by
// the Mann–Whitney U statistic with mid-ranks for tied scores (a tied
// positive–negative pair counts one half). It is NaN when either class is
// absent.
func AUC(scores, labels []float64) float64 {
	n := len(scores)
	idx := make([]int, n)
	for i := range idx {
		idx[i] = i
	}
	slices.SortFunc(idx, func(a, b int) int { return cmp.Compare(scores[a], scores[b]) })
	var nPos, rankSum float64
	for i := 0; i < n; {
		j := i
		for j < n && scores[idx[j]] == scores[idx[i]] {
			j++
		}
		mid := float64(i+j+1) / 2 // mean of the 1-based ranks i+1 … j
		for k := i; k < j; k++ {
			if labels[idx[k]] == 1 {
				nPos++
				rankSum += mid
			}
		}
		i = j
	}
	nNeg := float64(n) - nPos
	if nPos == 0 || nNeg == 0 {
		return math.NaN()
	}
	return (rankSum - nPos*(nPos+1)/2) / (nPos * nNeg)
}

// probFloor keeps log-loss finite for a prediction of exactly 0 or 1.
const probFloor = 1e-15

// LogLoss is the mean negative log-likelihood of 0/1 labels under
// predicted probabilities p.
func LogLoss(p, labels []float64) float64 {
	s := 0.0
	for i, q := range p {
		q = min(max(q, probFloor), 1-probFloor)
		if labels[i] == 1 {
			s -= math.Log(q)
		} else {
			s -= math.Log1p(-q)
		}
	}
	return s / float64(len(p))
}

// Brier is the mean squared difference between p and 0/1 labels.
func Brier(p, labels []float64) float64 {
	s := 0.0
	for i, q := range p {
		d := q - labels[i]
		s += d * d
	}
	return s / float64(len(p))
}

// CalibrationBin compares predicted and observed churn in one quantile
// bin of the predictions.
type CalibrationBin struct {
	Bin           int     `json:"bin"`
	N             int     `json:"n"`
	MinPredicted  float64 `json:"min_predicted"`
	MaxPredicted  float64 `json:"max_predicted"`
	MeanPredicted float64 `json:"mean_predicted"`
	Observed      float64 `json:"observed"`
}

// Calibration sorts the predictions and cuts them into bins of (nearly)
// equal count, lowest risk first, reporting the mean prediction and the
// observed positive rate of each.
func Calibration(p, labels []float64, bins int) []CalibrationBin {
	n := len(p)
	bins = min(bins, n)
	idx := make([]int, n)
	for i := range idx {
		idx[i] = i
	}
	slices.SortStableFunc(idx, func(a, b int) int { return cmp.Compare(p[a], p[b]) })
	out := make([]CalibrationBin, 0, bins)
	for b := range bins {
		lo, hi := b*n/bins, (b+1)*n/bins
		cb := CalibrationBin{Bin: b + 1, N: hi - lo, MinPredicted: p[idx[lo]], MaxPredicted: p[idx[hi-1]]}
		for _, i := range idx[lo:hi] {
			cb.MeanPredicted += p[i]
			cb.Observed += labels[i]
		}
		cb.MeanPredicted /= float64(cb.N)
		cb.Observed /= float64(cb.N)
		out = append(out, cb)
	}
	return out
}

// StratifiedSplit assigns round(testFraction·n) of each label's rows to
// the test set, chosen by a PCG generator seeded with seed, and returns
// both sets in ascending row order. The same labels, fraction and seed
// always give the same split.
func StratifiedSplit(labels []float64, testFraction float64, seed uint64) (train, test []int) {
	rng := rand.New(rand.NewPCG(seed, 0x636875726e)) // "churn"
	isTest := make([]bool, len(labels))
	for _, class := range []float64{0, 1} {
		var rows []int
		for i, y := range labels {
			if y == class {
				rows = append(rows, i)
			}
		}
		// Fisher–Yates written out, so the split does not depend on how a
		// library version implements Shuffle.
		for i := len(rows) - 1; i > 0; i-- {
			j := int(rng.Uint64N(uint64(i + 1)))
			rows[i], rows[j] = rows[j], rows[i]
		}
		k := int(math.Round(testFraction * float64(len(rows))))
		for _, i := range rows[:min(k, len(rows))] {
			isTest[i] = true
		}
	}
	for i, t := range isTest {
		if t {
			test = append(test, i)
		} else {
			train = append(train, i)
		}
	}
	return train, test
}
