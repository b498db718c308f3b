package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"
)

// The read queries of the analytics service (internal/insight). Each one
// streams its rows to a callback instead of building a slice, so a refit over
// a million customers holds one row at a time here; ids, when given, limit the
// read to those customers (the incremental refresh), nil reads everyone.

// idChunk bounds the ids bound into one IN (…) list.
const idChunk = 500

// AnalyticsCustomer is one live customer with the aggregates kept current on
// write and, when asked for, the dimensions analytics groups by.
type AnalyticsCustomer struct {
	ID           string
	Name         string
	CreatedAt    time.Time
	OwnerID      string
	Tags         []string       // only with dimensions
	Attributes   map[string]any // only with dimensions
	Orders       int64
	Revenue      float64
	FirstOrderAt time.Time // zero without a completed order
	LastOrderAt  time.Time
	Interactions int64
}

// ScanAnalyticsCustomers calls fn for every live (not deleted) customer, or
// for the live ones among ids, in creation order. withDims also reads tags and
// attributes, which costs a JSON decode per customer.
func (s *Store) ScanAnalyticsCustomers(ctx context.Context, ids []string, withDims bool, fn func(c *AnalyticsCustomer) error) error {
	cols := `c.id, c.name, c.created_at, c.owner_id, COALESCE(st.orders, 0), COALESCE(st.revenue, 0),
		st.first_order_at, st.last_order_at, COALESCE(st.interactions, 0)`
	if withDims {
		cols += `, c.tags, c.attributes`
	}
	base := `SELECT ` + cols + ` FROM customers c LEFT JOIN customer_stats st ON st.customer_id = c.id
		WHERE c.deleted_at IS NULL`
	var c AnalyticsCustomer
	scan := func(rows *sql.Rows) error {
		var owner sql.NullString
		var created, first, last dbTime
		var tags, attrs []byte
		dest := []any{&c.ID, &c.Name, &created, &owner, &c.Orders, &c.Revenue, &first, &last, &c.Interactions}
		if withDims {
			dest = append(dest, &tags, &attrs)
		}
		if err := rows.Scan(dest...); err != nil {
			return err
		}
		c.OwnerID, c.CreatedAt, c.FirstOrderAt, c.LastOrderAt = owner.String, created.Time, first.Time, last.Time
		c.Tags, c.Attributes = nil, nil
		if withDims {
			if len(tags) > 2 {
				if err := json.Unmarshal(tags, &c.Tags); err != nil {
					return fmt.Errorf("customer %s tags: %w", c.ID, err)
				}
			}
			if len(attrs) > 2 {
				if err := json.Unmarshal(attrs, &c.Attributes); err != nil {
					return fmt.Errorf("customer %s attributes: %w", c.ID, err)
				}
			}
		}
		return fn(&c)
	}
	return wrap("scan analytics customers", s.streamByIDs(ctx, base, " AND c.id IN ", " ORDER BY c.seq", ids, scan))
}

// AnalyticsOrder is one completed order.
type AnalyticsOrder struct {
	ID         string
	CustomerID string
	PlacedAt   time.Time
	Total      float64
	Source     string
}

// ScanCompletedOrders calls fn for every completed order (refunded ones no
// longer count), grouped by customer and oldest first within a customer.
func (s *Store) ScanCompletedOrders(ctx context.Context, ids []string, fn func(o *AnalyticsOrder) error) error {
	base := `SELECT id, customer_id, placed_at, total, source FROM orders WHERE status = 'completed'`
	var o AnalyticsOrder
	scan := func(rows *sql.Rows) error {
		var at dbTime
		if err := rows.Scan(&o.ID, &o.CustomerID, &at, &o.Total, &o.Source); err != nil {
			return err
		}
		o.PlacedAt = at.Time
		return fn(&o)
	}
	return wrap("scan orders", s.streamByIDs(ctx, base, " AND customer_id IN ", " ORDER BY customer_id, placed_at, id", ids, scan))
}

// AnalyticsItem is one line of a completed order.
type AnalyticsItem struct {
	OrderID    string
	CustomerID string
	ProductID  string
	SKU        string
	Name       string
	Category   string
	Price      float64
	Quantity   float64
	UnitCost   float64
}

