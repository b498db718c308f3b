package targeting

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/rapportcrm/rapport/internal/customer"
	"github.com/rapportcrm/rapport/internal/errs"
	"github.com/rapportcrm/rapport/internal/segment"
	"github.com/rapportcrm/rapport/internal/store"
	"github.com/rapportcrm/rapport/internal/storetest"
)

func service(w *world) *Service {
	return &Service{Store: w.st, Region: "CN", Now: func() time.Time { return now }}
}

// inMemory evaluates a rule on every customer with the matcher.
func inMemory(t *testing.T, w *world, svc *Service, rule string) []string {
	t.Helper()
	ctx := context.Background()
	cat, err := svc.Catalogue(ctx)
	if err != nil {
		t.Fatal(err)
	}
	r, err := segment.Compile(rule, cat)
	if err != nil {
		t.Fatalf("%s: %v", rule, err)
	}
	ev, err := w.st.EventTable(ctx)
	if err != nil {
		t.Fatal(err)
	}
	facts, err := w.st.LoadFacts(ctx, w.ids, factNeeds(r.Needs(), now, ev))
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	var sf segment.Facts
	for _, id := range w.ids {
		toSegmentFacts(facts[id], &sf)
		if r.Match(&sf, now) {
			out = append(out, id)
		}
	}
	slices.Sort(out)
	return out
}

func bySQL(t *testing.T, w *world, svc *Service, rule string) []string {
	t.Helper()
	c, err := svc.compile(context.Background(), "body.rule", rule, now)
	if err != nil {
		t.Fatalf("%s: %v", rule, err)
	}
	refs, err := w.st.MatchingIDs(context.Background(), c.cond)
	if err != nil {
		t.Fatalf("%s: %v", rule, err)
	}
	n, err := w.st.CountMatching(context.Background(), c.cond, "")
	if err != nil || n != int64(len(refs)) {
		t.Fatalf("%s: count %d (%v) but %d ids", rule, n, err, len(refs))
	}
	out := make([]string, len(refs))
	for i, r := range refs {
		out[i] = r.ID
	}
	slices.Sort(out)
	return out
}

// agreementRules cover every field source, operator and behaviour clause,
// with negations over missing values (where SQL's three-valued logic and
// the matcher could disagree).
var agreementRules = []string{
	`tier in ("gold","silver") and p_alive < 0.5 and orders_90d = 0 and city = "上海"`,
	`tier in ("gold","silver") and p_alive < 0.5 and orders_90d = 0 and city = "上海" and revenue > 50`,
	`not tier in ("gold","silver")`,
	`tier != "gold" and not p_alive < 0.5`,
	`tier is null or rfm_segment is null`,
	`clv >= 500 or churn_risk > 0.8`,
	`not (clv >= 500 or churn_risk > 0.8)`,
	`r = 5 and f in (1, 2) and m <= 3`,
	`orders_30d > 0`, `orders_90d >= 2`, `orders_365d < 3`, `revenue_180d > 200`, `not revenue_90d > 100`,
	`orders >= 3 and revenue < 400`, `interactions = 0`,
	`last_order_at > "2025-03-01"`, `first_order_at is null`, `not last_seen < "2025-01-01"`,
	`not seen for 30 days`, `seen in the last 90 days`,
	`ordered category "Books"`, `ordered category "图书" in the last 60 days`, `not ordered category "Toys" in the last 120 days`,
	`tag = "vip"`, `tag in ("vip","wechat") and not tag = "wechat"`, `tag is null`, `tag starts_with "we"`,
	`email ends_with "@qq.com"`, `email is null`, `email contains "c01"`, `email = "c001@qq.com" or email = "C002@Example.com"`,
	`city != "上海"`, `city is null`, `city in ("北京","广州")`, `city contains "州"`,
	`employees > 250`, `not employees > 250`, `employees is null`,
	`vip = true`, `not vip = false`, `vip is null`,
	`birthday < "1980-01-01"`, `birthday >= "1990-06-15" or birthday is null`,
	`kind = "organization"`, `name contains "公司0"`, `name starts_with "客户1"`, `name ends_with "9"`,
	`owner = "rep-1"`, `owner is null`,
	`created_at < "2024-01-01"`, `expected_next_purchase is null`,
	`(city = "上海" or city = "北京") and (tier = "gold" or orders_90d > 0) and not tag = "vip"`,
}

func TestSQLAndMatcherAgreeOnEveryCustomer(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e storetest.Engine) {
		w := seedWorld(t, e, 300)
		w.addEvents(t)
		svc := service(w)
		rules := append(slices.Clone(agreementRules),
			`did "Page Viewed" at least 2 times in the last 30 days`, `did "Signed Up"`, `not did "App Opened" in the last 7 days`,
			`did "Page Viewed" at least 3 times and tier = "gold"`)
		nonEmpty := 0
		for _, rule := range rules {
			sql, mem := bySQL(t, w, svc, rule), inMemory(t, w, svc, rule)
			if !slices.Equal(sql, mem) {
				t.Errorf("%s: SQL finds %d customers, the matcher %d", rule, len(sql), len(mem))
			}
			if len(sql) > 0 && len(sql) < len(w.ids) {
				nonEmpty++
			}
		}
		// The rules must discriminate, or agreement proves nothing.
		if nonEmpty < len(rules)*3/4 {
			t.Errorf("only %d of %d rules select a proper subset", nonEmpty, len(rules))
		}
	})
}

