package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/rapportcrm/rapport/internal/customer"
	"github.com/rapportcrm/rapport/internal/errs"
)

// CreateOrders stores orders for existing customers in one transaction and
// counts them in the customers' stats in the same transaction. It is
// idempotent on (source, order_id): an order whose source system id is
// already stored (or repeated earlier in the same call) is skipped, so a
// re-import or a retried call changes nothing. It returns how many orders
// it created. Orders without an order_id are always created.
func (s *Store) CreateOrders(ctx context.Context, a Actor, orders []customer.Order) (created int, err error) {
	var ids []string
	err = s.tx(ctx, func(tx *Tx) error {
		made, err := s.createOrders(ctx, tx, a, orders)
		created = len(made)
		for _, o := range made {
			ids = append(ids, o.CustomerID)
		}
		return err
	})
	if err != nil {
		return 0, wrap("create orders", err)
	}
	slices.Sort(ids)
	s.changed(ctx, slices.Compact(ids)...)
	return created, nil
}

// checkOrder validates an order before it is stored.
func checkOrder(o *customer.Order, i, n int) error {
	var fe []errs.FieldError
	if o.ID == "" {
		o.ID = customer.NewID()
	}
	if o.CustomerID == "" {
		fe = append(fe, errs.FieldError{Field: "body.customer_id", Message: "is required"})
	}
	if o.Status == "" {
		o.Status = customer.OrderCompleted
	}
	if o.Status != customer.OrderCompleted && o.Status != customer.OrderRefunded {
		fe = append(fe, errs.FieldError{Field: "body.status", Message: "must be completed or refunded", Value: o.Status})
	}
	if o.PlacedAt.IsZero() {
		fe = append(fe, errs.FieldError{Field: "body.placed_at", Message: "is required"})
	}
	o.Currency = strings.ToUpper(strings.TrimSpace(o.Currency))
	if o.Currency == "" {
		fe = append(fe, errs.FieldError{Field: "body.currency", Message: "is required"})
	}
	if len(fe) > 0 {
		return indexed(errs.Validation(fe...), n, i)
	}
	return nil
}

// createOrders is CreateOrders inside a transaction; it returns the orders
// it stored.
func (s *Store) createOrders(ctx context.Context, tx *Tx, a Actor, orders []customer.Order) ([]customer.Order, error) {
	if len(orders) == 0 {
		return nil, nil
	}
	orders = slices.Clone(orders)
	customers := map[string]bool{}
	for i := range orders {
		if err := checkOrder(&orders[i], i, len(orders)); err != nil {
			return nil, err
		}
		customers[orders[i].CustomerID] = false
	}
	// Every customer must exist and be live.
	ids := sortedKeys(customers)
	for start := 0; start < len(ids); start += 5000 {
		chunk := ids[start:min(start+5000, len(ids))]
		if err := queryIDs(ctx, tx, `SELECT id FROM customers WHERE deleted_at IS NULL AND id IN (`, chunk, func(id string) { customers[id] = true }); err != nil {
			return nil, err
		}
	}
	for _, id := range ids {
		if !customers[id] {
			return nil, errs.E(errs.NotFound, "customer %s not found", id)
		}
	}
	// Skip orders already stored under the same (source, order_id).
	type key struct{ source, id string }
	stored := map[key]bool{}
	var keys []any
	for _, o := range orders {
		if o.ExternalID != "" {
			keys = append(keys, o.Source, o.ExternalID)
		}
	}
	for start := 0; start < len(keys); start += 2 * 5000 {
		chunk := keys[start:min(start+2*5000, len(keys))]
		rows, err := tx.QueryContext(ctx, `SELECT source, external_id FROM orders WHERE external_id <> '' AND (source, external_id) IN (VALUES `+tuples(len(chunk)/2, 2)+`)`, chunk...)
		if err != nil {
			return nil, err
		}
		for rows.Next() {
			var k key
			if err := rows.Scan(&k.source, &k.id); err != nil {
				rows.Close()
				return nil, err
			}
			stored[k] = true
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, err
		}
	}
	var fresh []customer.Order
	for _, o := range orders {
		if o.ExternalID != "" {
			k := key{o.Source, o.ExternalID}
			if stored[k] {
				continue
			}
			stored[k] = true
		}
		fresh = append(fresh, o)
	}
	if len(fresh) == 0 {
		return nil, nil
	}
	if err := loadOrders(ctx, tx, fresh); err != nil {
		if isUniqueViolation(err) {
			return nil, errs.E(errs.Conflict, "an order with one of these ids already exists")
		}
		return nil, err
	}
	if err := s.addOrderStats(ctx, tx, fresh); err != nil {
		return nil, err
	}
	now := ts(time.Now())
	var audit [][]any
	var stale []string
	seen := map[string]bool{}
	for _, o := range fresh {
		audit = append(audit, []any{now, a.ID, a.Kind, "create", "order", o.ID, o.CustomerID,
			jsonText(map[string]any{"order_id": map[string]any{"after": o.ExternalID}, "total": map[string]any{"after": o.Total},
				"status": map[string]any{"after": o.Status}}, "{}")})
		if !seen[o.CustomerID] {
			seen[o.CustomerID] = true
			stale = append(stale, o.CustomerID)
		}
	}
	if err := insertRows(ctx, tx, "audit", []string{"at", "actor_id", "actor_kind", "action", "entity", "entity_id", "customer_id", "changes"}, audit); err != nil {
		return nil, err
	}
	if err := queueScores(ctx, tx, stale); err != nil {
		return nil, err
	}
	return fresh, nil
}