// ScanCompletedOrderItems calls fn for every line of a completed order,
// grouped by order.
func (s *Store) ScanCompletedOrderItems(ctx context.Context, ids []string, fn func(it *AnalyticsItem) error) error {
	base := `SELECT i.order_id, i.customer_id, i.product_id, i.sku, i.name, i.category, i.price, i.quantity, i.unit_cost
		FROM order_items i JOIN orders o ON o.id = i.order_id WHERE o.status = 'completed'`
	var it AnalyticsItem
	scan := func(rows *sql.Rows) error {
		if err := rows.Scan(&it.OrderID, &it.CustomerID, &it.ProductID, &it.SKU, &it.Name, &it.Category, &it.Price, &it.Quantity, &it.UnitCost); err != nil {
			return err
		}
		return fn(&it)
	}
	return wrap("scan order items", s.streamByIDs(ctx, base, " AND i.customer_id IN ", " ORDER BY i.order_id, i.line", ids, scan))
}

// ScanGoodsCosts calls fn with each customer's cost of goods sold: the sum of
// quantity × unit cost over the lines of their completed orders (lines
// without a known cost add nothing).
func (s *Store) ScanGoodsCosts(ctx context.Context, ids []string, fn func(customerID string, cost float64) error) error {
	base := `SELECT i.customer_id, SUM(i.quantity * i.unit_cost) FROM order_items i JOIN orders o ON o.id = i.order_id
		WHERE o.status = 'completed' AND i.unit_cost > 0`
	scan := func(rows *sql.Rows) error {
		var id string
		var cost float64
		if err := rows.Scan(&id, &cost); err != nil {
			return err
		}
		return fn(id, cost)
	}
	return wrap("scan goods costs", s.streamByIDs(ctx, base, " AND i.customer_id IN ", " GROUP BY i.customer_id", ids, scan))
}

// ScanInteractionCounts calls fn with the number of interactions of each
// kind per customer (the cost-to-serve drivers).
func (s *Store) ScanInteractionCounts(ctx context.Context, ids []string, fn func(customerID, kind string, n int64) error) error {
	base := `SELECT customer_id, kind, count(*) FROM interactions WHERE 1 = 1`
	scan := func(rows *sql.Rows) error {
		var id, kind string
		var n int64
		if err := rows.Scan(&id, &kind, &n); err != nil {
			return err
		}
		return fn(id, kind, n)
	}
	return wrap("scan interaction counts", s.streamByIDs(ctx, base, " AND customer_id IN ", " GROUP BY customer_id, kind", ids, scan))
}

// streamByIDs runs base+tail over everyone when ids is nil, or once per
// chunk of ids with "inClause (…)" added, calling scan for every row.
func (s *Store) streamByIDs(ctx context.Context, base, inClause, tail string, ids []string, scan func(*sql.Rows) error) error {
	run := func(query string, args []any) error {
		rows, err := s.read.QueryContext(ctx, query, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			if err := scan(rows); err != nil {
				return err
			}
		}
		return rows.Err()
	}
	if ids == nil {
		return run(base+tail, nil)
	}
	for lo := 0; lo < len(ids); lo += idChunk {
		chunk := ids[lo:min(lo+idChunk, len(ids))]
		args := make([]any, len(chunk))
		for i, id := range chunk {
			args[i] = id
		}
		if err := run(base+inClause+"("+placeholders(1, len(args))+")"+tail, args); err != nil {
			return err
		}
	}
	return nil
}

// parseLayout reads "2006-01-02T15:04:05.000000Z" (timeLayout) by hand.
func parseLayout(s string) (time.Time, bool) {
	if len(s) != len(timeLayout) || s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' || s[16] != ':' || s[19] != '.' || s[26] != 'Z' {
		return time.Time{}, false
	}
	num := func(lo, hi int) (int, bool) {
		n := 0
		for i := lo; i < hi; i++ {
			c := s[i]
			if c < '0' || c > '9' {
				return 0, false
			}
			n = n*10 + int(c-'0')
		}
		return n, true
	}
	y, ok1 := num(0, 4)
	mo, ok2 := num(5, 7)
	d, ok3 := num(8, 10)
	h, ok4 := num(11, 13)
	mi, ok5 := num(14, 16)
	se, ok6 := num(17, 19)
	us, ok7 := num(20, 26)
	if !(ok1 && ok2 && ok3 && ok4 && ok5 && ok6 && ok7) || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || se > 59 {
		return time.Time{}, false
	}
	t := time.Date(y, time.Month(mo), d, h, mi, se, us*1000, time.UTC)
	if t.Day() != d { // 31 February: time.Date would roll it into March
		return time.Time{}, false
	}
	return t, true
}
