package segment

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Node is a parsed rule or part of one.
type Node interface {
	Pos() Position
	String() string
}

// Logic joins two or more rules with "and" or "or".
type Logic struct {
	Op   string // "and" or "or"
	Args []Node
	At   Position
}

// Not negates a rule. "a != b", "x not in (…)", "x is not null" and
// "x not contains …" are parsed as Not of the positive comparison.
type Not struct {
	X  Node
	At Position
}

// Compare tests one field. Op is one of = < <= > >= in null contains
// starts_with ends_with.
type Compare struct {
	Field  string
	At     Position
	Op     string
	OpAt   Position
	Values []Value
}

// ValueKind says what a literal is.
type ValueKind int

// The kinds of literal.
const (
	StringValue ValueKind = iota
	NumberValue
	BoolValue
)

// Value is a literal written in a rule.
type Value struct {
	Kind ValueKind
	Str  string
	Num  float64
	Bool bool
	At   Position
}

// Did is "did EVENT [at least N times] [in the last D days]".
type Did struct {
	Event   string
	AtLeast int // ≥ 1
	Days    int // 0: ever
	At      Position
}

// Ordered is "ordered category C [in the last D days]".
type Ordered struct {
	Category string
	Days     int // 0: ever
	At       Position
}

// Seen is "seen in the last D days"; "not seen for D days" is Not{Seen}.
type Seen struct {
	Days int
	At   Position
}

func (n *Logic) Pos() Position   { return n.At }
func (n *Not) Pos() Position     { return n.At }
func (n *Compare) Pos() Position { return n.At }
func (n *Did) Pos() Position     { return n.At }
func (n *Ordered) Pos() Position { return n.At }
func (n *Seen) Pos() Position    { return n.At }

func (n *Logic) String() string {
	parts := make([]string, len(n.Args))
	for i, a := range n.Args {
		parts[i] = a.String()
		if l, ok := a.(*Logic); ok && l.Op != n.Op {
			parts[i] = "(" + parts[i] + ")"
		}
	}
	return strings.Join(parts, " "+n.Op+" ")
}

func (n *Not) String() string {
	switch x := n.X.(type) {
	case *Seen:
		return fmt.Sprintf("not seen for %d days", x.Days)
	case *Logic:
		return "not (" + x.String() + ")"
	}
	return "not " + n.X.String()
}

func (n *Compare) String() string {
	switch n.Op {
	case "null":
		return n.Field + " is null"
	case "in":
		vs := make([]string, len(n.Values))
		for i, v := range n.Values {
			vs[i] = v.String()
		}
		return n.Field + " in (" + strings.Join(vs, ", ") + ")"
	}
	return n.Field + " " + n.Op + " " + n.Values[0].String()
}

func (v Value) String() string {
	switch v.Kind {
	case NumberValue:
		return strconv.FormatFloat(v.Num, 'g', -1, 64)
	case BoolValue:
		return strconv.FormatBool(v.Bool)
	}
	return strconv.Quote(v.Str)
}

func (n *Did) String() string {
	s := "did " + strconv.Quote(n.Event)
	if n.AtLeast > 1 {
		s += fmt.Sprintf(" at least %d times", n.AtLeast)
	}
	if n.Days > 0 {
		s += fmt.Sprintf(" in the last %d days", n.Days)
	}
	return s
}

func (n *Ordered) String() string {
	s := "ordered category " + strconv.Quote(n.Category)
	if n.Days > 0 {
		s += fmt.Sprintf(" in the last %d days", n.Days)
	}
	return s
}

func (n *Seen) String() string { return fmt.Sprintf("seen in the last %d days", n.Days) }

// MaxDays bounds the look-back windows a rule may use (100 years).
const MaxDays = 36500

type parser struct {
	toks []token
	i    int
}

// Parse reads a rule. A syntax error is an *Error with the position of the
// token that could not be read.
func Parse(src string) (Node, error) {
	toks, err := lex(src)
	if err != nil {
		return nil, err
	}
	p := &parser{toks: toks}
	if p.peek().kind == tEOF {
		return nil, errAt(p.peek().pos, "the rule is empty", "规则为空")
	}
	n, err := p.or()
	if err != nil {
		return nil, err
	}
	if t := p.peek(); t.kind != tEOF {
		return nil, errAt(t.pos, fmt.Sprintf("expected 'and', 'or' or the end of the rule, found %s", t.describe()),
			fmt.Sprintf("此处应为 and、or 或规则结尾，却是 %s", t.describeZh()))
	}
	return n, nil
}

