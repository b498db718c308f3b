package clv

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"time"
)

// Unit is the time unit in which recency, T and forecast horizons are
// expressed.
type Unit string

// The supported time units. A month is the average Gregorian month,
// 365.25/12 days, so that month-based figures do not depend on which
// calendar months a customer happens to span.
const (
	Day   Unit = "day"
	Week  Unit = "week"
	Month Unit = "month"
)

// ParseUnit reads a unit name (day, week or month).
func ParseUnit(s string) (Unit, error) {
	switch Unit(s) {
	case Day, Week, Month:
		return Unit(s), nil
	}
	return "", fmt.Errorf("clv: unknown time unit %q (want day, week or month)", s)
}

// Days is the length of the unit in days.
func (u Unit) Days() float64 {
	switch u {
	case Day:
		return 1
	case Week:
		return 7
	case Month:
		return 365.25 / 12
	}
	return 0
}

// Transaction is one purchase by one customer. Only the calendar date of
// Time matters: purchases on the same date are one transaction.
type Transaction struct {
	Customer string
	Time     time.Time
	Amount   float64
}

// Summary is the recency/frequency/monetary summary of one customer at the
// end of the calibration period, in the chosen time unit.
type Summary struct {
	ID string
	// X is the number of repeat transactions in calibration (the first
	// purchase is not counted).
	X int
	// TX is the time of the last repeat transaction since the first purchase
	// (0 when X is 0).
	TX float64
	// T is the time from the first purchase to the end of calibration.
	T float64
	// Zbar is the mean value of the repeat transactions in calibration (the
	// first purchase excluded); 0 when X is 0.
	Zbar float64
	// HoldoutX is the number of transactions in the holdout period, after the
	// calibration end up to the observation end.
	HoldoutX int
	// HoldoutValue is the total value of those transactions.
	HoldoutValue float64
}

// SummaryOptions say how transactions are cut into calibration and holdout.
type SummaryOptions struct {
	// CalibrationEnd is the last calendar date of the calibration period
	// (inclusive).
	CalibrationEnd time.Time
	// ObservationEnd is the last calendar date of the holdout period
	// (inclusive). The zero value means the date of the latest transaction.
	ObservationEnd time.Time
	// Unit is the time unit of the summaries; the zero value means weeks.
	Unit Unit
}

// Summaries is the result of Summarize.
type Summaries struct {
	// Customers are in order of first appearance in the input.
	Customers      []Summary
	Unit           Unit
	CalibrationEnd time.Time
	ObservationEnd time.Time
	// HoldoutDuration is the length of the holdout period in Unit.
	HoldoutDuration float64
	// LateCustomers made their first purchase after the calibration end; they
	// have no calibration history and are left out of Customers.
	LateCustomers int
	// IgnoredTransactions fall after ObservationEnd.
	IgnoredTransactions int
}

// civilDay numbers a calendar date (in the time's own location) as days
// since 1970-01-01, so that day arithmetic ignores clocks and zones.
func civilDay(t time.Time) int64 {
	y, m, d := t.Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC).Unix() / 86400
}

type dayAmount struct {
	day    int64
	amount float64
}

// Summarize turns transactions into per-customer summaries. Purchases by
// the same customer on the same date are summed into one transaction.
func Summarize(txs []Transaction, opts SummaryOptions) (Summaries, error) {
	unit := opts.Unit
	if unit == "" {
		unit = Week
	}
	if unit.Days() == 0 {
		return Summaries{}, fmt.Errorf("clv: summarize: unknown time unit %q", unit)
	}
	if opts.CalibrationEnd.IsZero() {
		return Summaries{}, errors.New("clv: summarize: calibration end is required")
	}
	if len(txs) == 0 {
		return Summaries{}, errors.New("clv: summarize: no transactions")
	}
	calEnd := civilDay(opts.CalibrationEnd)
	var obsEnd int64
	if opts.ObservationEnd.IsZero() {
		obsEnd = civilDay(txs[0].Time)
		for _, tx := range txs[1:] {
			obsEnd = max(obsEnd, civilDay(tx.Time))
		}
		obsEnd = max(obsEnd, calEnd)
	} else {
		obsEnd = civilDay(opts.ObservationEnd)
		if obsEnd < calEnd {
			return Summaries{}, fmt.Errorf("clv: summarize: observation end %s is before calibration end %s",
				opts.ObservationEnd.Format(time.DateOnly), opts.CalibrationEnd.Format(time.DateOnly))
		}
	}

	index := make(map[string]int)
	var ids []string
	var days [][]dayAmount
	ignored := 0
	for _, tx := range txs {
		d := civilDay(tx.Time)
		if d > obsEnd {
			ignored++
			continue
		}
		i, ok := index[tx.Customer]
		if !ok {
			i = len(ids)
			index[tx.Customer] = i
			ids = append(ids, tx.Customer)
			days = append(days, nil)
		}
		days[i] = append(days[i], dayAmount{d, tx.Amount})
	}

	u := unit.Days()
	out := Summaries{
		Customers:           make([]Summary, 0, len(ids)),
		Unit:                unit,
		CalibrationEnd:      time.Unix(calEnd*86400, 0).UTC(),
		ObservationEnd:      time.Unix(obsEnd*86400, 0).UTC(),
		HoldoutDuration:     float64(obsEnd-calEnd) / u,
		IgnoredTransactions: ignored,
	}
	for i, id := range ids {
		ds := mergeDays(days[i])
		first := ds[0].day
		if first > calEnd {
			out.LateCustomers++
			continue
		}
		s := Summary{ID: id, T: float64(calEnd-first) / u}
		var sum float64
		for _, da := range ds[1:] {
			if da.day <= calEnd {
				s.X++
				sum += da.amount
				s.TX = float64(da.day-first) / u
			} else {
				s.HoldoutX++
				s.HoldoutValue += da.amount
			}
		}
		if s.X > 0 {
			s.Zbar = sum / float64(s.X)
		}
		out.Customers = append(out.Customers, s)
	}
	return out, nil
}

// mergeDays sorts one customer's purchases by date and sums same-date
// purchases, in place.
func mergeDays(ds []dayAmount) []dayAmount {
	sorted := true
	for i := 1; i < len(ds); i++ {
		if ds[i].day < ds[i-1].day {
			sorted = false
			break
		}
	}
	if !sorted {
		// Stable insertion order keeps the summation order of same-day
		// amounts equal to input order, so sums are reproducible.
		slices.SortStableFunc(ds, func(a, b dayAmount) int { return cmp.Compare(a.day, b.day) })
	}
	out := ds[:1]
	for _, da := range ds[1:] {
		last := &out[len(out)-1]
		if da.day == last.day {
			last.amount += da.amount
			continue
		}
		out = append(out, da)
	}
	return out
}
