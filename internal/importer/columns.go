// Package importer turns customer files (CSV, XLSX, GBK exports) into
// Rapport's canonical fields. This file holds the header guesser: it maps a
// column header written in Chinese or English to a canonical field name.
// It must not read files or touch storage.
package importer

import (
	"strings"
	"unicode"

	"golang.org/x/text/width"
)

// Field is the canonical name of a customer field an import column can fill.
type Field string

// The canonical fields. Their string values are stable: other packages and
// saved import mappings refer to them by value.
const (
	FieldName         Field = "name"
	FieldGivenName    Field = "given_name"
	FieldSurname      Field = "surname"
	FieldPhone        Field = "phone"
	FieldEmail        Field = "email"
	FieldCompany      Field = "company"
	FieldAddress      Field = "address"
	FieldAddress2     Field = "address_2"
	FieldStreetNumber Field = "street_number"
	FieldCity         Field = "city"
	FieldPostcode     Field = "postcode"
	FieldState        Field = "state"
	FieldBirthDate    Field = "birth_date"
	FieldGender       Field = "gender"
	FieldNationalID   Field = "national_id"
)

// headerFields lists, per canonical field, the headers people write for it.
// Entries are compared after normalizeHeader, so "First Name", "first_name"
// and "FIRSTNAME" are one entry.
var headerFields = map[Field][]string{
	FieldName:         {"姓名", "名字", "客户姓名", "客户名称", "联系人", "name", "full name", "fullname", "customer name", "contact name"},
	FieldGivenName:    {"名", "given_name", "given name", "first name", "firstname", "forename"},
	FieldSurname:      {"姓", "姓氏", "surname", "last name", "lastname", "family name"},
	FieldPhone:        {"手机", "手机号", "手机号码", "电话", "电话号码", "联系电话", "联系方式", "mobile", "mobile phone", "cell", "cellphone", "phone", "phone number", "telephone", "tel"},
	FieldEmail:        {"邮箱", "电子邮箱", "电子邮件", "邮件", "email", "e-mail", "email address", "mail"},
	FieldCompany:      {"公司", "公司名称", "单位", "工作单位", "企业", "company", "company name", "organization", "organisation", "employer"},
	FieldAddress:      {"地址", "详细地址", "联系地址", "住址", "街道", "address", "address_1", "address line 1", "street", "street address"},
	FieldAddress2:     {"地址2", "address_2", "address line 2"},
	FieldStreetNumber: {"门牌号", "street_number", "street no", "house number"},
	FieldCity:         {"城市", "市", "所在城市", "city", "suburb", "town"},
	FieldPostcode:     {"邮编", "邮政编码", "postcode", "post code", "postal code", "zip", "zip code", "zipcode"},
	FieldState:        {"省", "省份", "所在省份", "state", "province", "region"},
	FieldBirthDate:    {"生日", "出生日期", "出生年月日", "date_of_birth", "date of birth", "dob", "birthday", "birth date", "birthdate"},
	FieldGender:       {"性别", "gender", "sex"},
	FieldNationalID:   {"身份证", "身份证号", "身份证号码", "证件号", "证件号码", "soc_sec_id", "ssn", "social security number", "national_id", "national id", "id card", "id number"},
}

var headerIndex = func() map[string]Field {
	idx := make(map[string]Field)
	for f, names := range headerFields {
		for _, n := range names {
			idx[normalizeHeader(n)] = f
		}
	}
	return idx
}()

// GuessField returns the canonical field a column header most likely holds,
// and false when the header is not recognised. Matching ignores case,
// full-width forms, spaces, underscores, hyphens and dots, and an "(optional)"
// style parenthesised suffix, so "E-mail", "e_mail" and "手机号（必填）" match.
func GuessField(header string) (Field, bool) {
	f, ok := headerIndex[normalizeHeader(header)]
	return f, ok
}

// normalizeHeader folds a header to the form headerIndex is keyed by.
func normalizeHeader(h string) string {
	h = width.Fold.String(h)
	if i := strings.IndexAny(h, "(["); i > 0 {
		h = h[:i]
	}
	var b strings.Builder
	for _, r := range strings.TrimPrefix(h, "\ufeff") {
		switch {
		case unicode.IsSpace(r), r == '_', r == '-', r == '.', r == '*', r == ':':
			continue
		}
		b.WriteRune(unicode.ToLower(r))
	}
	return b.String()
}