func (p *parser) peek() token { return p.toks[p.i] }
func (p *parser) peekAt(k int) token {
	if p.i+k < len(p.toks) {
		return p.toks[p.i+k]
	}
	return p.toks[len(p.toks)-1]
}
func (p *parser) next() token {
	t := p.toks[p.i]
	if t.kind != tEOF {
		p.i++
	}
	return t
}

func (p *parser) isWord(w string) bool {
	t := p.peek()
	return t.kind == tIdent && t.text == w
}

// word consumes the keyword w or fails.
func (p *parser) word(w, context, contextZh string) (token, error) {
	t := p.peek()
	if t.kind != tIdent || t.text != w {
		return t, errAt(t.pos, fmt.Sprintf("expected '%s' %s, found %s", w, context, t.describe()),
			fmt.Sprintf("%s此处应为 '%s'，却是 %s", contextZh, w, t.describeZh()))
	}
	return p.next(), nil
}

func (p *parser) or() (Node, error) {
	return p.logic("or", p.and)
}

func (p *parser) and() (Node, error) {
	return p.logic("and", p.unary)
}

func (p *parser) logic(op string, operand func() (Node, error)) (Node, error) {
	first, err := operand()
	if err != nil {
		return nil, err
	}
	if !p.isWord(op) {
		return first, nil
	}
	l := &Logic{Op: op, Args: []Node{first}, At: first.Pos()}
	for p.isWord(op) {
		p.next()
		if p.peek().kind == tEOF {
			return nil, errAt(p.peek().pos, fmt.Sprintf("expected a condition after '%s'", op), fmt.Sprintf("'%s' 后面需要一个条件", op))
		}
		n, err := operand()
		if err != nil {
			return nil, err
		}
		l.Args = append(l.Args, n)
	}
	return l, nil
}

func (p *parser) unary() (Node, error) {
	if p.isWord("not") {
		at := p.next().pos
		if p.isWord("seen") && p.peekAt(1).kind == tIdent && p.peekAt(1).text == "for" {
			seenAt := p.next().pos
			p.next() // for
			d, err := p.days("after 'not seen for'", "'not seen for' 后")
			if err != nil {
				return nil, err
			}
			return &Not{X: &Seen{Days: d, At: seenAt}, At: at}, nil
		}
		x, err := p.unary()
		if err != nil {
			return nil, err
		}
		return &Not{X: x, At: at}, nil
	}
	return p.primary()
}

var reserved = map[string]bool{"and": true, "or": true, "not": true, "in": true, "is": true, "null": true,
	"true": true, "false": true, "did": true, "ordered": true, "seen": true}

func (p *parser) primary() (Node, error) {
	t := p.peek()
	switch {
	case t.kind == tLParen:
		p.next()
		n, err := p.or()
		if err != nil {
			return nil, err
		}
		if c := p.peek(); c.kind != tRParen {
			return nil, errAt(c.pos, fmt.Sprintf("expected ')' to close the '(' at %s, found %s", t.pos, c.describe()),
				fmt.Sprintf("此处应为 ')'，以关闭第 %d 行第 %d 列的 '('，却是 %s", t.pos.Line, t.pos.Column, c.describeZh()))
		}
		p.next()
		return n, nil
	case t.kind == tIdent && t.text == "did":
		return p.did()
	case t.kind == tIdent && t.text == "ordered":
		return p.ordered()
	case t.kind == tIdent && t.text == "seen":
		p.next()
		if err := p.inTheLast(); err != nil {
			return nil, err
		}
		d, err := p.days("after 'seen in the last'", "'seen in the last' 后")
		if err != nil {
			return nil, err
		}
		return &Seen{Days: d, At: t.pos}, nil
	case t.kind == tIdent && !reserved[t.text]:
		return p.comparison()
	case t.kind == tEOF:
		return nil, errAt(t.pos, "the rule ends where a condition was expected", "规则在应有条件处结束")
	}
	return nil, errAt(t.pos, fmt.Sprintf("expected a condition (a field name, 'did', 'ordered', 'seen', 'not' or '('), found %s", t.describe()),
		fmt.Sprintf("此处应为条件（字段名、did、ordered、seen、not 或 '('），却是 %s", t.describeZh()))
}

