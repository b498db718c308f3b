package value

import (
	"errors"
	"fmt"
	"math"
	"runtime"
	"sync"
	"time"
)

// Order is one row of the order log in the compact form the full recompute
// scans: 24 bytes, so ten million orders fit in 240 MB.
type Order struct {
	Customer int32   // dense index into the caller's customer table (0..n-1)
	At       int64   // Unix seconds, UTC
	Amount   float64 // order value; refunds are negative
}

// Aggregate is what Rapport keeps current per customer on every write and
// what RFM and tiers read.
type Aggregate struct {
	ID         string    `json:"id"`
	FirstOrder time.Time `json:"first_order"` // zero when Orders == 0
	LastOrder  time.Time `json:"last_order"`  // zero when Orders == 0
	Orders     int       `json:"orders"`      // purchases (Amount >= 0); refunds are not orders
	Revenue    float64   `json:"revenue"`     // net: purchases minus refunds
}

// OrderReport counts what FromOrders saw, including the rows it could not use.
type OrderReport struct {
	Orders      int `json:"orders"`       // rows read
	Purchases   int `json:"purchases"`    // Amount >= 0
	Refunds     int `json:"refunds"`      // Amount < 0: lower revenue, not counted as orders
	BadCustomer int `json:"bad_customer"` // Customer outside 0..n-1: skipped
	BadAmount   int `json:"bad_amount"`   // NaN or infinite Amount: skipped
}

type acc struct {
	first, last int64
	revenue     float64
	orders      int32
}

// FromOrders is the full recompute: it aggregates the order log into one
// Aggregate per customer. ids names the customers (ids[i] is the customer
// with index i) and fixes their number. A purchase (Amount >= 0) counts as an
// order and moves the first/last order times; a refund (Amount < 0) only lowers
// revenue. Bad rows are skipped and counted in the report.
//
// The work is split by customer range over the available cores: each worker
// scans all orders but touches only its own customers, so no merge is needed
// and each core's random accesses stay within a smaller block of memory.
func FromOrders(orders []Order, ids []string) ([]Aggregate, OrderReport) {
	n := len(ids)
	accs := make([]acc, n)
	workers := runtime.GOMAXPROCS(0)
	if workers > n/1024+1 {
		workers = n/1024 + 1
	}
	reports := make([]OrderReport, workers)
	out := make([]Aggregate, n)
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		lo, hi := n*w/workers, n*(w+1)/workers
		wg.Add(1)
		go func() {
			defer wg.Done()
			reports[w] = aggregateRange(orders, accs, lo, hi, w == 0)
			for i := lo; i < hi; i++ {
				a := &accs[i]
				agg := &out[i]
				agg.ID = ids[i]
				agg.Orders = int(a.orders)
				agg.Revenue = a.revenue
				if a.orders > 0 {
					agg.FirstOrder = time.Unix(a.first, 0).UTC()
					agg.LastOrder = time.Unix(a.last, 0).UTC()
				}
			}
		}()
	}
	wg.Wait()
	var rep OrderReport
	for _, r := range reports {
		rep.Purchases += r.Purchases
		rep.Refunds += r.Refunds
		rep.BadCustomer += r.BadCustomer
		rep.BadAmount += r.BadAmount
	}
	rep.Orders = len(orders)
	return out, rep
}

// aggregateRange folds the orders of customers lo..hi-1 into accs. The
// worker that owns the first range also counts rows with an unknown customer.
func aggregateRange(orders []Order, accs []acc, lo, hi int, countStrays bool) OrderReport {
	var rep OrderReport
	for i := lo; i < hi; i++ {
		accs[i] = acc{first: math.MaxInt64, last: math.MinInt64}
	}
	n := uint32(len(accs))
	ulo, span := uint32(lo), uint32(hi-lo)
	for _, o := range orders {
		c := uint32(o.Customer)
		if c-ulo >= span { // not ours (unsigned wrap covers c < lo)
			if c >= n && countStrays {
				rep.BadCustomer++
			}
			continue
		}
		amt := o.Amount
		if math.IsNaN(amt) || math.IsInf(amt, 0) {
			rep.BadAmount++
			continue
		}
		a := &accs[c]
		a.revenue += amt
		if amt < 0 {
			rep.Refunds++
			continue
		}
		rep.Purchases++
		a.orders++
		if o.At < a.first {
			a.first = o.At
		}
		if o.At > a.last {
			a.last = o.At
		}
	}
	return rep
}

