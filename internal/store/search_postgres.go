package store

import (
	"context"
	"slices"
	"strconv"
	"strings"

	"github.com/rapportcrm/rapport/internal/customer"
)

// digitSearchSpan is how many of the newest customers (by seq, below the
// cursor) a PostgreSQL digit search looks among first; each further step
// looks among eight times as many below them.
var digitSearchSpan int64 = 10_000

// listDigitSearchPostgres reads a newest-first page of a PostgreSQL search
// whose query has a run of four or more digits (a phone's last digits,
// "user4242"), grams being its keys (searchDigitGrams); where and args are
// as for listSearchPostgres.
//
// Such queries were slow through the trigram index: digits make only 1,000
// trigrams, each in a large share of the phones, so it returned hundreds of
// false candidates to recheck, and for "user4242" it read the posting lists
// of "use" and "ser", which hold every customer (41 ms for the index alone
// at 1M customers). customers.search_digits (migration 0016) holds the
// four-digit windows of the search text's digit runs, so its GIN index
// finds just the customers holding a query's windows (~300 of 1M for a
// 4-digit fragment), and its statistics let the planner tell how many
// there are. The search looks for them in seq ranges, newest first, each
// eight times wider than the last, until a page is full: the planner reads
// each range through the GIN index and sorts (rare windows: about 1 ms for
// a 4-digit fragment) or walks it backwards, stopping after a page (common
// ones: "1390" is in every phone), and a window common among old customers
// but rare among new ones is not read whole: one query over every seq,
// planned by the window's overall frequency, walked most of the table for
// "0000" (1% of the phones, almost all among the first 10,000 customers of
// the synthetic data: 700 ms). OFFSET 0 keeps the list's conditions, the
// substring test among them, outside the range's scan, so the trigram index
// is not intersected with it (24 ms for "user4242"). The keys and bounds
// are written into the query text, not bound, so a cached generic plan
// never guesses them (they are digits we made).
func (s *Store) listDigitSearchPostgres(ctx context.Context, where []string, args []any, grams string, f Filter, cur cursor) (Page, error) {
	cond := strings.Join(where, " AND ")
	hi := cur.Seq
	if f.Cursor == "" {
		if err := s.read.QueryRowContext(ctx, `SELECT COALESCE(max(seq), 0) + 1 FROM customers`).Scan(&hi); err != nil {
			return Page{}, err
		}
	}
	var items []customer.Customer
	var seqs []int64
	for span := digitSearchSpan; hi > 1; span *= 8 { // seq starts at 1
		lo := max(hi-span, 1)
		holding := `SELECT * FROM customers c0 WHERE c0.search_digits @> '` + grams + `' AND c0.seq >= ` + strconv.FormatInt(lo, 10) +
			` AND c0.seq < ` + strconv.FormatInt(hi, 10) + ` ORDER BY c0.seq DESC OFFSET 0`
		query := `SELECT ` + customerColumns + `, c.sort_key FROM (` + holding + `) c LEFT JOIN customer_stats st ON st.customer_id = c.id WHERE ` +
			cond + ` ORDER BY c.seq DESC LIMIT $` + strconv.Itoa(len(args)+1)
		more, moreSeqs, err := s.readCustomers(ctx, query, append(slices.Clone(args), f.Limit+1-len(items)))
		if err != nil {
			return Page{}, err
		}
		items, seqs = append(items, more...), append(seqs, moreSeqs...)
		if len(items) > f.Limit {
			break
		}
		hi = lo
	}
	var page Page
	if len(items) > f.Limit {
		items, page.NextCursor = items[:f.Limit], encodeCursor(cursor{Seq: seqs[f.Limit-1]})
	}
	page.Items = items
	return page, nil
}

// searchDigitGrams returns, as a PostgreSQL array literal, the keys of
// customers.search_digits that the search text of every customer
// containing q holds: each four-digit window of each run of four or more
// ASCII digits in q, as its value ("0042" is 42), the same keys as the SQL
// function search_digit_grams (migration 0016). It returns "" when q has
// no such run. A run in q is part of a run in any text containing q, so
// the text holds all of its windows. (Bytes of multi-byte UTF-8 characters
// are never ASCII digits.)
func searchDigitGrams(q string) string {
	var b strings.Builder
	run := 0
	for i := 0; i < len(q); i++ {
		if q[i] < '0' || q[i] > '9' {
			run = 0
			continue
		}
		run++
		if run < 4 {
			continue
		}
		if b.Len() == 0 {
			b.WriteByte('{')
		} else {
			b.WriteByte(',')
		}
		v, _ := strconv.Atoi(q[i-3 : i+1]) // four ASCII digits
		b.WriteString(strconv.Itoa(v))
	}
	if b.Len() == 0 {
		return ""
	}
	b.WriteByte('}')
	return b.String()
}
