package store

import (
	"context"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/rapportcrm/rapport/internal/customer"
)

// search is how ListCustomers finds the customers whose search text
// (customer.SearchText) contains a query.
type search struct {
	from  string   // replaces customerFrom when not empty
	where []string // conditions, with their arguments already bound
	// order replaces the default newest-first order when not empty; cursor
	// is then the column the cursor compares (so the index seeks to it).
	order, cursor string
}

// searchFor plans the search for q, a query already normalized by
// customer.SearchQuery (not empty). arg binds an argument and returns its
// placeholder.
//
// The trigram indexes need three characters. A shorter Chinese query ("王",
// "张伟") is looked up by its pinyin, which the search text also holds, and
// then filtered by the exact substring.
//
// On SQLite the FTS5 trigram table drives the query (CROSS JOIN keeps it the
// outer loop; SQLite never reorders the operands of CROSS JOIN) and yields
// rows in rowid order, newest first, so a page stops after LIMIT matches
// instead of sorting all of them. The constraint handed to FTS5 is a GLOB,
// not LIKE … ESCAPE: SQLite passes only two-argument LIKE/GLOB to a virtual
// table, so with ESCAPE the trigram index was never used and every query
// scanned the customers newest-first until it had a page (145 ms at 1M
// customers for a rare 4-digit fragment). The search text and the query are
// both lower-cased (Go's strings.ToLower), so a case-sensitive GLOB matches
// exactly what the case-insensitive LIKE matched. A query that GLOB would
// read as a pattern (* ? [), or one still shorter than a trigram, is matched
// with LIKE … ESCAPE by reading customers newest-first, as before: FTS5
// can only scan for a pattern without a whole trigram (and older SQLite,
// e.g. the 3.40 shell, returns no rows for a two-character Han one).
func (s *Store) searchFor(q string, arg func(any) string) search {
	indexed := q
	if utf8.RuneCountInString(q) < 3 {
		if py, _ := customer.Pinyin(q); utf8.RuneCountInString(py) >= 3 {
			indexed = py
		}
	}
	var out search
	switch {
	case s.dialect == SQLite && ftsSearchable(indexed):
		out.from = ` FROM customer_search cs CROSS JOIN customers c ON c.seq = cs.rowid LEFT JOIN customer_stats st ON st.customer_id = c.id`
		// The index keeps no positions (detail=none), so it yields rows
		// holding every trigram of the pattern somewhere; instr keeps only
		// those whose search text holds the pattern itself.
		out.where = append(out.where, `cs.search GLOB `+arg("*"+indexed+"*"), `instr(c.search, `+arg(indexed)+`) > 0`)
		out.order, out.cursor = ` ORDER BY cs.rowid DESC`, `cs.rowid`
	default:
		out.where = append(out.where, `c.search LIKE `+arg(likePattern(indexed))+` ESCAPE '\'`)
	}
	if indexed != q {
		out.where = append(out.where, `c.search LIKE `+arg(likePattern(q))+` ESCAPE '\'`)
	}
	return out
}

// ftsSearchable reports whether q can be handed to the FTS5 trigram table
// as the literal GLOB pattern *q*: at least one whole trigram and no GLOB
// metacharacter.
func ftsSearchable(q string) bool {
	return utf8.RuneCountInString(q) >= 3 && !strings.ContainsAny(q, "*?[")
}

// searchWindow is how many of the newest customers (below the cursor) a
// PostgreSQL search reads in list order before it turns to the trigram
// index: about 10 ms at most, and enough for a page of any query that
// matches one customer in a hundred or more.
var searchWindow = 10_000

