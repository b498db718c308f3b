package web

import (
	"embed"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"

	"golang.org/x/text/currency"
	"golang.org/x/text/language"
	"golang.org/x/text/message"
	"golang.org/x/text/number"
)

//go:embed i18n/*.json
var catalogFiles embed.FS

// The languages the UI speaks. The first is the fallback when a browser
// asks for neither.
var locales = []string{"en", "zh-CN"}

var matcher = language.NewMatcher([]language.Tag{language.English, language.SimplifiedChinese})

// Locale is one language's catalog and formatting rules.
type Locale struct {
	Code    string // "en" or "zh-CN"
	tag     language.Tag
	msgs    map[string]string
	printer *message.Printer
}

// loadCatalogs reads the embedded catalogs: for each language, CODE.json
// and any AREA.CODE.json (one file per screen area, so areas can grow
// without touching each other), each a JSON object of message id to text.
// A message id defined twice for one language is an error.
func loadCatalogs() (map[string]*Locale, error) {
	entries, err := catalogFiles.ReadDir("i18n")
	if err != nil {
		return nil, fmt.Errorf("web: read catalogs: %w", err)
	}
	out := map[string]*Locale{}
	for _, code := range locales {
		l := &Locale{Code: code, tag: language.MustParse(code), msgs: map[string]string{}}
		for _, e := range entries {
			name := e.Name()
			if name != code+".json" && !strings.HasSuffix(name, "."+code+".json") {
				continue
			}
			b, err := catalogFiles.ReadFile("i18n/" + name)
			if err != nil {
				return nil, fmt.Errorf("web: read catalog %s: %w", name, err)
			}
			var msgs map[string]string
			if err := json.Unmarshal(b, &msgs); err != nil {
				return nil, fmt.Errorf("web: parse catalog %s: %w", name, err)
			}
			for id, text := range msgs {
				if _, dup := l.msgs[id]; dup {
					return nil, fmt.Errorf("web: message %q defined twice for %s (again in %s)", id, code, name)
				}
				l.msgs[id] = text
			}
		}
		if len(l.msgs) == 0 {
			return nil, fmt.Errorf("web: no catalog for %s", code)
		}
		l.printer = message.NewPrinter(l.tag)
		out[code] = l
	}
	return out, nil
}

// parseLocale maps what a user or browser sent to one of our locales.
func parseLocale(s string) (string, bool) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "en", "en-us", "en-gb", "english":
		return "en", true
	case "zh", "zh-cn", "zh-hans", "zh-hans-cn", "中文":
		return "zh-CN", true
	}
	return "", false
}

// fromAcceptLanguage picks the locale a browser prefers.
func fromAcceptLanguage(r *http.Request) string {
	tags, _, err := language.ParseAcceptLanguage(r.Header.Get("Accept-Language"))
	if err != nil || len(tags) == 0 {
		return locales[0]
	}
	_, i, conf := matcher.Match(tags...)
	if conf == language.No {
		return locales[0]
	}
	return locales[i]
}

// Zh reports whether the locale is Chinese.
func (l *Locale) Zh() bool { return l.Code == "zh-CN" }

// T translates a message id, formatting args into it fmt-style. An unknown
// id is shown as itself (a test keeps every used id in both catalogs).
func (l *Locale) T(id string, args ...any) string {
	m, ok := l.msgs[id]
	if !ok {
		return id
	}
	if len(args) == 0 {
		return m
	}
	return fmt.Sprintf(m, args...)
}

// Num formats a number with grouping and at most two decimals.
func (l *Locale) Num(v any) string {
	f, ok := toFloat(v)
	if !ok {
		return fmt.Sprint(v)
	}
	return l.printer.Sprint(number.Decimal(f, number.MaxFractionDigits(2)))
}

// Int formats a whole number with grouping.
func (l *Locale) Int(v any) string {
	f, ok := toFloat(v)
	if !ok {
		return fmt.Sprint(v)
	}
	return l.printer.Sprint(number.Decimal(math.Round(f), number.MaxFractionDigits(0)))
}

