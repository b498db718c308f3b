package customer

import (
	"net/mail"
	"regexp"
	"strings"
	"unicode"

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
	s = width.Fold.String(s)
	return strings.Join(strings.FieldsFunc(s, unicode.IsSpace), " ")
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
	num, err := phonenumbers.Parse(s, strings.ToUpper(region))
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