// queryIDs runs head + "$1, …)" over ids and calls fn with each id returned.
func queryIDs(ctx context.Context, q querier, head string, ids []string, fn func(string)) error {
	if len(ids) == 0 {
		return nil
	}
	args := make([]any, len(ids))
	for i, id := range ids {
		args[i] = id
	}
	rows, err := q.QueryContext(ctx, head+placeholders(1, len(ids))+`)`, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return err
		}
		fn(id)
	}
	return rows.Err()
}

// Refund reverses an order identified by its source system id.
type Refund struct {
	Source     string
	ExternalID string
	// CustomerID, At, Total and Currency describe the refund when the
	// order itself has not arrived yet: it is then stored as refunded, so
	// the late "Order Completed" is recognised as already seen.
	CustomerID string
	At         time.Time
	Total      float64
	Currency   string
}

// refundOrders marks orders refunded and rebuilds the stats of their
// customers from the log; it returns the customers touched.
func (s *Store) refundOrders(ctx context.Context, tx *Tx, a Actor, refunds []Refund) ([]string, error) {
	var touched []string
	for _, r := range refunds {
		var id, cid, status string
		err := tx.QueryRowContext(ctx, `SELECT id, customer_id, status FROM orders WHERE source = $1 AND external_id = $2`, r.Source, r.ExternalID).Scan(&id, &cid, &status)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			if r.CustomerID == "" {
				return nil, errs.E(errs.NotFound, "order %s from %s not found", r.ExternalID, r.Source)
			}
			o := customer.Order{ID: customer.NewID(), CustomerID: r.CustomerID, ExternalID: r.ExternalID, Source: r.Source,
				PlacedAt: r.At, Currency: r.Currency, Total: r.Total, Status: customer.OrderRefunded}
			if _, err := s.createOrders(ctx, tx, a, []customer.Order{o}); err != nil {
				return nil, err
			}
			continue
		case err != nil:
			return nil, err
		case status == customer.OrderRefunded:
			continue
		}
		if _, err := tx.ExecContext(ctx, `UPDATE orders SET status = $1 WHERE id = $2`, customer.OrderRefunded, id); err != nil {
			return nil, err
		}
		if err := s.audit(ctx, tx, a, "refund", "order", id, cid, map[string]any{"status": map[string]any{"before": status, "after": customer.OrderRefunded}}); err != nil {
			return nil, err
		}
		if err := MarkScoresStale(ctx, tx, cid); err != nil {
			return nil, err
		}
		touched = append(touched, cid)
	}
	return touched, s.refreshStats(ctx, tx, slices.Clone(touched))
}

// RefundOrder marks one order refunded (by source and order id) and takes
// it out of the customer's revenue.
func (s *Store) RefundOrder(ctx context.Context, a Actor, source, orderID string) error {
	var touched []string
	err := s.tx(ctx, func(tx *Tx) error {
		var err error
		touched, err = s.refundOrders(ctx, tx, a, []Refund{{Source: source, ExternalID: orderID}})
		return err
	})
	if err != nil {
		return wrap("refund order", err)
	}
	s.changed(ctx, touched...)
	return nil
}

// Orders lists a customer's orders with their lines, newest first.
func (s *Store) Orders(ctx context.Context, customerID string, limit int) ([]customer.Order, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT id, customer_id, external_id, source, placed_at, currency, total, status
		FROM orders WHERE customer_id = $1 ORDER BY placed_at DESC, id DESC LIMIT $2`, customerID, limit)
	if err != nil {
		return nil, fmt.Errorf("store: list orders: %w", err)
	}
	out := []customer.Order{}
	for rows.Next() {
		var o customer.Order
		var at dbTime
		if err := rows.Scan(&o.ID, &o.CustomerID, &o.ExternalID, &o.Source, &at, &o.Currency, &o.Total, &o.Status); err != nil {
			rows.Close()
			return nil, fmt.Errorf("store: list orders: %w", err)
		}
		o.PlacedAt = at.Time
		out = append(out, o)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: list orders: %w", err)
	}
	for i := range out {
		items, err := s.orderItems(ctx, s.read, out[i].ID)
		if err != nil {
			return nil, fmt.Errorf("store: list orders: %w", err)
		}
		out[i].Items = items
	}
	return out, nil
}

func (s *Store) orderItems(ctx context.Context, q querier, orderID string) ([]customer.OrderItem, error) {
	rows, err := q.QueryContext(ctx, `SELECT product_id, sku, name, category, price, quantity, unit_cost FROM order_items WHERE order_id = $1 ORDER BY line`, orderID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	items := []customer.OrderItem{}
	for rows.Next() {
		var it customer.OrderItem
		if err := rows.Scan(&it.ProductID, &it.SKU, &it.Name, &it.Category, &it.Price, &it.Quantity, &it.UnitCost); err != nil {
			return nil, err
		}
		items = append(items, it)
	}
	return items, rows.Err()
}
