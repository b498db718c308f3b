package segment

import (
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/rapportcrm/rapport/internal/customer"
)

// Rule is a parsed and checked rule, ready to compile to SQL or to match
// customers in memory.
type Rule struct {
	Source string
	Node   Node
	root   expr
	needs  Needs
	pred   pred
}

// Needs says which behavioural facts matching a rule in memory requires.
type Needs struct {
	// OrderDays is the longest order look-back in days; AllOrders means
	// every order ever is needed. Categories asks for order lines'
	// categories.
	OrderDays  int
	AllOrders  bool
	Categories bool
	// Events maps an event name to its longest look-back in days (0: ever).
	Events map[string]int
}

// Merge widens n to cover o as well.
func (n *Needs) Merge(o Needs) {
	n.OrderDays = max(n.OrderDays, o.OrderDays)
	n.AllOrders = n.AllOrders || o.AllOrders
	n.Categories = n.Categories || o.Categories
	for e, d := range o.Events {
		if n.Events == nil {
			n.Events = map[string]int{}
		}
		cur, ok := n.Events[e]
		switch {
		case !ok:
			n.Events[e] = d
		case cur == 0 || d == 0:
			n.Events[e] = 0
		default:
			n.Events[e] = max(cur, d)
		}
	}
}

// Orders reports whether any order facts are needed.
func (n Needs) Orders() bool { return n.AllOrders || n.OrderDays > 0 }

// Needs returns the behavioural facts matching r in memory requires.
func (r *Rule) Needs() Needs { return r.needs }

// the checked tree, shared by the SQL compiler and the matcher.
type expr interface{}

type (
	andExpr []expr
	orExpr  []expr
	notExpr struct{ x expr }
	cmpExpr struct {
		f    fieldDef
		op   string
		vals []lit
	}
	didExpr struct {
		event         string
		atLeast, days int
	}
	orderedExpr struct {
		category string
		days     int
	}
	seenExpr struct{ days int }
)

// lit is a checked literal, converted to the field's type.
type lit struct {
	s string
	n float64
	b bool
	t time.Time
}

// Compile parses and checks a rule in one step.
func Compile(src string, cat Catalogue) (*Rule, error) {
	n, err := Parse(src)
	if err != nil {
		return nil, err
	}
	return Check(src, n, cat)
}

// Check resolves every field of a parsed rule against the catalogue and
// checks operators and values. It reports every problem it finds, in order.
func Check(src string, n Node, cat Catalogue) (*Rule, error) {
	c := &checker{cat: cat}
	root := c.node(n)
	if len(c.errs) > 0 {
		sort.SliceStable(c.errs, func(i, j int) bool { return c.errs[i].Pos.Offset < c.errs[j].Pos.Offset })
		return nil, c.errs
	}
	r := &Rule{Source: src, Node: n, root: root, needs: c.needs}
	r.pred = compilePred(root)
	return r, nil
}

type checker struct {
	cat   Catalogue
	errs  Errors
	needs Needs
}

func (c *checker) fail(p Position, en, zh string) { c.errs = append(c.errs, errAt(p, en, zh)) }

func (c *checker) node(n Node) expr {
	switch x := n.(type) {
	case *Logic:
		out := make([]expr, len(x.Args))
		for i, a := range x.Args {
			out[i] = c.node(a)
		}
		if x.Op == "and" {
			return andExpr(out)
		}
		return orExpr(out)
	case *Not:
		return notExpr{c.node(x.X)}
	case *Compare:
		return c.compare(x)
	case *Did:
		if c.cat.Events == nil {
			c.fail(x.At, "behaviour clauses with 'did' need the events table, which this workspace does not have yet",
				"'did' 行为条件需要事件表，本工作区尚无事件表")
			return nil
		}
		c.needs.Merge(Needs{Events: map[string]int{x.Event: x.Days}})
		return didExpr{event: x.Event, atLeast: x.AtLeast, days: x.Days}
	case *Ordered:
		if strings.TrimSpace(x.Category) == "" {
			c.fail(x.At, "the category is empty", "品类为空")
		}
		c.needs.Categories = true
		c.orderWindow(x.Days)
		return orderedExpr{category: x.Category, days: x.Days}
	case *Seen:
		return seenExpr{days: x.Days}
	}
	panic(fmt.Sprintf("segment: unknown node %T", n)) // the parser makes only the types above
}

func (c *checker) orderWindow(days int) {
	if days == 0 {
		c.needs.AllOrders = true
		return
	}
	c.needs.OrderDays = max(c.needs.OrderDays, days)
}

var typeZh = map[Type]string{Text: "文本", Number: "数字", Bool: "布尔", Time: "时间", Date: "日期"}

