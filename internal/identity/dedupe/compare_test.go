package dedupe

import (
	"context"
	"reflect"
	"strings"
	"testing"
)

func evidenceOf(p Pair, f Field) Evidence {
	for _, e := range p.Evidence {
		if e.Field == f {
			return e
		}
	}
	return Evidence{Field: f, Outcome: Missing}
}

func TestCompareFieldNearMisses(t *testing.T) {
	base := Record{ID: "a", GivenName: "naomi", Surname: "millar", BirthDate: "19750818",
		Phone: "+86 138 0013 8000", Email: "naomi.millar@example.com", Postcode: "5172"}
	cases := []struct {
		name    string
		edit    func(r *Record)
		field   Field
		outcome Outcome
		note    string
	}{
		{"same birth date in another format", func(r *Record) { r.BirthDate = "1975-08-18" }, FieldBirthDate, Exact, ""},
		{"day and month swapped", func(r *Record) { r.BirthDate = "19751808" }, FieldBirthDate, Near, "day and month swapped"},
		{"transposed digits in the date", func(r *Record) { r.BirthDate = "19578018" }, FieldBirthDate, Disagree, ""},
		{"adjacent digits transposed", func(r *Record) { r.BirthDate = "19750881" }, FieldBirthDate, Near, "two digits transposed"},
		{"one digit of the year", func(r *Record) { r.BirthDate = "19760818" }, FieldBirthDate, Near, "one digit differs"},
		{"phone without country code", func(r *Record) { r.Phone = "13800138000" }, FieldPhone, Exact, ""},
		{"phone with one wrong digit", func(r *Record) { r.Phone = "13800138001" }, FieldPhone, Near, "one character differs"},
		{"phone with two digits swapped", func(r *Record) { r.Phone = "13800183000" }, FieldPhone, Near, "two characters transposed"},
		{"email typo", func(r *Record) { r.Email = "naomi.milar@example.com" }, FieldEmail, Near, "one character differs"},
		{"email case", func(r *Record) { r.Email = "Naomi.Millar@Example.com" }, FieldEmail, Exact, ""},
		{"surname typo", func(r *Record) { r.Surname = "milfra" }, FieldSurname, Similar, ""},
		{"surname one letter", func(r *Record) { r.Surname = "miller" }, FieldSurname, Near, "one character differs"},
		{"given name and surname swapped", func(r *Record) { r.GivenName, r.Surname = "millar", "naomi" }, FieldSurname, Exact, "given name and surname swapped"},
		{"surname missing", func(r *Record) { r.Surname = "" }, FieldSurname, Missing, ""},
		{"different postcode", func(r *Record) { r.Postcode = "2600" }, FieldPostcode, Disagree, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			other := base
			other.ID = "b"
			c.edit(&other)
			p := Compare(base, other)
			e := evidenceOf(p, c.field)
			if e.Outcome != c.outcome || !strings.Contains(e.Note, c.note) {
				t.Errorf("%s: got %s %q, want %s %q (evidence %+v)", c.field, e.Outcome, e.Note, c.outcome, c.note, p.Evidence)
			}
			if p.Score < 0 || p.Score > 1 {
				t.Errorf("score %v outside [0, 1]", p.Score)
			}
		})
	}
}

