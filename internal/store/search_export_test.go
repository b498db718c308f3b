package store

import "context"

// SetSearchWindow changes how many newest customers a PostgreSQL search
// walks before it turns to the trigram index, so tests with a few hundred
// customers reach both plans. It returns a function that restores it.
func SetSearchWindow(n int) (restore func()) {
	old := searchWindow
	searchWindow = n
	return func() { searchWindow = old }
}

// SetDigitSearchSpan changes how many of the newest customers a PostgreSQL
// digit search looks among first, so tests with a few hundred customers
// reach its later steps. It returns a function that restores it.
func SetDigitSearchSpan(n int64) (restore func()) {
	old := digitSearchSpan
	digitSearchSpan = n
	return func() { digitSearchSpan = old }
}

// SearchDigitGrams is searchDigitGrams, the digit-window keys of a query.
var SearchDigitGrams = searchDigitGrams

// StoredDigitGrams returns PostgreSQL's search_digit_grams of text as an
// array literal.
func (s *Store) StoredDigitGrams(ctx context.Context, text string) (string, error) {
	var out string
	err := s.read.QueryRowContext(ctx, `SELECT CAST(search_digit_grams($1) AS TEXT)`, text).Scan(&out)
	return out, err
}
