package dedupe

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/width"

	"github.com/rapportcrm/rapport/internal/customer"
)

// Record is one customer as the duplicate finder sees it. Every field is
// optional; an empty field counts as missing, never as a disagreement. Name
// is used when GivenName and Surname are both empty: a Chinese name is
// split after its (possibly two-character) surname, a Latin one into first
// and last word.
type Record struct {
	ID           string `json:"id"`
	Name         string `json:"name,omitempty"`
	GivenName    string `json:"given_name,omitempty"`
	Surname      string `json:"surname,omitempty"`
	BirthDate    string `json:"birth_date,omitempty"` // YYYYMMDD, YYYY-MM-DD, 1990年1月2日, …
	Gender       string `json:"gender,omitempty"`
	Phone        string `json:"phone,omitempty"`
	Email        string `json:"email,omitempty"`
	NationalID   string `json:"national_id,omitempty"`
	Company      string `json:"company,omitempty"`
	StreetNumber string `json:"street_number,omitempty"`
	Address      string `json:"address,omitempty"`
	Address2     string `json:"address_2,omitempty"`
	City         string `json:"city,omitempty"`
	Postcode     string `json:"postcode,omitempty"`
	State        string `json:"state,omitempty"`
}

// prepared is a Record normalized once for comparison and blocking.
type prepared struct {
	given, surname       string // lower-case Latin letters, or pinyin of Han
	givenHan, surnameHan string // the Han original, "" for Latin names
	birth                string // YYYYMMDD when it parses, else the digits
	gender               byte   // 'f', 'm' or 0
	phone, email, nid    string
	street, addr1, addr2 string
	city, postcode       string
	state, company       string
}

func prepare(r *Record) prepared {
	var p prepared
	given, surname := r.GivenName, r.Surname
	if strings.TrimSpace(given) == "" && strings.TrimSpace(surname) == "" && r.Name != "" {
		given, surname = splitName(r.Name)
	}
	p.given, p.givenHan = nameKey(given)
	p.surname, p.surnameHan = nameKey(surname)
	p.birth = normalizeDate(r.BirthDate)
	p.gender = normalizeGender(r.Gender)
	p.phone = normalizePhone(r.Phone)
	p.email = fold(r.Email)
	p.nid = alnum(r.NationalID)
	p.street = alnum(r.StreetNumber)
	p.addr1 = fold(r.Address)
	p.addr2 = fold(r.Address2)
	p.city = fold(r.City)
	p.postcode = alnum(r.Postcode)
	p.state = fold(r.State)
	p.company = fold(r.Company)
	return p
}

// fold lower-cases s, folds full-width forms and collapses spaces. ASCII
// input that needs no change is returned without allocating.
func fold(s string) string {
	s = strings.TrimSpace(s)
	if !isASCII(s) {
		s = customer.NormalizeText(s)
		return strings.ToLower(s)
	}
	clean := true
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'A' && c <= 'Z' || c == ' ' && i > 0 && s[i-1] == ' ' || c < ' ' {
			clean = false
			break
		}
	}
	if clean {
		return s
	}
	return strings.ToLower(strings.Join(strings.Fields(s), " "))
}

// alnum keeps the letters and digits of s, lower-cased.
func alnum(s string) string {
	clean := true
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'z') {
			clean = false
			break
		}
	}
	if clean {
		return s
	}
	s = width.Fold.String(s)
	var b strings.Builder
	for _, r := range s {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			b.WriteRune(unicode.ToLower(r))
		}
	}
	return b.String()
}

func digits(s string) string {
	var b strings.Builder
	for _, r := range width.Fold.String(s) {
		if r >= '0' && r <= '9' {
			b.WriteByte(byte(r))
		}
	}
	return b.String()
}

