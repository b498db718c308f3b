package clv

import (
	"fmt"
	"time"
)

// Report is the result of Analyze: the three fitted models, a holdout
// check and what went into them. Its JSON form is the output of
// `rapport analyze clv`.
type Report struct {
	// Rows, AcceptedRows and RejectedRows describe the input file; Analyze
	// leaves them empty and SetInput fills them.
	Rows         int          `json:"rows,omitempty"`
	AcceptedRows int          `json:"accepted_rows,omitempty"`
	RejectedRows RejectedRows `json:"rejected_rows"`

	Unit           Unit   `json:"unit"`
	CalibrationEnd string `json:"calibration_end"`
	ObservationEnd string `json:"observation_end"`
	Transactions   int    `json:"transactions"`
	// Customers is the number of customers with a first purchase in
	// calibration; Repeaters made at least one repeat purchase there.
	Customers int `json:"customers"`
	Repeaters int `json:"repeaters"`
	// LateCustomers first bought after the calibration end and are not
	// modelled; IgnoredTransactions fall after the observation end.
	LateCustomers       int `json:"late_customers"`
	IgnoredTransactions int `json:"ignored_transactions"`

	BGNBD      *BGNBDReport      `json:"bgnbd"`
	ParetoNBD  *ParetoNBDReport  `json:"paretonbd"`
	GammaGamma *GammaGammaReport `json:"gammagamma"`
	Holdout    HoldoutReport     `json:"holdout"`
	// Errors holds, per model, why it could not be fitted.
	Errors map[string]string `json:"errors,omitempty"`
	// FitSeconds is the wall time of each fit.
	FitSeconds map[string]float64 `json:"fit_seconds"`
}

// RejectedRows counts the input rows that were not used and why.
type RejectedRows struct {
	Count    int            `json:"count"`
	ByReason map[string]int `json:"by_reason,omitempty"`
	First    []RejectedRow  `json:"first,omitempty"`
}

// BGNBDReport is a BG/NBD fit in a Report.
type BGNBDReport struct {
	R      float64 `json:"r"`
	Alpha  float64 `json:"alpha"`
	A      float64 `json:"a"`
	B      float64 `json:"b"`
	LogLik float64 `json:"loglik"`
	Fit    FitInfo `json:"fit"`
}

// ParetoNBDReport is a Pareto/NBD fit in a Report.
type ParetoNBDReport struct {
	R      float64 `json:"r"`
	Alpha  float64 `json:"alpha"`
	S      float64 `json:"s"`
	Beta   float64 `json:"beta"`
	LogLik float64 `json:"loglik"`
	Fit    FitInfo `json:"fit"`
}

// GammaGammaReport is a Gamma-Gamma fit in a Report.
type GammaGammaReport struct {
	P      float64 `json:"p"`
	Q      float64 `json:"q"`
	Gamma  float64 `json:"gamma"`
	LogLik float64 `json:"loglik"`
	// MeanSpend is the population mean transaction value pγ/(q−1).
	MeanSpend float64 `json:"mean_spend"`
	Fit       FitInfo `json:"fit"`
}

// HoldoutReport compares each model's forecast for the holdout period
// with the actual repeat transactions.
type HoldoutReport struct {
	Duration  float64  `json:"duration"`
	Customers int      `json:"customers"`
	Actual    int      `json:"actual_total"`
	BGNBD     *Holdout `json:"bgnbd,omitempty"`
	ParetoNBD *Holdout `json:"paretonbd,omitempty"`
	Note      string   `json:"note,omitempty"`
}

// SetInput records how the input file was read.
func (r *Report) SetInput(rr ReadReport) {
	r.Rows = rr.Rows
	r.AcceptedRows = rr.Accepted
	r.RejectedRows = RejectedRows{Count: rr.Rejected, ByReason: rr.ByReason, First: rr.First}
}

// Analyze summarizes the transactions and fits BG/NBD, Pareto/NBD and
// Gamma-Gamma, checking the transaction models on the holdout period when
// there is one. A model that cannot be fitted is reported in Errors; the
// error return is for input that cannot be summarized at all.
func Analyze(txs []Transaction, opts SummaryOptions, fitOpts ...Option) (Report, error) {
	s, err := Summarize(txs, opts)
	if err != nil {
		return Report{}, err
	}
	if len(s.Customers) == 0 {
		return Report{}, fmt.Errorf("clv: analyze: no customer made a first purchase by the calibration end %s", s.CalibrationEnd.Format(time.DateOnly))
	}
	rep := Report{
		Unit:                s.Unit,
		CalibrationEnd:      s.CalibrationEnd.Format(time.DateOnly),
		ObservationEnd:      s.ObservationEnd.Format(time.DateOnly),
		Transactions:        len(txs),
		Customers:           len(s.Customers),
		LateCustomers:       s.LateCustomers,
		IgnoredTransactions: s.IgnoredTransactions,
		FitSeconds:          map[string]float64{},
		Holdout:             HoldoutReport{Duration: s.HoldoutDuration, Customers: len(s.Customers)},
	}
	for _, c := range s.Customers {
		if c.X > 0 {
			rep.Repeaters++
		}
		rep.Holdout.Actual += c.HoldoutX
	}
	fail := func(model string, err error) {
		if rep.Errors == nil {
			rep.Errors = map[string]string{}
		}
		rep.Errors[model] = err.Error()
	}
	timed := func(model string, fit func() error) {
		start := time.Now()
		if err := fit(); err != nil {
			fail(model, err)
		}
		rep.FitSeconds[model] = time.Since(start).Seconds()
	}

	var models []holdoutTarget
	timed("bgnbd", func() error {
		m, err := FitBGNBD(s.Customers, fitOpts...)
		if err != nil {
			return err
		}
		rep.BGNBD = &BGNBDReport{R: m.R, Alpha: m.Alpha, A: m.A, B: m.B, LogLik: m.LogLik, Fit: m.Fit}
		models = append(models, holdoutTarget{"bgnbd", m, &rep.Holdout.BGNBD})
		return nil
	})
	timed("paretonbd", func() error {
		m, err := FitParetoNBD(s.Customers, fitOpts...)
		if err != nil {
			return err
		}
		rep.ParetoNBD = &ParetoNBDReport{R: m.R, Alpha: m.Alpha, S: m.S, Beta: m.Beta, LogLik: m.LogLik, Fit: m.Fit}
		models = append(models, holdoutTarget{"paretonbd", m, &rep.Holdout.ParetoNBD})
		return nil
	})
	timed("gammagamma", func() error {
		m, err := FitGammaGamma(SpendCustomers(s.Customers), fitOpts...)
		if err != nil {
			return err
		}
		rep.GammaGamma = &GammaGammaReport{P: m.P, Q: m.Q, Gamma: m.Gamma, LogLik: m.LogLik, MeanSpend: m.ExpectedSpend(0, 0), Fit: m.Fit}
		return nil
	})

	if s.HoldoutDuration <= 0 {
		rep.Holdout.Note = "no holdout period: the observation end is the calibration end"
		return rep, nil
	}
	for _, md := range models {
		h, err := ValidateHoldout(md.m, s.Customers, s.HoldoutDuration)
		if err != nil {
			fail("holdout "+md.name, err)
			continue
		}
		*md.dst = &h
	}
	return rep, nil
}

// holdoutTarget is a fitted transaction model and where its holdout check
// goes in the report.
type holdoutTarget struct {
	name string
	m    TransactionModel
	dst  **Holdout
}
