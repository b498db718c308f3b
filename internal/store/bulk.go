package store

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync"

	"github.com/rapportcrm/rapport/internal/customer"
)

// maxParams keeps multi-row statements under both engines' parameter limits.
const maxParams = 30000

// insertRows writes rows with multi-row INSERT statements, as many rows per
// statement as the parameter limit allows.
func insertRows(ctx context.Context, tx *Tx, table string, cols []string, rows [][]any) error {
	return insertRowsSuffix(ctx, tx, table, cols, rows, "")
}

// insertRowsSuffix is insertRows with a clause after the VALUES list, such
// as ON CONFLICT … DO UPDATE. Rows of one call must not conflict with each
// other (PostgreSQL refuses to update a row twice in one statement).
//
// On SQLite the rows go in statements of fixed sizes (256, 16, then 1
// row), each prepared once per call: a statement as large as the parameter
// limit allows costs as much to parse as a few hundred rows cost to
// insert, and its size changed with every call. On PostgreSQL plain
// inserts of many rows go by COPY (copyRows).
func insertRowsSuffix(ctx context.Context, tx *Tx, table string, cols []string, rows [][]any, suffix string) error {
	if len(rows) == 0 {
		return nil
	}
	if tx.rewrite {
		return insertFixed(ctx, tx, table, cols, rows, suffix, []int{256, 16, 1})
	}
	if ok, err := copyRows(ctx, tx, table, cols, rows, suffix); ok || err != nil {
		return err
	}
	per := max(1, maxParams/len(cols))
	head := "INSERT INTO " + table + " (" + strings.Join(cols, ", ") + ") VALUES "
	var stmt *Stmt
	defer func() {
		if stmt != nil {
			stmt.Close()
		}
	}()
	for start := 0; start < len(rows); start += per {
		chunk := rows[start:min(start+per, len(rows))]
		args := make([]any, 0, len(chunk)*len(cols))
		for _, r := range chunk {
			args = append(args, r...)
		}
		if len(chunk) == per && stmt != nil {
			if _, err := stmt.ExecContext(ctx, args...); err != nil {
				return err
			}
			continue
		}
		var b strings.Builder
		b.WriteString(head)
		for i := range chunk {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString("(" + placeholders(i*len(cols)+1, len(cols)) + ")")
		}
		b.WriteString(suffix)
		if len(chunk) == per {
			var err error
			if stmt, err = tx.PrepareContext(ctx, b.String()); err != nil {
				return err
			}
			if _, err := stmt.ExecContext(ctx, args...); err != nil {
				return err
			}
			continue
		}
		if _, err := tx.ExecContext(ctx, b.String(), args...); err != nil {
			return err
		}
	}
	return nil
}

// insertFixed writes rows with multi-row INSERTs of the given sizes,
// largest first (the last must be 1), each statement prepared once.
func insertFixed(ctx context.Context, tx *Tx, table string, cols []string, rows [][]any, suffix string, sizes []int) error {
	head := "INSERT INTO " + table + " (" + strings.Join(cols, ", ") + ") VALUES "
	var args []any
	for _, size := range sizes {
		if len(rows) < size {
			continue
		}
		var b strings.Builder
		b.WriteString(head)
		for i := 0; i < size; i++ {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString("(" + placeholders(i*len(cols)+1, len(cols)) + ")")
		}
		b.WriteString(suffix)
		stmt, err := tx.PrepareContext(ctx, b.String())
		if err != nil {
			return err
		}
		for len(rows) >= size {
			args = args[:0]
			for _, r := range rows[:size] {
				args = append(args, r...)
			}
			if _, err := stmt.ExecContext(ctx, args...); err != nil {
				stmt.Close()
				return err
			}
			rows = rows[size:]
		}
		stmt.Close()
	}
	return nil
}

// Dataset is a batch of records to load at once, such as the demo data or
// a bulk import that has already been validated.
type Dataset struct {
	Customers    []customer.Customer
	Orders       []customer.Order
	Interactions []customer.Interaction
	Notes        []customer.Note
	Fields       []customer.Field
}

