package segment

import (
	"strings"
	"time"

	"github.com/rapportcrm/rapport/internal/customer"
)

// Facts is what the in-memory matcher knows about one customer: the
// record with its stats and scores, and the behaviour a set of rules needs
// (see Needs).
type Facts struct {
	Customer *customer.Customer
	// Orders are completed orders, at least those inside the look-back the
	// rules need.
	Orders []Order
	// Events are events of the names the rules need, at least those inside
	// their look-back.
	Events []Event
}

// Order is one completed order.
type Order struct {
	At         time.Time
	Total      float64
	Categories []string
}

// Event is one tracked event.
type Event struct {
	Name string
	At   time.Time
}

// Match reports whether the customer described by f is in the segment at
// time now. Deleted customers are in no segment.
func (r *Rule) Match(f *Facts, now time.Time) bool {
	if f.Customer == nil || f.Customer.DeletedAt != nil {
		return false
	}
	return r.pred(f, now)
}

type pred func(f *Facts, now time.Time) bool

// cutoff is the start of a look-back window of days ending at now; the SQL
// compiler uses the same instant.
func cutoff(now time.Time, days int) time.Time {
	return now.Add(-time.Duration(days) * 24 * time.Hour)
}

func compilePred(e expr) pred {
	switch x := e.(type) {
	case andExpr:
		ps := make([]pred, len(x))
		for i, a := range x {
			ps[i] = compilePred(a)
		}
		return func(f *Facts, now time.Time) bool {
			for _, p := range ps {
				if !p(f, now) {
					return false
				}
			}
			return true
		}
	case orExpr:
		ps := make([]pred, len(x))
		for i, a := range x {
			ps[i] = compilePred(a)
		}
		return func(f *Facts, now time.Time) bool {
			for _, p := range ps {
				if p(f, now) {
					return true
				}
			}
			return false
		}
	case notExpr:
		p := compilePred(x.x)
		return func(f *Facts, now time.Time) bool { return !p(f, now) }
	case didExpr:
		return func(f *Facts, now time.Time) bool {
			var since time.Time
			if x.days > 0 {
				since = cutoff(now, x.days)
			}
			n := 0
			for _, ev := range f.Events {
				if ev.Name == x.event && (x.days == 0 || !ev.At.Before(since)) {
					n++
					if n >= x.atLeast {
						return true
					}
				}
			}
			return false
		}
	case orderedExpr:
		return func(f *Facts, now time.Time) bool {
			var since time.Time
			if x.days > 0 {
				since = cutoff(now, x.days)
			}
			for _, o := range f.Orders {
				if x.days > 0 && o.At.Before(since) {
					continue
				}
				for _, c := range o.Categories {
					if c == x.category {
						return true
					}
				}
			}
			return false
		}
	case seenExpr:
		return func(f *Facts, now time.Time) bool {
			ls := f.Customer.Stats.LastSeen
			return ls != nil && !ls.Before(cutoff(now, x.days))
		}
	case cmpExpr:
		return compileCompare(x)
	}
	return func(*Facts, time.Time) bool { return false }
}

func compileCompare(x cmpExpr) pred {
	f := x.f
	switch f.src {
	case Tag:
		return multiPred(x, func(fc *Facts, yield func(string) bool) bool {
			for _, t := range fc.Customer.Tags {
				if yield(t) {
					return true
				}
			}
			return false
		})
	case Identity:
		return multiPred(x, func(fc *Facts, yield func(string) bool) bool {
			for _, id := range fc.Customer.Identities {
				if id.Type == f.key && yield(id.Value) {
					return true
				}
			}
			return false
		})
	}
	switch f.typ {
	case Number:
		get := numberOf(f)
		return func(fc *Facts, now time.Time) bool {
			v, ok := get(fc, now)
			if x.op == "null" {
				return !ok
			}
			return ok && compareNumber(v, x.op, x.vals)
		}
	case Time:
		get := timeOf(f)
		return func(fc *Facts, now time.Time) bool {
			v, ok := get(fc)
			if x.op == "null" {
				return !ok
			}
			return ok && compareTime(v, x.op, x.vals)
		}
	case Bool:
		return func(fc *Facts, now time.Time) bool {
			v, ok := fc.Customer.Attributes[f.key].(bool)
			if x.op == "null" {
				return !ok
			}
			return ok && v == x.vals[0].b
		}
	}
	get := textOf(f)
	return func(fc *Facts, now time.Time) bool {
		v, ok := get(fc)
		if x.op == "null" {
			return !ok
		}
		return ok && compareText(v, x.op, x.vals)
	}
}

// multiPred tests a field with several values (tags, identities): a
// comparison holds when it holds for any value; "is null" when there is none.
func multiPred(x cmpExpr, each func(f *Facts, yield func(string) bool) bool) pred {
	if x.op == "null" {
		return func(f *Facts, _ time.Time) bool { return !each(f, func(string) bool { return true }) }
	}
	return func(f *Facts, _ time.Time) bool {
		return each(f, func(v string) bool { return compareText(v, x.op, x.vals) })
	}
}

func compareText(v, op string, vals []lit) bool {
	switch op {
	case "=":
		return v == vals[0].s
	case "in":
		for _, l := range vals {
			if v == l.s {
				return true
			}
		}
		return false
	case "contains":
		return strings.Contains(v, vals[0].s)
	case "starts_with":
		return strings.HasPrefix(v, vals[0].s)
	case "ends_with":
		return strings.HasSuffix(v, vals[0].s)
	case "<":
		return v < vals[0].s
	case "<=":
		return v <= vals[0].s
	case ">":
		return v > vals[0].s
	case ">=":
		return v >= vals[0].s
	}
	return false
}

