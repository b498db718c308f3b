package value

import "testing"

// The textbook basket set (Tan, Steinbach & Kumar, Introduction to Data
// Mining, table 6.1), whose supports and confidences are worked by hand there.
var textbookBaskets = [][]string{
	{"bread", "milk"},
	{"bread", "diapers", "beer", "eggs"},
	{"milk", "diapers", "beer", "cola"},
	{"bread", "milk", "diapers", "beer"},
	{"bread", "milk", "diapers", "cola", "milk"}, // repeated milk counts once
	{},
}

func TestAssociationRulesOnTextbookBaskets(t *testing.T) {
	rs, err := AssociationRules(textbookBaskets, RuleOptions{MinSupport: 0.4, MinConfidence: 0.6})
	if err != nil {
		t.Fatal(err)
	}
	if rs.Baskets != 5 || rs.EmptyBaskets != 1 {
		t.Fatalf("baskets %d empty %d", rs.Baskets, rs.EmptyBaskets)
	}
	find := func(a, b string) (Rule[string], bool) {
		for _, r := range rs.Rules {
			if r.If == a && r.Then == b {
				return r, true
			}
		}
		return Rule[string]{}, false
	}
	cases := []struct {
		a, b            string
		count           int
		sup, conf, lift float64
	}{
		{"beer", "diapers", 3, 0.6, 1, 1.25},
		{"diapers", "beer", 3, 0.6, 0.75, 1.25},
		{"bread", "milk", 3, 0.6, 0.75, 0.9375},
		{"cola", "milk", 2, 0.4, 1, 1.25},
		{"cola", "diapers", 2, 0.4, 1, 1.25},
		{"beer", "bread", 2, 0.4, 2.0 / 3, 2.0 / 3 / 0.8},
	}
	for _, c := range cases {
		r, ok := find(c.a, c.b)
		if !ok {
			t.Errorf("rule %s → %s missing", c.a, c.b)
			continue
		}
		if r.Count != c.count || !near(r.Support, c.sup, 1e-12) || !near(r.Confidence, c.conf, 1e-12) || !near(r.Lift, c.lift, 1e-12) {
			t.Errorf("rule %s → %s = %+v, want count %d support %v confidence %v lift %v", c.a, c.b, r, c.count, c.sup, c.conf, c.lift)
		}
	}
	// milk → cola has confidence 2/4 < 0.6; eggs (support 0.2) is pruned.
	for _, pair := range [][2]string{{"milk", "cola"}, {"eggs", "beer"}, {"beer", "cola"}} {
		if _, ok := find(pair[0], pair[1]); ok {
			t.Errorf("rule %s → %s should not pass the thresholds", pair[0], pair[1])
		}
	}
	for i := 1; i < len(rs.Rules); i++ {
		if rs.Rules[i].Lift > rs.Rules[i-1].Lift {
			t.Errorf("rules not sorted by lift at %d", i)
		}
	}

	got := CrossSell(rs.Rules, []string{"beer", "bread"}, 5)
	if len(got) == 0 || got[0].Item != "diapers" || got[0].Because != "beer" || got[0].Confidence != 1 {
		t.Errorf("cross-sell for beer+bread: %+v, want diapers because of beer first", got)
	}
	for _, s := range got {
		if s.Item == "beer" || s.Item == "bread" || s.Lift <= 1 {
			t.Errorf("suggestion %+v: already bought or no real association", s)
		}
	}
	if _, err := AssociationRules(textbookBaskets, RuleOptions{MinSupport: 2}); err == nil {
		t.Error("support above 1 accepted")
	}
}
