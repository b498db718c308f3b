package segment

import (
	"errors"
	"strings"
	"testing"
)

func TestParseReadsTheIssueExample(t *testing.T) {
	src := `tier in ("gold","silver") and p_alive < 0.5 and orders_90d = 0 and city = "上海"`
	n, err := Parse(src)
	if err != nil {
		t.Fatal(err)
	}
	want := `tier in ("gold", "silver") and p_alive < 0.5 and orders_90d = 0 and city = "上海"`
	if n.String() != want {
		t.Fatalf("got  %s\nwant %s", n, want)
	}
	l, ok := n.(*Logic)
	if !ok || l.Op != "and" || len(l.Args) != 4 {
		t.Fatalf("want a 4-way and, got %#v", n)
	}
	city := l.Args[3].(*Compare)
	if city.At.Column != 68 || city.Values[0].Str != "上海" {
		t.Fatalf("city clause at %v value %q", city.At, city.Values[0].Str)
	}
}

func TestParseRoundTrips(t *testing.T) {
	for _, src := range []string{
		`did "Page Viewed" at least 3 times in the last 30 days`,
		`did "Signed Up"`,
		`did "App Opened" in the last 7 days`,
		`ordered category "Books" in the last 90 days`,
		`ordered category "图书"`,
		`not seen for 60 days`,
		`seen in the last 14 days`,
		`not (tier = "gold" or tier = "silver") and revenue >= 100`,
		`(a = 1 or b = 2) and c = 3`,
		`email is null`,
		`not phone is null`,
		`name contains "张"`,
		`not tag in ("vip", "blocked")`,
		`clv > -5.5`,
	} {
		n, err := Parse(src)
		if err != nil {
			t.Errorf("%s: %v", src, err)
			continue
		}
		again, err := Parse(n.String())
		if err != nil || again.String() != n.String() {
			t.Errorf("%s: printed as %q which reparses as %v / %v", src, n, again, err)
		}
	}
}

func TestParseDesugarsNegatedOperators(t *testing.T) {
	for src, want := range map[string]string{
		`city != "上海"`:                     `not city = "上海"`,
		`city <> "上海"`:                     `not city = "上海"`,
		`tier not in ("gold")`:             `not tier in ("gold")`,
		`email is not null`:                `not email is null`,
		`name not contains "x"`:            `not name contains "x"`,
		`tier == "gold"`:                   `tier = "gold"`,
		`TIER IN ("gold") AND p_alive < 1`: `tier in ("gold") and p_alive < 1`,
		`city = “上海”`:                      `city = "上海"`,
		`tier in （"a"，"b"）`:                `tier in ("a", "b")`,
	} {
		n, err := Parse(src)
		if err != nil {
			t.Errorf("%s: %v", src, err)
			continue
		}
		if n.String() != want {
			t.Errorf("%s: got %s want %s", src, n, want)
		}
	}
}

func TestParseErrorsPointAtTheProblem(t *testing.T) {
	for _, tc := range []struct {
		src        string
		line, col  int
		msgContain string
	}{
		{``, 1, 1, "empty"},
		{`tier in ("gold" "silver")`, 1, 17, "expected ',' or ')'"},
		{`tier = gold`, 1, 8, `put text in quotes: "gold"`},
		{`p_alive < `, 1, 11, "expected a value"},
		{`city = "上海`, 1, 8, "not closed"},
		{`tier = "gold" and`, 1, 18, "expected a condition after 'and'"},
		{`(tier = "gold"`, 1, 15, "expected ')' to close the '(' at line 1, column 1"},
		{"tier = \"gold\"\n  and ) ", 2, 7, "expected a condition"},
		{`城市 = "上海" 且`, 1, 11, "expected 'and', 'or'"},
		{`did Purchase`, 1, 5, "event name in quotes"},
		{`did "x" at least 0 times`, 1, 18, "whole number from 1"},
		{`did "x" in the last 7 weeks`, 1, 23, "expected 'days'"},
		{`not seen for days`, 1, 14, "number of days"},
		{`ordered "Books"`, 1, 9, "expected 'category'"},
		{`tier ~ "x"`, 1, 6, "unexpected character"},
		{`tier ! "x"`, 1, 6, "'!' must be followed by '='"},
		{`tier is nul`, 1, 9, "expected 'null'"},
		{`tier "gold"`, 1, 6, "expected an operator"},
		{`tier in "gold"`, 1, 9, "expected '('"},
	} {
		_, err := Parse(tc.src)
		var e *Error
		if !errors.As(err, &e) {
			t.Errorf("%q: want a positioned error, got %v", tc.src, err)
			continue
		}
		if e.Pos.Line != tc.line || e.Pos.Column != tc.col || !strings.Contains(e.En, tc.msgContain) {
			t.Errorf("%q: got %d:%d %q; want %d:%d containing %q", tc.src, e.Pos.Line, e.Pos.Column, e.En, tc.line, tc.col, tc.msgContain)
		}
		if e.Zh == "" {
			t.Errorf("%q: no Chinese message", tc.src)
		}
	}
}
