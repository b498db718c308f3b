package demo

import (
	"math"
	"slices"
	"strconv"
	"time"

	"github.com/rapportcrm/rapport/internal/customer"
)

// categoryWeights is how popular each category is as a favourite.
var categoryWeights = newTable([]float64{1.4, 1.2, 1.5, 1, 1, 0.8, 0.7, 0.9})

// buy simulates a customer's purchases: a gamma-distributed purchase rate,
// a chance to drop out after each purchase (as BG/NBD assumes), a share of
// one-time buyers, and some recent lapses.
func (b *builder) buy(p *profile) {
	g := b.g
	var rate, drop float64
	var oneTime bool
	if p.org {
		if !g.chance(0.95) {
			return
		}
		rate = min(0.5, g.gamma(1.2, 1.0/40/1.2))
		drop = g.beta(1, 30)
		oneTime = g.chance(0.12)
		p.qty = g.lognormal(math.Log(1.5), 0.7)
		if g.chance(0.05) {
			p.qty *= 5 // a key account: a distributor or a chain buying for many stores
		}
	} else {
		if !g.chance(0.88) {
			return
		}
		rate = min(0.4, g.gamma(2, 1.0/9/2))
		drop = g.beta(2, 30)
		oneTime = g.chance(0.33)
		p.qty = g.lognormal(0, 0.45)
	}
	p.taste = max(0, min(len(tasteTables)-1, int(math.Round((0.6*g.NormFloat64()+0.8)*10))))
	for range 1 + g.IntN(3) {
		if c := categoryWeights.pick(g); !slices.Contains(p.favs, c) {
			p.favs = append(p.favs, c)
		}
	}
	switch {
	case p.org:
		p.channels, p.chanW = []string{"wholesale", "sales", "web"}, []float64{6, 2.5, 1.5}
	case p.abroad:
		p.channels, p.chanW = []string{"web"}, []float64{1}
	case p.zh:
		p.channels, p.chanW = []string{"tmall", "jd", "wechat", "store", "web"}, []float64{28, 18, 22, 22, 10}
	default:
		p.channels, p.chanW = []string{"web", "tmall", "store", "wechat"}, []float64{40, 20, 25, 15}
	}
	p.channel = pickOf(g, p.channels, p.chanW...)
	stop := float64(Days)
	if g.chance(0.08) {
		stop = Days - g.between(35, 160) // lapsed recently: a good "at risk" example
	}
	t := p.born + g.between(0, 0.02) // bought in the session they signed up
	if later := p.born + g.ExpFloat64()*6; g.chance(0.5) && later < Days {
		t = max(t, b.clock(later, p.home))
	}
	for k := 0; t < stop; k++ {
		b.order(p, t)
		if (k == 0 && oneTime) || g.chance(drop) {
			break
		}
		next := t + g.ExpFloat64()/rate
		if next >= stop {
			break
		}
		next = b.clock(next, p.home)
		if next <= t {
			next = t + g.between(0.01, 0.2)
		}
		t = next
	}
}

// order creates one order at day t.
func (b *builder) order(p *profile, t float64) {
	g := b.g
	at := b.when(t)
	b.orderSeq++
	src := p.channel
	if g.chance(0.25) {
		src = pickOf(g, p.channels, p.chanW...)
	}
	o := customer.Order{
		ID:         g.id(at),
		CustomerID: p.c.ID,
		ExternalID: externalID(orderPrefix[src], at, b.orderSeq),
		Source:     src,
		PlacedAt:   at,
		Currency:   "CNY",
		Status:     customer.OrderCompleted,
	}
	if p.abroad {
		o.Currency = "USD"
	}
	lines := 1 + min(g.poisson(0.6), 5)
	if p.org {
		lines = 2 + min(g.poisson(2.5), 10)
	}
	o.Items = b.scratch[:0]
	var cents int64
	for range lines {
		k := b.product(p, at.Month())
		if k < 0 {
			continue
		}
		cents += b.addLine(p, &o, k)
		// Things bought together (a pour-over kit and beans, a toothbrush
		// and its heads) give the basket analysis real rules to find.
		if c := companions[k]; c.with >= 0 && catalogue[c.with].inSeason(at.Month()) && g.chance(c.p) {
			cents += b.addLine(p, &o, c.with)
		}
	}
	b.scratch = o.Items[:0]
	o.Items = b.keepItems(o.Items)
	if len(o.Items) == 0 {
		b.orderSeq-- // nothing in season in the customer's categories
		return
	}
	o.Total = float64(cents) / 100
	refundP := 0.025
	if p.org {
		refundP = 0.01
	}
	cny := o.Total
	if p.abroad {
		cny *= usdRate
	}
	if g.chance(refundP) {
		o.Status = customer.OrderRefunded
		p.lastBack, p.backAmount = t, o.Total
	} else {
		p.revenue += cny
	}
	p.orders = append(p.orders, len(b.d.Orders))
	b.d.Orders = append(b.d.Orders, o)
}