// normalizePhone keeps the digits and drops a +86/0086 country code or a
// leading trunk 0, so "+86 138 0013 8000" and "13800138000" agree.
func normalizePhone(s string) string {
	d := digits(s)
	switch {
	case strings.HasPrefix(d, "0086") && len(d) > 11:
		d = d[4:]
	case strings.HasPrefix(d, "86") && len(d) == 13:
		d = d[2:]
	}
	return strings.TrimLeft(d, "0")
}

func normalizeGender(s string) byte {
	switch fold(s) {
	case "f", "female", "woman", "w", "女", "女性", "2":
		return 'f'
	case "m", "male", "man", "男", "男性", "1":
		return 'm'
	}
	return 0
}

// normalizeDate turns a birth date into YYYYMMDD when it has a recognisable
// shape (YYYYMMDD, YYYY-MM-DD, YYYY/M/D, YYYY年M月D日, DD/MM/YYYY) and
// otherwise keeps its digits, so a corrupted date can still be compared.
func normalizeDate(s string) string {
	s = strings.TrimSpace(width.Fold.String(s))
	if s == "" {
		return ""
	}
	parts := strings.FieldsFunc(s, func(r rune) bool { return r < '0' || r > '9' })
	if len(parts) == 3 {
		y, m, d := parts[0], parts[1], parts[2]
		if len(d) == 4 && len(y) <= 2 {
			y, d = d, y
		}
		if len(y) == 4 && len(m) <= 2 && len(d) <= 2 {
			return y + pad2(m) + pad2(d)
		}
	}
	return strings.Join(parts, "")
}

func pad2(s string) string {
	if len(s) == 1 {
		return "0" + s
	}
	return s
}

// compoundSurnames are the two-character Chinese surnames a name-only
// field is split after.
var compoundSurnames = map[string]bool{
	"欧阳": true, "司马": true, "诸葛": true, "上官": true, "东方": true, "皇甫": true,
	"尉迟": true, "公孙": true, "慕容": true, "长孙": true, "宇文": true, "司徒": true,
	"夏侯": true, "令狐": true, "澹台": true, "端木": true, "独孤": true, "南宫": true,
	"西门": true, "申屠": true, "轩辕": true, "呼延": true, "万俟": true, "闻人": true,
}

// splitName splits a whole name into given name and surname.
func splitName(name string) (given, surname string) {
	name = customer.NormalizeText(name)
	if hasHan(name) && !strings.Contains(name, " ") {
		rs := []rune(name)
		if len(rs) >= 3 && compoundSurnames[string(rs[:2])] {
			return string(rs[2:]), string(rs[:2])
		}
		if len(rs) >= 2 {
			return string(rs[1:]), string(rs[:1])
		}
		return "", name
	}
	if i := strings.IndexByte(name, ','); i >= 0 { // "Smith, John"
		return strings.TrimSpace(name[i+1:]), strings.TrimSpace(name[:i])
	}
	f := strings.Fields(name)
	switch len(f) {
	case 0:
		return "", ""
	case 1:
		return f[0], ""
	}
	return f[0], f[len(f)-1]
}

func hasHan(s string) bool {
	for _, r := range s {
		if r >= utf8.RuneSelf && unicode.Is(unicode.Han, r) {
			return true
		}
	}
	return false
}

// nameKey returns the comparison form of a name part: lower-case letters
// without spaces or punctuation, the pinyin for Han characters, and the Han
// original when there is one.
func nameKey(s string) (key, han string) {
	s = strings.TrimSpace(s)
	if s == "" {
		return "", ""
	}
	if hasHan(s) {
		full, _ := customer.Pinyin(s)
		var b strings.Builder
		for _, r := range s {
			if unicode.Is(unicode.Han, r) {
				b.WriteRune(r)
			}
		}
		return full, b.String()
	}
	clean := true
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 'a' || c > 'z' {
			clean = false
			break
		}
	}
	if clean {
		return s, ""
	}
	var b strings.Builder
	for _, r := range width.Fold.String(s) {
		if unicode.IsLetter(r) {
			b.WriteRune(unicode.ToLower(r))
		}
	}
	return b.String(), ""
}
