package textcheck

import (
	"net/url"
	"testing"
)

func TestString(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want error
	}{
		{"张伟 Zhang Wei", nil},
		{"", nil},
		{"a\x00b", ErrNUL},
		{"a\xffb", ErrNotUTF8},
		{"\xe5\xbc", ErrNotUTF8}, // a truncated 张
	} {
		if got := String(tc.in); got != tc.want {
			t.Errorf("String(%q) = %v, want %v", tc.in, got, tc.want)
		}
	}
}

func TestJSON(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want error
	}{
		{`{"name":"张伟"}`, nil},
		{`{"name":"\u5f20\u4f1f"}`, nil},
		{`{"name":"a\u0000b"}`, ErrNUL},
		{`{"name":"\u0000"}`, ErrNUL},
		{`{"name":"\\u0000"}`, nil},      // a backslash, then the text u0000
		{`{"name":"\\\u0000"}`, ErrNUL},  // a backslash, then NUL
		{`{"u0000":"x"}`, nil},           // the text, not an escape
		{`{"a":"\\\\u0000"}`, nil},       // two backslashes, then the text
		{"{\"a\":\"\xff\"}", ErrNotUTF8}, // not UTF-8
		{"{\"a\":\"\x00\"}", ErrNUL},     // a raw NUL (invalid JSON too)
		{`{"a":"x\u0000`, ErrNUL},        // at the very end
	} {
		if got := JSON([]byte(tc.in)); got != tc.want {
			t.Errorf("JSON(%s) = %v, want %v", tc.in, got, tc.want)
		}
	}
}

func TestURL(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want error
	}{
		{"/api/v1/customers?q=%E5%BC%A0", nil},
		{"/api/v1/customers/%00", ErrNUL},
		{"/api/v1/customers/a%FFb", ErrNotUTF8},
		{"/api/v1/customers?q=%00", ErrNUL},
		{"/api/v1/customers?%FF=1", ErrNotUTF8},
		{"/api/v1/customers?q=%zz", nil}, // does not parse: the handler's to reject
	} {
		u, err := url.Parse(tc.in)
		if err != nil {
			t.Fatal(err)
		}
		if got := URL(u); got != tc.want {
			t.Errorf("URL(%s) = %v, want %v", tc.in, got, tc.want)
		}
	}
}

func TestValues(t *testing.T) {
	for _, tc := range []struct {
		in   url.Values
		want error
	}{
		{url.Values{"name": {"张伟"}, "tag": {"vip", "老客户"}}, nil},
		{url.Values{"name": {"ok", "a\x00b"}}, ErrNUL},
		{url.Values{"a\xffb": {"ok"}}, ErrNotUTF8},
	} {
		if got := Values(tc.in); got != tc.want {
			t.Errorf("Values(%q) = %v, want %v", tc.in, got, tc.want)
		}
	}
}
