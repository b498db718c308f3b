package clv

import (
	"errors"
	"fmt"
	"math"
)

// TransactionModel is a fitted model of repeat-transaction counts
// (BGNBD or ParetoNBD).
type TransactionModel interface {
	PAlive(x int, tx, T float64) float64
	ExpectedTransactions(t float64, x int, tx, T float64) float64
	UnconditionalExpected(t float64) float64
}

var (
	_ TransactionModel = BGNBD{}
	_ TransactionModel = ParetoNBD{}
)

// Horizon says how far ahead and how steeply CLV discounts.
//
// Convention: the horizon is Periods periods of PeriodLength model time
// units each (e.g. 12 periods of 365.25/12/7 weeks for a year by month).
// The expected transactions falling in period k, E[Y(k·L)] − E[Y((k−1)·L)],
// are valued at the expected spend and discounted at the end of the
// period by (1+DiscountRate)^k, DiscountRate being the rate per period:
//
//	CLV = Σ_{k=1..Periods} spend · (E[Y(kL)] − E[Y((k−1)L)]) / (1+d)^k
type Horizon struct {
	Periods      int
	PeriodLength float64
	DiscountRate float64
}

// Validate reports whether the horizon can be used.
func (h Horizon) Validate() error {
	switch {
	case h.Periods <= 0:
		return fmt.Errorf("clv: horizon: periods %d, want > 0", h.Periods)
	case !(h.PeriodLength > 0) || math.IsInf(h.PeriodLength, 0):
		return fmt.Errorf("clv: horizon: period length %v, want > 0", h.PeriodLength)
	case !(h.DiscountRate > -1) || math.IsInf(h.DiscountRate, 0):
		return fmt.Errorf("clv: horizon: discount rate %v, want > -1", h.DiscountRate)
	}
	return nil
}

// CLV is the discounted expected value of a customer's future transactions
// over the horizon (see Horizon for the convention); spend is the expected
// value of one transaction, usually GammaGamma.ExpectedSpend.
func CLV(m TransactionModel, c Summary, spend float64, h Horizon) (float64, error) {
	if err := h.Validate(); err != nil {
		return 0, err
	}
	var total, prev float64
	for k := 1; k <= h.Periods; k++ {
		cum := m.ExpectedTransactions(float64(k)*h.PeriodLength, c.X, c.TX, c.T)
		total += spend * (cum - prev) / math.Pow(1+h.DiscountRate, float64(k))
		prev = cum
	}
	return total, nil
}

// Holdout compares a model's predictions for the holdout period with what
// customers actually did.
type Holdout struct {
	Customers int     `json:"customers"`
	Duration  float64 `json:"duration"`
	// Actual and Predicted are the total repeat transactions in the holdout.
	Actual    float64 `json:"actual_total"`
	Predicted float64 `json:"predicted_total"`
	// TotalErrorPct is 100·(Predicted − Actual)/Actual.
	TotalErrorPct float64 `json:"total_error_pct"`
	// MAE and RMSE are the per-customer mean absolute and root mean
	// squared errors of the predicted counts.
	MAE  float64 `json:"mae"`
	RMSE float64 `json:"rmse"`
	// PerCustomer holds each customer's actual and predicted count, in the
	// order of the input.
	PerCustomer []HoldoutCustomer `json:"-"`
}

// HoldoutCustomer is one customer's holdout outcome.
type HoldoutCustomer struct {
	ID        string
	Actual    int
	Predicted float64
}

// ValidateHoldout predicts each customer's transactions over the holdout
// period of the given duration from the calibration summary and compares
// them with Summary.HoldoutX.
func ValidateHoldout(m TransactionModel, customers []Summary, duration float64) (Holdout, error) {
	if len(customers) == 0 {
		return Holdout{}, errors.New("clv: holdout: no customers")
	}
	if !(duration > 0) {
		return Holdout{}, fmt.Errorf("clv: holdout: duration %v, want > 0 (no holdout period after the calibration end)", duration)
	}
	h := Holdout{Customers: len(customers), Duration: duration, PerCustomer: make([]HoldoutCustomer, len(customers))}
	var abs, sq float64
	for i, c := range customers {
		p := m.ExpectedTransactions(duration, c.X, c.TX, c.T)
		a := float64(c.HoldoutX)
		h.Actual += a
		h.Predicted += p
		abs += math.Abs(p - a)
		sq += (p - a) * (p - a)
		h.PerCustomer[i] = HoldoutCustomer{ID: c.ID, Actual: c.HoldoutX, Predicted: p}
	}
	n := float64(len(customers))
	h.MAE = abs / n
	h.RMSE = math.Sqrt(sq / n)
	if h.Actual > 0 {
		h.TotalErrorPct = 100 * (h.Predicted - h.Actual) / h.Actual
	}
	return h, nil
}

// CohortExpected is the expected total of repeat transactions, up to now,
// of customers acquired ages[i] time units ago (customers with a
// non-positive age contribute nothing): the model's tracking curve.
func CohortExpected(m TransactionModel, ages []float64) float64 {
	var sum float64
	for _, a := range ages {
		if a > 0 {
			sum += m.UnconditionalExpected(a)
		}
	}
	return sum
}
