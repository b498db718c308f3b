package insight

import (
	"context"
	"math/rand/v2"
	"os"
	"runtime"
	"runtime/pprof"
	"strconv"
	"testing"
	"time"

	"github.com/rapportcrm/rapport/internal/customer"
	"github.com/rapportcrm/rapport/internal/store"
)

// BenchmarkSnapshotMemory reports the live heap the analytics snapshot
// keeps per customer after a refit (RAPPORT_BENCH_CUSTOMERS customers,
// default 100,000), the figure that decides the server's memory at a
// million customers: buyers each have a city, a tag and one to three
// orders; bare records only a name (the foundation benchmark's shape).
func BenchmarkSnapshotMemory(b *testing.B) {
	b.Run("buyers", func(b *testing.B) { snapshotMemory(b, true) })
	b.Run("bare", func(b *testing.B) { snapshotMemory(b, false) })
}

func snapshotMemory(b *testing.B, buyers bool) {
	n := 100_000
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
	rng := rand.New(rand.NewPCG(1, 2))
	cities := []string{"上海", "北京", "广州", "深圳", "杭州"}
	var d store.Dataset
	for i := range n {
		id := customer.NewID()
		created := now.Add(-time.Duration(rng.IntN(3*365*24)) * time.Hour)
		c := customer.Customer{ID: id, Kind: customer.Person, Name: "客户" + strconv.Itoa(i),
			CreatedAt: created, UpdatedAt: created, Version: 1}
		if !buyers {
			d.Customers = append(d.Customers, c)
			continue
		}
		c.Attributes, c.Tags = map[string]any{"city": cities[rng.IntN(len(cities))]}, []string{"vip"}
		d.Customers = append(d.Customers, c)
		for k := rng.IntN(3) + 1; k > 0; k-- {
			at := created.Add(time.Duration(rng.IntN(300*24)) * time.Hour)
			d.Orders = append(d.Orders, customer.Order{ID: customer.NewID(), CustomerID: id, PlacedAt: at, Currency: "CNY",
				Total: float64(10 + rng.IntN(300)), Status: customer.OrderCompleted})
		}
	}
	if err := st.Load(ctx, store.SystemActor, d); err != nil {
		b.Fatal(err)
	}
	d = store.Dataset{}
	var before, after runtime.MemStats
	for b.Loop() {
		runtime.GC()
		runtime.ReadMemStats(&before)
		svc := New(st, Options{Now: func() time.Time { return now }})
		if _, err := svc.Refit(ctx); err != nil {
			b.Fatal(err)
		}
		runtime.GC()
		runtime.ReadMemStats(&after)
		if path := os.Getenv("RAPPORT_HEAP_PROFILE"); path != "" {
			f, err := os.Create(path)
			if err != nil {
				b.Fatal(err)
			}
			pprof.WriteHeapProfile(f)
			f.Close()
		}
		runtime.KeepAlive(svc)
	}
	b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/float64(n), "heap_B/customer")
}
