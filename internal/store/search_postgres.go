package store

import (
	"slices"
	"strconv"
	"strings"
)

// searchBelowPostgres is the query for the rest of a PostgreSQL search
// page, the matches below seq low (the window listSearchPostgres walked
// first), newest first, at most limit of them; cond and args are the
// list's conditions and arguments, q the normalized query.
//
// A query with a run of four or more digits (a phone's last digits,
// "user4242") reads the customers holding its four-digit windows through
// customers_search_digits (migration 0016): a few hundred rows for a
// 4-digit fragment at 1M customers, where the trigram index, whose digit
// trigrams are each in a large share of the phones, returned hundreds of
// false candidates and read the posting lists of every trigram of the
// query ("use" and "ser" for "user4242" are in every customer). OFFSET 0
// keeps that scan in the derived table, so the trigram index is not
// intersected with it; cond then checks the substring. Other queries read
// the matches through the trigram index (ORDER BY seq + 0 keeps the planner
// off the backward walk of the primary key).
func searchBelowPostgres(cond string, args []any, q string, low int64, limit int) (string, []any) {
	args = slices.Clone(args)
	arg := func(v any) string { args = append(args, v); return "$" + strconv.Itoa(len(args)) }
	grams := searchDigitGrams(q)
	if grams == "" {
		return `SELECT ` + customerColumns + `, c.sort_key` + customerFrom + ` WHERE ` + cond + ` AND c.seq < ` + arg(low) +
			` ORDER BY c.seq + 0 DESC LIMIT ` + arg(limit), args
	}
	return `SELECT ` + customerColumns + `, c.sort_key FROM (SELECT * FROM customers c0 WHERE c0.search_digits @> CAST(` + arg(grams) +
		` AS SMALLINT[]) AND c0.seq < ` + arg(low) + ` OFFSET 0) c LEFT JOIN customer_stats st ON st.customer_id = c.id WHERE ` + cond +
		` ORDER BY c.seq DESC LIMIT ` + arg(limit), args
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
