// Package rfm benchmarks Rapport's RFM recompute and refresh
// (internal/analytics/value) against DuckDB running the equivalent SQL on the
// same data. It is its own module so the product never depends on DuckDB.
package rfm

import (
	"math"
	"math/rand/v2"
	"strconv"
	"time"

	"github.com/rapportcrm/rapport/internal/analytics/value"
)

// Data is a generated order log.
type Data struct {
	IDs    []string      // customer ids; the index is the dense customer number
	Orders []value.Order // shuffled, as a log written by many channels would be
	AsOf   time.Time     // the day after the last possible order
}

// Generate makes a seeded, skewed order log shaped like a real shop's: a
// heavy-tailed (Pareto α = 1.2) number of orders per customer, so a few
// percent of customers place most orders; customer-specific basket sizes
// (log-normal); customers arriving over three years and lapsing after an
// exponential lifetime; about 3% refunds. Every customer has at least one
// purchase. Amounts are whole cents stored as float64, so every sum is exact
// and Go and DuckDB must agree bit for bit.
func Generate(customers, orders int, seed uint64) Data {
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	start := time.Date(2022, 1, 1, 0, 0, 0, 0, time.UTC).Unix()
	span := int64(3 * 365 * 24 * 3600)
	d := Data{IDs: make([]string, customers), AsOf: time.Unix(start+span, 0).UTC()}

	weights := make([]float64, customers)
	sum := 0.0
	for i := range weights {
		w := math.Pow(1-rng.Float64(), -1/1.2) // Pareto, x_m = 1
		weights[i] = w
		sum += w
	}
	extra := orders - customers
	counts := make([]int, customers)
	given := 0
	for i, w := range weights {
		c := int(w / sum * float64(extra))
		counts[i] = 1 + c
		given += c
	}
	for given < extra { // hand out the rounding remainder by weight
		i := rng.IntN(customers)
		if rng.Float64() < weights[i]/(weights[i]+1) {
			counts[i]++
			given++
		}
	}

	d.Orders = make([]value.Order, 0, orders)
	for c := range customers {
		d.IDs[c] = "c" + strconv.Itoa(c)
		first := start + rng.Int64N(span)
		life := int64(rng.ExpFloat64() * 365 * 24 * 3600)
		end := min(first+life+1, start+span)
		mu := 3.5 + 0.8*rng.NormFloat64() // log of a typical basket, in currency units
		for k := range counts[c] {
			at := first
			if k > 0 {
				at = first + rng.Int64N(end-first)
			}
			amt := math.Round(math.Exp(mu+0.6*rng.NormFloat64())*100) + 1 // cents, > 0
			if k > 0 && rng.Float64() < 0.03 {
				amt = -math.Round(amt * rng.Float64())
			}
			d.Orders = append(d.Orders, value.Order{Customer: int32(c), At: at, Amount: amt})
		}
	}
	rng.Shuffle(len(d.Orders), func(i, j int) { d.Orders[i], d.Orders[j] = d.Orders[j], d.Orders[i] })
	return d
}
