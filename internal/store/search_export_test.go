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

// SetGramSearchSpan changes how many of the newest customers a PostgreSQL
// search by keys looks among first, so tests with a few hundred customers
// reach its later steps. It returns a function that restores it.
func SetGramSearchSpan(n int64) (restore func()) {
	old := gramSearchSpan
	gramSearchSpan = n
	return func() { gramSearchSpan = old }
}

// SearchDigitGrams is searchDigitGrams, the digit-window keys of a query.
var SearchDigitGrams = searchDigitGrams

// SearchHanPairs is searchHanPairs, the Han keys of a query.
var SearchHanPairs = searchHanPairs

// StoredGrams returns PostgreSQL's search_digit_grams and
// search_han_pairs of text as array literals.
func (s *Store) StoredGrams(ctx context.Context, text string) (digits, han string, err error) {
	err = s.read.QueryRowContext(ctx, `SELECT CAST(search_digit_grams($1) AS TEXT), CAST(search_han_pairs($1) AS TEXT)`, text).Scan(&digits, &han)
	return digits, han, err
}

// CheckSearchIndex runs FTS5's integrity check of the search index against
// the customers it indexes (SQLite; nil on PostgreSQL).
func (s *Store) CheckSearchIndex(ctx context.Context) error {
	if s.dialect != SQLite {
		return nil
	}
	_, err := s.write.ExecContext(ctx, `INSERT INTO customer_search (customer_search, rank) VALUES ('integrity-check', 1)`)
	return err
}

// SearchBacklog counts the customers waiting to be indexed for search.
func (s *Store) SearchBacklog(ctx context.Context) (int, error) {
	if s.dialect != SQLite {
		return 0, nil
	}
	var n int
	err := s.read.QueryRowContext(ctx, `SELECT count(*) FROM customer_search_backlog`).Scan(&n)
	return n, err
}

// ExplainGramRange returns PostgreSQL's plan for one range of a search by
// keys for q (listGramSearchPostgres): the first, newest range or a later one.
func (s *Store) ExplainGramRange(ctx context.Context, q string, lo, hi int64, first bool) (string, error) {
	return s.explain(ctx, gramRangeQuery(searchKeysCondition(q), "c.deleted_at IS NULL", lo, hi, first, 1), 51)
}
