package rfm

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"

	"github.com/duckdb/duckdb-go/v2"

	"github.com/rapportcrm/rapport/internal/analytics/value"
)

// RFMSQL is the DuckDB equivalent of value.FromOrders + value.ScoreRFM:
// purchases (amount >= 0) count as orders and set the last order time,
// refunds only lower revenue, and each score is ntile(5) with the customer
// number as the tie-breaker (the Go code breaks ties by input position,
// which is the customer number).
const RFMSQL = `
WITH agg AS (
	SELECT customer,
	       count(*) FILTER (WHERE amount >= 0) AS orders,
	       min(ts) FILTER (WHERE amount >= 0) AS first_at,
	       max(ts) FILTER (WHERE amount >= 0) AS last_at,
	       sum(amount) AS revenue
	FROM orders
	GROUP BY customer
)
SELECT customer, first_at, last_at, orders, revenue,
       ntile(5) OVER (ORDER BY last_at, customer) AS r,
       ntile(5) OVER (ORDER BY orders, customer) AS f,
       ntile(5) OVER (ORDER BY revenue, customer) AS m
FROM agg
WHERE orders > 0`

// OpenDuckDB opens an in-memory DuckDB limited to threads threads.
func OpenDuckDB(threads int) (*sql.DB, error) {
	conn, err := duckdb.NewConnector("", nil)
	if err != nil {
		return nil, fmt.Errorf("duckdb: open: %w", err)
	}
	db := sql.OpenDB(conn)
	db.SetMaxOpenConns(1) // one session, so SET threads applies to every query
	if _, err := db.Exec(fmt.Sprintf("SET threads = %d", threads)); err != nil {
		db.Close()
		return nil, fmt.Errorf("duckdb: set threads: %w", err)
	}
	return db, nil
}

// Load creates table orders and appends the log with DuckDB's appender.
func Load(ctx context.Context, db *sql.DB, orders []value.Order) error {
	if _, err := db.ExecContext(ctx, `CREATE OR REPLACE TABLE orders (customer INTEGER, ts BIGINT, amount DOUBLE)`); err != nil {
		return fmt.Errorf("duckdb: create orders: %w", err)
	}
	conn, err := db.Conn(ctx)
	if err != nil {
		return fmt.Errorf("duckdb: conn: %w", err)
	}
	defer conn.Close()
	return conn.Raw(func(raw any) error {
		app, err := duckdb.NewAppenderFromConn(raw.(driver.Conn), "", "orders")
		if err != nil {
			return fmt.Errorf("duckdb: appender: %w", err)
		}
		for _, o := range orders {
			if err := app.AppendRow(o.Customer, o.At, o.Amount); err != nil {
				app.Close()
				return fmt.Errorf("duckdb: append: %w", err)
			}
		}
		if err := app.Close(); err != nil {
			return fmt.Errorf("duckdb: flush orders: %w", err)
		}
		return nil
	})
}

// Materialize runs RFMSQL into table rfm inside DuckDB (no transfer to Go):
// the figure the benchmark times.
func Materialize(ctx context.Context, db *sql.DB) error {
	if _, err := db.ExecContext(ctx, `CREATE OR REPLACE TABLE rfm AS `+RFMSQL); err != nil {
		return fmt.Errorf("duckdb: rfm: %w", err)
	}
	return nil
}

// Row is one customer's result from DuckDB.
type Row struct {
	Customer    int32
	First, Last int64
	Orders      int64
	Revenue     float64
	R, F, M     uint8
}

// Fetch reads the materialized rfm table back into Go, for comparison.
func Fetch(ctx context.Context, db *sql.DB) ([]Row, error) {
	rows, err := db.QueryContext(ctx, `SELECT customer, first_at, last_at, orders, revenue, r, f, m FROM rfm ORDER BY customer`)
	if err != nil {
		return nil, fmt.Errorf("duckdb: read rfm: %w", err)
	}
	defer rows.Close()
	var out []Row
	for rows.Next() {
		var r Row
		var rs, fs, ms int64
		if err := rows.Scan(&r.Customer, &r.First, &r.Last, &r.Orders, &r.Revenue, &rs, &fs, &ms); err != nil {
			return nil, fmt.Errorf("duckdb: scan rfm: %w", err)
		}
		r.R, r.F, r.M = uint8(rs), uint8(fs), uint8(ms)
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("duckdb: read rfm: %w", err)
	}
	return out, nil
}

// Compare counts the customers whose Go aggregates or scores differ from
// DuckDB's, and returns the first difference for the message.
func Compare(aggs []value.Aggregate, scores []value.RFMScore, rows []Row) (mismatches int, first string) {
	note := func(s string) {
		mismatches++
		if first == "" {
			first = s
		}
	}
	ranked := 0
	for i := range scores {
		if scores[i].R > 0 {
			ranked++
		}
	}
	if ranked != len(rows) {
		note(fmt.Sprintf("go ranked %d customers, duckdb %d", ranked, len(rows)))
	}
	for _, r := range rows {
		if int(r.Customer) >= len(aggs) || r.Customer < 0 {
			note(fmt.Sprintf("duckdb customer %d out of range", r.Customer))
			continue
		}
		a, s := aggs[r.Customer], scores[r.Customer]
		if a.FirstOrder.Unix() != r.First || a.LastOrder.Unix() != r.Last || int64(a.Orders) != r.Orders ||
			a.Revenue != r.Revenue || s.R != r.R || s.F != r.F || s.M != r.M {
			note(fmt.Sprintf("customer %d: go %v %v %d %v R%d F%d M%d, duckdb %+v", r.Customer,
				a.FirstOrder.Unix(), a.LastOrder.Unix(), a.Orders, a.Revenue, s.R, s.F, s.M, r))
		}
	}
	return mismatches, first
}