// RFMOptions sets the reference point of an RFM run.
type RFMOptions struct {
	// AsOf is the moment recency is measured from (required).
	AsOf time.Time
	// Window, when positive, limits scoring to customers whose last purchase
	// is within it (after AsOf-Window). Older customers are not ranked and go
	// straight to SegmentLost, so long-dead accounts do not squeeze the scale.
	Window time.Duration
	// Grid maps scores to segments; the zero value means DefaultSegmentGrid.
	Grid SegmentGrid
}

// RFMScore is one customer's result.
type RFMScore struct {
	RecencyDays int32   `json:"recency_days"` // calendar days (UTC) from the last purchase's date to AsOf's; -1 when not scored
	R           uint8   `json:"r"`            // 1..5, 5 = most recent; 0 when not ranked
	F           uint8   `json:"f"`            // 1..5, 5 = most orders
	M           uint8   `json:"m"`            // 1..5, 5 = most revenue
	Segment     Segment `json:"segment"`
}

// SegmentSummary is one row of the segment report.
type SegmentSummary struct {
	Segment       Segment `json:"id"`
	Label         Label   `json:"label"`
	Customers     int     `json:"customers"`
	Revenue       float64 `json:"revenue"`
	CustomerShare float64 `json:"customer_share"` // of all segmented customers
	RevenueShare  float64 `json:"revenue_share"`  // of their total revenue
}

// RFMSkips counts the customers that were not ranked, by reason.
type RFMSkips struct {
	NoPurchase    int `json:"no_purchase"`    // Orders == 0 (segment none)
	AfterAsOf     int `json:"after_as_of"`    // last purchase after AsOf: the aggregate is from a later time (segment none)
	BadRevenue    int `json:"bad_revenue"`    // NaN or infinite revenue (segment none)
	OutsideWindow int `json:"outside_window"` // last purchase before AsOf-Window (segment lost, not ranked)
}

// RFMResult is the outcome of ScoreRFM.
type RFMResult struct {
	AsOf     time.Time        `json:"as_of"`
	Ranked   int              `json:"ranked"`   // customers given R, F and M scores
	Scores   []RFMScore       `json:"-"`        // one per input aggregate, same order
	Segments []SegmentSummary `json:"segments"` // every segment of Segments(), in that order
	Skipped  RFMSkips         `json:"skipped"`
}

// ScoreRFM ranks customers into recency, frequency and monetary quintiles and
// names their segments.
//
// Each score is exactly SQL's ntile(5) over the eligible customers ordered by
// last purchase time, order count and revenue respectively (ascending, so 5 is
// the most recent / frequent / valuable), with ties broken by input order:
// ntile(5) OVER (ORDER BY last_order, input_position). Equal values can
// therefore straddle a boundary, as in SQL; the tie-break makes it repeatable.
func ScoreRFM(aggs []Aggregate, opts RFMOptions) (RFMResult, error) {
	return ScoreRFMFunc(len(aggs), func(i int) Purchases {
		a := &aggs[i]
		return Purchases{Orders: a.Orders, Revenue: a.Revenue, LastOrder: a.LastOrder}
	}, opts)
}

// Purchases is the part of a customer's aggregate that RFM reads.
type Purchases struct {
	Orders    int
	Revenue   float64
	LastOrder time.Time
}

