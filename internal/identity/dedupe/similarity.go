package dedupe

import "unicode/utf8"

// JaroWinkler returns the Jaro–Winkler similarity of a and b in [0, 1]
// (prefix scale 0.1, at most 4 prefix characters, boost applied when the
// Jaro similarity exceeds 0.7). Two empty strings are identical.
func JaroWinkler(a, b string) float64 {
	if isASCII(a) && isASCII(b) {
		return jaroWinkler([]byte(a), []byte(b))
	}
	return jaroWinkler([]rune(a), []rune(b))
}

// Jaro returns the Jaro similarity of a and b in [0, 1].
func Jaro(a, b string) float64 {
	if isASCII(a) && isASCII(b) {
		return jaro([]byte(a), []byte(b))
	}
	return jaro([]rune(a), []rune(b))
}

// Levenshtein returns the edit distance (insertions, deletions,
// substitutions) between a and b, counted in characters.
func Levenshtein(a, b string) int {
	if isASCII(a) && isASCII(b) {
		return levenshtein([]byte(a), []byte(b))
	}
	return levenshtein([]rune(a), []rune(b))
}

// LevenshteinSimilarity is 1 − distance / length of the longer string, the
// form the recordlinkage package uses. Two empty strings are identical.
func LevenshteinSimilarity(a, b string) float64 {
	la, lb := utf8.RuneCountInString(a), utf8.RuneCountInString(b)
	n := max(la, lb)
	if n == 0 {
		return 1
	}
	return 1 - float64(Levenshtein(a, b))/float64(n)
}

// EditKind names the single edit that turns one string into another.
type EditKind uint8

// The single edits WithinOneEdit recognises.
const (
	EditNone          EditKind = iota // the strings are equal
	EditSubstitution                  // one character replaced
	EditInsertion                     // one character added or removed
	EditTransposition                 // two adjacent characters swapped
	EditMore                          // more than one edit apart
)

// WithinOneEdit says whether a and b are at most one edit apart, counting
// the swap of two adjacent characters as one edit (the optimal string
// alignment distance ≤ 1), and which edit it is. It runs in linear time.
func WithinOneEdit(a, b string) EditKind {
	if a == b {
		return EditNone
	}
	if !isASCII(a) || !isASCII(b) {
		return withinOneEdit([]rune(a), []rune(b))
	}
	return withinOneEdit([]byte(a), []byte(b))
}

func withinOneEdit[T byte | rune](a, b []T) EditKind {
	if len(a) < len(b) {
		a, b = b, a
	}
	switch len(a) - len(b) {
	case 0:
		i := 0
		for i < len(a) && a[i] == b[i] {
			i++
		}
		if i == len(a) {
			return EditNone
		}
		if eq(a[i+1:], b[i+1:]) {
			return EditSubstitution
		}
		if i+1 < len(a) && a[i] == b[i+1] && a[i+1] == b[i] && eq(a[i+2:], b[i+2:]) {
			return EditTransposition
		}
		return EditMore
	case 1:
		i := 0
		for i < len(b) && a[i] == b[i] {
			i++
		}
		if eq(a[i+1:], b[i:]) {
			return EditInsertion
		}
	}
	return EditMore
}

func eq[T byte | rune](a, b []T) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

func jaro[T byte | rune](a, b []T) float64 {
	la, lb := len(a), len(b)
	if la == 0 && lb == 0 {
		return 1
	}
	if la == 0 || lb == 0 {
		return 0
	}
	window := max(la, lb)/2 - 1
	if window < 0 {
		window = 0
	}
	// Match flags live on the stack for names and addresses; longer
	// strings allocate.
	var bufA, bufB [64]bool
	ma, mb := bufA[:0], bufB[:0]
	if la <= len(bufA) {
		ma = bufA[:la]
	} else {
		ma = make([]bool, la)
	}
	if lb <= len(bufB) {
		mb = bufB[:lb]
	} else {
		mb = make([]bool, lb)
	}
	matches := 0
	for i := 0; i < la; i++ {
		lo, hi := max(0, i-window), min(lb, i+window+1)
		for j := lo; j < hi; j++ {
			if !mb[j] && a[i] == b[j] {
				ma[i], mb[j] = true, true
				matches++
				break
			}
		}
	}
	if matches == 0 {
		return 0
	}
	half, k := 0, 0
	for i := 0; i < la; i++ {
		if !ma[i] {
			continue
		}
		for !mb[k] {
			k++
		}
		if a[i] != b[k] {
			half++
		}
		k++
	}
	m := float64(matches)
	return (m/float64(la) + m/float64(lb) + (m-float64(half/2))/m) / 3
}

func jaroWinkler[T byte | rune](a, b []T) float64 {
	j := jaro(a, b)
	if j <= 0.7 {
		return j
	}
	p := 0
	for p < 4 && p < len(a) && p < len(b) && a[p] == b[p] {
		p++
	}
	return j + float64(p)*0.1*(1-j)
}

func levenshtein[T byte | rune](a, b []T) int {
	if len(a) < len(b) {
		a, b = b, a
	}
	if len(b) == 0 {
		return len(a)
	}
	var buf [65]int
	var row []int
	if len(b)+1 <= len(buf) {
		row = buf[:len(b)+1]
	} else {
		row = make([]int, len(b)+1)
	}
	for j := range row {
		row[j] = j
	}
	for i := 1; i <= len(a); i++ {
		prev := row[0]
		row[0] = i
		for j := 1; j <= len(b); j++ {
			cur := row[j]
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			row[j] = min(row[j]+1, row[j-1]+1, prev+cost)
			prev = cur
		}
	}
	return row[len(b)]
}

// Soundex returns the American Soundex code of the ASCII letters in s
// ("robert" → "R163"), or "" when s has none.
func Soundex(s string) string {
	const codes = "01230120022455012623010202" // a..z
	var out [4]byte
	n := 0
	var last byte
	for i := 0; i < len(s) && n < 4; i++ {
		c := s[i]
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c < 'a' || c > 'z' {
			continue
		}
		code := codes[c-'a']
		if n == 0 {
			out[0] = c - 'a' + 'A'
			n = 1
			last = code
			continue
		}
		if code != '0' && code != last {
			out[n] = code
			n++
		}
		if c != 'h' && c != 'w' {
			last = code
		}
	}
	if n == 0 {
		return ""
	}
	for n < 4 {
		out[n] = '0'
		n++
	}
	return string(out[:])
}