func (c *checker) compare(x *Compare) expr {
	f, ok := c.cat.lookup(x.Field)
	if !ok {
		en := fmt.Sprintf("unknown field %q", x.Field)
		zh := fmt.Sprintf("未知字段 %q", x.Field)
		if s := c.cat.suggest(x.Field); s != "" {
			en += fmt.Sprintf(" (did you mean %s?)", s)
			zh += fmt.Sprintf("（是否想写 %s？）", s)
		} else if !strings.Contains(x.Field, "_") || c.cat.Fields == nil {
			en += "; custom attributes must be declared under /api/v1/fields first"
			zh += "；自定义属性须先在 /api/v1/fields 中声明"
		}
		c.fail(x.At, en, zh)
		return nil
	}
	if f.src == Window {
		c.orderWindow(f.days)
	}
	if !slices.Contains(opsFor(f.typ), x.Op) && x.Op != "null" {
		c.fail(x.OpAt, fmt.Sprintf("operator %s does not apply to %s, a %s field (use %s)", x.Op, x.Field, f.typ, strings.Join(opsFor(f.typ), ", ")),
			fmt.Sprintf("运算符 %s 不适用于%s字段 %s（可用 %s）", x.Op, typeZh[f.typ], x.Field, strings.Join(opsFor(f.typ), "、")))
		return nil
	}
	out := cmpExpr{f: f, op: x.Op}
	for _, v := range x.Values {
		l, ok := c.literal(x, f, v)
		if ok {
			out.vals = append(out.vals, l)
		}
	}
	return out
}

var datePattern = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}$`)

// literal converts v to f's type, or records why it cannot be.
func (c *checker) literal(x *Compare, f fieldDef, v Value) (lit, bool) {
	wrong := func(want, wantZh string) (lit, bool) {
		c.fail(v.At, fmt.Sprintf("%s is a %s field; expected %s, found %s", x.Field, f.typ, want, v.String()),
			fmt.Sprintf("%s 是%s字段；此处应为%s，却是 %s", x.Field, typeZh[f.typ], wantZh, v.String()))
		return lit{}, false
	}
	switch f.typ {
	case Number:
		if v.Kind != NumberValue {
			return wrong("a number", "数字")
		}
		return lit{n: v.Num}, true
	case Bool:
		if v.Kind != BoolValue {
			return wrong("true or false", "true 或 false")
		}
		return lit{b: v.Bool}, true
	case Time:
		if v.Kind != StringValue {
			return wrong(`a date in quotes such as "2024-05-01"`, `带引号的日期，如 "2024-05-01"`)
		}
		t, ok := parseTime(v.Str)
		if !ok {
			c.fail(v.At, fmt.Sprintf("%q is not a date (YYYY-MM-DD) or an RFC 3339 time", v.Str),
				fmt.Sprintf("%q 不是日期（YYYY-MM-DD）或 RFC 3339 时间", v.Str))
			return lit{}, false
		}
		return lit{t: t}, true
	case Date:
		if v.Kind != StringValue || !datePattern.MatchString(strings.TrimSpace(v.Str)) {
			return wrong(`a date in quotes such as "2024-05-01"`, `带引号的日期，如 "2024-05-01"`)
		}
		if _, err := time.Parse(time.DateOnly, strings.TrimSpace(v.Str)); err != nil {
			c.fail(v.At, fmt.Sprintf("%q is not a calendar date", v.Str), fmt.Sprintf("%q 不是有效日期", v.Str))
			return lit{}, false
		}
		return lit{s: strings.TrimSpace(v.Str)}, true
	}
	if v.Kind != StringValue {
		return wrong("text in quotes", "带引号的文本")
	}
	s := customer.NormalizeText(v.Str)
	if x.Op != "=" && x.Op != "in" {
		if s == "" {
			c.fail(v.At, fmt.Sprintf("%s needs non-empty text", x.Op), fmt.Sprintf("%s 需要非空文本", x.Op))
			return lit{}, false
		}
		if f.src == Identity && f.key == customer.IdentityEmail {
			s = strings.ToLower(s)
		}
		return lit{s: s}, true
	}
	switch {
	case f.src == Identity:
		id, err := customer.NormalizeIdentity(customer.Identity{Type: f.key, Value: v.Str}, c.cat.Region)
		if err != nil {
			c.fail(v.At, fmt.Sprintf("%s: %v", x.Field, err), fmt.Sprintf("%s 的值无效：%v", x.Field, err))
			return lit{}, false
		}
		s = id.Value
	case s == "":
		c.fail(v.At, fmt.Sprintf("%s never equals empty text; use '%s is null'", x.Field, x.Field),
			fmt.Sprintf("%s 不会等于空文本；请用 '%s is null'", x.Field, x.Field))
		return lit{}, false
	case len(f.options) > 0 && !slices.Contains(f.options, s):
		c.fail(v.At, fmt.Sprintf("%q is not an option of %s (options: %s)", s, x.Field, strings.Join(f.options, ", ")),
			fmt.Sprintf("%q 不是 %s 的选项（可选：%s）", s, x.Field, strings.Join(f.options, "、")))
		return lit{}, false
	}
	return lit{s: s}, true
}
