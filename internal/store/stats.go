package store

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"slices"
	"time"

	"github.com/rapportcrm/rapport/internal/customer"
	"github.com/rapportcrm/rapport/internal/errs"
)

// Stats are kept current on every write (DESIGN.md: work once, on write).
// The hot paths — a batch of tracked events, new orders — add their
// deltas to customer_stats and to two small per-customer aggregates
// (customer_days: completed orders per UTC day; customer_categories:
// spend per product category), from which the purchase-day count, the
// repeat revenue and the favourite category are refreshed for the touched
// customers only. Rare writes that take something away (a refund, a merge,
// an undone merge) rebuild the touched customers' stats from the log with
// the same statements the repair command runs over everyone.

// seenDelta is what a batch adds to one customer's activity stats.
type seenDelta struct {
	events      int64
	first, last time.Time
	channel     string
	channelAt   time.Time
}

func (d *seenDelta) see(at time.Time, channel string) {
	if d.first.IsZero() || at.Before(d.first) {
		d.first = at
	}
	if at.After(d.last) {
		d.last = at
	}
	if channel != "" && (d.channelAt.IsZero() || at.After(d.channelAt) || at.Equal(d.channelAt) && channel > d.channel) {
		d.channel, d.channelAt = channel, at
	}
}

// seenUpdate merges first/last seen and the last channel into
// customer_stats; the channel of the latest touch wins, ties going to the
// greater channel name so the result does not depend on arrival order.
const seenUpdate = `
	first_seen = CASE WHEN customer_stats.first_seen IS NULL OR customer_stats.first_seen > excluded.first_seen THEN excluded.first_seen ELSE customer_stats.first_seen END,
	last_seen = CASE WHEN customer_stats.last_seen IS NULL OR customer_stats.last_seen < excluded.last_seen THEN excluded.last_seen ELSE customer_stats.last_seen END,
	last_channel = CASE WHEN excluded.last_channel_at IS NULL THEN customer_stats.last_channel
		WHEN customer_stats.last_channel_at IS NULL OR customer_stats.last_channel_at < excluded.last_channel_at
			OR (customer_stats.last_channel_at = excluded.last_channel_at AND customer_stats.last_channel < excluded.last_channel)
		THEN excluded.last_channel ELSE customer_stats.last_channel END,
	last_channel_at = CASE WHEN excluded.last_channel_at IS NULL THEN customer_stats.last_channel_at
		WHEN customer_stats.last_channel_at IS NULL OR customer_stats.last_channel_at < excluded.last_channel_at
		THEN excluded.last_channel_at ELSE customer_stats.last_channel_at END`

const activityUpsert = ` ON CONFLICT (customer_id) DO UPDATE SET events = customer_stats.events + excluded.events,` + seenUpdate