func TestTheIssueExampleRuleFindsTheRightCustomers(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e storetest.Engine) {
		w := seedWorld(t, e, 300)
		svc := service(w)
		ctx := context.Background()
		rule := `tier in ("gold","silver") and p_alive < 0.5 and orders_90d = 0 and city = "上海"`
		got := bySQL(t, w, svc, rule)
		// Written out by hand from the records.
		facts, err := w.st.LoadFacts(ctx, w.ids, store.FactNeeds{Orders: true})
		if err != nil {
			t.Fatal(err)
		}
		var want []string
		for _, id := range w.ids {
			f := facts[id]
			c := f.Customer
			if c.Scores == nil || (c.Scores.Tier != "gold" && c.Scores.Tier != "silver") || c.Scores.PAlive == nil || *c.Scores.PAlive >= 0.5 || c.Attributes["city"] != "上海" {
				continue
			}
			recent := false
			for _, o := range f.Orders {
				if o.At.After(now.Add(-90 * 24 * time.Hour)) {
					recent = true
				}
			}
			if !recent {
				want = append(want, id)
			}
		}
		slices.Sort(want)
		if len(want) == 0 || !slices.Equal(got, want) {
			t.Fatalf("got %d customers, want %d", len(got), len(want))
		}
		view, err := svc.CreateSegment(ctx, store.SystemActor, "上海高价值沉睡客户", rule)
		if err != nil {
			t.Fatal(err)
		}
		if view.Count != int64(len(want)) || view.MemberCount != int64(len(want)) || len(view.Preview.Preview) != min(len(want), PreviewSize) {
			t.Fatalf("count %d, members %d, preview %d; want %d", view.Count, view.MemberCount, len(view.Preview.Preview), len(want))
		}
		page, err := svc.Members(ctx, view.ID, "", "", 3)
		if err != nil {
			t.Fatal(err)
		}
		var listed []string
		for {
			for _, c := range page.Items {
				listed = append(listed, c.ID)
			}
			if page.NextCursor == "" {
				break
			}
			if page, err = svc.Members(ctx, view.ID, "", page.NextCursor, 3); err != nil {
				t.Fatal(err)
			}
		}
		slices.Sort(listed)
		if !slices.Equal(listed, want) {
			t.Fatalf("paging the members gave %d customers, want %d", len(listed), len(want))
		}
	})
}

// TestInjectionAttemptsAreJustValues stores customers whose attributes and
// tags are injection payloads and checks that rules quoting them match
// exactly those customers and leave the database intact.
func TestInjectionAttemptsAreJustValues(t *testing.T) {
	payloads := []string{
		`'; DROP TABLE customers; --`,
		`上海' OR '1'='1`,
		`") OR 1=1 --`,
		`x'); DELETE FROM segments; --`,
		`%' OR name LIKE '%`,
		`$."city"`,
	}
	forEachEngine(t, func(t *testing.T, e storetest.Engine) {
		w := seedWorld(t, e, 40)
		svc := service(w)
		ctx := context.Background()
		for i, p := range payloads {
			c := customer.Customer{ID: customer.NewID(), Kind: customer.Person, Name: "注入" + p, CreatedAt: now, UpdatedAt: now, Version: 1,
				Attributes: map[string]any{"city": p}, Tags: []string{p}, Identities: []customer.Identity{}}
			if err := w.st.CreateCustomers(ctx, store.SystemActor, []*customer.Customer{&c}); err != nil {
				t.Fatal(err)
			}
			quoted := `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(p) + `"`
			for _, rule := range []string{`city = ` + quoted, `tag = ` + quoted, `name contains ` + quoted, `city in (` + quoted + `, "x")`,
				`city starts_with ` + quoted, `city ends_with ` + quoted} {
				got := bySQL(t, w, svc, rule)
				if len(got) != 1 || got[0] != c.ID {
					t.Errorf("payload %d, %s: matched %v, want only %s", i, rule, got, c.ID)
				}
			}
			if _, err := svc.CreateSegment(ctx, store.SystemActor, p, `city = `+quoted); err != nil {
				t.Fatalf("segment named %q: %v", p, err)
			}
		}
		n, err := w.st.CountMatching(ctx, store.Condition{Where: "TRUE"}, "")
		if err != nil || n != int64(40+len(payloads)) {
			t.Fatalf("customers after the attempts: %d (%v)", n, err)
		}
		segs, err := w.st.Segments(ctx)
		if err != nil || len(segs) != len(payloads) {
			t.Fatalf("segments after the attempts: %d (%v)", len(segs), err)
		}
	})
}

func TestRuleErrorsBecomeFieldErrorsWithPositions(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e storetest.Engine) {
		w := seedWorld(t, e, 5)
		svc := service(w)
		_, err := svc.CreateSegment(context.Background(), store.SystemActor, "bad", `tier in ("gold") and citty = "上海" and orders_90d > "many"`)
		var ae *errs.Error
		if !errors.As(err, &ae) || ae.Kind != errs.Invalid || len(ae.Fields) != 2 {
			t.Fatalf("got %v", err)
		}
		pos := ae.Fields[0].Value.(map[string]int)
		if ae.Fields[0].Field != "body.rule" || pos["column"] != 22 || !strings.Contains(ae.Fields[0].Message, "did you mean city") ||
			!strings.Contains(ae.Fields[0].Message, "未知字段") {
			t.Errorf("first error %+v", ae.Fields[0])
		}
		if !strings.Contains(ae.Fields[1].Message, "number") {
			t.Errorf("second error %+v", ae.Fields[1])
		}
		segs, _ := w.st.Segments(context.Background())
		if len(segs) != 0 {
			t.Fatal("a bad rule was saved")
		}
	})
}