// Load writes a validated dataset in one transaction without per-record
// audit entries (one audit entry records the load), then rebuilds the
// affected customers' stats.
func (s *Store) Load(ctx context.Context, a Actor, d Dataset) error {
	err := s.tx(ctx, func(tx *Tx) error {
		for _, f := range d.Fields {
			if err := insertRows(ctx, tx, "fields", []string{"key", "type", "label_en", "label_zh", "options", "created_at"},
				[][]any{{f.Key, string(f.Type), f.LabelEn, f.LabelZh, jsonText(f.Options, "[]"), ts(f.CreatedAt)}}); err != nil {
				return err
			}
		}
		if err := s.loadCustomers(ctx, tx, d.Customers); err != nil {
			return err
		}
		if err := loadOrders(ctx, tx, d.Orders); err != nil {
			return err
		}
		var rows [][]any
		for _, in := range d.Interactions {
			rows = append(rows, []any{in.ID, in.CustomerID, nullString(in.UserID), in.Kind, ts(in.At), in.Summary, ts(in.CreatedAt)})
		}
		if err := insertRows(ctx, tx, "interactions", []string{"id", "customer_id", "user_id", "kind", "at", "summary", "created_at"}, rows); err != nil {
			return err
		}
		rows = rows[:0]
		for _, n := range d.Notes {
			rows = append(rows, []any{n.ID, n.CustomerID, nullString(n.AuthorID), n.Body, ts(n.CreatedAt)})
		}
		if err := insertRows(ctx, tx, "notes", []string{"id", "customer_id", "author_id", "body", "created_at"}, rows); err != nil {
			return err
		}
		if err := s.recomputeStats(ctx, tx); err != nil {
			return err
		}
		return s.audit(ctx, tx, a, "load", "dataset", "", "", map[string]int{
			"customers": len(d.Customers), "orders": len(d.Orders), "interactions": len(d.Interactions), "notes": len(d.Notes)})
	})
	if err == nil && s.dialect == Postgres {
		// Fresh statistics for the planner: a bulk load changes the tables
		// faster than autovacuum notices (and some servers run without it).
		_, err = s.write.ExecContext(ctx, `ANALYZE customers, identities, memberships, orders, order_items, interactions, notes, customer_stats`)
	}
	return wrap("load dataset", err)
}

func (s *Store) loadCustomers(ctx context.Context, tx *Tx, cs []customer.Customer) error {
	var crow, irow, mrow [][]any
	for _, c := range cs {
		crow = append(crow, []any{c.ID, string(c.Kind), c.Name, customer.SortKey(c.Name), jsonText(c.Attributes, "{}"), jsonText(c.Tags, "[]"),
			nullString(c.OwnerID), ts(c.CreatedAt), ts(c.UpdatedAt), max(c.Version, 1), customer.SearchText(c.Name, c.Identities)})
		for _, id := range c.Identities {
			irow = append(irow, []any{id.Type, id.Source, id.Value, c.ID, ts(c.CreatedAt)})
		}
		for _, m := range c.Memberships {
			if m.PersonID == c.ID {
				mrow = append(mrow, []any{m.PersonID, m.OrganizationID, m.Role, ts(c.CreatedAt)})
			}
		}
	}
	if err := insertRows(ctx, tx, "customers", []string{"id", "kind", "name", "sort_key", "attributes", "tags", "owner_id", "created_at", "updated_at", "version", "search"}, crow); err != nil {
		return err
	}
	if err := insertRows(ctx, tx, "identities", []string{"type", "source", "value", "customer_id", "created_at"}, irow); err != nil {
		return err
	}
	if err := insertRows(ctx, tx, "memberships", []string{"person_id", "organization_id", "role", "created_at"}, mrow); err != nil {
		return err
	}
	_, err := tx.ExecContext(ctx, `INSERT INTO customer_tags (tag, customer_seq)
		SELECT DISTINCT t.value, c.seq FROM customers c, `+jsonEach(s.dialect, "c.tags")+` WHERE c.tags <> '[]'
		AND NOT EXISTS (SELECT 1 FROM customer_tags x WHERE x.customer_seq = c.seq)`)
	return err
}

// jsonEach is the dialect seam for expanding a JSON array of strings into
// rows aliased t with a text column named value.
func jsonEach(d Dialect, col string) string {
	if d == Postgres {
		return "jsonb_array_elements_text(" + col + ") AS t(value)"
	}
	return "json_each(" + col + ") AS t"
}

func loadOrders(ctx context.Context, tx *Tx, os []customer.Order) error {
	var orow, irow [][]any
	for _, o := range os {
		orow = append(orow, []any{o.ID, o.CustomerID, o.ExternalID, o.Source, ts(o.PlacedAt), o.Currency, o.Total, o.Status, ts(o.PlacedAt)})
		for i, it := range o.Items {
			irow = append(irow, []any{o.ID, i + 1, o.CustomerID, it.ProductID, it.SKU, it.Name, it.Category, it.Price, it.Quantity, it.UnitCost})
		}
	}
	if err := insertRows(ctx, tx, "orders", []string{"id", "customer_id", "external_id", "source", "placed_at", "currency", "total", "status", "created_at"}, orow); err != nil {
		return err
	}
	return insertRows(ctx, tx, "order_items", []string{"order_id", "line", "customer_id", "product_id", "sku", "name", "category", "price", "quantity", "unit_cost"}, irow)
}

