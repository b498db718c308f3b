package value

import (
	"slices"
	"testing"
	"time"
)

func TestCohortMatrixOnATinyExample(t *testing.T) {
	at := func(m time.Month, d int) int64 { return time.Date(2024, m, d, 10, 0, 0, 0, time.UTC).Unix() }
	orders := []Order{
		{0, at(1, 5), 10}, {0, at(2, 3), 20}, {0, at(3, 1), 5}, // January cohort
		{1, at(3, 15), -2}, {1, at(1, 20), 7}, {1, at(3, 16), 8}, // January cohort; a March refund
		{2, at(2, 11), 4}, {2, at(2, 10), 30}, // February cohort; the 11th is a repeat in the same month
		{3, at(2, 1), -9},  // refund only: never acquired
		{9, at(2, 1), 100}, // unknown customer
	}
	tab, err := Cohorts(orders, 4, CohortOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if tab.Period != "month" || tab.BadCustomer != 1 || tab.NoPurchase != 1 || len(tab.Cohorts) != 2 {
		t.Fatalf("table %+v", tab)
	}
	jan, feb := tab.Cohorts[0], tab.Cohorts[1]
	if jan.Label != "2024-01" || jan.Customers != 2 || !slices.Equal(jan.Active, []int{2, 1, 2}) ||
		!slices.Equal(jan.Retention, []float64{1, 0.5, 1}) ||
		!slices.Equal(jan.RepeatRevenue, []float64{0, 20, 31}) ||
		!slices.Equal(jan.RepeatRevenuePerCustomer, []float64{0, 10, 15.5}) {
		t.Errorf("January cohort %+v", jan)
	}
	if feb.Label != "2024-02" || feb.Customers != 1 || !slices.Equal(feb.Active, []int{1, 0}) ||
		!slices.Equal(feb.RepeatRevenue, []float64{4, 4}) {
		t.Errorf("February cohort %+v", feb)
	}

	// Weekly periods from the first purchase day (Jan 5).
	wk, err := Cohorts(orders, 4, CohortOptions{PeriodDays: 7})
	if err != nil {
		t.Fatal(err)
	}
	if wk.Period != "7d" || wk.Cohorts[0].Label != "2024-01-05" || wk.Cohorts[0].Customers != 1 {
		t.Errorf("weekly first cohort %+v", wk.Cohorts[0])
	}
	// Customer 1's first purchase (Jan 20) is 15 days after Jan 5: week 2.
	if c := wk.Cohorts[1]; c.Label != "2024-01-19" || c.Customers != 1 {
		t.Errorf("weekly second cohort %+v", c)
	}
}

func TestCohortsOnOnlineRetailAddUp(t *testing.T) {
	lines, _ := loadOnlineRetail(t)
	var cust customerIndex
	orders := make([]Order, 0, len(lines))
	for _, l := range lines {
		orders = append(orders, Order{Customer: cust.of(l.customer), At: l.at.Unix(), Amount: l.amount})
	}
	tab, err := Cohorts(orders, len(cust.ids), CohortOptions{})
	if err != nil {
		t.Fatal(err)
	}
	// December 2010 to December 2011: 13 monthly cohorts, every customer in one.
	if len(tab.Cohorts) != 13 || tab.Cohorts[0].Label != "2010-12" {
		t.Fatalf("%d cohorts, first %q", len(tab.Cohorts), tab.Cohorts[0].Label)
	}
	total := 0
	for i, c := range tab.Cohorts {
		total += c.Customers
		if len(c.Active) != 13-i || c.Active[0] != c.Customers {
			t.Errorf("cohort %s: %d periods, active[0] %d of %d", c.Label, len(c.Active), c.Active[0], c.Customers)
		}
		for k := 1; k < len(c.RepeatRevenue); k++ {
			if c.RepeatRevenue[k] < c.RepeatRevenue[k-1] || c.Active[k] > c.Customers {
				t.Errorf("cohort %s period %d: cumulative revenue falls or activity exceeds size", c.Label, k)
			}
		}
	}
	if total != 4338 {
		t.Errorf("cohorts hold %d customers, want 4,338", total)
	}
}