// listSearchPostgres reads a newest-first page of a search on PostgreSQL.
// where holds every condition of the list (search, filters, cursor) with
// its arguments in args.
//
// The planner cannot tell how many rows a LIKE '%…%' matches, and each of
// its two plans is slow where the other is fast: walking the primary key
// backwards and filtering stops after a page when matches are common (张,
// an email domain) but reads most of the table when they are rare (a
// 4-digit fragment: 140 ms at 1M customers); the trigram index reads every
// match and sorts them, fast when matches are rare but 100–500 ms when
// they are common. So the search first walks the newest searchWindow
// customers (a LIMIT in a derived table keeps that plan), and only when
// they hold less than a page reads the rest of the matches, below the
// window, through the trigram index (ORDER BY seq + 0 keeps the planner off
// the backward walk). A query with four digits or two Han characters in a
// row is read through its keys instead (listGramSearchPostgres).
func (s *Store) listSearchPostgres(ctx context.Context, where []string, args []any, f Filter, cur cursor) (Page, error) {
	if keys := searchKeysCondition(customer.SearchQuery(f.Q)); keys != "" {
		return s.listGramSearchPostgres(ctx, where, args, keys, f, cur) // search_postgres.go
	}
	cond := strings.Join(where, " AND ")
	n := len(args)
	next := func() string { n++; return "$" + strconv.Itoa(n) }
	below, belowArgs := "", []any(nil)
	if f.Cursor != "" {
		below, belowArgs = ` WHERE c0.seq < `+next(), []any{cur.Seq}
	}
	window := `SELECT * FROM customers c0` + below + ` ORDER BY c0.seq DESC LIMIT ` + strconv.Itoa(searchWindow)
	probe := `SELECT ` + customerColumns + `, c.sort_key FROM (` + window + `) c LEFT JOIN customer_stats st ON st.customer_id = c.id WHERE ` +
		cond + ` ORDER BY c.seq DESC LIMIT ` + next()
	items, seqs, err := s.readCustomers(ctx, probe, append(append(slices.Clone(args), belowArgs...), f.Limit+1))
	if err != nil {
		return Page{}, err
	}
	if len(items) <= f.Limit {
		// Less than a page in the window: if the window did not reach the
		// oldest customer, read the matches below it.
		var rows, low int64
		n = 0
		below = ""
		if f.Cursor != "" {
			below = ` WHERE c0.seq < $1`
		}
		if err := s.read.QueryRowContext(ctx, `SELECT count(*), COALESCE(min(seq), 0) FROM (SELECT c0.seq FROM customers c0`+below+
			` ORDER BY c0.seq DESC LIMIT `+strconv.Itoa(searchWindow)+`) w`, belowArgs...).Scan(&rows, &low); err != nil {
			return Page{}, err
		}
		if rows == int64(searchWindow) {
			n = len(args)
			rest := `SELECT ` + customerColumns + `, c.sort_key` + customerFrom + ` WHERE ` + cond + ` AND c.seq < ` + next() +
				` ORDER BY c.seq + 0 DESC LIMIT ` + next()
			more, moreSeqs, err := s.readCustomers(ctx, rest, append(slices.Clone(args), low, f.Limit+1-len(items)))
			if err != nil {
				return Page{}, err
			}
			items, seqs = append(items, more...), append(seqs, moreSeqs...)
		}
	}
	var page Page
	if len(items) > f.Limit {
		items, page.NextCursor = items[:f.Limit], encodeCursor(cursor{Seq: seqs[f.Limit-1]})
	}
	page.Items = items
	return page, nil
}

// readCustomers reads the customer rows of query (customer columns and the
// sort key), closing its rows before returning.
func (s *Store) readCustomers(ctx context.Context, query string, args []any) ([]customer.Customer, []int64, error) {
	rows, err := s.read.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, nil, err
	}
	defer rows.Close()
	var items []customer.Customer
	var seqs []int64
	for rows.Next() {
		var sortKey string
		c, seq, err := scanCustomerWith(rows, &sortKey)
		if err != nil {
			return nil, nil, err
		}
		items, seqs = append(items, c), append(seqs, seq)
	}
	return items, seqs, rows.Err()
}

// searchCondition is the search as plain WHERE conditions, for queries
// whose FROM is chosen by something else (the score filters). On SQLite
// the trigram table still answers the substring test, as a set of rowids;
// short Chinese queries go through their pinyin first, as in searchFor.
func (s *Store) searchCondition(q string, arg func(any) string) []string {
	indexed := q
	if utf8.RuneCountInString(q) < 3 {
		if py, _ := customer.Pinyin(q); utf8.RuneCountInString(py) >= 3 {
			indexed = py
		}
	}
	var where []string
	if s.dialect == SQLite && ftsSearchable(indexed) {
		where = append(where, `c.seq IN (SELECT rowid FROM customer_search WHERE search GLOB `+arg("*"+indexed+"*")+`)`,
			`instr(c.search, `+arg(indexed)+`) > 0`) // the index keeps no positions: see searchFor
	} else {
		where = append(where, `c.search LIKE `+arg(likePattern(indexed))+` ESCAPE '\'`)
	}
	if indexed != q || s.dialect == SQLite && ftsSearchable(indexed) {
		where = append(where, `c.search LIKE `+arg(likePattern(q))+` ESCAPE '\'`)
	}
	return where
}