// recomputeStats rebuilds every customer's stats from the log (orders,
// order items, events, interactions, notes): the repair path, and the
// reference the incremental path is tested against.
func (s *Store) recomputeStats(ctx context.Context, tx *Tx) error {
	return s.rebuildStats(ctx, tx, nil)
}

// RecomputeStats rebuilds every customer's stats from the log.
func (s *Store) RecomputeStats(ctx context.Context) error {
	return wrap("recompute stats", s.tx(ctx, func(tx *Tx) error { return s.recomputeStats(ctx, tx) }))
}

// insertChunked is insertRowsSuffix for the hot ingestion path: rows go in
// fixed-size multi-row statements (64, then 8, then 1 row), each prepared
// once per call, so SQLite parses three small statements instead of one
// whose size changes with every commit group.
//
// On PostgreSQL plain inserts of many rows go by COPY (copyRows); the
// others as one text array per column through unnest, when every value
// has a text form (insertUnnest): one statement and one round trip for
// any number of rows, which the server parses and plans once.
func insertChunked(ctx context.Context, tx *Tx, table string, cols []string, rows [][]any, suffix string) error {
	if ok, err := copyRows(ctx, tx, table, cols, rows, suffix); ok || err != nil {
		return err
	}
	if !tx.rewrite && len(rows) > 1 {
		if ok, err := insertUnnest(ctx, tx, table, cols, rows, suffix); ok || err != nil {
			return err
		}
	}
	return insertFixed(ctx, tx, table, cols, rows, suffix, []int{64, 8, 1})
}

// pgColumnTypes caches "table.column" → PostgreSQL type, read from the
// catalog once per process: every PostgreSQL store runs the same
// migrations, so the types do not depend on the schema.
var pgColumnTypes sync.Map

func columnTypes(ctx context.Context, tx *Tx, table string, cols []string) ([]string, error) {
	types := make([]string, len(cols))
	missing := false
	for i, c := range cols {
		t, ok := pgColumnTypes.Load(table + "." + c)
		if !ok {
			missing = true
			break
		}
		types[i] = t.(string)
	}
	if !missing {
		return types, nil
	}
	rows, err := tx.QueryContext(ctx, `SELECT a.attname, format_type(a.atttypid, a.atttypmod) FROM pg_attribute a
		WHERE a.attrelid = to_regclass($1) AND a.attnum > 0 AND NOT a.attisdropped`, table)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var name, typ string
		if err := rows.Scan(&name, &typ); err != nil {
			return nil, err
		}
		pgColumnTypes.Store(table+"."+name, typ)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	for i, c := range cols {
		t, ok := pgColumnTypes.Load(table + "." + c)
		if !ok {
			return nil, fmt.Errorf("no column %s.%s", table, c)
		}
		types[i] = t.(string)
	}
	return types, nil
}

// insertUnnest inserts rows on PostgreSQL as
// INSERT … SELECT CAST(u.cN AS type) … FROM unnest($1::text[], …) AS u.
// It reports false (inserting nothing) when a value has no plain text
// form or a column is an array, for the caller to fall back to VALUES.
func insertUnnest(ctx context.Context, tx *Tx, table string, cols []string, rows [][]any, suffix string) (bool, error) {
	types, err := columnTypes(ctx, tx, table, cols)
	if err != nil {
		return false, err
	}
	for _, t := range types {
		if strings.HasSuffix(t, "[]") {
			return false, nil
		}
	}
	arrays := make([][]*string, len(cols))
	texts := make([]string, len(rows)*len(cols)) // one backing store for the pointers
	for c := range cols {
		arrays[c] = make([]*string, len(rows))
	}
	for r, row := range rows {
		for c, v := range row {
			k := r*len(cols) + c
			switch x := v.(type) {
			case nil:
				continue
			case string:
				texts[k] = x
			case int:
				texts[k] = strconv.Itoa(x)
			case int32:
				texts[k] = strconv.FormatInt(int64(x), 10)
			case int64:
				texts[k] = strconv.FormatInt(x, 10)
			case float64:
				texts[k] = strconv.FormatFloat(x, 'g', -1, 64)
			case bool:
				texts[k] = strconv.FormatBool(x)
			default:
				return false, nil
			}
			arrays[c][r] = &texts[k]
		}
	}
	var b strings.Builder
	b.WriteString("INSERT INTO " + table + " (" + strings.Join(cols, ", ") + ") SELECT ")
	for i := range cols {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "CAST(u.c%d AS %s)", i, types[i])
	}
	b.WriteString(" FROM unnest(")
	args := make([]any, len(cols))
	for i := range cols {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "CAST($%d AS text[])", i+1)
		args[i] = arrays[i]
	}
	b.WriteString(") AS u(")
	for i := range cols {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "c%d", i)
	}
	b.WriteString(")")
	b.WriteString(suffix)
	_, err = tx.ExecContext(ctx, b.String(), args...)
	return true, err
}