// ScoreRFMFunc is ScoreRFM over n customers read through at, for callers
// that keep their aggregates in another shape (the analytics snapshot holds
// a million customers and cannot afford a second copy). at must be safe to
// call from several goroutines at once.
func ScoreRFMFunc(n int, at func(i int) Purchases, opts RFMOptions) (RFMResult, error) {
	if opts.AsOf.IsZero() {
		return RFMResult{}, errors.New("value: rfm: as-of time is required")
	}
	if opts.Window < 0 {
		return RFMResult{}, fmt.Errorf("value: rfm: negative window %s", opts.Window)
	}
	grid := opts.Grid
	if grid == (SegmentGrid{}) {
		grid = DefaultSegmentGrid()
	}
	res := RFMResult{AsOf: opts.AsOf, Scores: make([]RFMScore, n)}
	asOf := opts.AsOf.UnixNano()
	asOfDay := floorDiv(opts.AsOf.Unix(), 86400)
	days := func(t time.Time) int32 { return int32(asOfDay - floorDiv(t.Unix(), 86400)) }
	var cutoff int64 = math.MinInt64
	if opts.Window > 0 {
		cutoff = asOf - int64(opts.Window)
	}

	// Eligible customers, in input order (the tie-breaker).
	elig := make([]uint32, 0, n)
	subSecond := false // whole-second times sort on fewer radix digits
	var count [segmentCount]int
	var revenue [segmentCount]float64
	for i := range n {
		a := at(i)
		sc := &res.Scores[i]
		sc.RecencyDays = -1
		last := a.LastOrder.UnixNano()
		switch {
		case a.Orders <= 0:
			res.Skipped.NoPurchase++
		case math.IsNaN(a.Revenue) || math.IsInf(a.Revenue, 0):
			res.Skipped.BadRevenue++
		case last > asOf:
			res.Skipped.AfterAsOf++
		case last <= cutoff:
			res.Skipped.OutsideWindow++
			sc.RecencyDays = days(a.LastOrder)
			sc.Segment = SegmentLost
			count[SegmentLost]++
			revenue[SegmentLost] += a.Revenue
		default:
			sc.RecencyDays = days(a.LastOrder)
			elig = append(elig, uint32(i))
			subSecond = subSecond || a.LastOrder.Nanosecond() != 0
		}
	}
	res.Ranked = len(elig)

	// Three independent stable sorts, spread over the cores.
	var wg sync.WaitGroup
	rank := func(key func(a Purchases) uint64, set func(s *RFMScore, v uint8)) {
		defer wg.Done()
		keys := make([]uint64, len(elig))
		for j, i := range elig {
			keys[j] = key(at(int(i)))
		}
		order := radixOrder(keys)
		for pos, j := range order {
			set(&res.Scores[elig[j]], uint8(NTile(pos, len(elig), 5)))
		}
	}
	wg.Add(3)
	lastKey := func(a Purchases) uint64 { return intKey(a.LastOrder.Unix()) }
	if subSecond {
		lastKey = func(a Purchases) uint64 { return intKey(a.LastOrder.UnixNano()) }
	}
	go rank(lastKey, func(s *RFMScore, v uint8) { s.R = v })
	go rank(func(a Purchases) uint64 { return intKey(int64(a.Orders)) },
		func(s *RFMScore, v uint8) { s.F = v })
	go rank(func(a Purchases) uint64 { return floatKey(a.Revenue) },
		func(s *RFMScore, v uint8) { s.M = v })
	wg.Wait()

	for _, i := range elig {
		sc := &res.Scores[i]
		sc.Segment = grid.Segment(sc.R, sc.F, sc.M)
		if sc.Segment != SegmentNone && sc.Segment < segmentCount {
			count[sc.Segment]++
			revenue[sc.Segment] += at(int(i)).Revenue
		}
	}
	total, totalRev := 0, 0.0
	for s := range count {
		total += count[s]
		totalRev += revenue[s]
	}
	for _, s := range Segments() {
		row := SegmentSummary{Segment: s, Label: s.Label(), Customers: count[s], Revenue: revenue[s]}
		if total > 0 {
			row.CustomerShare = float64(count[s]) / float64(total)
		}
		if totalRev != 0 {
			row.RevenueShare = revenue[s] / totalRev
		}
		res.Segments = append(res.Segments, row)
	}
	return res, nil
}
