package store

import (
	"context"
	"fmt"
	"math"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
)

// copyMinRows is where COPY starts to pay: below it, one unnest INSERT
// costs no more than the COPY protocol's extra round trips.
const copyMinRows = 64

// copyRows writes rows with PostgreSQL's COPY … FROM STDIN (binary), inside
// tx, on the transaction's own connection. COPY skips the parse of one large
// INSERT and the text round trip of every value: on this machine 10,000
// event rows a transaction went in at about twice the rate of the unnest
// INSERT. It reports false, having written nothing, on SQLite, for an
// insert with a conflict clause (suffix; COPY has none), for fewer than
// copyMinRows rows, and when a value has no binary form the column's type
// takes from it, so that the caller can use a plain INSERT instead: COPY
// must not fail halfway, as an encoding error in the middle of the stream
// aborts the transaction.
func copyRows(ctx context.Context, tx *Tx, table string, cols []string, rows [][]any, suffix string) (bool, error) {
	if tx.conn == nil || suffix != "" || len(rows) < copyMinRows {
		return false, nil
	}
	types, err := columnTypes(ctx, tx, table, cols)
	if err != nil {
		return false, err
	}
	conv := make([]func(any) (any, bool), len(cols))
	for i, t := range types {
		if conv[i] = copyConverter(t); conv[i] == nil {
			return false, nil
		}
	}
	out := make([][]any, len(rows))
	vals := make([]any, len(rows)*len(cols)) // one backing store for the rows
	for r, row := range rows {
		if len(row) != len(cols) {
			return false, fmt.Errorf("store: %s row %d has %d values for %d columns", table, r, len(row), len(cols))
		}
		out[r] = vals[r*len(cols) : (r+1)*len(cols) : (r+1)*len(cols)]
		for c, v := range row {
			if v == nil {
				continue
			}
			x, ok := conv[c](v)
			if !ok {
				return false, nil
			}
			out[r][c] = x
		}
	}
	err = tx.conn.Raw(func(dc any) error {
		c, ok := dc.(*stdlib.Conn)
		if !ok {
			return fmt.Errorf("store: COPY needs a pgx connection, not %T", dc)
		}
		_, err := c.Conn().CopyFrom(ctx, pgx.Identifier{table}, cols, pgx.CopyFromRows(out))
		return err
	})
	return true, err
}

// copyConverter returns how a stored value becomes what pgx encodes in
// binary for a column of PostgreSQL type t, or nil for types COPY is not
// used for. Timestamps are stored as ts text on both engines; COPY needs
// them as time.Time.
func copyConverter(t string) func(any) (any, bool) {
	switch t {
	case "text", "jsonb":
		return func(v any) (any, bool) { s, ok := v.(string); return s, ok }
	case "timestamp with time zone":
		return func(v any) (any, bool) {
			switch x := v.(type) {
			case time.Time:
				return x, true
			case string:
				t, err := time.Parse(time.RFC3339Nano, x)
				return t, err == nil
			}
			return nil, false
		}
	case "bigint":
		return func(v any) (any, bool) {
			switch x := v.(type) {
			case int, int32, int64:
				return x, true
			}
			return nil, false
		}
	case "integer":
		return func(v any) (any, bool) {
			switch x := v.(type) {
			case int32:
				return x, true
			case int:
				return x, x >= math.MinInt32 && x <= math.MaxInt32
			case int64:
				return x, x >= math.MinInt32 && x <= math.MaxInt32
			}
			return nil, false
		}
	case "double precision":
		return func(v any) (any, bool) { f, ok := v.(float64); return f, ok }
	case "boolean":
		return func(v any) (any, bool) { b, ok := v.(bool); return b, ok }
	}
	return nil
}