func compareNumber(v float64, op string, vals []lit) bool {
	switch op {
	case "=":
		return v == vals[0].n
	case "in":
		for _, l := range vals {
			if v == l.n {
				return true
			}
		}
		return false
	case "<":
		return v < vals[0].n
	case "<=":
		return v <= vals[0].n
	case ">":
		return v > vals[0].n
	case ">=":
		return v >= vals[0].n
	}
	return false
}

func compareTime(v time.Time, op string, vals []lit) bool {
	switch op {
	case "=":
		return v.Equal(vals[0].t)
	case "in":
		for _, l := range vals {
			if v.Equal(l.t) {
				return true
			}
		}
		return false
	case "<":
		return v.Before(vals[0].t)
	case "<=":
		return !v.After(vals[0].t)
	case ">":
		return v.After(vals[0].t)
	case ">=":
		return !v.Before(vals[0].t)
	}
	return false
}

func textOf(f fieldDef) func(*Facts) (string, bool) {
	switch f.src {
	case Builtin:
		switch f.key {
		case "kind":
			return func(fc *Facts) (string, bool) { return string(fc.Customer.Kind), true }
		case "name":
			return func(fc *Facts) (string, bool) { return fc.Customer.Name, true }
		case "owner_id":
			return func(fc *Facts) (string, bool) { return fc.Customer.OwnerID, fc.Customer.OwnerID != "" }
		}
	case Score:
		switch f.key {
		case "tier":
			return func(fc *Facts) (string, bool) {
				if fc.Customer.Scores == nil || fc.Customer.Scores.Tier == "" {
					return "", false
				}
				return fc.Customer.Scores.Tier, true
			}
		case "rfm_segment":
			return func(fc *Facts) (string, bool) {
				if fc.Customer.Scores == nil || fc.Customer.Scores.RFMSegment == "" {
					return "", false
				}
				return fc.Customer.Scores.RFMSegment, true
			}
		}
	case Attribute: // text, enum and date attributes are strings
		return func(fc *Facts) (string, bool) {
			s, ok := fc.Customer.Attributes[f.key].(string)
			return s, ok
		}
	}
	return func(*Facts) (string, bool) { return "", false }
}

func numberOf(f fieldDef) func(*Facts, time.Time) (float64, bool) {
	switch f.src {
	case Attribute:
		return func(fc *Facts, _ time.Time) (float64, bool) {
			v, ok := fc.Customer.Attributes[f.key].(float64)
			return v, ok
		}
	case Stat:
		switch f.key {
		case "orders":
			return func(fc *Facts, _ time.Time) (float64, bool) { return float64(fc.Customer.Stats.Orders), true }
		case "revenue":
			return func(fc *Facts, _ time.Time) (float64, bool) { return fc.Customer.Stats.Revenue, true }
		case "interactions":
			return func(fc *Facts, _ time.Time) (float64, bool) { return float64(fc.Customer.Stats.Interactions), true }
		}
	case Score:
		pick := map[string]func(s *customer.Scores) (float64, bool){
			"r":          func(s *customer.Scores) (float64, bool) { return float64(s.R), true },
			"f":          func(s *customer.Scores) (float64, bool) { return float64(s.F), true },
			"m":          func(s *customer.Scores) (float64, bool) { return float64(s.M), true },
			"clv":        func(s *customer.Scores) (float64, bool) { return deref(s.CLV) },
			"p_alive":    func(s *customer.Scores) (float64, bool) { return deref(s.PAlive) },
			"churn_risk": func(s *customer.Scores) (float64, bool) { return deref(s.ChurnRisk) },
		}[f.key]
		if pick == nil {
			break
		}
		return func(fc *Facts, _ time.Time) (float64, bool) {
			if fc.Customer.Scores == nil {
				return 0, false
			}
			return pick(fc.Customer.Scores)
		}
	case Window:
		sum := f.agg == "sum"
		return func(fc *Facts, now time.Time) (float64, bool) {
			since := cutoff(now, f.days)
			total := 0.0
			for _, o := range fc.Orders {
				if !o.At.Before(since) {
					if sum {
						total += o.Total
					} else {
						total++
					}
				}
			}
			return total, true
		}
	}
	return func(*Facts, time.Time) (float64, bool) { return 0, false }
}

func deref(p *float64) (float64, bool) {
	if p == nil {
		return 0, false
	}
	return *p, true
}

func timeOf(f fieldDef) func(*Facts) (time.Time, bool) {
	ptr := func(get func(c *customer.Customer) *time.Time) func(*Facts) (time.Time, bool) {
		return func(fc *Facts) (time.Time, bool) {
			if t := get(fc.Customer); t != nil {
				return *t, true
			}
			return time.Time{}, false
		}
	}
	switch f.key {
	case "created_at":
		return func(fc *Facts) (time.Time, bool) { return fc.Customer.CreatedAt, true }
	case "first_seen":
		return ptr(func(c *customer.Customer) *time.Time { return c.Stats.FirstSeen })
	case "last_seen":
		return ptr(func(c *customer.Customer) *time.Time { return c.Stats.LastSeen })
	case "first_order_at":
		return ptr(func(c *customer.Customer) *time.Time { return c.Stats.FirstOrderAt })
	case "last_order_at":
		return ptr(func(c *customer.Customer) *time.Time { return c.Stats.LastOrderAt })
	case "expected_next_purchase":
		return ptr(func(c *customer.Customer) *time.Time {
			if c.Scores == nil {
				return nil
			}
			return c.Scores.ExpectedNextPurchase
		})
	}
	return func(*Facts) (time.Time, bool) { return time.Time{}, false }
}
