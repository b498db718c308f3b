package customer

import (
	"strings"
	"testing"
	"unicode"

	"github.com/mozillazg/go-pinyin"
	"golang.org/x/text/width"

	"github.com/rapportcrm/rapport/internal/errs"
)

func TestNormalizeEmail(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{" Zhang.Wei@Example.COM ", "zhang.wei@example.com"},
		{"ＡＢＣ@example.com", "abc@example.com"},
		{"a+tag@sub.example.cn", "a+tag@sub.example.cn"},
	} {
		got, err := NormalizeEmail(tc.in)
		if err != nil || got != tc.want {
			t.Errorf("NormalizeEmail(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
	for _, bad := range []string{"", "zhang", "a@b", "Wei <a@b.com>", "a@@b.com", "a@b.com."} {
		if _, err := NormalizeEmail(bad); !errs.Is(err, errs.Invalid) {
			t.Errorf("NormalizeEmail(%q) accepted; want an invalid error", bad)
		}
	}
}

func TestNormalizePhone(t *testing.T) {
	for _, tc := range []struct{ in, region, want string }{
		{"138 0013 8000", "CN", "+8613800138000"},
		{"+86 138-0013-8000", "", "+8613800138000"},
		{"１３８００１３８０００", "CN", "+8613800138000"},
		{"010 6552 9988", "CN", "+861065529988"},
		{"+1 (415) 555-0132", "CN", "+14155550132"},
		{"(415) 555-0132", "US", "+14155550132"},
	} {
		got, err := NormalizePhone(tc.in, tc.region)
		if err != nil || got != tc.want {
			t.Errorf("NormalizePhone(%q, %q) = %q, %v; want %q", tc.in, tc.region, got, err, tc.want)
		}
	}
	for _, bad := range []string{"", "12345", "abc", "138 0013 800"} {
		if _, err := NormalizePhone(bad, "CN"); !errs.Is(err, errs.Invalid) {
			t.Errorf("NormalizePhone(%q) accepted; want an invalid error", bad)
		}
	}
}

func TestNormalizeTextFoldsFullWidth(t *testing.T) {
	if got := NormalizeText("\u3000张　伟 ＡＢＣ１２３  "); got != "张 伟 ABC123" {
		t.Fatalf("got %q", got)
	}
}

func TestApplyNormalizesAndCollectsEveryFieldError(t *testing.T) {
	rules := Rules{Region: "CN", Fields: map[string]Field{
		"city":  {Key: "city", Type: FieldText},
		"level": {Key: "level", Type: FieldEnum, Options: []string{"A", "B"}},
		"score": {Key: "score", Type: FieldNumber},
		"born":  {Key: "born", Type: FieldDate},
	}}
	kind, name := Person, "  张伟 "
	ids := []Identity{{Type: "email", Value: " Zhang.Wei@Example.COM "}, {Type: "phone", Value: "138 0013 8000"}}
	var c Customer
	err := rules.Apply(&c, Input{Kind: &kind, Name: &name, Identities: &ids,
		Attributes: map[string]any{"city": " 上海 ", "level": "A", "score": 3.5, "born": "1990-02-01"}}, true)
	if err != nil {
		t.Fatal(err)
	}
	if c.Name != "张伟" || c.Identities[0].Value != "zhang.wei@example.com" || c.Identities[1].Value != "+8613800138000" || c.Attributes["city"] != "上海" {
		t.Fatalf("not normalized: %+v", c)
	}

	bad := []Identity{{Type: "email", Value: "nope"}, {Type: "phone", Value: "12"}}
	badKind := Kind("robot")
	c = Customer{}
	err = rules.Apply(&c, Input{Kind: &badKind, Identities: &bad,
		Attributes: map[string]any{"level": "C", "score": "high", "unknown": 1.0}}, true)
	var e *errs.Error
	if !asError(err, &e) || len(e.Fields) != 7 {
		t.Fatalf("want 7 field errors (kind, name, 2 identities, 3 attributes), got %v", err)
	}
}

func asError(err error, target **errs.Error) bool {
	e, ok := err.(*errs.Error)
	*target = e
	return ok
}

func TestSearchTextFindsChineseByPinyin(t *testing.T) {
	s := SearchText("张伟", []Identity{{Type: "email", Value: "zw@example.com"}})
	for _, q := range []string{"张", "张伟", "zhangwei", "zhang", "zw", "example.com"} {
		if !strings.Contains(s, SearchQuery(q)) {
			t.Errorf("search text %q does not contain %q", s, q)
		}
	}
	if SortKey("张伟") != "zhangwei" || SortKey("Alice") != "alice" {
		t.Fatalf("sort keys: %q %q", SortKey("张伟"), SortKey("Alice"))
	}
}

// TestPinyinIsTheLibrarysReadingOfEveryCharacter: the precomputed table
// gives what pinyin.SinglePinyin gives, for every Han character (CJK
// Unified Ideographs and extension A).
func TestPinyinIsTheLibrarysReadingOfEveryCharacter(t *testing.T) {
	for r := rune(0x3400); r <= 0x9FFF; r++ {
		if !unicode.Is(unicode.Han, r) {
			continue
		}
		want := ""
		if py := pinyin.SinglePinyin(r, pinyinArgs); len(py) > 0 {
			want = py[0]
		}
		got, initials := Pinyin(string(r))
		if got != want || (want != "" && initials != want[:1]) {
			t.Fatalf("%c: got %q/%q, want %q", r, got, initials, want)
		}
	}
}

// TestNormalizeTextShortcutsAgreeWithTheGeneralPath: the ASCII and
// already-single-spaced shortcuts give what folding and collapsing give.
func TestNormalizeTextShortcutsAgreeWithTheGeneralPath(t *testing.T) {
	general := func(s string) string {
		return strings.Join(strings.FieldsFunc(width.Fold.String(s), unicode.IsSpace), " ")
	}
	for _, s := range []string{"", " ", "a", "a b", "a  b", " a", "a ", "a\tb", "a\u00a0b", "a\u3000b", "ＡＢＣ", "ｶﾀｶﾅ", "张伟",
		"张 伟", "张　伟", "138 0013 8000", "user1@example.com", "x\n", "\u2028", "a\u0085b", "é", "ｅ"} {
		if got, want := NormalizeText(s), general(s); got != want {
			t.Errorf("NormalizeText(%q) = %q, want %q", s, got, want)
		}
	}
}
