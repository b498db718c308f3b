package churn

import (
	"slices"
	"strings"
	"testing"
)

func TestParseNumber(t *testing.T) {
	cases := []struct {
		in          string
		want        float64
		ok, missing bool
	}{
		{"42", 42, true, false},
		{" 3.5 ", 3.5, true, false},
		{"1,234", 1234, true, false},
		{"12,345,678.9", 12345678.9, true, false},
		{"-1,234.5", -1234.5, true, false},
		{"¥1,200", 1200, true, false},
		{"$8", 8, true, false},
		{"15%", 15, true, false},
		{"1e3", 1000, true, false},
		{"", 0, false, true},
		{"  ", 0, false, true},
		{"n/a", 0, false, true},
		{"N/A", 0, false, true},
		{"NULL", 0, false, true},
		{"-", 0, false, true},
		{"缺失", 0, false, true},
		{"abc", 0, false, false},
		{"12,34", 0, false, false},
		{"1,2345", 0, false, false},
		{"Inf", 0, false, false},
		{"NaN", 0, false, true},
		{"3 months", 0, false, false},
	}
	for _, c := range cases {
		v, ok, missing := ParseNumber(c.in)
		if ok != c.ok || missing != c.missing || (ok && v != c.want) {
			t.Errorf("ParseNumber(%q) = %v, %v, %v; want %v, %v, %v", c.in, v, ok, missing, c.want, c.ok, c.missing)
		}
	}
}

func TestParseLabel(t *testing.T) {
	cases := []struct {
		in   string
		want float64
		ok   bool
	}{
		{"1", 1, true}, {"0", 0, true}, {"true", 1, true}, {"FALSE", 0, true},
		{"Yes", 1, true}, {" no ", 0, true}, {"是", 1, true}, {"否", 0, true},
		{"Churned", 1, true}, {"retained", 0, true}, {"流失", 1, true}, {"未流失", 0, true},
		{"cancelled", 1, true}, {"Active", 0, true},
		{"maybe", 0, false}, {"2", 0, false}, {"", 0, false},
	}
	for _, c := range cases {
		got, ok := ParseLabel(c.in)
		if ok != c.ok || got != c.want {
			t.Errorf("ParseLabel(%q) = %v, %v; want %v, %v", c.in, got, ok, c.want, c.ok)
		}
	}
}

// messyCSV has a BOM, thousands separators, NA markers, blanks, text in
// numeric columns, a short row, a unique-per-row text column and labels in
// several languages, two of them unusable.
const messyCSV = "\ufeffid, plan ,spend,visits,note,churned\n" +
	"1,basic,\"1,234\",3,alpha,yes\n" +
	"2,pro,n/a,,bravo,no\n" +
	"3,basic,abc,5,charlie,是\n" +
	"4,pro,  ,2,delta,否\n" +
	"5,basic,12.5,N/A,echo,1\n" +
	"6,,7,x,foxtrot,0\n" +
	"7,pro,$8,4,golf,\n" +
	"8,basic,9,3,hotel,maybe\n" +
	"9,pro,10,1,india,Churned\n" +
	"10,basic,11,2,juliet,Retained\n" +
	"11,enterprise,\"2,000\",6,kilo,TRUE\n" +
	"12,pro,13,7,lima,false\n" +
	"13,basic,14,8,mike,yes\n" +
	"14,pro,15\n"

