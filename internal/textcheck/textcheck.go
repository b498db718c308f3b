// Package textcheck finds text no column can hold the same on both
// engines: NUL characters, which PostgreSQL's text and jsonb types reject,
// and bytes that are not UTF-8, which PostgreSQL rejects and SQLite would
// store as they came. Rapport refuses such input at the door, with a 4xx
// that says why, instead of storing it on SQLite and answering 500 on
// PostgreSQL.
package textcheck

import (
	"bytes"
	"errors"
	"net/url"
	"strings"
	"unicode/utf8"
)

// The two ways text is unusable.
var (
	ErrNUL     = errors.New("text may not contain NUL (U+0000) characters")
	ErrNotUTF8 = errors.New("text must be UTF-8")
)

// String reports whether s is storable text.
func String(s string) error {
	if strings.IndexByte(s, 0) >= 0 {
		return ErrNUL
	}
	if !utf8.ValidString(s) {
		return ErrNotUTF8
	}
	return nil
}

// JSON reports whether the strings of a JSON document are storable: the
// bytes are UTF-8 without a NUL, and no string holds a \u0000 escape. It
// does not check that b is valid JSON.
func JSON(b []byte) error {
	if bytes.IndexByte(b, 0) >= 0 {
		return ErrNUL
	}
	if !utf8.Valid(b) {
		return ErrNotUTF8
	}
	for i := 0; ; {
		j := bytes.Index(b[i:], []byte(`u0000`))
		if j < 0 {
			return nil
		}
		at := i + j
		// The escape is real when an odd run of backslashes precedes the
		// u: "\\u0000" is a backslash followed by the text u0000.
		run := 0
		for k := at - 1; k >= 0 && b[k] == '\\'; k-- {
			run++
		}
		if run%2 == 1 {
			return ErrNUL
		}
		i = at + len(`u0000`)
	}
}

// URL reports whether a request URL's decoded path and query (names and
// values) are storable text. A query that does not parse is left to the
// handler, which rejects it in its own words.
func URL(u *url.URL) error {
	if err := String(u.Path); err != nil {
		return err
	}
	q, err := url.ParseQuery(u.RawQuery)
	if err != nil {
		return nil
	}
	return Values(q)
}

// Values reports whether every name and value of a query or url-encoded
// form is storable text.
func Values(vs url.Values) error {
	for k, list := range vs {
		if err := String(k); err != nil {
			return err
		}
		for _, v := range list {
			if err := String(v); err != nil {
				return err
			}
		}
	}
	return nil
}
