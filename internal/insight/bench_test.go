package insight

import (
	"context"
	"math/rand/v2"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/rapportcrm/rapport/internal/analytics/value"
	"github.com/rapportcrm/rapport/internal/customer"
	"github.com/rapportcrm/rapport/internal/store"
)

// BenchmarkRefresh measures, on one SQLite store holding
// RAPPORT_BENCH_CUSTOMERS customers (default 1,000,000) with about three
// orders each, the end-to-end refit and the refresh of RFM + tiers from
// the maintained aggregates, beside the pure in-memory refresh on the same
// aggregates. Loading the store is setup, reported but not timed. Skipped
// unless RAPPORT_BENCH_INSIGHT=1 (it needs minutes and gigabytes).
func BenchmarkRefresh(b *testing.B) {
	if os.Getenv("RAPPORT_BENCH_INSIGHT") == "" {
		b.Skip("set RAPPORT_BENCH_INSIGHT=1 to run the 1M-customer store benchmark")
	}
	n := 1_000_000
	if v, err := strconv.Atoi(os.Getenv("RAPPORT_BENCH_CUSTOMERS")); err == nil && v > 0 {
		n = v
	}
	ctx := context.Background()
	st, err := store.Open(ctx, store.Config{DataDir: b.TempDir()})
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	now := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	start := time.Now()
	rng := rand.New(rand.NewPCG(1, 2))
	const chunk = 50_000
	orders := 0
	for lo := 0; lo < n; lo += chunk {
		var d store.Dataset
		for i := lo; i < min(n, lo+chunk); i++ {
			id := customer.NewID()
			created := now.Add(-time.Duration(rng.IntN(3*365*24)) * time.Hour)
			d.Customers = append(d.Customers, customer.Customer{ID: id, Kind: customer.Person, Name: "c" + strconv.Itoa(i), CreatedAt: created, UpdatedAt: created, Version: 1})
			at := created
			// Heterogeneous purchase rates and dropout, as BG/NBD assumes.
			gapDays := 40 / (0.1 + rng.ExpFloat64())
			drop := 0.05 + 0.6*rng.Float64()*rng.Float64()
			for at.Before(now) {
				d.Orders = append(d.Orders, customer.Order{ID: customer.NewID(), CustomerID: id, PlacedAt: at, Currency: "CNY",
					Total: float64(10 + rng.IntN(300)), Status: customer.OrderCompleted})
				if rng.Float64() < drop {
					break
				}
				at = at.Add(time.Duration(rng.ExpFloat64()*gapDays*24) * time.Hour)
			}
		}
		orders += len(d.Orders)
		if err := st.Load(ctx, store.SystemActor, d); err != nil {
			b.Fatal(err)
		}
	}
	b.Logf("setup: %d customers, %d orders loaded in %.1fs", n, orders, time.Since(start).Seconds())

	svc := New(st, Options{Now: func() time.Time { return now }})
	b.Run("refit_end_to_end", func(b *testing.B) {
		for b.Loop() {
			rep, err := svc.Refit(ctx)
			if err != nil {
				b.Fatal(err)
			}
			for k, v := range rep.Seconds {
				b.ReportMetric(v, k+"_s")
			}
		}
	})
	snap := svc.snap
	p := snap.profile

	b.Run("refresh_rfm_tiers_from_snapshot", func(b *testing.B) {
		for b.Loop() {
			if _, err := rank(snap, now); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("refresh_rfm_tiers_from_store_aggregates", func(b *testing.B) {
		for b.Loop() {
			fresh := &snapshot{profile: p, ids: svc.ids}
			err := st.ScanAnalyticsCustomers(ctx, nil, false, func(c *store.AnalyticsCustomer) error {
				r := row{id: svc.ids.key(c.ID)}
				if c.Orders > 0 {
					r.buy = &purchases{orders: int32(c.Orders), revenue: c.Revenue, first: c.FirstOrderAt.Unix(), last: c.LastOrderAt.Unix()}
				}
				fresh.rows = append(fresh.rows, r)
				return nil
			})
			if err != nil {
				b.Fatal(err)
			}
			if _, err := rank(fresh, now); err != nil {
				b.Fatal(err)
			}
		}
	})
	// The peer: the pure package on prebuilt aggregates (bench/rfm's refresh).
	aggs := make([]value.Aggregate, 0, len(snap.rows))
	var rev []float64
	for i := range snap.rows {
		r := snap.rows[i].p()
		a := value.Aggregate{ID: snap.id(int32(i)), Orders: int(r.orders), Revenue: r.revenue}
		if r.orders > 0 {
			a.FirstOrder, a.LastOrder = time.Unix(r.first, 0).UTC(), time.Unix(r.last, 0).UTC()
			rev = append(rev, r.revenue)
		}
		aggs = append(aggs, a)
	}
	b.Run("pure_rfm_tiers_in_memory", func(b *testing.B) {
		for b.Loop() {
			if _, err := value.ScoreRFM(aggs, value.RFMOptions{AsOf: now, Window: time.Duration(p.RFMWindowDays) * 24 * time.Hour}); err != nil {
				b.Fatal(err)
			}
			if _, err := value.AssignTiers(rev, p.TierCuts); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("refresh_100_stale_customers", func(b *testing.B) {
		ids := make([]string, 100)
		for i := range ids {
			ids[i] = snap.id(int32(i * (len(snap.rows) / 100)))
		}
		for b.Loop() {
			if _, err := svc.refreshIDs(ctx, ids); err != nil {
				b.Fatal(err)
			}
		}
	})
}
