package store

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/rapportcrm/rapport/internal/customer"
	"github.com/rapportcrm/rapport/internal/errs"
)

// The queries behind the web app's screens (internal/web): saved list
// views, what a customer bought, names for links, and the small admin
// lookups of the settings pages.

// SavedView is a customer-list view a user saved by name: the list's
// query string, so opening it shows exactly what they were looking at.
type SavedView struct {
	ID        string
	UserID    string
	Name      string
	Query     string
	CreatedAt time.Time
}

// SaveView stores a view; saving under a name the user already used
// replaces that view's query.
func (s *Store) SaveView(ctx context.Context, v SavedView) error {
	_, err := s.write.ExecContext(ctx, `
		INSERT INTO saved_views (id, user_id, name, query, created_at) VALUES ($1, $2, $3, $4, $5)
		ON CONFLICT (user_id, name) DO UPDATE SET query = excluded.query`,
		v.ID, v.UserID, v.Name, v.Query, ts(v.CreatedAt))
	if err != nil {
		return fmt.Errorf("store: save view: %w", err)
	}
	return nil
}

// SavedViews lists a user's saved views by name.
func (s *Store) SavedViews(ctx context.Context, userID string) ([]SavedView, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT id, user_id, name, query, created_at FROM saved_views
		WHERE user_id = $1 ORDER BY name`, userID)
	if err != nil {
		return nil, fmt.Errorf("store: list saved views: %w", err)
	}
	defer rows.Close()
	var out []SavedView
	for rows.Next() {
		var v SavedView
		var at dbTime
		if err := rows.Scan(&v.ID, &v.UserID, &v.Name, &v.Query, &at); err != nil {
			return nil, fmt.Errorf("store: list saved views: %w", err)
		}
		v.CreatedAt = at.Time
		out = append(out, v)
	}
	return out, rows.Err()
}

// DeleteSavedView removes one of a user's views.
func (s *Store) DeleteSavedView(ctx context.Context, userID, id string) error {
	res, err := s.write.ExecContext(ctx, `DELETE FROM saved_views WHERE id = $1 AND user_id = $2`, id, userID)
	if err != nil {
		return fmt.Errorf("store: delete saved view: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return errs.E(errs.NotFound, "saved view %s not found", id)
	}
	return nil
}

// CustomerOrders returns a customer's most recent orders with their lines,
// newest first.
func (s *Store) CustomerOrders(ctx context.Context, customerID string, limit int) ([]customer.Order, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT id, customer_id, external_id, source, placed_at, currency, total, status
		FROM orders WHERE customer_id = $1 ORDER BY placed_at DESC, id DESC LIMIT $2`, customerID, limit)
	if err != nil {
		return nil, fmt.Errorf("store: customer orders: %w", err)
	}
	out := []customer.Order{}
	byID := map[string]int{}
	for rows.Next() {
		var o customer.Order
		var at dbTime
		if err := rows.Scan(&o.ID, &o.CustomerID, &o.ExternalID, &o.Source, &at, &o.Currency, &o.Total, &o.Status); err != nil {
			rows.Close()
			return nil, fmt.Errorf("store: customer orders: %w", err)
		}
		o.PlacedAt = at.Time
		byID[o.ID] = len(out)
		out = append(out, o)
	}
	rows.Close()
	if err := rows.Err(); err != nil || len(out) == 0 {
		return out, wrap("customer orders", err)
	}
	args := make([]any, 0, len(out))
	for _, o := range out {
		args = append(args, o.ID)
	}
	items, err := s.read.QueryContext(ctx, `SELECT order_id, product_id, sku, name, category, price, quantity, unit_cost
		FROM order_items WHERE order_id IN (`+placeholders(1, len(args))+`) ORDER BY order_id, line`, args...)
	if err != nil {
		return nil, fmt.Errorf("store: customer order items: %w", err)
	}
	defer items.Close()
	for items.Next() {
		var oid string
		var it customer.OrderItem
		if err := items.Scan(&oid, &it.ProductID, &it.SKU, &it.Name, &it.Category, &it.Price, &it.Quantity, &it.UnitCost); err != nil {
			return nil, fmt.Errorf("store: customer order items: %w", err)
		}
		o := &out[byID[oid]]
		o.Items = append(o.Items, it)
	}
	return out, wrap("customer order items", items.Err())
}

