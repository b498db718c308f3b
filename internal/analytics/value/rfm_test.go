package value

import (
	"encoding/json"
	"math"
	"math/rand/v2"
	"slices"
	"sort"
	"testing"
	"time"
)

// The expected columns are what PostgreSQL and DuckDB print for
// SELECT ntile(k) OVER (ORDER BY x) over n rows.
func TestNTileMatchesSQL(t *testing.T) {
	cases := []struct {
		n, k int
		want []int
	}{
		{1, 5, []int{1}},
		{3, 5, []int{1, 2, 3}},
		{5, 5, []int{1, 2, 3, 4, 5}},
		{7, 5, []int{1, 1, 2, 2, 3, 4, 5}},
		{10, 4, []int{1, 1, 1, 2, 2, 2, 3, 3, 4, 4}},
		{12, 5, []int{1, 1, 1, 2, 2, 2, 3, 3, 4, 4, 5, 5}},
		{13, 3, []int{1, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3}},
	}
	for _, c := range cases {
		got := make([]int, c.n)
		for i := range got {
			got[i] = NTile(i, c.n, c.k)
		}
		if !slices.Equal(got, c.want) {
			t.Errorf("ntile(%d) over %d rows = %v, want %v", c.k, c.n, got, c.want)
		}
	}
}

func TestRadixOrderIsAStableSort(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, n := range []int{0, 1, 2, 17, 5000} {
		vals := make([]float64, n)
		for i := range vals {
			vals[i] = float64(rng.IntN(50)-25) * 1.5 // many ties, negatives, zero
		}
		vals = append(vals, math.Copysign(0, -1), 1e300, -1e300)
		keys := make([]uint64, len(vals))
		for i, v := range vals {
			keys[i] = floatKey(v)
		}
		got := radixOrder(keys)
		want := make([]int, len(vals))
		for i := range want {
			want[i] = i
		}
		sort.SliceStable(want, func(a, b int) bool { return vals[want[a]] < vals[want[b]] })
		for i := range want {
			if int(got[i]) != want[i] {
				t.Fatalf("n=%d: position %d holds %d, stable sort has %d", n, i, got[i], want[i])
			}
		}
	}
}

func TestEqualValuesAreSplitByInputOrderLikeSQLNtile(t *testing.T) {
	asOf := time.Date(2024, 6, 1, 0, 0, 0, 0, time.UTC)
	last := asOf.AddDate(0, 0, -3)
	aggs := make([]Aggregate, 6)
	for i := range aggs {
		aggs[i] = Aggregate{FirstOrder: last, LastOrder: last, Orders: 2, Revenue: 100}
	}
	res, err := ScoreRFM(aggs, RFMOptions{AsOf: asOf})
	if err != nil {
		t.Fatal(err)
	}
	// ntile(5) over (order by revenue, position) on six equal rows.
	want := []uint8{1, 1, 2, 3, 4, 5}
	for i, s := range res.Scores {
		if s.R != want[i] || s.F != want[i] || s.M != want[i] || s.RecencyDays != 3 {
			t.Errorf("customer %d: %+v, want R=F=M=%d, recency 3", i, s, want[i])
		}
	}
}

func TestFromOrdersCountsRefundsAndBadRows(t *testing.T) {
	day := func(d int) int64 { return time.Date(2024, 1, d, 0, 0, 0, 0, time.UTC).Unix() }
	orders := []Order{
		{Customer: 0, At: day(5), Amount: 10},
		{Customer: 0, At: day(2), Amount: 20},
		{Customer: 0, At: day(9), Amount: -5}, // refund: lowers revenue, not an order, not "last"
		{Customer: 1, At: day(3), Amount: -7}, // only a refund
		{Customer: 2, At: day(4), Amount: 0},  // a free order still counts
		{Customer: 3, At: day(4), Amount: 1},  // no such customer
		{Customer: -1, At: day(4), Amount: 1}, // no such customer
		{Customer: 2, At: day(6), Amount: math.NaN()},
	}
	aggs, rep := FromOrders(orders, []string{"a", "b", "c"})
	want := []Aggregate{
		{ID: "a", FirstOrder: time.Unix(day(2), 0).UTC(), LastOrder: time.Unix(day(5), 0).UTC(), Orders: 2, Revenue: 25},
		{ID: "b", Orders: 0, Revenue: -7},
		{ID: "c", FirstOrder: time.Unix(day(4), 0).UTC(), LastOrder: time.Unix(day(4), 0).UTC(), Orders: 1, Revenue: 0},
	}
	if !slices.Equal(aggs, want) {
		t.Errorf("aggregates\n got %+v\nwant %+v", aggs, want)
	}
	wantRep := OrderReport{Orders: 8, Purchases: 3, Refunds: 2, BadCustomer: 2, BadAmount: 1}
	if rep != wantRep {
		t.Errorf("report %+v, want %+v", rep, wantRep)
	}
}

