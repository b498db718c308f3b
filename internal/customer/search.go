package customer

import (
	"strings"
	"sync"
	"unicode"

	"github.com/mozillazg/go-pinyin"
)

// SearchText is the text a customer is found by: the name, its pinyin
// spelled out and as initials (so "zhangwei" and "zw" find 张伟), and every
// identity value. It is lower-case so a case-insensitive substring match is
// a plain substring match.
func SearchText(name string, ids []Identity) string {
	var b strings.Builder
	b.WriteString(strings.ToLower(name))
	if full, initials := Pinyin(name); full != "" {
		b.WriteString(" ")
		b.WriteString(full)
		b.WriteString(" ")
		b.WriteString(initials)
	}
	for _, id := range ids {
		b.WriteString(" ")
		b.WriteString(strings.ToLower(id.Value))
	}
	return b.String()
}

// SearchQuery normalizes a search query the way SearchText normalizes
// stored text.
func SearchQuery(q string) string {
	return strings.ToLower(NormalizeText(q))
}

var pinyinArgs = func() pinyin.Args {
	a := pinyin.NewArgs()
	a.Style = pinyin.Normal
	return a
}()

// Pinyin returns the toneless pinyin of the Han characters in s, joined
// without spaces, and their initials. Both are empty when s has no Han
// characters. Names sort by the full form.
func Pinyin(s string) (full, initials string) {
	hasHan := false
	for _, r := range s {
		if unicode.Is(unicode.Han, r) {
			hasHan = true
			break
		}
	}
	if !hasHan {
		return "", ""
	}
	var f, i strings.Builder
	for _, r := range s {
		if !unicode.Is(unicode.Han, r) {
			if unicode.IsLetter(r) || unicode.IsDigit(r) {
				f.WriteRune(unicode.ToLower(r))
			}
			continue
		}
		py := hanPinyin()[r]
		if py == "" {
			continue
		}
		f.WriteString(py)
		i.WriteByte(py[0])
	}
	return f.String(), i.String()
}

// hanPinyin maps every character of the pinyin dictionary to its first
// reading without tones, as pinyin.SinglePinyin gives it. Built once:
// SinglePinyin splits the dictionary entry and strips the tone marks on
// every call (1.3 µs a character, 7% of a million-row import's CPU).
var hanPinyin = sync.OnceValue(func() map[rune]string {
	m := make(map[rune]string, len(pinyin.PinyinDict))
	for r := range pinyin.PinyinDict {
		if py := pinyin.SinglePinyin(rune(r), pinyinArgs); len(py) > 0 && py[0] != "" {
			m[rune(r)] = py[0]
		}
	}
	return m
})

// SortKey orders names the way a Chinese reader expects: Han names by their
// pinyin, others by their lower-case form.
func SortKey(name string) string {
	if full, _ := Pinyin(name); full != "" {
		return full
	}
	return strings.ToLower(name)
}
