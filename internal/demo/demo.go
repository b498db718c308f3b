// Package demo generates Rapport's demonstration data: a shop selling tea,
// coffee, snacks, drinks, personal care, home goods, electronics and gift
// boxes to about 6,000 Chinese and English-speaking people and companies
// over 800 days. The data is shaped like a real business (a few customers
// bring most of the revenue, many buy once, some lapse, some are new) so
// that segments, RFM, lifetime value, churn and the dashboards have
// something true to show.
//
// Generation is deterministic: the same Options give the same Dataset, down
// to every id and timestamp. The package only builds data in memory; it
// must not read the clock, the network or a database.
package demo

import (
	"cmp"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"time"

	"github.com/rapportcrm/rapport/internal/customer"
)

// Days is the length of the generated history: orders, interactions and
// notes fall in the Days days before Options.Now.
const Days = 800

// DefaultCustomers is the number of customers generated when
// Options.Customers is zero.
const DefaultCustomers = 6000

// Options say what to generate.
type Options struct {
	Seed      int64     // the same seed gives the same dataset
	Customers int       // how many customers; DefaultCustomers when ≤ 0
	Now       time.Time // the end of the history, usually today at 00:00; a fixed date when zero
	Users     []string  // user ids to own customers and write interactions and notes; may be empty
}

// Dataset is the generated data. Customers come ordered by CreatedAt,
// orders by PlacedAt, interactions by At and notes by CreatedAt; every
// record has a UUIDv7 id whose time is the record's own time.
type Dataset struct {
	Customers    []customer.Customer
	Orders       []customer.Order
	Interactions []customer.Interaction
	Notes        []customer.Note
	Products     []Product
	Fields       []customer.Field
	// Raw lists every email and phone identity the way the customer wrote
	// it ("138 0013 8000", "ZhangWei88@QQ.com"). Customers' Identities hold
	// the normalized values, ready to store; Raw is there to show (and to
	// test) that normalization at the door turns one into the other.
	Raw []RawIdentity
}

// RawIdentity is one identity as written, beside its normalized value.
type RawIdentity struct {
	CustomerID string `json:"customer_id"`
	Type       string `json:"type"`
	Raw        string `json:"raw"`
	Value      string `json:"value"`
}

// defaultNow is the end of the history when Options.Now is zero, so that a
// zero Options is deterministic too.
var defaultNow = time.Date(2026, time.January, 1, 0, 0, 0, 0, time.UTC)

// Generate builds the dataset for opts.
func Generate(opts Options) *Dataset {
	n := opts.Customers
	if n <= 0 {
		n = DefaultCustomers
	}
	now := opts.Now.UTC()
	if opts.Now.IsZero() {
		now = defaultNow
	}
	b := &builder{
		g:     gen{rand.New(rand.NewPCG(uint64(opts.Seed), 0x5261_7070_6f72_7421))}, // "Rapport!"
		now:   now,
		start: now.AddDate(0, 0, -Days),
		users: opts.Users,
		d: &Dataset{
			Orders:       make([]customer.Order, 0, n*9),
			Interactions: make([]customer.Interaction, 0, n*5/2),
			Notes:        make([]customer.Note, 0, n/3),
			Raw:          make([]RawIdentity, 0, n*3/2),
		},
		emails:  make(map[string]bool, n),
		phones:  make(map[string]bool, n),
		names:   map[string]bool{},
		domains: map[string]bool{},
	}
	if len(b.users) > 0 {
		w := make([]float64, len(b.users))
		for i := range w {
			w[i] = 1 / (1 + 0.25*float64(i)) // some reps carry more accounts than others
		}
		b.userTable = newTable(w)
	}
	b.products()
	b.fields()
	b.people(n)
	for i := range b.ps {
		b.contacts(&b.ps[i])
	}
	for i := range b.ps {
		b.buy(&b.ps[i])
	}
	for i := range b.ps {
		b.engage(&b.ps[i])
	}
	b.finish()
	return b.d
}

// builder holds the generator's state while a dataset is built.
type builder struct {
	g          gen
	now, start time.Time
	users      []string
	userTable  table
	d          *Dataset
	ps         []profile
	orderSeq   int
	scratch    []customer.OrderItem // the order being built
	arena      []customer.OrderItem // where finished orders' lines live
	erpSeq     int

	// uniqueness of what must be unique across customers
	emails, phones, names, domains map[string]bool
}

// profile is a customer while being built, with the hidden traits that
// drive their behaviour.
type profile struct {
	c      customer.Customer
	org    bool
	zh     bool // Chinese name, Chinese text
	home   city
	abroad bool    // lives outside China: pays in USD
	born   float64 // day the customer record was created, days since start
	gender int     // 0 male, 1 female (people)

	// names, for email addresses
	family, given, initials string // Chinese pinyin parts
	first, last             string // English
	domain                  string // organization's web domain
	line                    orgLine
	member                  int // index of the organization a person works for, or -1

	// buying behaviour
	channel  string
	channels []string
	chanW    []float64
	favs     []int
	taste    int // index into tasteTables: how strongly the customer leans to dearer items
	qty      float64

	orders     []int // indexes into d.Orders
	bought     []int // catalogue indexes
	revenue    float64
	lastBack   float64 // day of the latest refund, or -1
	backAmount float64 // amount of that refund
	hasEmail   bool
}

