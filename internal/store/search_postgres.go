package store

import (
	"context"
	"slices"
	"strconv"
	"strings"

	"github.com/rapportcrm/rapport/internal/customer"
)

// gramSearchSpan is how many of the newest customers (by seq, below the
// cursor) a PostgreSQL search by keys (listGramSearchPostgres) looks among
// first; each further step looks among eight times as many below them.
var gramSearchSpan int64 = 10_000

// listGramSearchPostgres reads a newest-first page of a PostgreSQL search
// whose query has keys in customers.search_digits or search_han_pairs
// (migration 0016): a run of four or more digits (a phone's last digits,
// "user4242") or two Han characters in a row (张伟). keys is the condition
// on them (searchKeysCondition); where and args are as for
// listSearchPostgres.
//
// Such queries were slow through the trigram index: digits make only 1,000
// trigrams, each in a large share of the phones, so it returned hundreds of
// false candidates to recheck, and for "user4242" it read the posting lists
// of "use" and "ser", which hold every customer (41 ms for the index alone
// at 1M customers); a two-character Han query has no trigram and was
// looked up by its pinyin, whose trigrams are common ("ang", "wei").
// The key columns' GIN indexes find just the customers holding a query's
// keys (~300 of 1M for a 4-digit fragment or 张伟), and their statistics
// let the planner tell how many there are.
//
// The search looks for them in seq ranges, newest first, each eight times
// wider than the last, until a page is full. The planner reads the first
// range through the GIN index and sorts (rare keys: about 1 ms) or walks
// it backwards, stopping after a page (common keys: "1390" is in every
// phone); later ranges go through the GIN index (gramRangeQuery). A single
// query over every seq, planned by a key's overall frequency, walked most
// of the table for a key common among old customers
// but rare among new ones ("0000": 1% of the synthetic phones, nearly all
// among the first 10,000 customers; 700 ms). OFFSET 0 keeps the list's
// conditions, the substring test among them, outside the range's scan, so
// the trigram index is not intersected with it (24 ms for "user4242").
// The keys and bounds are written into the query text, not bound, so a
// cached generic plan never guesses them (they are numbers we made).
func (s *Store) listGramSearchPostgres(ctx context.Context, where []string, args []any, keys string, f Filter, cur cursor) (Page, error) {
	cond := strings.Join(where, " AND ")
	hi := cur.Seq
	if f.Cursor == "" {
		if err := s.read.QueryRowContext(ctx, `SELECT COALESCE(max(seq), 0) + 1 FROM customers`).Scan(&hi); err != nil {
			return Page{}, err
		}
	}
	var items []customer.Customer
	var seqs []int64
	for span, first := gramSearchSpan, true; hi > 1; span, first = span*8, false { // seq starts at 1
		lo := max(hi-span, 1)
		query := gramRangeQuery(keys, cond, lo, hi, first, len(args)+1)
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

// gramRangeQuery is the statement listGramSearchPostgres runs for the
// customers with seq in [lo, hi); limit is the number of the LIMIT
// parameter. The first (newest) range is planned freely: the GIN index and
// a sort for rare keys, a backward walk that stops after a page for
// common ones. A later range is only reached when the range before it,
// an eighth of its size, held less than a page of matches, so the key is
// rare there: it is read through the key's index (seq + 0 keeps the seq
// index from driving the range or its order). Left to the planner, these
// ranges were walked backwards row by row whenever the statistics predate
// the newest customers (their seq is beyond the histogram, so the range
// looks nearly empty): 80,000 rows for the 17 matches of 张伟, 55 ms, right
// after a million customers were created.
func gramRangeQuery(keys, cond string, lo, hi int64, first bool, limit int) string {
	seq := "c0.seq"
	if !first {
		seq = "(c0.seq + 0)"
	}
	holding := `SELECT * FROM customers c0 WHERE ` + keys + ` AND ` + seq + ` >= ` + strconv.FormatInt(lo, 10) +
		` AND ` + seq + ` < ` + strconv.FormatInt(hi, 10) + ` ORDER BY ` + seq + ` DESC OFFSET 0`
	return `SELECT ` + customerColumns + `, c.sort_key FROM (` + holding + `) c LEFT JOIN customer_stats st ON st.customer_id = c.id WHERE ` +
		cond + ` ORDER BY c.seq DESC LIMIT $` + strconv.Itoa(limit)
}

// searchKeysCondition returns the condition on customers c0's key
// columns (migration 0016) that every customer whose search text contains
// q meets, "" when q has no keys.
func searchKeysCondition(q string) string {
	var conds []string
	if g := searchDigitGrams(q); g != "" {
		conds = append(conds, `c0.search_digits @> '`+g+`'`)
	}
	if g := searchHanPairs(q); g != "" {
		conds = append(conds, `c0.search_han_pairs @> '`+g+`'`)
	}
	return strings.Join(conds, " AND ")
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

// searchHanPairs returns, as a PostgreSQL array literal, the keys of
// customers.search_han_pairs that the search text of every customer
// containing q holds: each pair of adjacent Han characters of q (first *
// 2^21 + second), the same keys as the SQL function search_han_pairs
// (migration 0016). It returns "" when q has no such pair.
func searchHanPairs(q string) string {
	var b strings.Builder
	var prev rune // the Han character before this one, or 0
	for _, r := range q {
		if !isSearchHan(r) {
			prev = 0
			continue
		}
		if prev != 0 {
			if b.Len() == 0 {
				b.WriteByte('{')
			} else {
				b.WriteByte(',')
			}
			b.WriteString(strconv.FormatInt(int64(prev)<<21+int64(r), 10))
		}
		prev = r
	}
	if b.Len() == 0 {
		return ""
	}
	b.WriteByte('}')
	return b.String()
}

// isSearchHan reports whether r is a Han character for search_han_pairs:
// the CJK Unified Ideographs with extensions A to G and the compatibility
// ideographs, the ranges of the SQL function (not unicode.Han, which also
// holds 々 and 〇: any fixed set works as long as both sides use it).
func isSearchHan(r rune) bool {
	return r >= 0x3400 && r <= 0x9fff || r >= 0xf900 && r <= 0xfaff || r >= 0x20000 && r <= 0x3134f
}
