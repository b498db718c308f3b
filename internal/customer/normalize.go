package customer

import (
	"net/mail"
	"regexp"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"github.com/nyaruka/phonenumbers"
	"golang.org/x/text/width"

	"github.com/rapportcrm/rapport/internal/errs"
)

// DefaultRegion is the phone region assumed for numbers written without a
// country code.
const DefaultRegion = "CN"

// NormalizeText trims s, folds full-width characters (including the
// ideographic space) to their narrow forms and collapses runs of spaces.
// Chinese characters are left as they are.
func NormalizeText(s string) string {
	if !isASCII(s) { // width.Fold leaves ASCII as it is, and allocates anyway
		s = width.Fold.String(s)
	}
	if singleSpaced(s) {
		return s
	}
	return strings.Join(strings.FieldsFunc(s, unicode.IsSpace), " ")
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// singleSpaced reports whether s is already what collapsing its spaces
// gives: no space at either end, and only single plain spaces between.
func singleSpaced(s string) bool {
	space := true // at the start, a space would be leading
	for _, r := range s {
		if unicode.IsSpace(r) {
			if space || r != ' ' {
				return false
			}
			space = true
			continue
		}
		space = false
	}
	return !space || s == ""
}

// NormalizeEmail lower-cases and trims an email address and checks that it
// is a plain address (no display name).
func NormalizeEmail(raw string) (string, error) {
	s := strings.ToLower(NormalizeText(raw))
	if s == "" {
		return "", errs.E(errs.Invalid, "email is empty")
	}
	addr, err := mail.ParseAddress(s)
	if err != nil || addr.Address != s || addr.Name != "" {
		return "", errs.E(errs.Invalid, "%q is not a valid email address", raw)
	}
	at := strings.LastIndexByte(s, '@')
	if at < 1 || !strings.Contains(s[at+1:], ".") || strings.HasSuffix(s, ".") {
		return "", errs.E(errs.Invalid, "%q is not a valid email address", raw)
	}
	return s, nil
}

// NormalizePhone parses a phone number written the way people write them
// ("138 0013 8000", "+1 (415) 555-0100", "０１０－１２３４５６７８") and returns it
// in E.164 form. Numbers without a country code are read in region.
func NormalizePhone(raw, region string) (string, error) {
	s := NormalizeText(raw)
	if s == "" {
		return "", errs.E(errs.Invalid, "phone is empty")
	}
	if region == "" {
		region = DefaultRegion
	}
	region = strings.ToUpper(region)
	if digits, ok := chineseMobile(s, region); ok {
		valid, known := mobilePrefixes.Load(digits[:7])
		if !known {
			_, err := parsePhone(s, raw, region)
			valid = err == nil
			mobilePrefixes.Store(digits[:7], valid)
		}
		if !valid.(bool) {
			return "", errs.E(errs.Invalid, "%q is not a valid phone number", raw)
		}
		return "+86" + digits, nil
	}
	return parsePhone(s, raw, region)
}

// mobilePrefixes remembers, per 7-digit prefix, whether libphonenumber
// accepts Chinese mobile numbers starting with it. Parsing with
// libphonenumber costs ~20 µs a number (most of it regular expressions),
// a fifth of a bulk create or import; its rules for Chinese mobiles
// depend on the leading digits only (1740[0-5]…, 1[38]…, 14[57]…), so the
// first number with a prefix decides for all of them (a test compares
// both paths on every prefix).
var mobilePrefixes sync.Map // string → bool

// chineseMobile recognizes the common ways a Chinese mobile is written —
// 11 digits starting with 1 in region CN, or after +86 — with spaces,
// dashes, dots or parentheses between digits, and returns the 11 digits.
func chineseMobile(s, region string) (string, bool) {
	rest, cn := strings.CutPrefix(s, "+86")
	if !cn && region != "CN" {
		return "", false
	}
	var b [11]byte
	n := 0
	for i := 0; i < len(rest); i++ {
		c := rest[i]
		switch {
		case c >= '0' && c <= '9':
			if n == len(b) {
				return "", false
			}
			b[n] = c
			n++
		case c == ' ' || c == '-' || c == '.' || c == '(' || c == ')':
		default:
			return "", false
		}
	}
	if n != len(b) || b[0] != '1' {
		return "", false
	}
	return string(b[:]), true
}

// parsePhone is the full libphonenumber path; raw is for the message.
func parsePhone(s, raw, region string) (string, error) {
	num, err := phonenumbers.Parse(s, region)
	if err != nil || !phonenumbers.IsValidNumber(num) {
		return "", errs.E(errs.Invalid, "%q is not a valid phone number", raw)
	}
	return phonenumbers.Format(num, phonenumbers.E164), nil
}

var identityTypePattern = regexp.MustCompile(`^[a-z][a-z0-9_]{0,39}$`)

// NormalizeIdentity normalizes one identity by its type.
func NormalizeIdentity(id Identity, region string) (Identity, error) {
	id.Type = strings.ToLower(strings.TrimSpace(id.Type))
	id.Source = NormalizeText(id.Source)
	if !identityTypePattern.MatchString(id.Type) {
		return id, errs.E(errs.Invalid, "identity type %q must be lower-case letters, digits or _", id.Type)
	}
	var err error
	switch id.Type {
	case IdentityEmail:
		id.Value, err = NormalizeEmail(id.Value)
	case IdentityPhone:
		id.Value, err = NormalizePhone(id.Value, region)
	default:
		id.Value = NormalizeText(id.Value)
		if id.Value == "" {
			err = errs.E(errs.Invalid, "%s is empty", id.Type)
		} else if len(id.Value) > 200 {
			err = errs.E(errs.Invalid, "%s is longer than 200 bytes", id.Type)
		}
	}
	if id.Type != IdentityExternalID {
		id.Source = ""
	}
	return id, err
}
