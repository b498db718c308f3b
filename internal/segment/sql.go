package segment

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Dialect names the SQL engine a condition is compiled for; the values
// match store.Dialect.
type Dialect string

// The SQL dialects.
const (
	SQLite   Dialect = "sqlite"
	Postgres Dialect = "postgres"
)

// SQL is a rule compiled to a WHERE condition over the aliases
// c (customers), st (customer_stats) and sc (customer_scores). Every value
// from the rule is in Args, bound to $N placeholders; the text holds only
// the compiler's own SQL. Time values are time.Time (the store formats
// them for its engine).
type SQL struct {
	Where string
	Args  []any
	// Stats and Scores say whether st and sc must be joined.
	Stats, Scores bool
}

// OrderCompleted is the order status behaviour clauses count.
const OrderCompleted = "completed"

// SQL compiles r for dialect d with look-back windows ending at now; the
// first placeholder is $start.
func (r *Rule) SQL(d Dialect, now time.Time, start int, events *EventSchema) (SQL, error) {
	c := &sqlCompiler{d: d, now: now, n: start - 1, events: events}
	where := c.expr(r.root, false)
	if c.err != nil {
		return SQL{}, c.err
	}
	return SQL{Where: where, Args: c.args, Stats: c.stats, Scores: c.scores}, nil
}

type sqlCompiler struct {
	d             Dialect
	now           time.Time
	n             int
	args          []any
	stats, scores bool
	events        *EventSchema
	err           error
}

func (c *sqlCompiler) arg(v any) string {
	c.args = append(c.args, v)
	c.n++
	return "$" + strconv.Itoa(c.n)
}

// num binds a number; PostgreSQL needs its type spelled out because the
// column it meets may be an integer.
func (c *sqlCompiler) num(v float64) string {
	p := c.arg(v)
	if c.d == Postgres {
		return "CAST(" + p + " AS DOUBLE PRECISION)"
	}
	return p
}

// text binds a string that appears where PostgreSQL cannot infer its type.
func (c *sqlCompiler) text(v string) string {
	p := c.arg(v)
	if c.d == Postgres {
		return "CAST(" + p + " AS TEXT)"
	}
	return p
}

// expr compiles e; negated pushes a NOT down to the atoms (negation normal
// form) so that every atom can be made two-valued: a missing value makes a
// comparison false and its negation true, exactly as the matcher does.
func (c *sqlCompiler) expr(e expr, negated bool) string {
	s, _ := c.costed(e, negated)
	return s
}

// costed compiles e and estimates its cost per row: 0 a column test, 1 a
// JSON attribute, 2 an indexed EXISTS on tags or identities, 3 a subquery
// over orders or events. The terms of an and/or are emitted cheapest
// first, because SQLite evaluates them in the order written and stops at
// the first that decides: a cheap test that rejects most rows spares the
// subqueries.
func (c *sqlCompiler) costed(e expr, negated bool) (string, int) {
	switch x := e.(type) {
	case andExpr, orExpr:
		var parts []expr
		isAnd := false
		if a, ok := x.(andExpr); ok {
			parts, isAnd = a, true
		} else {
			parts = x.(orExpr)
		}
		if negated {
			isAnd = !isAnd
		}
		type term struct {
			sql  string
			cost int
		}
		terms := make([]term, len(parts))
		most := 0
		for i, p := range parts {
			terms[i].sql, terms[i].cost = c.costed(p, negated)
			most = max(most, terms[i].cost)
		}
		slices.SortStableFunc(terms, func(a, b term) int { return a.cost - b.cost })
		out := make([]string, len(terms))
		for i, t := range terms {
			out[i] = t.sql
		}
		op := " OR "
		if isAnd {
			op = " AND "
		}
		return "(" + strings.Join(out, op) + ")", most
	case notExpr:
		return c.costed(x.x, !negated)
	}
	atom, exists := c.atom(e)
	cost := atomCost(e)
	if !negated {
		return atom, cost
	}
	if exists {
		return "NOT " + atom, cost
	}
	return "NOT COALESCE(" + atom + ", FALSE)", cost
}

func atomCost(e expr) int {
	switch x := e.(type) {
	case didExpr, orderedExpr:
		return 3
	case cmpExpr:
		switch x.f.src {
		case Window:
			return 3
		case Tag, Identity:
			return 2
		case Attribute:
			return 1
		}
	}
	return 0
}

var identifier = regexp.MustCompile(`^[a-z_][a-z0-9_]{0,62}$`)

// atom compiles a comparison or behaviour clause; exists reports that the
// result is an EXISTS test, which is never NULL.
func (c *sqlCompiler) atom(e expr) (sql string, exists bool) {
	switch x := e.(type) {
	case didExpr:
		ev := c.events
		if ev == nil || !identifier.MatchString(ev.Table) || !identifier.MatchString(ev.CustomerColumn) ||
			!identifier.MatchString(ev.NameColumn) || !identifier.MatchString(ev.TimeColumn) {
			c.err = fmt.Errorf("segment: compile: no usable events table for 'did'")
			return "FALSE", true
		}
		from := fmt.Sprintf("FROM %s e WHERE e.%s = c.id AND e.%s = %s", ev.Table, ev.CustomerColumn, ev.NameColumn, c.arg(x.event))
		if x.days > 0 {
			from += fmt.Sprintf(" AND e.%s >= %s", ev.TimeColumn, c.arg(cutoff(c.now, x.days)))
		}
		if x.atLeast <= 1 {
			return "EXISTS (SELECT 1 " + from + ")", true
		}
		return "((SELECT count(*) " + from + ") >= " + c.num(float64(x.atLeast)) + ")", false
	case orderedExpr:
		s := "EXISTS (SELECT 1 FROM order_items oi JOIN orders o ON o.id = oi.order_id WHERE oi.customer_id = c.id AND oi.category = " +
			c.arg(x.category) + " AND o.status = " + c.arg(OrderCompleted)
		if x.days > 0 {
			s += " AND o.placed_at >= " + c.arg(cutoff(c.now, x.days))
		}
		return s + ")", true
	case seenExpr:
		c.stats = true
		return "st.last_seen >= " + c.arg(cutoff(c.now, x.days)), false
	case cmpExpr:
		return c.compare(x)
	}
	c.err = fmt.Errorf("segment: compile: unexpected %T", e)
	return "FALSE", true
}