func TestChineseNames(t *testing.T) {
	zhang := Record{ID: "1", Name: "张伟", BirthDate: "1990-03-15", Phone: "13912345678", City: "上海"}
	cases := []struct {
		name      string
		other     Record
		wantMatch bool
		note      string
	}{
		{"same characters", Record{Name: "张伟", BirthDate: "1990年3月15日", City: "上海"}, true, ""},
		{"homophone given name", Record{Name: "张玮", BirthDate: "19900315", City: "上海"}, true, "same pinyin"},
		{"pinyin, surname first", Record{Name: "Zhang Wei", BirthDate: "1990/3/15", City: "上海"}, true, "pinyin matches"},
		{"pinyin in given/surname columns", Record{GivenName: "Wei", Surname: "Zhang", BirthDate: "19900315", City: "上海"}, true, "pinyin matches"},
		{"another person with the same birthday", Record{Name: "李娜", BirthDate: "19900315", City: "上海"}, false, ""},
		{"same name, other birthday and phone", Record{Name: "张伟", BirthDate: "19720601", Phone: "13687654321", City: "上海"}, false, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			c.other.ID = "2"
			p := Compare(zhang, c.other)
			if match := p.Score >= DefaultThreshold; match != c.wantMatch {
				t.Errorf("score %.4f (weight %.1f), match %v; want %v; evidence %+v", p.Score, p.Weight, match, c.wantMatch, p.Evidence)
			}
			notes := evidenceOf(p, FieldGivenName).Note + evidenceOf(p, FieldSurname).Note
			if !strings.Contains(notes, c.note) {
				t.Errorf("name notes %q, want %q", notes, c.note)
			}
		})
	}
}

func TestSplitName(t *testing.T) {
	cases := []struct{ in, given, surname string }{
		{"张伟", "伟", "张"},
		{"欧阳娜娜", "娜娜", "欧阳"},
		{"John Smith", "John", "Smith"},
		{"Smith, John", "John", "Smith"},
		{"Mary Ann Lee", "Mary", "Lee"},
		{"Cher", "Cher", ""},
	}
	for _, c := range cases {
		if g, s := splitName(c.in); g != c.given || s != c.surname {
			t.Errorf("splitName(%q) = %q, %q; want %q, %q", c.in, g, s, c.given, c.surname)
		}
	}
}

func TestHouseholdMembersAreNotDuplicates(t *testing.T) {
	// Same surname and address, different person: the address fields
	// together must not outweigh a different given name and birth date.
	a := Record{ID: "a", GivenName: "jonah", Surname: "browne", StreetNumber: "6", Address: "bingley crescent",
		Address2: "fairview", City: "pindimar", Postcode: "3182", State: "nsw", BirthDate: "19250413"}
	b := a
	b.ID, b.GivenName, b.BirthDate = "b", "emily", "19580702"
	if p := Compare(a, b); p.Score >= DefaultThreshold {
		t.Errorf("household members score %.4f ≥ threshold: %+v", p.Score, p.Evidence)
	}
}

func TestFindIsDeterministicAcrossWorkerCounts(t *testing.T) {
	recs := syntheticRecords(20000, 7)
	var first Result
	for i, w := range []int{1, 2, 3} {
		res, err := Find(context.Background(), recs, Options{Workers: w})
		if err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			first = res
			if len(res.Pairs) == 0 {
				t.Fatal("no pairs found")
			}
			continue
		}
		if !reflect.DeepEqual(first, res) {
			t.Fatalf("workers=%d gives a different result than workers=1", w)
		}
	}
	for _, p := range first.Pairs {
		if p.A >= p.B || recs[p.A].ID != p.IDA || recs[p.B].ID != p.IDB {
			t.Fatalf("pair %+v does not point at its records in order", p)
		}
	}
}

func TestFindHonoursCancellation(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Find(ctx, syntheticRecords(1000, 1), Options{}); err == nil {
		t.Fatal("Find on a cancelled context returned no error")
	}
}

func TestEarlyRejectionDropsNoPairAboveThreshold(t *testing.T) {
	recs := syntheticRecords(5000, 3)
	all, err := Find(context.Background(), recs, Options{Threshold: 1e-12})
	if err != nil {
		t.Fatal(err)
	}
	var want []Pair
	for _, p := range all.Pairs {
		if p.Score >= DefaultThreshold {
			want = append(want, p)
		}
	}
	got, err := Find(context.Background(), recs, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(want) == 0 || !reflect.DeepEqual(got.Pairs, want) {
		t.Fatalf("pruned search proposes %d pairs, full scoring %d above the threshold", len(got.Pairs), len(want))
	}
}