func TestMessyInputIsCountedNotFatal(t *testing.T) {
	tab, err := ReadCSV(strings.NewReader(messyCSV), ReadOptions{LabelCol: "churned", IDCol: "id"})
	if err != nil {
		t.Fatal(err)
	}
	in := tab.Input
	if in.Rows != 14 || in.Used != 11 || in.Rejected != 3 {
		t.Errorf("rows %d used %d rejected %d, want 14, 11, 3", in.Rows, in.Used, in.Rejected)
	}
	want := map[string]int{"blank label": 1, "unrecognized label": 1, "missing field": 1}
	for reason, n := range want {
		if in.ByReason[reason] != n {
			t.Errorf("rejected for %q: %d, want %d (all: %v)", reason, in.ByReason[reason], n, in.ByReason)
		}
	}
	if len(in.First) != 3 || in.First[0].Line != 8 || in.First[1].Line != 9 || in.First[2].Line != 15 {
		t.Errorf("rejected examples %+v, want lines 8, 9, 15", in.First)
	}
	if !slices.Equal(tab.Columns, []string{"id", "plan", "spend", "visits", "note"}) {
		t.Errorf("columns %q (header must be trimmed and BOM-free)", tab.Columns)
	}
	if !slices.Equal(tab.Labels, []float64{1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1}) {
		t.Errorf("labels %v", tab.Labels)
	}

	prof := Profile(tab)
	type col struct {
		kind               Kind
		missing, malformed int
		skipped            string
	}
	wantCols := map[string]col{
		"id":     {Numeric, 0, 0, "id column"},
		"plan":   {Categorical, 1, 0, ""},
		"spend":  {Numeric, 2, 1, ""}, // n/a and blank missing; abc malformed; "1,234", "$8", "2,000" numbers
		"visits": {Numeric, 2, 1, ""}, // blank and N/A missing; x malformed
		"note":   {Categorical, 0, 0, "unique per row (identifier)"},
	}
	for _, p := range prof {
		w := wantCols[p.Name]
		if p.Kind != w.kind || p.Missing != w.missing || p.Malformed != w.malformed || p.Skipped != w.skipped {
			t.Errorf("column %s: kind %s missing %d malformed %d skipped %q; want %s %d %d %q",
				p.Name, p.Kind, p.Missing, p.Malformed, p.Skipped, w.kind, w.missing, w.malformed, w.skipped)
		}
	}
	if ex := prof[2].MalformedExamples; len(ex) != 1 || ex[0] != (ValueExample{Line: 4, Value: "abc"}) {
		t.Errorf("spend malformed examples %+v, want line 4 \"abc\"", ex)
	}

	all := make([]int, len(tab.Rows))
	for i := range all {
		all[i] = i
	}
	enc, err := FitEncoder(tab, prof, all, EncodeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, f := range enc.Features() {
		names = append(names, f.Name)
	}
	wantNames := []string{"plan=basic", "plan=pro", "plan=(missing)", "plan=enterprise", "spend", "spend:missing", "visits", "visits:missing"}
	if !slices.Equal(names, wantNames) {
		t.Errorf("features %q, want %q", names, wantNames)
	}
	// spend: the median of the 8 numbers of the used rows (1234, 12.5, 7,
	// 10, 11, 2000, 13, 14) is 12.75; it imputes the missing and malformed
	// values (rows 1–3), and those rows get the indicator.
	X := enc.Design(tab, all)
	d := len(names) + 1
	f := enc.Features()[4]
	for r, want := range map[int]float64{1: 12.75, 2: 12.75, 3: 12.75, 0: 1234, 8: 2000} {
		if got := X[r*d+5]*f.SD + f.Mean; abs(got-want) > 1e-9 {
			t.Errorf("row %d spend = %v, want %v", r, got, want)
		}
		ind := X[r*d+6]*enc.Features()[5].SD + enc.Features()[5].Mean
		if wantInd := b2f(r >= 1 && r <= 3); abs(ind-wantInd) > 1e-9 {
			t.Errorf("row %d spend:missing = %v, want %v", r, ind, wantInd)
		}
	}
}

func TestCategoricalLevelsAreCappedWithOther(t *testing.T) {
	var b strings.Builder
	b.WriteString("city,y\n")
	// city k appears 30-k times (k = 0…24), so the 20 most frequent are 0…19.
	for k := range 25 {
		for range 30 - k {
			b.WriteString("城市" + string(rune('A'+k)) + "," + []string{"是", "否"}[k%2] + "\n")
		}
	}
	tab, err := ReadCSV(strings.NewReader(b.String()), ReadOptions{LabelCol: "y"})
	if err != nil {
		t.Fatal(err)
	}
	all := make([]int, len(tab.Rows))
	for i := range all {
		all[i] = i
	}
	for _, maxLevels := range []int{0, 5} {
		enc, err := FitEncoder(tab, Profile(tab), all, EncodeOptions{MaxLevels: maxLevels})
		if err != nil {
			t.Fatal(err)
		}
		feats := enc.Features()
		keep := orDefault(maxLevels, DefaultMaxLevels)
		if len(feats) != keep+1 || feats[0].Name != "city=城市A" || feats[keep].Name != "city=other" {
			t.Errorf("MaxLevels %d: %d features, first %q, last %q; want %d, city=城市A, city=other",
				maxLevels, len(feats), feats[0].Name, feats[len(feats)-1].Name, keep+1)
		}
		if got := enc.Columns()[0].Levels; got != keep+1 {
			t.Errorf("MaxLevels %d: column reports %d levels, want %d", maxLevels, got, keep+1)
		}
	}
}

func TestLabelsWithPositiveValue(t *testing.T) {
	csv := "status,x\nLeft,1\nStayed,2\nleft,3\n,4\nPaused,5\n"
	tab, err := ReadCSV(strings.NewReader(csv), ReadOptions{LabelCol: "status", Positive: "left"})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(tab.Labels, []float64{1, 0, 1, 0}) || tab.Input.ByReason["blank label"] != 1 {
		t.Errorf("labels %v, rejected %v; want [1 0 1 0] and one blank label", tab.Labels, tab.Input.ByReason)
	}
}

func TestUnknownColumnsAreErrors(t *testing.T) {
	for _, opts := range []ReadOptions{{LabelCol: "nope"}, {LabelCol: "y", IDCol: "nope"}, {}} {
		if _, err := ReadCSV(strings.NewReader("y,x\n1,2\n"), opts); err == nil {
			t.Errorf("%+v: no error", opts)
		}
	}
}

func abs(x float64) float64 {
	if x < 0 {
		return -x
	}
	return x
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