// Purchase sums what a customer bought of one product or category over
// their completed orders.
type Purchase struct {
	Name     string // product name (or SKU / product id) or category
	Category string // for products
	Quantity float64
	Revenue  float64
	Orders   int64
	LastAt   time.Time
}

// TopProducts returns the products a customer spent most on.
func (s *Store) TopProducts(ctx context.Context, customerID string, limit int) ([]Purchase, error) {
	return s.purchases(ctx, `CASE WHEN i.name <> '' THEN i.name WHEN i.sku <> '' THEN i.sku ELSE i.product_id END`, `i.category`, customerID, limit)
}

// TopCategories returns the product categories a customer spent most on.
func (s *Store) TopCategories(ctx context.Context, customerID string, limit int) ([]Purchase, error) {
	return s.purchases(ctx, `i.category`, `''`, customerID, limit)
}

func (s *Store) purchases(ctx context.Context, key, category, customerID string, limit int) ([]Purchase, error) {
	rows, err := s.read.QueryContext(ctx, `
		SELECT `+key+` AS k, max(`+category+`), sum(i.quantity), sum(i.price * i.quantity), count(DISTINCT i.order_id), max(o.placed_at)
		FROM order_items i JOIN orders o ON o.id = i.order_id
		WHERE i.customer_id = $1 AND o.status = 'completed'
		GROUP BY `+key+` HAVING `+key+` <> ''
		ORDER BY 4 DESC, 1 LIMIT $2`, customerID, limit)
	if err != nil {
		return nil, fmt.Errorf("store: purchases: %w", err)
	}
	defer rows.Close()
	var out []Purchase
	for rows.Next() {
		var p Purchase
		var last dbTime
		if err := rows.Scan(&p.Name, &p.Category, &p.Quantity, &p.Revenue, &p.Orders, &last); err != nil {
			return nil, fmt.Errorf("store: purchases: %w", err)
		}
		p.LastAt = last.Time
		out = append(out, p)
	}
	return out, rows.Err()
}

// CustomerRef is enough of a customer to link to it.
type CustomerRef struct {
	ID      string
	Name    string
	Kind    customer.Kind
	Deleted bool
}

// CustomerRefs looks up names and kinds of customers by id; unknown ids
// are absent from the result.
func (s *Store) CustomerRefs(ctx context.Context, ids []string) (map[string]CustomerRef, error) {
	out := make(map[string]CustomerRef, len(ids))
	for start := 0; start < len(ids); start += idChunk {
		chunk := ids[start:min(start+idChunk, len(ids))]
		args := make([]any, len(chunk))
		for i, id := range chunk {
			args[i] = id
		}
		rows, err := s.read.QueryContext(ctx, `SELECT id, name, kind, deleted_at IS NOT NULL FROM customers WHERE id IN (`+placeholders(1, len(args))+`)`, args...)
		if err != nil {
			return nil, fmt.Errorf("store: customer refs: %w", err)
		}
		for rows.Next() {
			var r CustomerRef
			var kind string
			if err := rows.Scan(&r.ID, &r.Name, &kind, &r.Deleted); err != nil {
				rows.Close()
				return nil, fmt.Errorf("store: customer refs: %w", err)
			}
			r.Kind = customer.Kind(kind)
			out[r.ID] = r
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, fmt.Errorf("store: customer refs: %w", err)
		}
	}
	return out, nil
}