// addActivity applies per-customer event deltas in multi-row upserts.
func addActivity(ctx context.Context, tx *Tx, deltas map[string]*seenDelta) error {
	ids := sortedKeys(deltas)
	rows := make([][]any, 0, len(ids))
	for _, id := range ids {
		d := deltas[id]
		var chAt any
		if !d.channelAt.IsZero() {
			chAt = ts(d.channelAt)
		}
		rows = append(rows, []any{id, d.events, ts(d.first), ts(d.last), d.channel, chAt})
	}
	return insertChunked(ctx, tx, "customer_stats", []string{"customer_id", "events", "first_seen", "last_seen", "last_channel", "last_channel_at"}, rows, activityUpsert)
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// orderDelta is what new completed orders add to one customer.
type orderDelta struct {
	seenDelta
	orders  int64
	revenue float64
}

// addOrderStats counts newly stored orders in their customers' stats:
// completed ones add to orders, revenue, purchase days and category spend.
func (s *Store) addOrderStats(ctx context.Context, tx *Tx, orders []customer.Order) error {
	deltas := map[string]*orderDelta{}
	type dayKey struct{ customer, day string }
	days := map[dayKey]*[2]float64{}
	type catKey struct{ customer, category string }
	cats := map[catKey]float64{}
	for _, o := range orders {
		if o.Status != customer.OrderCompleted {
			continue
		}
		d := deltas[o.CustomerID]
		if d == nil {
			d = &orderDelta{}
			deltas[o.CustomerID] = d
		}
		d.orders++
		d.revenue += o.Total
		d.see(o.PlacedAt, o.Source)
		k := dayKey{o.CustomerID, o.PlacedAt.UTC().Format(time.DateOnly)}
		if days[k] == nil {
			days[k] = &[2]float64{}
		}
		days[k][0]++
		days[k][1] += o.Total
		for _, it := range o.Items {
			if it.Category != "" {
				cats[catKey{o.CustomerID, it.Category}] += it.Price * it.Quantity
			}
		}
	}
	if len(deltas) == 0 {
		return nil
	}
	ids := sortedKeys(deltas)
	var rows [][]any
	for _, id := range ids {
		d := deltas[id]
		var chAt any
		if !d.channelAt.IsZero() {
			chAt = ts(d.channelAt)
		}
		rows = append(rows, []any{id, d.orders, d.revenue, ts(d.first), ts(d.last), ts(d.first), ts(d.last), d.channel, chAt})
	}
	if err := insertRowsSuffix(ctx, tx, "customer_stats",
		[]string{"customer_id", "orders", "revenue", "first_order_at", "last_order_at", "first_seen", "last_seen", "last_channel", "last_channel_at"}, rows,
		` ON CONFLICT (customer_id) DO UPDATE SET
		orders = customer_stats.orders + excluded.orders,
		revenue = customer_stats.revenue + excluded.revenue,
		first_order_at = CASE WHEN customer_stats.first_order_at IS NULL OR customer_stats.first_order_at > excluded.first_order_at THEN excluded.first_order_at ELSE customer_stats.first_order_at END,
		last_order_at = CASE WHEN customer_stats.last_order_at IS NULL OR customer_stats.last_order_at < excluded.last_order_at THEN excluded.last_order_at ELSE customer_stats.last_order_at END,
		`+seenUpdate); err != nil {
		return err
	}
	rows = rows[:0]
	dayKeys := make([]dayKey, 0, len(days))
	for k := range days {
		dayKeys = append(dayKeys, k)
	}
	slices.SortFunc(dayKeys, func(a, b dayKey) int { return cmp.Or(cmp.Compare(a.customer, b.customer), cmp.Compare(a.day, b.day)) })
	for _, k := range dayKeys {
		rows = append(rows, []any{k.customer, k.day, int64(days[k][0]), days[k][1]})
	}
	if err := insertRowsSuffix(ctx, tx, "customer_days", []string{"customer_id", "day", "orders", "revenue"}, rows,
		` ON CONFLICT (customer_id, day) DO UPDATE SET orders = customer_days.orders + excluded.orders, revenue = customer_days.revenue + excluded.revenue`); err != nil {
		return err
	}
	rows = rows[:0]
	catKeys := make([]catKey, 0, len(cats))
	for k := range cats {
		catKeys = append(catKeys, k)
	}
	slices.SortFunc(catKeys, func(a, b catKey) int {
		return cmp.Or(cmp.Compare(a.customer, b.customer), cmp.Compare(a.category, b.category))
	})
	for _, k := range catKeys {
		rows = append(rows, []any{k.customer, k.category, cats[k]})
	}
	if err := insertRowsSuffix(ctx, tx, "customer_categories", []string{"customer_id", "category", "amount"}, rows,
		` ON CONFLICT (customer_id, category) DO UPDATE SET amount = customer_categories.amount + excluded.amount`); err != nil {
		return err
	}
	return refreshPurchaseSummary(ctx, tx, ids)
}

// refreshPurchaseSummary derives purchase days, repeat revenue and the
// favourite category of the given customers from their small aggregates.
func refreshPurchaseSummary(ctx context.Context, tx *Tx, ids []string) error {
	for start := 0; start < len(ids); start += 1000 {
		chunk := ids[start:min(start+1000, len(ids))]
		args := make([]any, len(chunk))
		for i, id := range chunk {
			args[i] = id
		}
		if _, err := tx.ExecContext(ctx, `UPDATE customer_stats SET
			purchase_days = (SELECT count(*) FROM customer_days d WHERE d.customer_id = customer_stats.customer_id),
			repeat_revenue = customer_stats.revenue - COALESCE((SELECT d.revenue FROM customer_days d
				WHERE d.customer_id = customer_stats.customer_id ORDER BY d.day LIMIT 1), 0),
			favourite_category = COALESCE((SELECT c.category FROM customer_categories c
				WHERE c.customer_id = customer_stats.customer_id ORDER BY c.amount DESC, c.category LIMIT 1), '')
			WHERE customer_id IN (`+placeholders(1, len(chunk))+`)`, args...); err != nil {
			return err
		}
	}
	return nil
}

// dayOf is the dialect seam for the UTC calendar day of a stored timestamp.
func dayOf(d Dialect, col string) string {
	if d == Postgres {
		return `to_char(` + col + ` AT TIME ZONE 'UTC', 'YYYY-MM-DD')`
	}
	return `substr(` + col + `, 1, 10)`
}

// rebuildStats recomputes stats from the log: for everyone when ids is
// nil, otherwise for those customers only.
func (s *Store) rebuildStats(ctx context.Context, tx *Tx, ids []string) error {
	if ids != nil && len(ids) == 0 {
		return nil
	}
	var args []any
	in := func(col string) string { return "1 = 1" }
	if ids != nil {
		for _, id := range ids {
			args = append(args, id)
		}
		list := placeholders(1, len(ids))
		in = func(col string) string { return col + ` IN (` + list + `)` }
	}
	stmts := []string{
		`DELETE FROM customer_stats WHERE ` + in("customer_id"),
		`DELETE FROM customer_days WHERE ` + in("customer_id"),
		`DELETE FROM customer_categories WHERE ` + in("customer_id"),
		`INSERT INTO customer_days (customer_id, day, orders, revenue)
		SELECT customer_id, ` + dayOf(s.dialect, "placed_at") + `, count(*), sum(total) FROM orders
		WHERE status = 'completed' AND ` + in("customer_id") + `
		GROUP BY customer_id, ` + dayOf(s.dialect, "placed_at"),
		`INSERT INTO customer_categories (customer_id, category, amount)
		SELECT i.customer_id, i.category, sum(i.price * i.quantity) FROM order_items i JOIN orders o ON o.id = i.order_id
		WHERE o.status = 'completed' AND i.category <> '' AND ` + in("i.customer_id") + `
		GROUP BY i.customer_id, i.category`,
		`INSERT INTO customer_stats (customer_id, orders, revenue, first_order_at, last_order_at, first_seen, last_seen, interactions,
			events, last_channel, last_channel_at, favourite_category, purchase_days, repeat_revenue)
		SELECT c.id,
			COALESCE(o.n, 0), COALESCE(o.revenue, 0), o.first_at, o.last_at,
			(SELECT min(x) FROM (SELECT o.first_at AS x UNION ALL SELECT i.first_at UNION ALL SELECT nt.first_at UNION ALL SELECT e.first_at) m),
			(SELECT max(x) FROM (SELECT o.last_at AS x UNION ALL SELECT i.last_at UNION ALL SELECT nt.last_at UNION ALL SELECT e.last_at) m),
			COALESCE(i.n, 0), COALESCE(e.n, 0), COALESCE(ch.channel, ''), ch.at, COALESCE(fav.category, ''),
			COALESCE(d.n, 0), COALESCE(o.revenue, 0) - COALESCE(d.first_revenue, 0)
		FROM customers c
		LEFT JOIN (SELECT customer_id, count(*) AS n, sum(total) AS revenue, min(placed_at) AS first_at, max(placed_at) AS last_at
			FROM orders WHERE status = 'completed' AND ` + in("customer_id") + ` GROUP BY customer_id) o ON o.customer_id = c.id
		LEFT JOIN (SELECT customer_id, count(*) AS n, min(at) AS first_at, max(at) AS last_at
			FROM interactions WHERE ` + in("customer_id") + ` GROUP BY customer_id) i ON i.customer_id = c.id
		LEFT JOIN (SELECT customer_id, min(created_at) AS first_at, max(created_at) AS last_at
			FROM notes WHERE ` + in("customer_id") + ` GROUP BY customer_id) nt ON nt.customer_id = c.id
		LEFT JOIN (SELECT customer_id, count(*) AS n, min(at) AS first_at, max(at) AS last_at
			FROM events WHERE ` + in("customer_id") + ` GROUP BY customer_id) e ON e.customer_id = c.id
		LEFT JOIN (SELECT customer_id, channel, at FROM (
				SELECT customer_id, channel, at, row_number() OVER (PARTITION BY customer_id ORDER BY at DESC, channel DESC) AS rn FROM (
					SELECT ev.customer_id, src.name AS channel, ev.at FROM events ev JOIN sources src ON src.id = ev.source_id WHERE ` + in("ev.customer_id") + `
					UNION ALL
					SELECT customer_id, source, placed_at FROM orders WHERE status = 'completed' AND source <> '' AND ` + in("customer_id") + `
				) touches
			) ranked WHERE rn = 1) ch ON ch.customer_id = c.id
		LEFT JOIN (SELECT customer_id, category FROM (
				SELECT customer_id, category, row_number() OVER (PARTITION BY customer_id ORDER BY amount DESC, category) AS rn
				FROM customer_categories WHERE ` + in("customer_id") + `
			) ranked WHERE rn = 1) fav ON fav.customer_id = c.id
		LEFT JOIN (SELECT customer_id, count(*) AS n,
				(SELECT d2.revenue FROM customer_days d2 WHERE d2.customer_id = d1.customer_id ORDER BY d2.day LIMIT 1) AS first_revenue
			FROM customer_days d1 WHERE ` + in("customer_id") + ` GROUP BY customer_id) d ON d.customer_id = c.id
		WHERE ` + in("c.id") + ` AND (o.n IS NOT NULL OR i.n IS NOT NULL OR nt.first_at IS NOT NULL OR e.n IS NOT NULL)`,
	}
	for _, q := range stmts {
		if _, err := tx.ExecContext(ctx, q, args...); err != nil {
			return err
		}
	}
	return nil
}

// refreshStats rebuilds the stats of a few customers from the log, in
// chunks that keep the statement's parameters bounded.
func (s *Store) refreshStats(ctx context.Context, tx *Tx, ids []string) error {
	slices.Sort(ids)
	ids = slices.Compact(ids)
	for start := 0; start < len(ids); start += 500 {
		if err := s.rebuildStats(ctx, tx, ids[start:min(start+500, len(ids))]); err != nil {
			return err
		}
	}
	return nil
}

const statsColumns = `COALESCE(st.orders, 0), COALESCE(st.revenue, 0), st.first_order_at, st.last_order_at, st.first_seen, st.last_seen,
	COALESCE(st.interactions, 0), COALESCE(st.events, 0), COALESCE(st.last_channel, ''), COALESCE(st.favourite_category, ''),
	COALESCE(st.purchase_days, 0), COALESCE(st.repeat_revenue, 0)`

// scanStats reads statsColumns and derives the average order value and
// the repeat-purchase summary as of now.
func scanStats(row interface{ Scan(...any) error }, extra []any, now time.Time) (customer.Stats, error) {
	var st customer.Stats
	var fo, lo, fs, ls dbTime
	var repeatRevenue float64
	dest := append([]any{&st.Orders, &st.Revenue, &fo, &lo, &fs, &ls, &st.Interactions, &st.Events, &st.LastChannel,
		&st.FavouriteCategory, &st.PurchaseDays, &repeatRevenue}, extra...)
	if err := row.Scan(dest...); err != nil {
		return st, err
	}
	st.FirstOrderAt, st.LastOrderAt, st.FirstSeen, st.LastSeen = fo.ptr(), lo.ptr(), fs.ptr(), ls.ptr()
	fillDerived(&st, repeatRevenue, now)
	return st, nil
}

// fillDerived computes the average order value and repeat summary from
// the stored counters: frequency is purchase days after the first, recency
// and age are in whole days between UTC purchase days (age up to now).
func fillDerived(st *customer.Stats, repeatRevenue float64, now time.Time) {
	if st.Orders > 0 {
		st.AverageOrderValue = st.Revenue / float64(st.Orders)
	}
	if st.PurchaseDays == 0 || st.FirstOrderAt == nil || st.LastOrderAt == nil {
		return
	}
	day := func(t time.Time) time.Time { return t.UTC().Truncate(24 * time.Hour) }
	first := day(*st.FirstOrderAt)
	st.Repeat.Frequency = st.PurchaseDays - 1
	st.Repeat.RecencyDays = day(*st.LastOrderAt).Sub(first).Hours() / 24
	st.Repeat.AgeDays = max(0, day(now).Sub(first).Hours()/24)
	if st.Repeat.Frequency > 0 {
		st.Repeat.MeanRepeatValue = repeatRevenue / float64(st.Repeat.Frequency)
	}
}

// CustomerStats returns one customer's stats as stored (nothing is
// recomputed from the log).
func (s *Store) CustomerStats(ctx context.Context, id string) (customer.Stats, error) {
	var n int
	if err := s.read.QueryRowContext(ctx, `SELECT count(*) FROM customers WHERE id = $1`, id).Scan(&n); err != nil {
		return customer.Stats{}, wrap("customer stats", err)
	}
	if n == 0 {
		return customer.Stats{}, errs.E(errs.NotFound, "customer %s not found", id)
	}
	st, err := scanStats(s.read.QueryRowContext(ctx, `SELECT `+statsColumns+` FROM customer_stats st WHERE st.customer_id = $1`, id), nil, time.Now())
	if errors.Is(err, sql.ErrNoRows) {
		return customer.Stats{}, nil
	}
	return st, wrap("customer stats", err)
}

// AllStats returns every customer's stored stats, by customer id, as of
// now: what the recompute test compares before and after a rebuild.
func (s *Store) AllStats(ctx context.Context, now time.Time) (map[string]customer.Stats, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT `+statsColumns+`, st.customer_id FROM customer_stats st`)
	if err != nil {
		return nil, wrap("all stats", err)
	}
	defer rows.Close()
	out := map[string]customer.Stats{}
	for rows.Next() {
		var id string
		st, err := scanStats(rows, []any{&id}, now)
		if err != nil {
			return nil, wrap("all stats", err)
		}
		out[id] = st
	}
	return out, wrap("all stats", rows.Err())
}

// FillStats replaces the stats of the given customers with the full
// stored stats (the customer reads fill only the core counters).
func (s *Store) FillStats(ctx context.Context, cs []*customer.Customer) error {
	return wrap("fill stats", s.fillStats(ctx, s.read, cs))
}

func (s *Store) fillStats(ctx context.Context, q querier, cs []*customer.Customer) error {
	if len(cs) == 0 {
		return nil
	}
	args, byID := idsOf(cs)
	rows, err := q.QueryContext(ctx, `SELECT `+statsColumns+`, st.customer_id FROM customer_stats st
		WHERE st.customer_id IN (`+placeholders(1, len(args))+`)`, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	now := time.Now()
	for rows.Next() {
		var id string
		st, err := scanStats(rows, []any{&id}, now)
		if err != nil {
			return err
		}
		byID[id].Stats = st
	}
	return rows.Err()
}