// Compact formats a large number briefly: 1.2M in English, 120万 in Chinese.
func (l *Locale) Compact(v any) string {
	f, ok := toFloat(v)
	if !ok {
		return fmt.Sprint(v)
	}
	a := math.Abs(f)
	one := func(x float64, unit string) string {
		return strconv.FormatFloat(math.Round(x*10)/10, 'f', -1, 64) + unit
	}
	if l.Zh() {
		switch {
		case a >= 1e8:
			return one(f/1e8, "亿")
		case a >= 1e4:
			return one(f/1e4, "万")
		}
		return l.Int(f)
	}
	switch {
	case a >= 1e9:
		return one(f/1e9, "B")
	case a >= 1e6:
		return one(f/1e6, "M")
	case a >= 1e4:
		return one(f/1e3, "K")
	}
	return l.Int(f)
}

// Money formats an amount in a currency (ISO code; CNY when empty) the way
// the locale writes it: "CN¥ 1,234.50" in English, "￥ 1,234.50" in Chinese.
func (l *Locale) Money(v any, code ...string) string {
	f, ok := toFloat(v)
	if !ok {
		return fmt.Sprint(v)
	}
	c := "CNY"
	if len(code) > 0 && code[0] != "" {
		c = code[0]
	}
	unit, err := currency.ParseISO(c)
	if err != nil {
		return c + " " + l.Num(f)
	}
	return l.printer.Sprint(currency.Symbol(unit.Amount(f)))
}

// Pct formats a share (0.42) as a percentage (42%).
func (l *Locale) Pct(v any) string {
	f, ok := toFloat(v)
	if !ok {
		return fmt.Sprint(v)
	}
	return strconv.FormatFloat(math.Round(f*1000)/10, 'f', -1, 64) + "%"
}

// Date formats a day: "Mar 5, 2024" or "2024年3月5日".
func (l *Locale) Date(v any) string {
	t, ok := toTime(v)
	if !ok {
		return ""
	}
	if l.Zh() {
		return t.Format("2006年1月2日")
	}
	return t.Format("Jan 2, 2006")
}

// DateTime formats a moment to the minute.
func (l *Locale) DateTime(v any) string {
	t, ok := toTime(v)
	if !ok {
		return ""
	}
	if l.Zh() {
		return t.Format("2006年1月2日 15:04")
	}
	return t.Format("Jan 2, 2006 15:04")
}

// Ago says how long ago t was, relative to now, in whole units.
func (l *Locale) Ago(v any, now time.Time) string {
	t, ok := toTime(v)
	if !ok {
		return ""
	}
	d := now.Sub(t)
	future := d < 0
	if future {
		d = -d
	}
	var n int
	var unit string
	switch {
	case d < time.Minute:
		return l.T("time.just_now")
	case d < time.Hour:
		n, unit = int(d/time.Minute), "minutes"
	case d < 24*time.Hour:
		n, unit = int(d/time.Hour), "hours"
	case d < 60*24*time.Hour:
		n, unit = int(d/(24*time.Hour)), "days"
	case d < 730*24*time.Hour:
		n, unit = int(d/(30*24*time.Hour)), "months"
	default:
		n, unit = int(d/(365*24*time.Hour)), "years"
	}
	if future {
		return l.T("time.in_"+unit, n)
	}
	return l.T("time."+unit+"_ago", n)
}

// Label picks the English or Chinese of a bilingual pair.
func (l *Locale) Label(en, zh string) string {
	if l.Zh() && zh != "" {
		return zh
	}
	if en == "" {
		return zh
	}
	return en
}

func toFloat(v any) (float64, bool) {
	switch x := v.(type) {
	case float64:
		return x, true
	case *float64:
		if x == nil {
			return 0, false
		}
		return *x, true
	case float32:
		return float64(x), true
	case int:
		return float64(x), true
	case int64:
		return float64(x), true
	case int32:
		return float64(x), true
	case uint64:
		return float64(x), true
	case string:
		f, err := strconv.ParseFloat(x, 64)
		return f, err == nil
	}
	return 0, false
}

func toTime(v any) (time.Time, bool) {
	switch x := v.(type) {
	case time.Time:
		return x.Local(), !x.IsZero()
	case *time.Time:
		if x == nil || x.IsZero() {
			return time.Time{}, false
		}
		return x.Local(), true
	case string:
		if t, err := time.Parse(time.RFC3339Nano, x); err == nil {
			return t.Local(), true
		}
		if t, err := time.Parse(time.DateOnly, x); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}
