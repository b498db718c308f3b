package segment

import (
	"strings"
	"testing"
	"time"

	"github.com/rapportcrm/rapport/internal/customer"
)

var now = time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)

func fp(v float64) *float64     { return &v }
func tp(t time.Time) *time.Time { return &t }

func days(n int) time.Time { return now.Add(-time.Duration(n) * 24 * time.Hour) }

// shanghaiGold is the customer the example rule describes.
func shanghaiGold() *Facts {
	return &Facts{
		Customer: &customer.Customer{
			ID: "c1", Kind: customer.Person, Name: "张伟",
			Attributes: map[string]any{"city": "上海", "employees": 12.0, "vip": true, "birthday": "1990-04-01"},
			Tags:       []string{"vip", "wechat"},
			Identities: []customer.Identity{{Type: "email", Value: "zhang.wei@example.com"}},
			CreatedAt:  days(400),
			Stats:      customer.Stats{Orders: 3, Revenue: 300, LastSeen: tp(days(45)), LastOrderAt: tp(days(120))},
			Scores:     &customer.Scores{Tier: "gold", PAlive: fp(0.3), CLV: fp(900)},
		},
		Orders: []Order{{At: days(120), Total: 100, Categories: []string{"Books"}}, {At: days(200), Total: 200, Categories: []string{"Toys", "图书"}}},
		Events: []Event{{Name: "Page Viewed", At: days(1)}, {Name: "Page Viewed", At: days(2)}, {Name: "Page Viewed", At: days(40)}},
	}
}

func TestMatchDecidesMembership(t *testing.T) {
	cat := testCatalogue()
	for _, tc := range []struct {
		rule string
		want bool
	}{
		{`tier in ("gold","silver") and p_alive < 0.5 and orders_90d = 0 and city = "上海"`, true},
		{`tier in ("gold","silver") and p_alive < 0.2`, false},
		{`orders_150d = 1 and revenue_150d = 100 and revenue_365d = 300`, true},
		{`orders_90d > 0`, false},
		{`did "Page Viewed" at least 2 times in the last 30 days`, true},
		{`did "Page Viewed" at least 3 times in the last 30 days`, false},
		{`did "Page Viewed" at least 3 times`, true},
		{`did "Signed Up"`, false},
		{`ordered category "Books" in the last 150 days`, true},
		{`ordered category "图书" in the last 150 days`, false},
		{`ordered category "图书"`, true},
		{`not seen for 30 days`, true},
		{`not seen for 60 days`, false},
		{`seen in the last 60 days`, true},
		{`tag = "vip" and not tag = "blocked"`, true},
		{`tag is null`, false},
		{`email ends_with "@example.com" and phone is null`, true},
		{`name contains "张" and kind = "person"`, true},
		{`city != "北京"`, true},
		{`level is null and level != "a"`, true}, // a missing value: comparisons are false, their negations true
		{`level = "a" or not (level in ("a","b"))`, true},
		{`churn_risk is null and not churn_risk > 0.5`, true},
		{`employees >= 12 and employees < 13 and vip = true`, true},
		{`birthday < "1990-05-01" and created_at < "2025-01-01"`, true},
		{`last_order_at >= "2025-01-01"`, true},
		{`owner is null`, true},
		{`rfm_segment is null and tier is not null`, true},
		{`orders = 3 and revenue > 299.5 and interactions = 0`, true},
	} {
		r, err := Compile(tc.rule, cat)
		if err != nil {
			t.Errorf("%s: %v", tc.rule, err)
			continue
		}
		if got := r.Match(shanghaiGold(), now); got != tc.want {
			t.Errorf("%s: got %v want %v", tc.rule, got, tc.want)
		}
	}
}

func TestDeletedCustomersAreInNoSegment(t *testing.T) {
	r, _ := Compile(`not tier = "platinum"`, testCatalogue())
	f := shanghaiGold()
	if !r.Match(f, now) {
		t.Fatal("live customer should match")
	}
	f.Customer.DeletedAt = tp(now)
	if r.Match(f, now) {
		t.Fatal("deleted customer matched")
	}
}

func TestCustomerWithoutScoresMatchesOnlyNegations(t *testing.T) {
	f := shanghaiGold()
	f.Customer.Scores = nil
	for rule, want := range map[string]bool{
		`tier = "gold"`:     false,
		`not tier = "gold"`: true,
		`p_alive < 0.5`:     false,
		`not p_alive < 0.5`: true,
		`tier is null`:      true,
		`clv is not null`:   false,
	} {
		r, err := Compile(rule, testCatalogue())
		if err != nil {
			t.Fatal(err)
		}
		if got := r.Match(f, now); got != want {
			t.Errorf("%s: got %v want %v", rule, got, want)
		}
	}
}

// TestSQLNeverCarriesValues compiles rules whose values are classic
// injection payloads and checks that no value reaches the SQL text.
func TestSQLNeverCarriesValues(t *testing.T) {
	payloads := []string{
		`'; DROP TABLE customers; --`,
		`" OR 1=1 --`,
		`上海') OR ('1'='1`,
		`\'; DELETE FROM segments; --`,
		`x%' OR name LIKE '%`,
	}
	for _, p := range payloads {
		q := func(s string) string { return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s) + `"` }
		rule := `city = ` + q(p) + ` or tag in (` + q(p) + `, "b") or name contains ` + q(p) + ` or did ` + q(p) +
			` or ordered category ` + q(p) + ` or email ends_with ` + q(p) + ` or name starts_with ` + q(p)
		r, err := Compile(rule, testCatalogue())
		if err != nil {
			t.Fatalf("%s: %v", rule, err)
		}
		for _, d := range []Dialect{SQLite, Postgres} {
			s, err := r.SQL(d, now, 1, testCatalogue().Events)
			if err != nil {
				t.Fatal(err)
			}
			for _, frag := range []string{"DROP", "DELETE", "1=1", "'1'='1", "LIKE '%"} {
				if strings.Contains(s.Where, frag) {
					t.Errorf("%s SQL contains %q: %s", d, frag, s.Where)
				}
			}
			found := 0
			for _, a := range s.Args {
				if a == customer.NormalizeText(p) || a == strings.ToLower(customer.NormalizeText(p)) || a == p {
					found++
				}
			}
			if found < 7 {
				t.Errorf("%s: the payload is bound %d times, want 7: %v", d, found, s.Args)
			}
		}
	}
}

func TestSQLPlaceholdersAreNumberedFromStart(t *testing.T) {
	r, _ := Compile(`tier in ("gold","silver") and p_alive < 0.5 and orders_90d = 0 and city = "上海"`, testCatalogue())
	s, err := r.SQL(SQLite, now, 3, nil)
	if err != nil {
		t.Fatal(err)
	}
	// Cheapest terms first: the city test rejects most rows before the orders subquery runs.
	want := `(sc.tier IN ($3, $4) AND sc.p_alive < $5 AND json_extract(c.attributes, $8) = $9 AND NOT EXISTS (SELECT 1 FROM orders o WHERE o.customer_id = c.id AND o.status = $6 AND o.placed_at >= $7))`
	if s.Where != want {
		t.Fatalf("got  %s\nwant %s", s.Where, want)
	}
	if len(s.Args) != 7 || !s.Scores || s.Stats || s.Args[5] != `$."city"` || s.Args[6] != "上海" || s.Args[4] != days(90) {
		t.Fatalf("args %v scores %v stats %v", s.Args, s.Scores, s.Stats)
	}
}
