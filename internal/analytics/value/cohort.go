package value

import (
	"fmt"
	"math"
	"time"
)

// CohortOptions sets the period cohorts and their retention are measured in.
type CohortOptions struct {
	// PeriodDays is the period length in days; 0 means calendar months.
	PeriodDays int
	// Location decides where days and months begin; nil means UTC.
	Location *time.Location
}

// Cohort is the customers acquired (first purchase) in one period.
type Cohort struct {
	Label     string    `json:"label"` // "2011-01" for months, the first day "2011-01-03" otherwise
	Start     time.Time `json:"start"`
	Customers int       `json:"customers"`
	// Active[k] counts the cohort's customers with a purchase in the k-th
	// period after acquisition; Active[0] == Customers. The slice runs to the
	// last period in the data, so the table is a triangle.
	Active    []int     `json:"active"`
	Retention []float64 `json:"retention"` // Active[k] / Customers
	// RepeatRevenue[k] is the cumulative net revenue, through period k, of
	// every order except each customer's first purchase (refunds lower it).
	RepeatRevenue            []float64 `json:"repeat_revenue"`
	RepeatRevenuePerCustomer []float64 `json:"repeat_revenue_per_customer"`
}

// CohortTable is the acquisition-cohort report.
type CohortTable struct {
	Period      string   `json:"period"` // "month" or "<n>d"
	Cohorts     []Cohort `json:"cohorts"`
	Orders      int      `json:"orders"`       // rows read
	BadCustomer int      `json:"bad_customer"` // customer index out of range: skipped
	BadAmount   int      `json:"bad_amount"`   // NaN or infinite amount: skipped
	NoPurchase  int      `json:"no_purchase"`  // refunds of customers who never bought: skipped
	BeforeFirst int      `json:"before_first"` // refunds dated before the customer's first purchase: skipped
}

// maxCohortCells bounds customers × periods (one bit each) at 256 MB.
const maxCohortCells = 1 << 31

// Cohorts builds the acquisition-cohort retention matrix and the cumulative
// repeat-revenue curves from the order log. customers is the number of
// customers (valid indexes are 0..customers-1). A customer's first purchase
// is their earliest order with Amount >= 0 (the first in the slice on a tie).
func Cohorts(orders []Order, customers int, opts CohortOptions) (CohortTable, error) {
	if opts.PeriodDays < 0 {
		return CohortTable{}, fmt.Errorf("value: cohorts: negative period %d days", opts.PeriodDays)
	}
	loc := opts.Location
	if loc == nil {
		loc = time.UTC
	}
	tab := CohortTable{Period: "month", Orders: len(orders)}
	if opts.PeriodDays > 0 {
		tab.Period = fmt.Sprintf("%dd", opts.PeriodDays)
	}

	// Pass 1: each customer's first purchase.
	first := make([]int, customers)
	for i := range first {
		first[i] = -1
	}
	valid := func(o *Order) bool {
		if o.Customer < 0 || int(o.Customer) >= customers {
			tab.BadCustomer++
			return false
		}
		if math.IsNaN(o.Amount) || math.IsInf(o.Amount, 0) {
			tab.BadAmount++
			return false
		}
		return true
	}
	originDay := int64(math.MaxInt64)
	for i := range orders {
		o := &orders[i]
		if !valid(o) || o.Amount < 0 {
			continue
		}
		if f := first[o.Customer]; f < 0 || o.At < orders[f].At {
			first[o.Customer] = i
		}
		if d := localDay(o.At, loc); d < originDay {
			originDay = d
		}
	}
	if originDay == math.MaxInt64 {
		return tab, nil // no purchases at all
	}
	period := func(at int64) int {
		if opts.PeriodDays == 0 {
			t := time.Unix(at, 0).In(loc)
			o := time.Unix(originDay*86400, 0).UTC()
			return (t.Year()-o.Year())*12 + int(t.Month()) - int(o.Month())
		}
		return int(floorDiv(localDay(at, loc)-originDay, int64(opts.PeriodDays)))
	}

	cohortOf := make([]int32, customers)
	last := 0
	for i := range orders {
		o := &orders[i]
		if o.Customer < 0 || int(o.Customer) >= customers || math.IsNaN(o.Amount) || math.IsInf(o.Amount, 0) {
			continue
		}
		if p := period(o.At); p > last {
			last = p
		}
	}
	periods := last + 1
	if int64(customers)*int64(periods) > maxCohortCells {
		return CohortTable{}, fmt.Errorf("value: cohorts: %d customers × %d periods is too large; use a longer period", customers, periods)
	}
	size := make([]int, periods)
	for c, f := range first {
		if f >= 0 {
			cohortOf[c] = int32(period(orders[f].At))
			size[cohortOf[c]]++
		}
	}

	// Pass 2: activity bits (customer × offset) and repeat revenue.
	seen := make([]uint64, (customers*periods+63)/64)
	active := make([][]int, periods)
	repeat := make([][]float64, periods)
	for p := range periods {
		active[p] = make([]int, periods-p)
		repeat[p] = make([]float64, periods-p)
	}
	for i := range orders {
		o := &orders[i]
		if o.Customer < 0 || int(o.Customer) >= customers || math.IsNaN(o.Amount) || math.IsInf(o.Amount, 0) {
			continue // counted in pass 1
		}
		c := int(o.Customer)
		if first[c] < 0 {
			tab.NoPurchase++
			continue
		}
		cp := int(cohortOf[c])
		k := period(o.At) - cp
		if k < 0 {
			tab.BeforeFirst++
			continue
		}
		if i != first[c] {
			repeat[cp][k] += o.Amount
		}
		if o.Amount >= 0 {
			bit := c*periods + k
			if seen[bit/64]&(1<<(bit%64)) == 0 {
				seen[bit/64] |= 1 << (bit % 64)
				active[cp][k]++
			}
		}
	}

	for p := range periods {
		if size[p] == 0 {
			continue
		}
		co := Cohort{Customers: size[p], Active: active[p]}
		if opts.PeriodDays == 0 {
			o := time.Unix(originDay*86400, 0).UTC()
			co.Start = time.Date(o.Year(), o.Month()+time.Month(p), 1, 0, 0, 0, 0, loc)
			co.Label = co.Start.Format("2006-01")
		} else {
			d := time.Unix((originDay+int64(p*opts.PeriodDays))*86400, 0).UTC()
			co.Start = time.Date(d.Year(), d.Month(), d.Day(), 0, 0, 0, 0, loc)
			co.Label = co.Start.Format("2006-01-02")
		}
		co.Retention = make([]float64, len(co.Active))
		co.RepeatRevenue = make([]float64, len(co.Active))
		co.RepeatRevenuePerCustomer = make([]float64, len(co.Active))
		cum := 0.0
		for k, a := range co.Active {
			co.Retention[k] = float64(a) / float64(size[p])
			cum += repeat[p][k]
			co.RepeatRevenue[k] = cum
			co.RepeatRevenuePerCustomer[k] = cum / float64(size[p])
		}
		tab.Cohorts = append(tab.Cohorts, co)
	}
	return tab, nil
}

// localDay is the day number (days since 1970-01-01) of the calendar date
// of Unix time at in loc.
func localDay(at int64, loc *time.Location) int64 {
	t := time.Unix(at, 0).In(loc)
	y, m, d := t.Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC).Unix() / 86400
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if (a%b != 0) && ((a < 0) != (b < 0)) {
		q--
	}
	return q
}