// Tags returns the most used tags with how many customers carry each.
func (s *Store) Tags(ctx context.Context, limit int) ([]TagCount, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT tag, count(*) FROM customer_tags GROUP BY tag ORDER BY count(*) DESC, tag LIMIT $1`, limit)
	if err != nil {
		return nil, fmt.Errorf("store: tags: %w", err)
	}
	defer rows.Close()
	var out []TagCount
	for rows.Next() {
		var t TagCount
		if err := rows.Scan(&t.Tag, &t.Customers); err != nil {
			return nil, fmt.Errorf("store: tags: %w", err)
		}
		out = append(out, t)
	}
	return out, rows.Err()
}

// TagCount is a tag and how many customers carry it.
type TagCount struct {
	Tag       string
	Customers int64
}

// ScoreFilter selects customers by their model scores, on top of a Filter.
type ScoreFilter struct {
	Tier       string // value tier, e.g. platinum
	RFMSegment string // RFM segment, e.g. champions
}

// ListCustomersScored is ListCustomers with score filters. Without any it
// is exactly ListCustomers. With them it picks the cheaper of two plans by
// how many customers the score filter matches (counted on the score index):
// a common tier walks the customers in list order and keeps those whose
// scores match (about limit/share rows read), a rare one reads the matches
// from the score index and sorts them (about matches rows read).
func (s *Store) ListCustomersScored(ctx context.Context, f Filter, sf ScoreFilter) (Page, error) {
	if sf == (ScoreFilter{}) {
		return s.ListCustomers(ctx, f)
	}
	if f.Limit <= 0 || f.Limit > 500 {
		f.Limit = 50
	}
	cur, err := decodeCursor(f.Cursor)
	if err != nil {
		return Page{}, err
	}
	var where []string
	var args []any
	arg := func(v any) string {
		args = append(args, v)
		return "$" + strconv.Itoa(len(args))
	}
	var sc []string
	var scArgs []any
	if sf.Tier != "" {
		sc = append(sc, `sc.tier = $`+strconv.Itoa(len(scArgs)+1))
		scArgs = append(scArgs, sf.Tier)
	}
	if sf.RFMSegment != "" {
		sc = append(sc, `sc.rfm_segment = $`+strconv.Itoa(len(scArgs)+1))
		scArgs = append(scArgs, sf.RFMSegment)
	}
	var matches, customers int64
	if err := s.read.QueryRowContext(ctx, `SELECT count(*) FROM customer_scores sc WHERE `+strings.Join(sc, " AND "), scArgs...).Scan(&matches); err != nil {
		return Page{}, fmt.Errorf("store: list scored customers: %w", err)
	}
	if err := s.read.QueryRowContext(ctx, `SELECT COALESCE(max(seq), 0) FROM customers`).Scan(&customers); err != nil {
		return Page{}, fmt.Errorf("store: list scored customers: %w", err)
	}
	from := customerFrom
	sc = sc[:0]
	if sf.Tier != "" {
		sc = append(sc, `sc.tier = `+arg(sf.Tier))
	}
	if sf.RFMSegment != "" {
		sc = append(sc, `sc.rfm_segment = `+arg(sf.RFMSegment))
	}
	if matches*matches < int64(f.Limit+1)*customers {
		// Few matches: read them from the score index. On SQLite, CROSS JOIN
		// keeps the planner from turning the join around.
		join := " JOIN "
		if s.dialect == SQLite {
			join = " CROSS JOIN "
		}
		from = ` FROM customer_scores sc` + join + `customers c ON c.id = sc.customer_id LEFT JOIN customer_stats st ON st.customer_id = c.id`
		where = append(where, sc...)
	} else {
		where = append(where, `EXISTS (SELECT 1 FROM customer_scores sc WHERE sc.customer_id = c.id AND `+strings.Join(sc, " AND ")+`)`)
	}
	where = append(where, `c.deleted_at IS NULL`)
	if q := customer.SearchQuery(f.Q); q != "" {
		where = append(where, s.searchCondition(q, arg)...) // search.go
	}
	if f.Kind != "" {
		where = append(where, `c.kind = `+arg(f.Kind))
	}
	if f.OwnerID != "" {
		where = append(where, `c.owner_id = `+arg(f.OwnerID))
	}
	if f.Tag != "" {
		where = append(where, `EXISTS (SELECT 1 FROM customer_tags t WHERE t.tag = `+arg(f.Tag)+` AND t.customer_seq = c.seq)`)
	}
	for k, v := range f.Attrs {
		where = append(where, s.attrText("c.attributes", arg(k))+` = `+arg(v))
	}
	order := ` ORDER BY c.seq DESC`
	if f.Sort == "name" {
		order = ` ORDER BY c.sort_key, c.seq`
		if f.Cursor != "" {
			where = append(where, `(c.sort_key > `+arg(cur.Name)+` OR (c.sort_key = `+arg(cur.Name)+` AND c.seq > `+arg(cur.Seq)+`))`)
		}
	} else if f.Cursor != "" {
		where = append(where, `c.seq < `+arg(cur.Seq))
	}
	query := `SELECT ` + customerColumns + `, c.sort_key` + from + ` WHERE ` + strings.Join(where, " AND ") + order + ` LIMIT ` + arg(f.Limit+1)
	page, err := s.listPage(ctx, query, args, f)
	if err != nil {
		return Page{}, fmt.Errorf("store: list scored customers: %w", err)
	}
	ptrs := make([]*customer.Customer, len(page.Items))
	for i := range page.Items {
		ptrs[i] = &page.Items[i]
	}
	if err := s.fillIdentities(ctx, s.read, ptrs); err != nil {
		return Page{}, fmt.Errorf("store: list scored customers: %w", err)
	}
	if err := s.fillScores(ctx, s.read, ptrs); err != nil {
		return Page{}, fmt.Errorf("store: list scored customers: %w", err)
	}
	if page.Items == nil {
		page.Items = []customer.Customer{}
	}
	return page, nil
}

// ListAPIKeys returns every API key, newest first; secrets are never stored.
func (s *Store) ListAPIKeys(ctx context.Context) ([]APIKey, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT id, name, role, prefix, hash, created_by, created_at, revoked_at
		FROM api_keys ORDER BY created_at DESC, id`)
	if err != nil {
		return nil, fmt.Errorf("store: list api keys: %w", err)
	}
	defer rows.Close()
	var out []APIKey
	for rows.Next() {
		var k APIKey
		var by sql.NullString
		var created, revoked dbTime
		if err := rows.Scan(&k.ID, &k.Name, &k.Role, &k.Prefix, &k.Hash, &by, &created, &revoked); err != nil {
			return nil, fmt.Errorf("store: list api keys: %w", err)
		}
		k.CreatedBy, k.CreatedAt, k.RevokedAt = by.String, created.Time, revoked.ptr()
		out = append(out, k)
	}
	return out, rows.Err()
}