func (c *sqlCompiler) compare(x cmpExpr) (string, bool) {
	f := x.f
	switch f.src {
	case Tag:
		if x.op == "null" {
			return "NOT EXISTS (SELECT 1 FROM customer_tags t WHERE t.customer_seq = c.seq)", true
		}
		return "EXISTS (SELECT 1 FROM customer_tags t WHERE t.customer_seq = c.seq AND " + c.test("t.tag", x) + ")", true
	case Identity:
		base := "SELECT 1 FROM identities i WHERE i.customer_id = c.id AND i.type = " + c.arg(f.key)
		if x.op == "null" {
			return "NOT EXISTS (" + base + ")", true
		}
		return "EXISTS (" + base + " AND " + c.test("i.value", x) + ")", true
	case Window:
		from := "FROM orders o WHERE o.customer_id = c.id AND o.status = " + c.arg(OrderCompleted) +
			" AND o.placed_at >= " + c.arg(cutoff(c.now, f.days))
		if f.agg == "count" && len(x.vals) == 1 {
			// Existence is cheaper than counting: = 0, < 1, <= 0 mean none;
			// > 0, >= 1 mean some.
			v := x.vals[0].n
			switch {
			case (x.op == "=" && v == 0) || (x.op == "<" && v == 1) || (x.op == "<=" && v == 0):
				return "NOT EXISTS (SELECT 1 " + from + ")", true
			case (x.op == ">" && v == 0) || (x.op == ">=" && v == 1):
				return "EXISTS (SELECT 1 " + from + ")", true
			}
		}
		value := "(SELECT count(*) " + from + ")"
		if f.agg == "sum" {
			value = "(SELECT COALESCE(sum(o.total), 0) " + from + ")"
		}
		return c.test(value, x), false
	}
	if f.src == Stat && f.typ == Number && x.op != "null" && !compareNumber(0, x.op, x.vals) {
		// A customer without stats reads 0, which fails this test just as
		// NULL does: compare the bare column, which lets the engine turn
		// the outer join into an inner one.
		c.stats = true
		return c.test("st."+f.key, x), false
	}
	return c.test(c.column(f), x), false
}

// column is the SQL expression for a single-valued field.
func (c *sqlCompiler) column(f fieldDef) string {
	switch f.src {
	case Builtin:
		return "c." + f.key
	case Stat:
		c.stats = true
		switch f.key {
		case "orders", "revenue", "interactions":
			return "COALESCE(st." + f.key + ", 0)"
		}
		return "st." + f.key
	case Score:
		c.scores = true
		return "sc." + f.key
	case Attribute:
		if c.d == Postgres {
			switch f.typ {
			case Number:
				k := c.arg(f.key)
				return "(CASE WHEN jsonb_typeof(c.attributes -> " + k + ") = 'number' THEN CAST(c.attributes ->> " + k + " AS DOUBLE PRECISION) END)"
			}
			return "(c.attributes ->> " + c.text(f.key) + ")"
		}
		return "json_extract(c.attributes, " + c.arg(`$."`+f.key+`"`) + ")"
	}
	c.err = fmt.Errorf("segment: compile: field %s has no column", f.key)
	return "NULL"
}

// test compiles "v op values" for a field.
func (c *sqlCompiler) test(v string, x cmpExpr) string {
	f := x.f
	bind := func(l lit) string {
		switch f.typ {
		case Number:
			return c.num(l.n)
		case Time:
			return c.arg(l.t)
		case Bool:
			if c.d == Postgres {
				return c.arg(strconv.FormatBool(l.b))
			}
			if l.b {
				return c.arg(int64(1))
			}
			return c.arg(int64(0))
		}
		return c.arg(l.s)
	}
	switch x.op {
	case "null":
		if f.src == Score && f.typ == Text {
			return "COALESCE(" + v + ", '') = ''" // a score not computed is stored as ''
		}
		if f.src == Builtin && f.key == "owner_id" {
			return "COALESCE(" + v + ", '') = ''"
		}
		return v + " IS NULL"
	case "in":
		ps := make([]string, len(x.vals))
		for i, l := range x.vals {
			ps[i] = bind(l)
		}
		return v + " IN (" + strings.Join(ps, ", ") + ")"
	case "contains":
		if c.d == Postgres {
			return "strpos(" + v + ", " + c.text(x.vals[0].s) + ") > 0"
		}
		return "instr(" + v + ", " + c.arg(x.vals[0].s) + ") > 0"
	case "starts_with":
		p := c.text(x.vals[0].s)
		if c.d == Postgres {
			return "left(" + v + ", length(" + p + ")) = " + p
		}
		return "substr(" + v + ", 1, length(" + p + ")) = " + p
	case "ends_with":
		p := c.text(x.vals[0].s)
		if c.d == Postgres {
			return "right(" + v + ", length(" + p + ")) = " + p
		}
		return "substr(" + v + ", -length(" + p + ")) = " + p
	}
	return v + " " + x.op + " " + bind(x.vals[0])
}