// Bulk is a large import's hold on the database, from BeginBulk to End.
// On SQLite its chunks defer search indexing: the customers they create
// are listed in a backlog, committed with them, and End indexes the whole
// backlog in one pass (each indexed statement otherwise writes a search
// index segment, which later merges rewrite again and again). Until End,
// the import's customers are stored but not found by search; after a crash
// Open indexes what was left, so none stays unsearchable.
type Bulk struct {
	s *Store
}

// BeginBulk readies the database for a large import. On SQLite the writer
// connection's page cache grows to 256 MB while it lasts, so the indexes a
// million-row import inserts into at random (sort keys, identities) stay
// in memory, and the WAL is checkpointed every 64 MB.
func (s *Store) BeginBulk(ctx context.Context) (*Bulk, error) {
	b := &Bulk{s: s}
	if s.dialect != SQLite {
		return b, nil
	}
	if _, err := s.write.ExecContext(ctx, `PRAGMA cache_size = -262144`); err != nil {
		return nil, wrap("begin bulk", err)
	}
	if _, err := s.write.ExecContext(ctx, `PRAGMA wal_autocheckpoint = 16384`); err != nil {
		return nil, wrap("begin bulk", err)
	}
	return b, nil
}

// ImportChunk is Store.ImportChunk with the chunk's new customers put in
// the search backlog instead of the search index.
func (b *Bulk) ImportChunk(ctx context.Context, a Actor, importID string, keys ImportKeys, dryRun bool,
	plan func(ImportLookup) (ImportWrite, error)) (int, error) {
	return b.s.importChunk(ctx, a, importID, keys, dryRun, b.s.dialect == SQLite, plan)
}

// End indexes the backlog and puts the connection's settings back. It is
// to be called however the import ended (with a context that is not
// cancelled): a failed End leaves the backlog for the next Open.
func (b *Bulk) End(ctx context.Context) error {
	s := b.s
	if s.dialect != SQLite {
		return nil
	}
	err := s.indexSearchBacklog(ctx)
	// Back to the connection's configured sizes; a failure only leaves
	// the larger ones in place.
	_, _ = s.write.ExecContext(ctx, `PRAGMA cache_size = `+writerCacheSize)
	_, _ = s.write.ExecContext(ctx, `PRAGMA wal_autocheckpoint = `+writerCheckpoint)
	return wrap("end bulk", err)
}

// deferSearch makes the rest of tx's customer inserts go to the search
// backlog (SQLite); undeferSearch ends that before tx commits, so no other
// transaction ever sees indexing deferred.
func deferSearch(ctx context.Context, tx *Tx) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO customer_search_deferred (one) VALUES (1)`)
	return err
}

func undeferSearch(ctx context.Context, tx *Tx) error {
	_, err := tx.ExecContext(ctx, `DELETE FROM customer_search_deferred`)
	return err
}

// indexSearchBacklog adds the backlogged customers to the search index in
// one transaction and empties the backlog. FTS5 keeps pending entries in
// memory up to its hash size and writes a segment each time that fills;
// 64 MB while the pass runs makes a million customers a handful of
// segments instead of hundreds to merge.
func (s *Store) indexSearchBacklog(ctx context.Context) error {
	if s.dialect != SQLite {
		return nil
	}
	var n int64
	if err := s.write.QueryRowContext(ctx, `SELECT count(*) FROM customer_search_backlog`).Scan(&n); err != nil || n == 0 {
		return err
	}
	return s.tx(ctx, func(tx *Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO customer_search (customer_search, rank) VALUES ('hashsize', 67108864)`); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO customer_search (rowid, search)
			SELECT c.seq, c.search FROM customer_search_backlog b JOIN customers c ON c.seq = b.seq ORDER BY b.seq`); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM customer_search_backlog`); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO customer_search (customer_search, rank) VALUES ('hashsize', 1048576)`)
		return err
	})
}
