package demo

import (
	"math"
	"slices"
	"strings"

	"github.com/rapportcrm/rapport/internal/customer"
)

// engage adds interactions and notes: more for valuable customers, a
// service contact for every refund.
func (b *builder) engage(p *profile) {
	g := b.g
	n := len(p.orders)
	end := float64(Days)
	if n > 0 {
		end = min(end, b.d.Orders[p.orders[n-1]].PlacedAt.Sub(b.start).Hours()/24+120)
	} else {
		end = min(end, p.born+120)
	}
	var count int
	var kinds []string
	var kw []float64
	switch {
	case p.org:
		count = g.poisson(3 + 2*math.Log1p(float64(n)))
		kinds, kw = []string{"meeting", "visit", "call", "email", "message", "service"}, []float64{22, 18, 25, 22, 8, 5}
	case p.abroad:
		count = g.poisson(0.3 + 0.5*math.Log1p(float64(n)))
		kinds, kw = []string{"email", "call", "message", "service"}, []float64{45, 15, 25, 15}
	default:
		count = g.poisson(0.5 + 0.75*math.Log1p(float64(n)))
		kinds, kw = []string{"message", "call", "email", "visit", "service", "meeting"}, []float64{30, 28, 10, 12, 15, 5}
	}
	for range count {
		kind := pickOf(g, kinds, kw...)
		t := b.clock(g.between(p.born, end), p.home)
		if t < p.born {
			t = p.born + g.between(0.001, 0.05)
		}
		if t >= Days {
			continue
		}
		uid := b.user()
		if kind != "service" && p.c.OwnerID != "" && g.chance(0.8) {
			uid = p.c.OwnerID
		}
		b.interaction(p, t, kind, b.text(p, pickSummary(g, p.zh, kind)), uid)
	}
	for _, k := range p.orders {
		o := b.d.Orders[k]
		if o.Status != customer.OrderRefunded {
			continue
		}
		t := o.PlacedAt.Sub(b.start).Hours()/24 + g.between(1, 10)
		if t >= Days {
			continue
		}
		tmpl := refundSummaryEn
		if p.zh {
			tmpl = refundSummaryZh
		}
		it := catalogue[slices.IndexFunc(b.d.Products, func(x Product) bool { return x.ID == o.Items[0].ProductID })]
		name := it.En
		if p.zh {
			name = it.Zh
		}
		b.interaction(p, t, "service", strings.ReplaceAll(tmpl, "{p}", name), b.user())
	}
	if g.chance(0.2) {
		for range pickOf(g, []int{1, 2, 3}, 70, 22, 8) {
			t := b.clock(g.between(p.born, Days), p.home)
			if t < p.born || t >= Days {
				continue
			}
			tmpls := notesEn
			if p.zh {
				tmpls = notesZh
			}
			if p.org && g.chance(0.6) {
				tmpls = orgNotesEn
				if p.zh {
					tmpls = orgNotesZh
				}
			}
			author := p.c.OwnerID
			if author == "" || g.chance(0.3) {
				author = b.user()
			}
			at := b.when(t)
			b.d.Notes = append(b.d.Notes, customer.Note{ID: g.id(at), CustomerID: p.c.ID, AuthorID: author, Body: b.text(p, one(g, tmpls)), CreatedAt: at})
		}
	}
}

func pickSummary(g gen, zh bool, kind string) string {
	if zh {
		return one(g, summariesZh[kind])
	}
	return one(g, summariesEn[kind])
}

func (b *builder) interaction(p *profile, t float64, kind, summary, uid string) {
	at := b.when(t)
	b.d.Interactions = append(b.d.Interactions, customer.Interaction{
		ID: b.g.id(at), CustomerID: p.c.ID, UserID: uid, Kind: kind, At: at, Summary: summary, CreatedAt: at,
	})
}

// text fills a template with a product the customer bought, or one from a
// favourite category.
func (b *builder) text(p *profile, tmpl string) string {
	if !strings.Contains(tmpl, "{") {
		return tmpl
	}
	var k int
	switch {
	case len(p.bought) > 0:
		k = one(b.g, p.bought)
	case len(p.favs) > 0:
		k = one(b.g, productsByCategory[one(b.g, p.favs)])
	default:
		k = b.g.IntN(len(catalogue))
	}
	it, c := catalogue[k], categories[catalogue[k].Category]
	if p.zh {
		return fill(tmpl, it.Zh, c.Zh)
	}
	return fill(tmpl, it.En, strings.ToLower(c.En))
}

// fill puts a product and a category into a template.
func fill(tmpl, product, category string) string {
	return strings.ReplaceAll(strings.ReplaceAll(tmpl, "{p}", product), "{c}", category)
}
