package web

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/rapportcrm/rapport/internal/auth"
	"github.com/rapportcrm/rapport/internal/customer"
)

func TestCatalogsHaveTheSameKeys(t *testing.T) {
	ls, err := loadCatalogs()
	if err != nil {
		t.Fatal(err)
	}
	en, zh := ls["en"].msgs, ls["zh-CN"].msgs
	for k := range en {
		if _, ok := zh[k]; !ok {
			t.Errorf("key %q is in en but not zh-CN", k)
		}
	}
	for k := range zh {
		if _, ok := en[k]; !ok {
			t.Errorf("key %q is in zh-CN but not en", k)
		}
	}
	for k, v := range zh {
		if v == "" || en[k] == "" {
			t.Errorf("key %q has an empty translation", k)
		}
	}
}

// Every message id the templates and handlers use, literally or by a known
// prefix, exists in the catalogs (which the test above keeps in step).
func TestEveryUsedKeyIsInTheCatalogs(t *testing.T) {
	ls, err := loadCatalogs()
	if err != nil {
		t.Fatal(err)
	}
	en := ls["en"].msgs
	used := map[string]bool{}
	lit := regexp.MustCompile(`\bT[ (]"([a-z0-9_]+\.[a-z0-9_.]+)"`)
	err = fs.WalkDir(assets, "templates", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, _ := assets.ReadFile(p)
		for _, m := range lit.FindAllStringSubmatch(string(b), -1) {
			used[m[1]] = true
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	goFiles, _ := filepath.Glob("*.go")
	for _, f := range goFiles {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		b, _ := os.ReadFile(f)
		for _, m := range lit.FindAllStringSubmatch(string(b), -1) {
			if !strings.HasSuffix(m[1], "_") && !strings.HasSuffix(m[1], ".") {
				used[m[1]] = true // prefixes are expanded below
			}
		}
	}
	for _, k := range customer.InteractionKinds {
		used["ikind."+k] = true
	}
	for _, r := range auth.Roles {
		used["role."+string(r)] = true
	}
	for _, k := range []string{"wechat_openid", "external_id", "anonymous_id", "email", "phone"} {
		used["id."+k] = true
	}
	for _, k := range []string{"day", "week", "month"} {
		used["unit."+k] = true
	}
	for _, k := range []string{"person", "organization"} {
		used["kind."+k] = true
	}
	for _, k := range []string{"all", "note", "interaction", "order"} {
		used["tl."+k] = true
	}
	for _, k := range []string{"text", "number", "date", "enum", "bool"} {
		used["ftype."+k] = true
	}
	for _, a := range []string{"tag", "untag", "assign"} {
		used["bulk.done_"+a] = true
	}
	for _, u := range []string{"minutes", "hours", "days", "months", "years"} {
		used["time."+u+"_ago"], used["time.in_"+u] = true, true
	}
	for _, k := range []string{"internal", "not_found", "forbidden", "invalid", "conflict", "stale"} {
		used["error."+k] = true
	}
	if len(used) < 100 {
		t.Fatalf("found only %d used keys; the scan is broken", len(used))
	}
	var missing []string
	for k := range used {
		if _, ok := en[k]; !ok {
			missing = append(missing, k)
		}
	}
	slices.Sort(missing)
	if len(missing) > 0 {
		t.Fatalf("keys used but not in the catalogs: %v", missing)
	}
}

func TestFormattingPerLocale(t *testing.T) {
	ls, err := loadCatalogs()
	if err != nil {
		t.Fatal(err)
	}
	en, zh := ls["en"], ls["zh-CN"]
	day := time.Date(2024, 3, 5, 14, 7, 0, 0, time.Local)
	cases := []struct{ name, got, want string }{
		{"en number", en.Num(1234567.891), "1,234,567.89"},
		{"zh number", zh.Num(1234567.891), "1,234,567.89"},
		{"en money", en.Money(1234.5), "CN¥ 1,234.50"},
		{"zh money", zh.Money(1234.5), "￥ 1,234.50"},
		{"en usd", en.Money(12.5, "USD"), "$ 12.50"},
		{"zh usd", zh.Money(12.5, "USD"), "US$ 12.50"},
		{"en compact", en.Compact(1_234_567), "1.2M"},
		{"zh compact", zh.Compact(1_234_567), "123.5万"},
		{"zh compact yi", zh.Compact(320_000_000), "3.2亿"},
		{"small compact", en.Compact(2137.09), "2,137"},
		{"pct", en.Pct(0.4237), "42.4%"},
		{"en date", en.Date(day), "Mar 5, 2024"},
		{"zh date", zh.Date(day), "2024年3月5日"},
		{"zh datetime", zh.DateTime(day), "2024年3月5日 14:07"},
		{"en ago", en.Ago(day, day.Add(72*time.Hour)), "3 days ago"},
		{"zh ago", zh.Ago(day, day.Add(72*time.Hour)), "3 天前"},
		{"zh future", zh.Ago(day.Add(48*time.Hour), day), "2 天后"},
		{"en T args", en.T("c360.orders_n", 3), "3 orders"},
		{"unknown id", en.T("no.such.key"), "no.such.key"},
	}
	for _, c := range cases {
		if c.got != c.want {
			t.Errorf("%s = %q, want %q", c.name, c.got, c.want)
		}
	}
}

func TestParseLocale(t *testing.T) {
	for in, want := range map[string]string{"en": "en", "EN-us": "en", "zh-CN": "zh-CN", "zh": "zh-CN", "zh-Hans": "zh-CN"} {
		if got, ok := parseLocale(in); !ok || got != want {
			t.Errorf("parseLocale(%q) = %q, %v", in, got, ok)
		}
	}
	if _, ok := parseLocale("fr"); ok {
		t.Error("fr accepted")
	}
}

func TestLimiterWindow(t *testing.T) {
	l := newLimiter(3, time.Minute)
	t0 := time.Unix(1000, 0)
	for i := range 3 {
		if l.blocked("k", t0) != 0 {
			t.Fatalf("blocked after %d failures", i)
		}
		l.fail("k", t0.Add(time.Duration(i)*time.Second))
	}
	if w := l.blocked("k", t0.Add(10*time.Second)); w != 50*time.Second {
		t.Fatalf("wait = %v, want 50s (until the first failure leaves the window)", w)
	}
	if l.blocked("k", t0.Add(61*time.Second)) != 0 {
		t.Fatal("still blocked after the window")
	}
	l.fail("other", t0)
	l.reset("other")
	if l.blocked("other", t0) != 0 {
		t.Fatal("reset did not clear")
	}
}