func (p *parser) comparison() (Node, error) {
	f := p.next()
	field := f.text
	t := p.peek()
	switch {
	case t.kind == tOp:
		p.next()
		v, err := p.value()
		if err != nil {
			return nil, err
		}
		op := t.text
		if op == "!=" {
			return &Not{X: &Compare{Field: field, At: f.pos, Op: "=", OpAt: t.pos, Values: []Value{v}}, At: t.pos}, nil
		}
		return &Compare{Field: field, At: f.pos, Op: op, OpAt: t.pos, Values: []Value{v}}, nil
	case t.kind == tIdent && t.text == "is":
		p.next()
		negate := false
		if p.isWord("not") {
			p.next()
			negate = true
		}
		if _, err := p.word("null", "after 'is'", "'is' 后"); err != nil {
			return nil, err
		}
		var n Node = &Compare{Field: field, At: f.pos, Op: "null", OpAt: t.pos}
		if negate {
			n = &Not{X: n, At: t.pos}
		}
		return n, nil
	case t.kind == tIdent && (t.text == "in" || t.text == "not" || t.text == "contains" || t.text == "starts_with" || t.text == "ends_with"):
		p.next()
		negate := false
		op := t.text
		if op == "not" {
			negate = true
			o := p.peek()
			if o.kind != tIdent || (o.text != "in" && o.text != "contains" && o.text != "starts_with" && o.text != "ends_with") {
				return nil, errAt(o.pos, fmt.Sprintf("expected 'in', 'contains', 'starts_with' or 'ends_with' after 'not', found %s", o.describe()),
					fmt.Sprintf("'not' 后此处应为 in、contains、starts_with 或 ends_with，却是 %s", o.describeZh()))
			}
			op = p.next().text
		}
		c := &Compare{Field: field, At: f.pos, Op: op, OpAt: t.pos}
		if op == "in" {
			vs, err := p.list()
			if err != nil {
				return nil, err
			}
			c.Values = vs
		} else {
			v, err := p.value()
			if err != nil {
				return nil, err
			}
			c.Values = []Value{v}
		}
		if negate {
			return &Not{X: c, At: t.pos}, nil
		}
		return c, nil
	}
	return nil, errAt(t.pos, fmt.Sprintf("expected an operator (=, !=, <, <=, >, >=, in, is null, contains) after %q, found %s", f.raw, t.describe()),
		fmt.Sprintf("%q 后此处应为运算符（=、!=、<、<=、>、>=、in、is null、contains），却是 %s", f.raw, t.describeZh()))
}

func (p *parser) value() (Value, error) {
	t := p.peek()
	switch {
	case t.kind == tString:
		p.next()
		return Value{Kind: StringValue, Str: t.text, At: t.pos}, nil
	case t.kind == tNumber:
		p.next()
		if math.IsInf(t.num, 0) || math.IsNaN(t.num) {
			return Value{}, errAt(t.pos, fmt.Sprintf("%s is out of range", t.raw), fmt.Sprintf("%s 超出范围", t.raw))
		}
		return Value{Kind: NumberValue, Num: t.num, At: t.pos}, nil
	case t.kind == tIdent && (t.text == "true" || t.text == "false"):
		p.next()
		return Value{Kind: BoolValue, Bool: t.text == "true", At: t.pos}, nil
	case t.kind == tIdent:
		return Value{}, errAt(t.pos, fmt.Sprintf("expected a value, found the word %s; put text in quotes: \"%s\"", t.describe(), t.raw),
			fmt.Sprintf("此处应为一个值，却是 %s；文本请加引号：\"%s\"", t.describeZh(), t.raw))
	}
	return Value{}, errAt(t.pos, fmt.Sprintf("expected a value (\"text\", a number, true or false), found %s", t.describe()),
		fmt.Sprintf("此处应为一个值（\"文本\"、数字、true 或 false），却是 %s", t.describeZh()))
}

