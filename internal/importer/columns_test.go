package importer

import "testing"

func TestGuessFieldMapsChineseAndEnglishHeaders(t *testing.T) {
	cases := []struct {
		header string
		want   Field
	}{
		{"姓名", FieldName}, {"name", FieldName}, {"Full Name", FieldName},
		{"名", FieldGivenName}, {"given_name", FieldGivenName}, {"First Name", FieldGivenName},
		{"姓", FieldSurname}, {"surname", FieldSurname}, {"last_name", FieldSurname},
		{"手机", FieldPhone}, {"手机号", FieldPhone}, {"Mobile", FieldPhone}, {"phone", FieldPhone}, {"电话", FieldPhone},
		{"邮箱", FieldEmail}, {"email", FieldEmail}, {"E-mail", FieldEmail}, {"E_Mail", FieldEmail},
		{"公司", FieldCompany}, {"company", FieldCompany}, {"Organization", FieldCompany},
		{"地址", FieldAddress}, {"address", FieldAddress}, {"address_1", FieldAddress}, {"Address 1", FieldAddress},
		{"address_2", FieldAddress2},
		{"城市", FieldCity}, {"city", FieldCity}, {"suburb", FieldCity},
		{"邮编", FieldPostcode}, {"postcode", FieldPostcode}, {"ZIP", FieldPostcode},
		{"省", FieldState}, {"state", FieldState}, {"Province", FieldState},
		{"生日", FieldBirthDate}, {"出生日期", FieldBirthDate}, {"date_of_birth", FieldBirthDate}, {"DOB", FieldBirthDate}, {"birthday", FieldBirthDate},
		{"性别", FieldGender}, {"gender", FieldGender},
		{"身份证", FieldNationalID}, {"soc_sec_id", FieldNationalID}, {"national_id", FieldNationalID},
		{"street_number", FieldStreetNumber},
		// Case, spacing, full-width forms and a parenthesised note do not matter.
		{"  GIVEN   NAME ", FieldGivenName}, {"ｅｍａｉｌ", FieldEmail}, {"手机号（必填）", FieldPhone}, {"\ufeffname", FieldName},
	}
	for _, c := range cases {
		got, ok := GuessField(c.header)
		if !ok || got != c.want {
			t.Errorf("GuessField(%q) = %q, %v; want %q", c.header, got, ok, c.want)
		}
	}
}

func TestGuessFieldRejectsUnknownHeaders(t *testing.T) {
	for _, h := range []string{"", "rec_id", "订单金额", "notes", "名称X"} {
		if f, ok := GuessField(h); ok {
			t.Errorf("GuessField(%q) = %q, want not recognised", h, f)
		}
	}
}

func TestEveryFieldHasAChineseAndAnEnglishHeader(t *testing.T) {
	for f, names := range headerFields {
		var han, latin bool
		for _, n := range names {
			for _, r := range n {
				if r >= 0x4e00 && r <= 0x9fff {
					han = true
				} else if r >= 'a' && r <= 'z' {
					latin = true
				}
			}
		}
		if !latin {
			t.Errorf("field %q has no English header", f)
		}
		if !han {
			t.Errorf("field %q has no Chinese header", f)
		}
	}
}

func TestNoHeaderIsClaimedByTwoFields(t *testing.T) {
	seen := map[string]Field{}
	for f, names := range headerFields {
		for _, n := range names {
			k := normalizeHeader(n)
			if g, dup := seen[k]; dup && g != f {
				t.Errorf("header %q maps to both %q and %q", n, g, f)
			}
			seen[k] = f
		}
	}
}