// addLine puts product k on order o (adding to its line when it is there
// already) and returns what the line adds, in cents.
func (b *builder) addLine(p *profile, o *customer.Order, k int) int64 {
	g := b.g
	it, pr := catalogue[k], b.d.Products[k]
	var q int
	if p.org {
		q = max(1, int(math.Round(g.lognormal(math.Log(p.qty), 0.45))))
		if it.Price >= 1000 {
			q = max(1, q/4)
		}
	} else {
		q = 1 + g.poisson(0.35*p.qty)
		if it.Price >= 1000 {
			q = 1 + g.IntN(2)
		}
	}
	price, cost := int64(math.Round(it.Price*100)), int64(math.Round(pr.UnitCost*100))
	name := it.Zh
	if p.abroad {
		price = int64(math.Round(it.Price/usdRate))*100 - 1
		cost = int64(math.Round(pr.UnitCost / usdRate * 100))
		name = it.En
	}
	if j := slices.IndexFunc(o.Items, func(x customer.OrderItem) bool { return x.ProductID == pr.ID }); j >= 0 {
		o.Items[j].Quantity += float64(q)
	} else {
		o.Items = append(o.Items, customer.OrderItem{
			ProductID: pr.ID, SKU: pr.SKU, Name: name, Category: pr.Category,
			Price: float64(price) / 100, Quantity: float64(q), UnitCost: float64(cost) / 100,
		})
	}
	if !slices.Contains(p.bought, k) {
		p.bought = append(p.bought, k)
	}
	return price * int64(q)
}

// keepItems copies an order's lines out of the scratch buffer into a
// shared arena, so 50,000 orders make a few dozen allocations, not 50,000.
func (b *builder) keepItems(items []customer.OrderItem) []customer.OrderItem {
	if len(items) == 0 {
		return nil
	}
	if len(b.arena)+len(items) > cap(b.arena) {
		b.arena = make([]customer.OrderItem, 0, 4096)
	}
	start := len(b.arena)
	b.arena = append(b.arena, items...)
	return b.arena[start:len(b.arena):len(b.arena)]
}

// externalID is the shop system's order number: channel prefix, date
// (YYMMDD) and a running number, as in "TM240308000123".
func externalID(prefix string, at time.Time, seq int) string {
	y, m, d := at.Date()
	buf := make([]byte, 0, len(prefix)+12)
	buf = append(buf, prefix...)
	for _, v := range []int{y % 100, int(m), d} {
		buf = append(buf, byte('0'+v/10), byte('0'+v%10))
	}
	for n := 100000; n > 1 && seq < n; n /= 10 {
		buf = append(buf, '0') // zero-pad to six digits
	}
	return string(strconv.AppendInt(buf, int64(seq), 10))
}

// orderPrefix starts the order numbers of each channel.
var orderPrefix = map[string]string{"tmall": "TM", "jd": "JD", "wechat": "WX", "store": "POS", "web": "WEB", "wholesale": "PO", "sales": "SO"}

// product picks what goes on an order line: mostly the customer's
// favourite categories, dearer items for customers with a taste for them,
// seasonal gift boxes only in season. It returns -1 when nothing fits.
func (b *builder) product(p *profile, m time.Month) int {
	g := b.g
	for range 4 {
		cat := g.IntN(len(categories))
		if len(p.favs) > 0 && g.chance(0.75) {
			cat = one(g, p.favs)
		}
		k := productsByCategory[cat][tasteTables[p.taste][cat].pick(g)]
		if catalogue[k].inSeason(m) {
			return k
		}
	}
	return -1
}

// productsByCategory lists catalogue indexes by category.
var productsByCategory = func() [][]int {
	out := make([][]int, len(categories))
	for i, it := range catalogue {
		out[it.Category] = append(out[it.Category], i)
	}
	return out
}()

// tasteTables[t][c] chooses a product of category c with weight
// price^(t/10 − 1): from a strong lean to cheap items (t = 0) to a lean to
// dear ones (t = 17).
var tasteTables = func() [][]table {
	out := make([][]table, 18)
	for t := range out {
		exp := float64(t)/10 - 1
		for _, ks := range productsByCategory {
			w := make([]float64, len(ks))
			for i, k := range ks {
				w[i] = math.Pow(catalogue[k].Price, exp)
			}
			out[t] = append(out[t], newTable(w))
		}
	}
	return out
}()