func (p *parser) list() ([]Value, error) {
	open := p.peek()
	if open.kind != tLParen {
		return nil, errAt(open.pos, fmt.Sprintf("expected '(' to start the list after 'in', found %s", open.describe()),
			fmt.Sprintf("'in' 后此处应为 '(' 开始列表，却是 %s", open.describeZh()))
	}
	p.next()
	var vs []Value
	for {
		v, err := p.value()
		if err != nil {
			return nil, err
		}
		vs = append(vs, v)
		t := p.next()
		if t.kind == tRParen {
			return vs, nil
		}
		if t.kind != tComma {
			return nil, errAt(t.pos, fmt.Sprintf("expected ',' or ')' in the list, found %s", t.describe()),
				fmt.Sprintf("列表中此处应为 ',' 或 ')'，却是 %s", t.describeZh()))
		}
	}
}

// integer reads a whole number in [1, limit].
func (p *parser) integer(limit int, what, whatZh string) (int, error) {
	t := p.peek()
	if t.kind != tNumber || t.num != math.Trunc(t.num) || t.num < 1 || t.num > float64(limit) {
		return 0, errAt(t.pos, fmt.Sprintf("expected %s (a whole number from 1 to %d), found %s", what, limit, t.describe()),
			fmt.Sprintf("此处应为%s（1 到 %d 的整数），却是 %s", whatZh, limit, t.describeZh()))
	}
	p.next()
	return int(t.num), nil
}

func (p *parser) days(context, contextZh string) (int, error) {
	d, err := p.integer(MaxDays, "a number of days "+context, contextZh+"的天数")
	if err != nil {
		return 0, err
	}
	if !p.isWord("days") && !p.isWord("day") {
		t := p.peek()
		return 0, errAt(t.pos, fmt.Sprintf("expected 'days' after %d, found %s", d, t.describe()),
			fmt.Sprintf("%d 后此处应为 'days'，却是 %s", d, t.describeZh()))
	}
	p.next()
	return d, nil
}

func (p *parser) inTheLast() error {
	for _, w := range []string{"in", "the", "last"} {
		if _, err := p.word(w, "in 'in the last N days'", "在 'in the last N days' 中"); err != nil {
			return err
		}
	}
	return nil
}

func (p *parser) did() (Node, error) {
	at := p.next().pos
	ev := p.peek()
	if ev.kind != tString {
		return nil, errAt(ev.pos, fmt.Sprintf("expected the event name in quotes after 'did', found %s", ev.describe()),
			fmt.Sprintf("'did' 后此处应为带引号的事件名，却是 %s", ev.describeZh()))
	}
	p.next()
	if ev.text == "" {
		return nil, errAt(ev.pos, "the event name is empty", "事件名为空")
	}
	n := &Did{Event: ev.text, AtLeast: 1, At: at}
	if p.isWord("at") {
		p.next()
		if _, err := p.word("least", "after 'at'", "'at' 后"); err != nil {
			return nil, err
		}
		k, err := p.integer(1_000_000, "how many times", "次数")
		if err != nil {
			return nil, err
		}
		n.AtLeast = k
		if !p.isWord("times") && !p.isWord("time") {
			t := p.peek()
			return nil, errAt(t.pos, fmt.Sprintf("expected 'times' after %d, found %s", k, t.describe()),
				fmt.Sprintf("%d 后此处应为 'times'，却是 %s", k, t.describeZh()))
		}
		p.next()
	}
	if p.isWord("in") {
		if err := p.inTheLast(); err != nil {
			return nil, err
		}
		d, err := p.days("after 'in the last'", "'in the last' 后")
		if err != nil {
			return nil, err
		}
		n.Days = d
	}
	return n, nil
}

func (p *parser) ordered() (Node, error) {
	at := p.next().pos
	if _, err := p.word("category", "after 'ordered'", "'ordered' 后"); err != nil {
		return nil, err
	}
	c := p.peek()
	if c.kind != tString {
		return nil, errAt(c.pos, fmt.Sprintf("expected the category in quotes, found %s", c.describe()),
			fmt.Sprintf("此处应为带引号的品类，却是 %s", c.describeZh()))
	}
	p.next()
	n := &Ordered{Category: c.text, At: at}
	if p.isWord("in") {
		if err := p.inTheLast(); err != nil {
			return nil, err
		}
		d, err := p.days("after 'in the last'", "'in the last' 后")
		if err != nil {
			return nil, err
		}
		n.Days = d
	}
	return n, nil
}