// when turns a day number (days since the start of the history, in UTC
// where a day is always 24 hours) into a time, to the second.
func (b *builder) when(t float64) time.Time {
	return b.start.Add(time.Duration(t*86400) * time.Second)
}

// utcOffset is the hours local time is ahead of UTC in a customer's country.
var utcOffset = map[string]float64{"CN": 8, "SG": 8, "GB": 0, "US": -5, "CA": -5, "AU": 10}

// localHours weights the local hour of day at which people buy and talk:
// office hours and the evening peak.
var localHours = newTable([]float64{
	0.2, 0.1, 0.05, 0.05, 0.05, 0.1, 0.3, 0.8, 1.5, 2.5, 3, 2.8, 2, 2.4, 2.6, 2.5, 2.3, 2, 2, 2.4, 3, 3.2, 2.5, 1,
})

// clock moves t (a day inside the history) to a plausible time of day on
// the same day in the customer's local time, keeping it inside the history.
func (b *builder) clock(t float64, home city) float64 {
	h := float64(localHours.pick(b.g)) + b.g.Float64() - utcOffset[home.Country]
	out := math.Floor(t) + h/24
	for out >= Days {
		out--
	}
	for out < 0 {
		out++
	}
	return out
}

// user picks a user id, or "" when there are no users.
func (b *builder) user() string {
	if len(b.users) == 0 {
		return ""
	}
	return b.users[b.userTable.pick(b.g)]
}

func (b *builder) products() {
	for i, it := range catalogue {
		c := categories[it.Category]
		cost := math.Round(it.Price*(1-c.Margin)*(0.9+0.2*b.g.Float64())*100) / 100
		b.d.Products = append(b.d.Products, Product{
			ID:         b.g.id(b.start),
			SKU:        fmt.Sprintf("%s-%03d", c.SKU, 1+slices.Index(productsByCategory[it.Category], i)),
			NameZh:     it.Zh,
			NameEn:     it.En,
			Category:   c.Zh + "/" + c.En,
			CategoryZh: c.Zh,
			CategoryEn: c.En,
			Price:      it.Price,
			UnitCost:   cost,
		})
	}
}

func (b *builder) fields() {
	b.d.Fields = []customer.Field{
		{Key: "city", Type: customer.FieldText, LabelEn: "City", LabelZh: "城市", CreatedAt: b.start},
		{Key: "industry", Type: customer.FieldEnum, LabelEn: "Industry", LabelZh: "行业", Options: slices.Clone(industries), CreatedAt: b.start},
		{Key: "birthday", Type: customer.FieldDate, LabelEn: "Birthday", LabelZh: "生日", CreatedAt: b.start},
		{Key: "vip", Type: customer.FieldBool, LabelEn: "VIP member", LabelZh: "VIP 会员", CreatedAt: b.start},
		{Key: "credit_limit", Type: customer.FieldNumber, LabelEn: "Credit limit", LabelZh: "信用额度", CreatedAt: b.start},
		{Key: "balance", Type: customer.FieldNumber, LabelEn: "Balance owed (negative: we owe them)", LabelZh: "欠款余额（负数为我方应付）", CreatedAt: b.start},
	}
}

