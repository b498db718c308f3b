// Package segment benchmarks segment evaluation over a large workspace,
// each figure beside a peer measured in the same run:
//
//   - count and member list for a 5-clause rule over N customers (default
//     1,000,000) on SQLite, compiled by internal/segment, beside the same
//     query written by hand;
//   - the real-time matcher's cost per changed customer with 100 active
//     segments: the in-memory evaluation alone, and the whole batch path
//     (read facts, read memberships, evaluate, write changes), beside the
//     read of the same customers alone.
//
// Run (from the repo root; the generated database is cached in
// $TMPDIR/rapport-bench-segment-N and reused):
//
//	go test -run '^$' -bench . -benchtime 10x -timeout 60m ./bench/segment
//	RAPPORT_BENCH_CUSTOMERS=100000 go test -run '^$' -bench . ./bench/segment
package segment

import (
	"context"
	"database/sql"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rapportcrm/rapport/internal/customer"
	"github.com/rapportcrm/rapport/internal/segment"
	"github.com/rapportcrm/rapport/internal/store"
	"github.com/rapportcrm/rapport/internal/targeting"
)

// now is the benchmark's fixed clock; the data is generated around it.
var now = time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)

const rule5 = `tier in ("gold","silver") and p_alive < 0.5 and orders_90d = 0 and city = "上海" and revenue > 100`

// handCount is rule5 written by hand, the way a person writes SQL.
const handCount = `SELECT count(*) FROM customers c
	JOIN customer_scores sc ON sc.customer_id = c.id
	JOIN customer_stats st ON st.customer_id = c.id
	WHERE c.deleted_at IS NULL AND sc.tier IN ('gold', 'silver') AND sc.p_alive < 0.5
	AND json_extract(c.attributes, '$.city') = '上海' AND st.revenue > 100
	AND NOT EXISTS (SELECT 1 FROM orders o WHERE o.customer_id = c.id AND o.status = 'completed' AND o.placed_at >= ?)`

const handIDs = `SELECT c.id FROM customers c
	JOIN customer_scores sc ON sc.customer_id = c.id
	JOIN customer_stats st ON st.customer_id = c.id
	WHERE c.deleted_at IS NULL AND sc.tier IN ('gold', 'silver') AND sc.p_alive < 0.5
	AND json_extract(c.attributes, '$.city') = '上海' AND st.revenue > 100
	AND NOT EXISTS (SELECT 1 FROM orders o WHERE o.customer_id = c.id AND o.status = 'completed' AND o.placed_at >= ?)
	ORDER BY c.seq`

var cities = []string{"上海", "北京", "广州", "深圳", "杭州", "成都", "武汉", "南京", "西安", "重庆"}

type fixture struct {
	st  *store.Store
	raw *sql.DB
	svc *targeting.Service
	n   int
}

var (
	once  sync.Once
	fx    *fixture
	fxErr error
)

func customers() int {
	if v, err := strconv.Atoi(os.Getenv("RAPPORT_BENCH_CUSTOMERS")); err == nil && v > 0 {
		return v
	}
	return 1_000_000
}

func setup(b *testing.B) *fixture {
	b.Helper()
	once.Do(func() { fx, fxErr = build(customers()) })
	if fxErr != nil {
		b.Fatal(fxErr)
	}
	return fx
}

func build(n int) (*fixture, error) {
	ctx := context.Background()
	dir := filepath.Join(os.TempDir(), fmt.Sprintf("rapport-bench-segment-%d", n))
	fresh := false
	if _, err := os.Stat(filepath.Join(dir, "done")); err != nil {
		os.RemoveAll(dir)
		fresh = true
	}
	st, err := store.Open(ctx, store.Config{DataDir: dir})
	if err != nil {
		return nil, err
	}
	raw, err := sql.Open("sqlite", "file:"+filepath.Join(dir, "rapport.db")+"?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_pragma=cache_size(-32000)")
	if err != nil {
		return nil, err
	}
	if fresh {
		start := time.Now()
		if err := generate(ctx, st, raw, n); err != nil {
			return nil, err
		}
		if err := os.WriteFile(filepath.Join(dir, "done"), nil, 0o644); err != nil {
			return nil, err
		}
		fmt.Fprintf(os.Stderr, "generated %d customers in %s\n", n, time.Since(start).Round(time.Second))
	}
	return &fixture{st: st, raw: raw, n: n, svc: &targeting.Service{Store: st, Region: "CN", Now: func() time.Time { return now }}}, nil
}