func TestScoreRFMReportsWhatItCannotRank(t *testing.T) {
	asOf := time.Date(2024, 6, 1, 0, 0, 0, 0, time.UTC)
	at := func(daysAgo int) time.Time { return asOf.AddDate(0, 0, -daysAgo) }
	aggs := []Aggregate{
		{LastOrder: at(10), Orders: 1, Revenue: 5},
		{Orders: 0, Revenue: -3},
		{LastOrder: at(-2), Orders: 1, Revenue: 5}, // after AsOf
		{LastOrder: at(400), Orders: 9, Revenue: 900},
		{LastOrder: at(20), Orders: 1, Revenue: math.Inf(1)},
		{LastOrder: at(30), Orders: 3, Revenue: 50},
	}
	res, err := ScoreRFM(aggs, RFMOptions{AsOf: asOf, Window: 365 * 24 * time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	if want := (RFMSkips{NoPurchase: 1, AfterAsOf: 1, BadRevenue: 1, OutsideWindow: 1}); res.Skipped != want {
		t.Errorf("skipped %+v, want %+v", res.Skipped, want)
	}
	if res.Ranked != 2 {
		t.Errorf("ranked %d, want 2", res.Ranked)
	}
	if s := res.Scores[3]; s.Segment != SegmentLost || s.R != 0 || s.RecencyDays != 400 {
		t.Errorf("customer outside the window: %+v, want lost, unranked, 400 days", s)
	}
	for _, i := range []int{1, 2, 4} {
		if res.Scores[i].Segment != SegmentNone {
			t.Errorf("customer %d: segment %v, want none", i, res.Scores[i].Segment)
		}
	}
	// With two ranked rows ntile(5) gives 1 and 2.
	if s := res.Scores[5]; s.R != 1 || s.F != 2 || s.M != 2 {
		t.Errorf("older, bigger customer %+v, want R1 F2 M2", s)
	}
	if _, err := ScoreRFM(aggs, RFMOptions{}); err == nil {
		t.Error("missing as-of time accepted")
	}
}

func TestSegmentGridAndLabels(t *testing.T) {
	g := DefaultSegmentGrid()
	seen := map[Segment]bool{}
	for r := range 5 {
		for fm := range 5 {
			if g[r][fm] == SegmentNone {
				t.Errorf("cell R%d FM%d has no segment", r+1, fm+1)
			}
			seen[g[r][fm]] = true
		}
	}
	for _, s := range Segments() {
		if !seen[s] {
			t.Errorf("segment %v is reachable from no cell", s)
		}
		l := s.Label()
		if l.EN == "" || l.ZH == "" || l.EN == l.ZH {
			t.Errorf("segment %v lacks a name in one language: %+v", s, l)
		}
		var back Segment
		if err := back.UnmarshalText([]byte(s.String())); err != nil || back != s {
			t.Errorf("segment %v does not round-trip: %v %v", s, back, err)
		}
	}
	if got := g.Segment(5, 5, 4); got != SegmentChampions { // FM = (5+4+1)/2 = 5
		t.Errorf("R5 F5 M4 = %v, want champions", got)
	}
	if got := g.Segment(1, 1, 2); got != SegmentLost {
		t.Errorf("R1 F1 M2 = %v, want lost", got)
	}
	if got := SegmentLabels()["cant_lose"].ZH; got != "不能失去" {
		t.Errorf("cant_lose in Chinese = %q", got)
	}
	b, _ := json.Marshal(RFMScore{R: 5, F: 5, M: 5, Segment: SegmentChampions})
	if string(b) != `{"recency_days":0,"r":5,"f":5,"m":5,"segment":"champions"}` {
		t.Errorf("json %s", b)
	}
}

// straightforwardRFM is the independent reference: map aggregation by
// string id, sort.SliceStable per measure, buckets filled one after another.
func straightforwardRFM(orders []Order, ids []string, asOf time.Time) map[string][4]int {
	type agg struct {
		last   int64
		orders int
		rev    float64
		pos    int
	}
	byID := map[string]*agg{}
	for i, id := range ids {
		byID[id] = &agg{last: math.MinInt64, pos: i}
	}
	for _, o := range orders {
		a := byID[ids[o.Customer]]
		a.rev += o.Amount
		if o.Amount >= 0 {
			a.orders++
			a.last = max(a.last, o.At)
		}
	}
	var rows []*agg
	var names []string
	for i, id := range ids {
		if a := byID[id]; a.orders > 0 && a.last <= asOf.Unix() {
			rows = append(rows, a)
			names = append(names, ids[i])
		}
	}
	n := len(rows)
	bucketOf := func(less func(a, b *agg) bool) map[*agg]int {
		sorted := slices.Clone(rows)
		sort.SliceStable(sorted, func(i, j int) bool { return less(sorted[i], sorted[j]) })
		out := map[*agg]int{}
		pos := 0
		for b := 1; b <= 5 && b <= n; b++ {
			size := n / 5
			if n < 5 {
				size = 1
			} else if b <= n%5 {
				size++
			}
			for range size {
				out[sorted[pos]] = b
				pos++
			}
		}
		return out
	}
	r := bucketOf(func(a, b *agg) bool { return a.last < b.last })
	f := bucketOf(func(a, b *agg) bool { return a.orders < b.orders })
	m := bucketOf(func(a, b *agg) bool { return a.rev < b.rev })
	out := map[string][4]int{}
	for i, a := range rows {
		days := int(asOf.Unix()/86400 - a.last/86400) // calendar days, UTC
		out[names[i]] = [4]int{r[a], f[a], m[a], days}
	}
	return out
}

func TestRFMOnCDNOWMatchesAStraightforwardImplementation(t *testing.T) {
	orders, ids := loadCDNOWMaster(t)
	if len(orders) != 69659 || len(ids) != 23570 {
		t.Fatalf("CDNOW master: %d rows, %d customers; the README says 69,659 and 23,570", len(orders), len(ids))
	}
	aggs, rep := FromOrders(orders, ids)
	if rep.BadAmount+rep.BadCustomer != 0 || rep.Purchases+rep.Refunds != len(orders) {
		t.Fatalf("report %+v", rep)
	}
	asOf := time.Date(1998, 7, 1, 0, 0, 0, 0, time.UTC)
	res, err := ScoreRFM(aggs, RFMOptions{AsOf: asOf})
	if err != nil {
		t.Fatal(err)
	}
	ref := straightforwardRFM(orders, ids, asOf)
	if res.Ranked != len(ref) {
		t.Fatalf("ranked %d, reference %d", res.Ranked, len(ref))
	}
	grid := DefaultSegmentGrid()
	var perScore [3][6]int
	segCount, segRevenue := 0, 0.0
	for i, s := range res.Scores {
		want, ok := ref[ids[i]]
		if !ok {
			if s.Segment != SegmentNone {
				t.Errorf("%s: scored %+v, reference left it out", ids[i], s)
			}
			continue
		}
		if int(s.R) != want[0] || int(s.F) != want[1] || int(s.M) != want[2] || int(s.RecencyDays) != want[3] {
			t.Fatalf("%s: R%d F%d M%d %dd, reference R%d F%d M%d %dd", ids[i], s.R, s.F, s.M, s.RecencyDays,
				want[0], want[1], want[2], want[3])
		}
		if s.Segment != grid[s.R-1][(s.F+s.M+1)/2-1] {
			t.Fatalf("%s: segment %v does not follow the grid", ids[i], s.Segment)
		}
		perScore[0][s.R]++
		perScore[1][s.F]++
		perScore[2][s.M]++
	}
	// Quintiles hold n/5 or n/5+1 customers, the larger ones first.
	for k, counts := range perScore {
		for b := 1; b <= 5; b++ {
			want := res.Ranked / 5
			if b <= res.Ranked%5 {
				want++
			}
			if counts[b] != want {
				t.Errorf("measure %d bucket %d holds %d, want %d", k, b, counts[b], want)
			}
		}
	}
	total := 0.0
	for _, a := range aggs {
		total += a.Revenue
	}
	for _, row := range res.Segments {
		segCount += row.Customers
		segRevenue += row.Revenue
	}
	if segCount != res.Ranked || !near(segRevenue, total, 1e-6*total) {
		t.Errorf("segments hold %d customers and %.2f revenue; want %d and %.2f", segCount, segRevenue, res.Ranked, total)
	}
}

func TestRFMOnOnlineRetailReproducesPublishedFigures(t *testing.T) {
	lines, rows := loadOnlineRetail(t)
	if rows != 541909 {
		t.Fatalf("%d rows, the README says 541,909", rows)
	}
	// One order per invoice, as the README's Frequency = distinct invoices.
	var cust customerIndex
	invoice := map[string]int{}
	var orders []Order
	for _, l := range lines {
		i, ok := invoice[l.invoice]
		if !ok {
			i = len(orders)
			invoice[l.invoice] = i
			orders = append(orders, Order{Customer: cust.of(l.customer), At: l.at.Unix()})
		}
		orders[i].Amount += l.amount
	}
	if len(lines) != 397884 || len(cust.ids) != 4338 || len(orders) != 18532 {
		t.Fatalf("cleaned: %d rows, %d customers, %d invoices; README: 397,884, 4,338, 18,532",
			len(lines), len(cust.ids), len(orders))
	}
	aggs, _ := FromOrders(orders, cust.ids)
	res, err := ScoreRFM(aggs, RFMOptions{AsOf: time.Date(2011, 12, 10, 0, 0, 0, 0, time.UTC)})
	if err != nil {
		t.Fatal(err)
	}
	var rec, freq, mon []float64
	total, top, topID := 0.0, 0.0, ""
	for i, a := range aggs {
		rec = append(rec, float64(res.Scores[i].RecencyDays))
		freq = append(freq, float64(a.Orders))
		mon = append(mon, a.Revenue)
		total += a.Revenue
		if a.Revenue > top {
			top, topID = a.Revenue, a.ID
		}
	}
	median := func(v []float64) float64 {
		s := slices.Clone(v)
		slices.Sort(s)
		if len(s)%2 == 1 {
			return s[len(s)/2]
		}
		return (s[len(s)/2-1] + s[len(s)/2]) / 2
	}
	checks := []struct {
		name      string
		got, want float64
		tol       float64
	}{
		{"revenue", total, 8911407.90, 0.01},
		{"median recency", median(rec), 51, 0},
		{"median frequency", median(freq), 2, 0},
		{"median monetary", median(mon), 674.48, 0.005},
		{"top customer revenue", top, 280206.02, 0.005},
	}
	for _, c := range checks {
		if !near(c.got, c.want, c.tol) {
			t.Errorf("%s = %.4f, published %.2f", c.name, c.got, c.want)
		}
	}
	if topID != "14646" {
		t.Errorf("top customer %s, published 14646", topID)
	}
	if res.Ranked != 4338 {
		t.Errorf("ranked %d customers, want all 4,338", res.Ranked)
	}
	champ := res.Segments[0]
	if champ.Segment != SegmentChampions || champ.RevenueShare <= champ.CustomerShare {
		t.Errorf("champions %+v should bring more than their share of revenue", champ)
	}
}