// finish sets attributes, tags and stats, and puts every list in
// time order.
func (b *builder) finish() {
	g := b.g
	// The top 5% of buyers by revenue are VIP members.
	byRevenue := make([]int, 0, len(b.ps))
	for i := range b.ps {
		if b.ps[i].revenue > 0 {
			byRevenue = append(byRevenue, i)
		}
	}
	slices.SortStableFunc(byRevenue, func(x, y int) int { return cmp.Compare(b.ps[y].revenue, b.ps[x].revenue) })
	vip := make([]bool, len(b.ps))
	for _, i := range byRevenue[:len(byRevenue)/20] {
		vip[i] = true
	}
	for i := range b.ps {
		p := &b.ps[i]
		c := &p.c
		attrs := map[string]any{}
		if g.chance(0.97) {
			attrs["city"] = p.home.Name
		}
		if p.org {
			attrs["industry"] = industries[p.line.Industry]
		} else if g.chance(0.6) {
			y := b.now.Year() - 20 - g.IntN(46)
			attrs["birthday"] = time.Date(y, time.January, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, g.IntN(365)).Format(time.DateOnly)
		}
		if len(p.orders) > 0 {
			attrs["vip"] = vip[i]
		}
		var tags []string
		if p.org {
			tags = append(tags, "企业客户")
			if p.qty > 10 {
				tags = append(tags, "wholesale")
			}
			if len(p.orders) > 0 && g.chance(0.7) {
				limit := []float64{20000, 50000, 100000, 200000, 500000}[min(4, int(p.qty/4))]
				attrs["credit_limit"] = limit
				owed := 0.0
				for _, k := range p.orders {
					if o := b.d.Orders[k]; o.Status == customer.OrderCompleted && b.now.Sub(o.PlacedAt) < 45*24*time.Hour {
						owed += o.Total
					}
				}
				attrs["balance"] = math.Round(min(limit, owed*g.between(0.2, 1))*100) / 100
			}
		} else {
			switch {
			case p.lastBack >= Days-60 && g.chance(0.4):
				attrs["balance"] = -p.backAmount // a refund not yet paid out: we owe them
			case p.channel == "store" && len(p.orders) > 0 && g.chance(0.05):
				attrs["balance"] = float64(50 + g.IntN(750)) // on the slate at the corner shop
			}
			if g.chance(0.01) {
				tags = append(tags, "KOL")
			}
		}
		if p.channel == "store" {
			tags = append(tags, "线下门店")
		}
		if p.hasEmail && g.chance(0.35) {
			tags = append(tags, "newsletter")
		}
		if vip[i] {
			tags = append(tags, "vip")
		}
		if p.abroad {
			tags = append(tags, "overseas")
		}
		if p.lastBack >= Days-90 {
			tags = append(tags, "售后跟进")
		}
		if tags == nil {
			tags = []string{}
		}
		slices.Sort(tags)
		c.Attributes, c.Tags = attrs, tags
		if c.Identities == nil {
			c.Identities = []customer.Identity{}
		}
		if c.Memberships == nil {
			c.Memberships = []customer.Membership{}
		}
		c.UpdatedAt = c.CreatedAt
		if g.chance(0.5) {
			c.UpdatedAt = b.when(g.between(p.born, Days))
			if c.UpdatedAt.Before(c.CreatedAt) {
				c.UpdatedAt = c.CreatedAt
			}
			c.Version = 2 + int64(g.poisson(1))
		}
	}
	idx := make(map[string]int, len(b.ps))
	for i := range b.ps {
		idx[b.ps[i].c.ID] = i
	}
	b.stats(idx)
	b.d.Customers = make([]customer.Customer, len(b.ps))
	for i := range b.ps {
		b.d.Customers[i] = b.ps[i].c
	}
	b.d.Customers = sortByTime(b.d.Customers, func(c *customer.Customer) (time.Time, string) { return c.CreatedAt, c.ID })
	b.d.Orders = sortByTime(b.d.Orders, func(o *customer.Order) (time.Time, string) { return o.PlacedAt, o.ID })
	b.d.Interactions = sortByTime(b.d.Interactions, func(in *customer.Interaction) (time.Time, string) { return in.At, in.ID })
	b.d.Notes = sortByTime(b.d.Notes, func(n *customer.Note) (time.Time, string) { return n.CreatedAt, n.ID })
}

// stats fills each customer's Stats the way the store computes them from
// the log: completed orders only for orders and revenue; first and last
// seen over orders, interactions and notes.
func (b *builder) stats(idx map[string]int) {
	type span struct{ first, last time.Time }
	seen := make([]span, len(b.ps))
	bought := make([]span, len(b.ps))
	see := func(s *span, t time.Time) {
		if s.first.IsZero() || t.Before(s.first) {
			s.first = t
		}
		if t.After(s.last) {
			s.last = t
		}
	}
	for _, o := range b.d.Orders {
		if o.Status != customer.OrderCompleted {
			continue
		}
		i := idx[o.CustomerID]
		s := &b.ps[i].c.Stats
		s.Orders++
		s.Revenue += o.Total
		see(&bought[i], o.PlacedAt)
		see(&seen[i], o.PlacedAt)
	}
	for _, in := range b.d.Interactions {
		i := idx[in.CustomerID]
		b.ps[i].c.Stats.Interactions++
		see(&seen[i], in.At)
	}
	for _, n := range b.d.Notes {
		see(&seen[idx[n.CustomerID]], n.CreatedAt)
	}
	for i := range b.ps {
		s := &b.ps[i].c.Stats
		if !seen[i].first.IsZero() {
			s.FirstSeen, s.LastSeen = &seen[i].first, &seen[i].last
		}
		if !bought[i].first.IsZero() {
			s.FirstOrderAt, s.LastOrderAt = &bought[i].first, &bought[i].last
		}
	}
}

// sortByTime returns xs in time order, ties broken by id. A UUIDv7 made by
// gen.id carries the record's time, so ordering by id alone would give the
// same order; comparing integers first is faster.
func sortByTime[T any](xs []T, key func(*T) (time.Time, string)) []T {
	type k struct {
		ms int64
		id string
		i  int
	}
	keys := make([]k, len(xs))
	for i := range xs {
		t, id := key(&xs[i])
		keys[i] = k{t.UnixMilli(), id, i}
	}
	slices.SortFunc(keys, func(x, y k) int {
		if c := cmp.Compare(x.ms, y.ms); c != 0 {
			return c
		}
		return strings.Compare(x.id, y.id)
	})
	out := make([]T, len(xs))
	for j, k := range keys {
		out[j] = xs[k.i]
	}
	return out
}