// generate writes n customers with a city, stats for 80%, scores for 95%
// and 1–3 orders for each customer with stats, by multi-row inserts.
func generate(ctx context.Context, st *store.Store, raw *sql.DB, n int) error {
	if err := st.CreateField(ctx, customer.Field{Key: "city", Type: customer.FieldText, LabelEn: "City", LabelZh: "城市", CreatedAt: now}); err != nil {
		return err
	}
	rng := rand.New(rand.NewPCG(1, 2))
	const chunk = 2000
	ts := func(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000000Z") }
	for start := 0; start < n; start += chunk {
		tx, err := raw.BeginTx(ctx, nil)
		if err != nil {
			return err
		}
		var cust, stats, scores, orders []string
		var cargs, sargs, scargs, oargs []any
		for i := start; i < min(start+chunk, n); i++ {
			id := fmt.Sprintf("cust-%08d", i)
			city := cities[rng.IntN(len(cities))]
			if rng.IntN(10) < 2 {
				city = "上海"
			}
			created := now.Add(-time.Duration(30+rng.IntN(1500)) * 24 * time.Hour)
			cust = append(cust, "(?, 'person', ?, ?, ?, '[]', ?, ?, 1, ?)")
			name := "客户" + strconv.Itoa(i)
			cargs = append(cargs, id, name, name, `{"city":"`+city+`"}`, ts(created), ts(created), name)
			if rng.IntN(10) < 8 {
				k := 1 + rng.IntN(3)
				var revenue float64
				var first, last time.Time
				for j := range k {
					at := now.Add(-time.Duration(rng.IntN(730*24)) * time.Hour)
					total := float64(20 + rng.IntN(400))
					revenue += total
					if j == 0 || at.Before(first) {
						first = at
					}
					if at.After(last) {
						last = at
					}
					orders = append(orders, "(?, ?, '', '', ?, 'CNY', ?, 'completed', ?)")
					oargs = append(oargs, fmt.Sprintf("ord-%08d-%d", i, j), id, ts(at), total, ts(at))
				}
				stats = append(stats, "(?, ?, ?, ?, ?, ?, ?, 0)")
				sargs = append(sargs, id, k, revenue, ts(first), ts(last), ts(first), ts(last))
			}
			if rng.IntN(20) > 0 {
				tier := "basic"
				switch r := rng.IntN(100); {
				case r < 5:
					tier = "gold"
				case r < 20:
					tier = "silver"
				case r < 50:
					tier = "bronze"
				}
				scores = append(scores, "(?, ?, '', 0, 0, 0, ?, ?, NULL, ?, ?)")
				scargs = append(scargs, id, tier, rng.Float64()*2000, rng.Float64(), rng.Float64(), ts(now))
			}
		}
		for _, q := range []struct {
			head string
			rows []string
			args []any
		}{
			{"INSERT INTO customers (id, kind, name, sort_key, attributes, tags, created_at, updated_at, version, search) VALUES ", cust, cargs},
			{"INSERT INTO customer_stats (customer_id, orders, revenue, first_order_at, last_order_at, first_seen, last_seen, interactions) VALUES ", stats, sargs},
			{"INSERT INTO customer_scores (customer_id, tier, rfm_segment, r, f, m, clv, p_alive, expected_next_purchase, churn_risk, updated_at) VALUES ", scores, scargs},
			{"INSERT INTO orders (id, customer_id, external_id, source, placed_at, currency, total, status, created_at) VALUES ", orders, oargs},
		} {
			if len(q.rows) == 0 {
				continue
			}
			if _, err := tx.ExecContext(ctx, q.head+strings.Join(q.rows, ", "), q.args...); err != nil {
				tx.Rollback()
				return err
			}
		}
		if err := tx.Commit(); err != nil {
			return err
		}
	}
	_, err := raw.ExecContext(ctx, `ANALYZE`)
	return err
}

func (f *fixture) compiled(b testing.TB, rule string) store.Condition {
	b.Helper()
	cat, err := f.svc.Catalogue(context.Background())
	if err != nil {
		b.Fatal(err)
	}
	r, err := segment.Compile(rule, cat)
	if err != nil {
		b.Fatal(err)
	}
	q, err := r.SQL(segment.SQLite, now, 1, nil)
	if err != nil {
		b.Fatal(err)
	}
	return store.Condition{Where: q.Where, Args: q.Args, Stats: q.Stats, Scores: q.Scores}
}

func cutoff90() string { return now.Add(-90 * 24 * time.Hour).Format("2006-01-02T15:04:05.000000Z") }

// BenchmarkSegmentCount counts rule5's members: parse, check and compile
// included in "compiled"; "hand_written" is the peer.
func BenchmarkSegmentCount(b *testing.B) {
	f := setup(b)
	ctx := context.Background()
	var want int64
	if err := f.raw.QueryRowContext(ctx, handCount, cutoff90()).Scan(&want); err != nil {
		b.Fatal(err)
	}
	b.Run("compiled", func(b *testing.B) {
		for b.Loop() {
			n, err := f.svc.PreviewRule(ctx, rule5, "")
			if err != nil {
				b.Fatal(err)
			}
			if n.Count != want {
				b.Fatalf("compiled counts %d, hand-written %d", n.Count, want)
			}
		}
		b.ReportMetric(float64(want), "members")
	})
	b.Run("compiled_count_only", func(b *testing.B) {
		cond := f.compiled(b, rule5)
		for b.Loop() {
			if _, err := f.st.CountMatching(ctx, cond, ""); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("hand_written", func(b *testing.B) {
		for b.Loop() {
			var n int64
			if err := f.raw.QueryRowContext(ctx, handCount, cutoff90()).Scan(&n); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkSegmentMembers lists rule5's members: the first page of 100
// full customer records (the API's members call), and every member id (what
// freezing a list reads), beside the hand-written id query.
func BenchmarkSegmentMembers(b *testing.B) {
	f := setup(b)
	ctx := context.Background()
	cond := f.compiled(b, rule5)
	b.Run("compiled_first_page_100", func(b *testing.B) {
		for b.Loop() {
			if _, err := f.st.ListMatching(ctx, cond, "", "", 100); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("compiled_all_ids", func(b *testing.B) {
		for b.Loop() {
			if _, err := f.st.MatchingIDs(ctx, cond); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("hand_written_all_ids", func(b *testing.B) {
		for b.Loop() {
			rows, err := f.raw.QueryContext(ctx, handIDs, cutoff90())
			if err != nil {
				b.Fatal(err)
			}
			var ids []string
			for rows.Next() {
				var id string
				if err := rows.Scan(&id); err != nil {
					b.Fatal(err)
				}
				ids = append(ids, id)
			}
			rows.Close()
		}
	})
}

// BenchmarkSavedSegment measures the saved-segment path: creating a
// segment (the rule evaluated once, its members materialized), then reading
// its count and a page of members from the materialized membership that
// the matcher keeps current on every write.
func BenchmarkSavedSegment(b *testing.B) {
	f := setup(b)
	ctx := context.Background()
	var id string
	b.Run("create_with_snapshot", func(b *testing.B) {
		k := 0
		for b.Loop() {
			v, err := f.svc.CreateSegment(ctx, store.SystemActor, fmt.Sprintf("bench %d %d", time.Now().UnixNano(), k), rule5)
			if err != nil {
				b.Fatal(err)
			}
			if id != "" {
				if err := f.svc.DeleteSegment(ctx, store.SystemActor, id); err != nil {
					b.Fatal(err)
				}
			}
			id = v.ID
			k++
		}
	})
	b.Run("materialized_count", func(b *testing.B) {
		for b.Loop() {
			g, err := f.st.Segment(ctx, id)
			if err != nil || g.MemberCount == 0 {
				b.Fatal(g.MemberCount, err)
			}
		}
	})
	b.Run("materialized_first_page_100", func(b *testing.B) {
		for b.Loop() {
			if _, err := f.svc.MaterializedMembers(ctx, id, "", "", 100); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("materialized_all_pages_500", func(b *testing.B) {
		for b.Loop() {
			cursor, n := "", 0
			for {
				page, err := f.svc.MaterializedMembers(ctx, id, "", cursor, 500)
				if err != nil {
					b.Fatal(err)
				}
				n += len(page.Items)
				if cursor = page.NextCursor; cursor == "" {
					break
				}
			}
		}
	})
	if err := f.svc.DeleteSegment(ctx, store.SystemActor, id); err != nil {
		b.Fatal(err)
	}
}

// rules100 are 100 varied active segments.
func rules100() []string {
	var out []string
	tiers := []string{`"gold"`, `"silver"`, `"bronze"`, `"basic"`}
	for i := range 100 {
		city := cities[i%len(cities)]
		switch i % 5 {
		case 0:
			out = append(out, fmt.Sprintf(`tier in (%s, %s) and p_alive < 0.%d and city = "%s"`, tiers[i%4], tiers[(i+1)%4], 1+i%9, city))
		case 1:
			out = append(out, fmt.Sprintf(`orders_%dd = 0 and revenue > %d and city != "%s"`, 30+i, 50+i, city))
		case 2:
			out = append(out, fmt.Sprintf(`(city = "%s" or tag = "vip") and clv > %d and not seen for %d days`, city, 100*(i%10), 10+i))
		case 3:
			out = append(out, fmt.Sprintf(`revenue_%dd >= %d and churn_risk > 0.%d`, 60+i, 100+i, i%9))
		default:
			out = append(out, fmt.Sprintf(`tier = %s and orders >= %d and last_order_at > "2024-%02d-01"`, tiers[i%4], 1+i%3, 1+i%12))
		}
	}
	return out
}

func liveWith100(b *testing.B, f *fixture) (*targeting.Live, *segment.Set) {
	b.Helper()
	ctx := context.Background()
	cat, err := f.svc.Catalogue(ctx)
	if err != nil {
		b.Fatal(err)
	}
	live := targeting.NewLive(f.st, nil, "CN")
	live.Now = func() time.Time { return now }
	var ids []string
	var rules []*segment.Rule
	for i, src := range rules100() {
		r, err := segment.Compile(src, cat)
		if err != nil {
			b.Fatalf("%s: %v", src, err)
		}
		id := fmt.Sprintf("bench-seg-%03d", i)
		// The segment rows exist so that membership is recorded; their
		// members are filled by the matcher as customers are processed.
		if _, err := f.raw.ExecContext(ctx, `INSERT INTO segments (id, name, rule, created_at, updated_at) VALUES (?, ?, ?, ?, ?)
			ON CONFLICT (id) DO NOTHING`, id, id, src, now.Format(time.RFC3339), now.Format(time.RFC3339)); err != nil {
			b.Fatal(err)
		}
		live.Set(id, r)
		ids, rules = append(ids, id), append(rules, r)
	}
	return live, segment.NewSet(ids, rules)
}

func sampleIDs(n, k int, seed uint64) []string {
	rng := rand.New(rand.NewPCG(seed, 9))
	out := make([]string, k)
	for i := range out {
		out[i] = fmt.Sprintf("cust-%08d", rng.IntN(n))
	}
	return out
}

// BenchmarkMatcher measures what real-time membership adds per changed
// customer with 100 active segments.
func BenchmarkMatcher(b *testing.B) {
	f := setup(b)
	ctx := context.Background()
	live, set := liveWith100(b, f)
	needs := set.Needs()
	fn := store.FactNeeds{Orders: needs.Orders(), Categories: needs.Categories}
	if !needs.AllOrders {
		fn.OrderSince = now.Add(-time.Duration(needs.OrderDays) * 24 * time.Hour)
	}
	ids := sampleIDs(f.n, 500, 1)
	facts, err := f.st.LoadFacts(ctx, ids, fn)
	if err != nil {
		b.Fatal(err)
	}
	sf := make([]segment.Facts, len(ids))
	for i, id := range ids {
		x := facts[id]
		sf[i].Customer = &x.Customer
		for _, o := range x.Orders {
			sf[i].Orders = append(sf[i].Orders, segment.Order{At: o.At, Total: o.Total})
		}
	}
	b.Run("eval_100_segments_per_event", func(b *testing.B) {
		var dst []string
		i, matched := 0, 0
		for b.Loop() {
			dst = set.Matching(&sf[i%len(sf)], now, dst[:0])
			matched += len(dst)
			i++
		}
		b.ReportMetric(float64(matched)/float64(i), "segments/customer")
	})
	// A pool of customers processed once (their memberships recorded), then
	// processed again in batches of 500: the steady state, where a write
	// rarely moves a customer in or out of a segment.
	pool := make([][]string, 10)
	for i := range pool {
		pool[i] = sampleIDs(f.n, 500, uint64(1000+i))
		if err := live.Process(ctx, pool[i]); err != nil {
			b.Fatal(err)
		}
	}
	b.Run("process_steady_batch_500", func(b *testing.B) {
		k := 0
		for b.Loop() {
			if err := live.Process(ctx, pool[k%len(pool)]); err != nil {
				b.Fatal(err)
			}
			k++
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(k*500), "ns/event")
	})
	// Customers never seen before: each enters its segments (written).
	b.Run("process_first_time_batch_500", func(b *testing.B) {
		k := 0
		for b.Loop() {
			if err := live.Process(ctx, sampleIDs(f.n, 500, uint64(5000+k))); err != nil {
				b.Fatal(err)
			}
			k++
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(k*500), "ns/event")
	})
	b.Run("peer_load_facts_batch_500", func(b *testing.B) {
		k := 0
		for b.Loop() {
			if _, err := f.st.LoadFacts(ctx, pool[k%len(pool)], fn); err != nil {
				b.Fatal(err)
			}
			k++
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(k*500), "ns/event")
	})
	// The write being followed: one customer update through the store.
	b.Run("peer_customer_update", func(b *testing.B) {
		k := 0
		for b.Loop() {
			id := fmt.Sprintf("cust-%08d", (k*7919)%f.n)
			k++
			c, err := f.st.Customer(ctx, id)
			if err != nil {
				b.Fatal(err)
			}
			if _, err := f.st.UpdateCustomer(ctx, store.SystemActor, id, c.Version, func(c *customer.Customer) error {
				c.Tags = []string{"vip"}
				return nil
			}); err != nil {
				b.Fatal(err)
			}
		}
	})
}