// RevokeAPIKey stops a key from working.
func (s *Store) RevokeAPIKey(ctx context.Context, id string, at time.Time) error {
	res, err := s.write.ExecContext(ctx, `UPDATE api_keys SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL`, ts(at), id)
	if err != nil {
		return fmt.Errorf("store: revoke api key: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return errs.E(errs.NotFound, "active API key %s not found", id)
	}
	return nil
}

// SetUserRole changes a user's role.
func (s *Store) SetUserRole(ctx context.Context, id, role string) error {
	res, err := s.write.ExecContext(ctx, `UPDATE users SET role = $1 WHERE id = $2`, role, id)
	if err != nil {
		return fmt.Errorf("store: set user role: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return errs.E(errs.NotFound, "user %s not found", id)
	}
	return nil
}

// SetUserDisabled disables a user (ending their sessions) or, with a nil
// time, enables them again.
func (s *Store) SetUserDisabled(ctx context.Context, id string, at *time.Time) error {
	err := s.tx(ctx, func(tx *Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE users SET disabled_at = $1 WHERE id = $2`, tsOrNil(at), id)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return errs.E(errs.NotFound, "user %s not found", id)
		}
		if at != nil {
			_, err = tx.ExecContext(ctx, `DELETE FROM sessions WHERE user_id = $1`, id)
		}
		return err
	})
	return wrap("set user disabled", err)
}
