package insight_test

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/rapportcrm/rapport/internal/customer"
	"github.com/rapportcrm/rapport/internal/store"
)

// history is a generated shop: customers who arrive over two and a half
// years, buy at their own Poisson rate until they drop out (the BG/NBD
// story), spend around their own mean, buy bread with butter more often
// than chance, call the service line now and then, and, for a subscription
// line, cancel more often when they buy little and call a lot.
type history struct {
	now       time.Time
	customers []customer.Customer
	orders    []customer.Order
	inter     []customer.Interaction
	fields    []customer.Field
}

var (
	cities   = []string{"上海", "北京", "深圳", "成都"}
	channels = []string{"web", "store", "wechat"}
	products = []struct {
		id, name, cat string
		price, cost   float64
	}{
		{"bread", "面包 Bread", "bakery", 12, 5},
		{"butter", "黄油 Butter", "dairy", 18, 9},
		{"coffee", "咖啡 Coffee", "drinks", 30, 8},
		{"milk", "牛奶 Milk", "dairy", 9, 4},
		{"cake", "蛋糕 Cake", "bakery", 88, 40},
		{"tea", "茶 Tea", "drinks", 25, 6},
	}
)

func generate(n int, seed uint64) history {
	rng := rand.New(rand.NewPCG(seed, seed^0xabcdef))
	now := time.Date(2025, 6, 30, 12, 0, 0, 0, time.UTC)
	start := now.AddDate(-2, -6, 0)
	h := history{now: now}
	h.fields = []customer.Field{
		{Key: "city", Type: customer.FieldEnum, Options: cities, LabelEn: "City", LabelZh: "城市", CreatedAt: start},
		{Key: "status", Type: customer.FieldEnum, Options: []string{"active", "cancelled"}, LabelEn: "Status", LabelZh: "状态", CreatedAt: start},
	}
	span := now.Sub(start).Seconds()
	for i := range n {
		id := customer.NewID()
		arrive := start.Add(time.Duration(rng.Float64() * 0.9 * span * float64(time.Second))).Truncate(time.Second)
		c := customer.Customer{ID: id, Kind: customer.Person, Name: fmt.Sprintf("客户 %d", i),
			Attributes: map[string]any{"city": cities[rng.IntN(len(cities))]}, Tags: []string{},
			CreatedAt: arrive, UpdatedAt: arrive, Version: 1, OwnerID: fmt.Sprintf("owner-%d", i%3)}
		if rng.IntN(3) == 0 {
			c.Tags = append(c.Tags, "vip")
		}
		if rng.IntN(4) == 0 {
			c.Tags = append(c.Tags, "newsletter")
		}
		// Purchase rate per week from a gamma(r=0.8, α=4) prior; dropout after
		// each purchase with p ~ beta(1, 4).
		rate := rng.ExpFloat64()*0.2 + gammaDraw(rng, 0.8)/4
		drop := betaDraw(rng, 1, 4)
		mean := 40 + rng.ExpFloat64()*60
		channel := channels[rng.IntN(len(channels))]
		t := arrive
		orders := 0
		for t.Before(now) {
			orders++
			o := customer.Order{ID: customer.NewID(), CustomerID: id, PlacedAt: t, Currency: "CNY", Status: customer.OrderCompleted, Source: channel}
			o.Items = basket(rng, mean)
			for _, it := range o.Items {
				o.Total += it.Price * it.Quantity
			}
			o.Total = math.Round(o.Total*100) / 100
			h.orders = append(h.orders, o)
			if rng.Float64() < drop || rate <= 0 {
				break
			}
			t = t.Add(time.Duration(rng.ExpFloat64() / rate * 7 * 24 * float64(time.Hour))).Truncate(time.Second)
		}
		calls := rng.IntN(4)
		if rng.IntN(8) == 0 {
			calls += 8 // a few customers call all the time
		}
		for k := range calls {
			at := arrive.Add(time.Duration(k+1) * 72 * time.Hour)
			if at.After(now) {
				break
			}
			kind := "service"
			if k%2 == 1 {
				kind = "call"
			}
			h.inter = append(h.inter, customer.Interaction{ID: customer.NewID(), CustomerID: id, Kind: kind, At: at, Summary: "contact", CreatedAt: at})
		}
		if i%2 == 0 { // the subscription line: contractual customers
			logit := 0.5 - 0.25*float64(orders) + 0.35*float64(calls)
			status := "active"
			if rng.Float64() < 1/(1+math.Exp(-logit)) {
				status = "cancelled"
			}
			c.Attributes["status"] = status
		}
		h.customers = append(h.customers, c)
	}
	return h
}

// basket draws an order: bread and butter go together, the rest at random.
func basket(rng *rand.Rand, mean float64) []customer.OrderItem {
	var items []customer.OrderItem
	add := func(k int) {
		p := products[k]
		items = append(items, customer.OrderItem{ProductID: p.id, Name: p.name, Category: p.cat, Price: p.price, Quantity: 1, UnitCost: p.cost})
	}
	if rng.Float64() < 0.4 {
		add(0)
		if rng.Float64() < 0.8 {
			add(1)
		}
	}
	for k := 2; k < len(products); k++ {
		if rng.Float64() < 0.25 {
			add(k)
		}
	}
	if len(items) == 0 {
		add(2 + rng.IntN(len(products)-2))
	}
	// Scale quantities to the customer's own spend level.
	q := math.Max(1, math.Round(mean/40))
	for i := range items {
		items[i].Quantity = q
	}
	return items
}

func gammaDraw(rng *rand.Rand, shape float64) float64 {
	// Marsaglia–Tsang, with the shape < 1 boost.
	if shape < 1 {
		return gammaDraw(rng, shape+1) * math.Pow(rng.Float64(), 1/shape)
	}
	d := shape - 1.0/3
	c := 1 / math.Sqrt(9*d)
	for {
		x := rng.NormFloat64()
		v := 1 + c*x
		if v <= 0 {
			continue
		}
		v = v * v * v
		if u := rng.Float64(); math.Log(u) < 0.5*x*x+d-d*v+d*math.Log(v) {
			return d * v
		}
	}
}

func betaDraw(rng *rand.Rand, a, b float64) float64 {
	x, y := gammaDraw(rng, a), gammaDraw(rng, b)
	return x / (x + y)
}

// load writes the history into st.
func (h history) load(t testing.TB, st *store.Store) {
	t.Helper()
	err := st.Load(context.Background(), store.SystemActor, store.Dataset{Customers: h.customers, Orders: h.orders, Interactions: h.inter, Fields: h.fields})
	if err != nil {
		t.Fatalf("load history: %v", err)
	}
}
