package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/rapportcrm/rapport/internal/customer"
	"github.com/rapportcrm/rapport/internal/errs"
)

// Segment is a named rule over customers. Its membership is materialized
// in segment_members and kept current by the real-time matcher.
type Segment struct {
	ID          string     `json:"id"`
	Name        string     `json:"name"`
	Rule        string     `json:"rule"`
	CreatedBy   string     `json:"created_by,omitempty"`
	CreatedAt   time.Time  `json:"created_at"`
	UpdatedAt   time.Time  `json:"updated_at"`
	MemberCount int64      `json:"member_count"`
	RefreshedAt *time.Time `json:"refreshed_at,omitempty"`
}

// Condition is a compiled segment rule: a WHERE condition over the aliases
// c (customers), st (customer_stats) and sc (customer_scores) with $1…$N
// placeholders for Args. It is built by the segment compiler, which never
// puts a value in the text. time.Time arguments are formatted for the
// engine here.
type Condition struct {
	Where  string
	Args   []any
	Stats  bool
	Scores bool
}

// IDsCondition selects the customers with these ids (none when empty).
func IDsCondition(ids []string) Condition {
	if len(ids) == 0 {
		return Condition{Where: "1 = 0"}
	}
	args := make([]any, len(ids))
	for i, id := range ids {
		args[i] = id
	}
	return Condition{Where: "c.id IN (" + placeholders(1, len(ids)) + ")", Args: args}
}

func (c Condition) from(withStats bool) string {
	q := ` FROM customers c`
	if c.Stats || withStats {
		q += ` LEFT JOIN customer_stats st ON st.customer_id = c.id`
	}
	if c.Scores {
		q += ` LEFT JOIN customer_scores sc ON sc.customer_id = c.id`
	}
	return q
}

// args returns the arguments ready to bind, followed by extra.
func (c Condition) args(extra ...any) []any {
	out := make([]any, 0, len(c.Args)+len(extra))
	for _, a := range c.Args {
		if t, ok := a.(time.Time); ok {
			a = ts(t)
		}
		out = append(out, a)
	}
	return append(out, extra...)
}

// next is the number of the first placeholder after the condition's own.
func (c Condition) next() int { return len(c.Args) + 1 }

func param(n int) string { return "$" + strconv.Itoa(n) }

// tsParam is placeholder n holding a timestamp in a SELECT list, where
// PostgreSQL cannot infer its type from a column.
func (s *Store) tsParam(n int) string {
	if s.dialect == Postgres {
		return "CAST(" + param(n) + " AS TIMESTAMPTZ)"
	}
	return param(n)
}

// textParam is placeholder n holding text in a SELECT list.
func (s *Store) textParam(n int) string {
	if s.dialect == Postgres {
		return "CAST(" + param(n) + " AS TEXT)"
	}
	return param(n)
}

// CountMatching counts live customers meeting cond; ownerID, when set,
// restricts the count to that owner's customers.
func (s *Store) CountMatching(ctx context.Context, cond Condition, ownerID string) (int64, error) {
	q := `SELECT count(*)` + cond.from(false) + ` WHERE c.deleted_at IS NULL AND ` + cond.Where
	args := cond.args()
	if ownerID != "" {
		q += ` AND c.owner_id = ` + param(cond.next())
		args = append(args, ownerID)
	}
	var n int64
	if err := s.read.QueryRowContext(ctx, q, args...).Scan(&n); err != nil {
		return 0, fmt.Errorf("store: count segment: %w", err)
	}
	return n, nil
}

// ListMatching returns a page of live customers meeting cond in creation
// order, with identities and scores.
func (s *Store) ListMatching(ctx context.Context, cond Condition, ownerID, cursorText string, limit int) (Page, error) {
	if limit <= 0 || limit > 500 {
		limit = 50
	}
	cur, err := decodeCursor(cursorText)
	if err != nil {
		return Page{}, err
	}
	args := cond.args(cur.Seq)
	q := `SELECT ` + customerColumns + `, c.sort_key` + cond.from(true) + ` WHERE c.deleted_at IS NULL AND ` + cond.Where +
		` AND c.seq > ` + param(cond.next())
	if ownerID != "" {
		args = append(args, ownerID)
		q += ` AND c.owner_id = ` + param(len(args))
	}
	args = append(args, limit+1)
	q += ` ORDER BY c.seq LIMIT ` + param(len(args))
	rows, err := s.read.QueryContext(ctx, q, args...)
	if err != nil {
		return Page{}, fmt.Errorf("store: list segment members: %w", err)
	}
	var page Page
	err = func() error {
		defer rows.Close()
		for rows.Next() {
			if len(page.Items) == limit {
				page.NextCursor = encodeCursor(cursor{Seq: cur.Seq})
				break
			}
			var sortKey string
			c, seq, err := scanCustomerWith(rows, &sortKey)
			if err != nil {
				return err
			}
			page.Items = append(page.Items, c)
			cur.Seq = seq
		}
		return rows.Err()
	}()
	if err != nil {
		return Page{}, fmt.Errorf("store: list segment members: %w", err)
	}
	ptrs := make([]*customer.Customer, len(page.Items))
	for i := range page.Items {
		ptrs[i] = &page.Items[i]
	}
	if err := s.fillIdentities(ctx, s.read, ptrs); err != nil {
		return Page{}, fmt.Errorf("store: list segment members: %w", err)
	}
	if err := s.fillScores(ctx, s.read, ptrs); err != nil {
		return Page{}, fmt.Errorf("store: list segment members: %w", err)
	}
	if page.Items == nil {
		page.Items = []customer.Customer{}
	}
	return page, nil
}

// MatchRef is a customer meeting a condition, with what freezing a list
// needs to know about it.
type MatchRef struct {
	ID      string
	Seq     int64
	OwnerID string
	Tier    string
}

// MatchingIDs returns every live customer meeting cond, in creation order.
func (s *Store) MatchingIDs(ctx context.Context, cond Condition) ([]MatchRef, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT c.id, c.seq, COALESCE(c.owner_id, ''), COALESCE(tsc.tier, '')`+cond.from(false)+
		` LEFT JOIN customer_scores tsc ON tsc.customer_id = c.id WHERE c.deleted_at IS NULL AND `+cond.Where+` ORDER BY c.seq`, cond.args()...)
	if err != nil {
		return nil, fmt.Errorf("store: segment member ids: %w", err)
	}
	defer rows.Close()
	var out []MatchRef
	for rows.Next() {
		var m MatchRef
		if err := rows.Scan(&m.ID, &m.Seq, &m.OwnerID, &m.Tier); err != nil {
			return nil, fmt.Errorf("store: segment member ids: %w", err)
		}
		out = append(out, m)
	}
	return out, rows.Err()
}

// CreateSegment stores a segment and its current members (cond evaluated
// now) in one transaction. Members present at creation are not logged as
// entering; changes from then on are.
func (s *Store) CreateSegment(ctx context.Context, a Actor, seg *Segment, cond Condition) error {
	err := s.tx(ctx, func(tx *Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO segments (id, name, rule, created_by, created_at, updated_at, refreshed_at)
			VALUES ($1, $2, $3, $4, $5, $5, $5)`, seg.ID, seg.Name, seg.Rule, a.ID, ts(seg.CreatedAt))
		if isUniqueViolation(err) {
			return errs.Validation(errs.FieldError{Field: "body.name", Message: "a segment with this name already exists", Value: seg.Name})
		}
		if err != nil {
			return err
		}
		n := cond.next()
		res, err := tx.ExecContext(ctx, `INSERT INTO segment_members (segment_id, customer_id, since) SELECT `+s.textParam(n)+`, c.id, `+s.tsParam(n+1)+
			cond.from(false)+` WHERE c.deleted_at IS NULL AND `+cond.Where, cond.args(seg.ID, ts(seg.CreatedAt))...)
		if err != nil {
			return err
		}
		seg.MemberCount, _ = res.RowsAffected()
		if _, err := tx.ExecContext(ctx, `UPDATE segments SET member_count = $1 WHERE id = $2`, seg.MemberCount, seg.ID); err != nil {
			return err
		}
		return s.audit(ctx, tx, a, "create", "segment", seg.ID, "", map[string]any{"name": seg.Name, "rule": seg.Rule, "members": seg.MemberCount})
	})
	seg.CreatedBy, seg.UpdatedAt = a.ID, seg.CreatedAt
	t := seg.CreatedAt
	seg.RefreshedAt = &t
	return wrap("create segment", err)
}

const segmentColumns = `id, name, rule, created_by, created_at, updated_at, member_count, refreshed_at`

func scanSegment(row interface{ Scan(...any) error }) (Segment, error) {
	var g Segment
	var created, updated, refreshed dbTime
	if err := row.Scan(&g.ID, &g.Name, &g.Rule, &g.CreatedBy, &created, &updated, &g.MemberCount, &refreshed); err != nil {
		return g, err
	}
	g.CreatedAt, g.UpdatedAt, g.RefreshedAt = created.Time, updated.Time, refreshed.ptr()
	return g, nil
}

// Segment returns one segment.
func (s *Store) Segment(ctx context.Context, id string) (Segment, error) {
	g, err := scanSegment(s.read.QueryRowContext(ctx, `SELECT `+segmentColumns+` FROM segments WHERE id = $1`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return g, errs.E(errs.NotFound, "segment %s not found", id)
	}
	return g, wrap("get segment", err)
}

// Segments lists every segment by name.
func (s *Store) Segments(ctx context.Context) ([]Segment, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT `+segmentColumns+` FROM segments ORDER BY name`)
	if err != nil {
		return nil, fmt.Errorf("store: list segments: %w", err)
	}
	defer rows.Close()
	out := []Segment{}
	for rows.Next() {
		g, err := scanSegment(rows)
		if err != nil {
			return nil, fmt.Errorf("store: list segments: %w", err)
		}
		out = append(out, g)
	}
	return out, rows.Err()
}

// DeleteSegment removes a segment and its materialized membership; its
// enter/leave log stays for the timeline.
func (s *Store) DeleteSegment(ctx context.Context, a Actor, id string) error {
	err := s.tx(ctx, func(tx *Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM segments WHERE id = $1`, id)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return errs.E(errs.NotFound, "segment %s not found", id)
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM segment_members WHERE segment_id = $1`, id); err != nil {
			return err
		}
		return s.audit(ctx, tx, a, "delete", "segment", id, "", map[string]any{})
	})
	return wrap("delete segment", err)
}

// MembershipsOf returns, for each customer id, the segments it is
// currently recorded in.
func (s *Store) MembershipsOf(ctx context.Context, customerIDs []string) (map[string][]string, error) {
	out := make(map[string][]string, len(customerIDs))
	for start := 0; start < len(customerIDs); start += 500 {
		chunk := customerIDs[start:min(start+500, len(customerIDs))]
		args := make([]any, len(chunk))
		for i, id := range chunk {
			args[i] = id
		}
		rows, err := s.read.QueryContext(ctx, `SELECT customer_id, segment_id FROM segment_members WHERE customer_id IN (`+placeholders(1, len(args))+`)`, args...)
		if err != nil {
			return nil, fmt.Errorf("store: memberships: %w", err)
		}
		for rows.Next() {
			var c, g string
			if err := rows.Scan(&c, &g); err != nil {
				rows.Close()
				return nil, fmt.Errorf("store: memberships: %w", err)
			}
			out[c] = append(out[c], g)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, fmt.Errorf("store: memberships: %w", err)
		}
	}
	return out, nil
}

// MembershipChange is a customer entering (Enter) or leaving a segment.
type MembershipChange struct {
	SegmentID  string
	CustomerID string
	Enter      bool
}

// ApplyMembershipChanges records changes in segment_members and the
// enter/leave log in one transaction, and keeps member counts current.
// Changes for segments deleted meanwhile are dropped. It does not notify
// OnChange subscribers: membership is derived data.
func (s *Store) ApplyMembershipChanges(ctx context.Context, at time.Time, changes []MembershipChange) error {
	if len(changes) == 0 {
		return nil
	}
	err := s.tx(ctx, func(tx *Tx) error {
		ins, err := tx.PrepareContext(ctx, `INSERT INTO segment_members (segment_id, customer_id, since)
			SELECT id, `+s.textParam(2)+`, `+s.tsParam(3)+` FROM segments WHERE id = $1 ON CONFLICT (segment_id, customer_id) DO NOTHING`)
		if err != nil {
			return err
		}
		defer ins.Close()
		del, err := tx.PrepareContext(ctx, `DELETE FROM segment_members WHERE segment_id = $1 AND customer_id = $2`)
		if err != nil {
			return err
		}
		defer del.Close()
		var logRows [][]any
		delta := map[string]int64{}
		for _, ch := range changes {
			st, kind, sign := del, "leave", int64(-1)
			if ch.Enter {
				st, kind, sign = ins, "enter", 1
			}
			var res sql.Result
			if ch.Enter {
				res, err = st.ExecContext(ctx, ch.SegmentID, ch.CustomerID, ts(at))
			} else {
				res, err = st.ExecContext(ctx, ch.SegmentID, ch.CustomerID)
			}
			if err != nil {
				return err
			}
			if n, _ := res.RowsAffected(); n == 1 {
				logRows = append(logRows, []any{ch.SegmentID, ch.CustomerID, kind, ts(at)})
				delta[ch.SegmentID] += sign
			}
		}
		if err := insertRows(ctx, tx, "segment_membership_events", []string{"segment_id", "customer_id", "change", "at"}, logRows); err != nil {
			return err
		}
		for id, d := range delta {
			if _, err := tx.ExecContext(ctx, `UPDATE segments SET member_count = member_count + $1 WHERE id = $2`, d, id); err != nil {
				return err
			}
		}
		return nil
	})
	return wrap("apply segment membership", err)
}

// MembershipEvent is one logged entry into or exit from a segment.
type MembershipEvent struct {
	Seq        int64     `json:"seq"`
	SegmentID  string    `json:"segment_id"`
	CustomerID string    `json:"customer_id"`
	Change     string    `json:"change"` // enter or leave
	At         time.Time `json:"at"`
}

// MembershipEvents lists logged enter/leave events, newest first, for a
// customer and/or a segment (either may be empty, not both).
func (s *Store) MembershipEvents(ctx context.Context, customerID, segmentID string, limit int) ([]MembershipEvent, error) {
	var where []string
	var args []any
	if customerID != "" {
		args = append(args, customerID)
		where = append(where, `customer_id = `+param(len(args)))
	}
	if segmentID != "" {
		args = append(args, segmentID)
		where = append(where, `segment_id = `+param(len(args)))
	}
	if len(where) == 0 {
		return nil, errs.E(errs.Invalid, "name a customer or a segment")
	}
	args = append(args, limit)
	rows, err := s.read.QueryContext(ctx, `SELECT seq, segment_id, customer_id, change, at FROM segment_membership_events WHERE `+
		strings.Join(where, " AND ")+` ORDER BY seq DESC LIMIT `+param(len(args)), args...)
	if err != nil {
		return nil, fmt.Errorf("store: membership events: %w", err)
	}
	defer rows.Close()
	out := []MembershipEvent{}
	for rows.Next() {
		var e MembershipEvent
		var at dbTime
		if err := rows.Scan(&e.Seq, &e.SegmentID, &e.CustomerID, &e.Change, &at); err != nil {
			return nil, fmt.Errorf("store: membership events: %w", err)
		}
		e.At = at.Time
		out = append(out, e)
	}
	return out, rows.Err()
}

// RecordedMembers returns the customer ids recorded as a segment's members.
func (s *Store) RecordedMembers(ctx context.Context, segmentID string) ([]string, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT customer_id FROM segment_members WHERE segment_id = $1`, segmentID)
	if err != nil {
		return nil, fmt.Errorf("store: recorded members: %w", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, fmt.Errorf("store: recorded members: %w", err)
		}
		out = append(out, id)
	}
	return out, rows.Err()
}

// MarkSegmentRefreshed records a full re-evaluation and resets the member
// count from the recorded membership.
func (s *Store) MarkSegmentRefreshed(ctx context.Context, id string, at time.Time) error {
	_, err := s.write.ExecContext(ctx, `UPDATE segments SET refreshed_at = $1,
		member_count = (SELECT count(*) FROM segment_members WHERE segment_id = $2) WHERE id = $2`, ts(at), id)
	return wrap("mark segment refreshed", err)
}

// EventTable names the columns of the events table (added by the ingest
// migration); nil means the table does not exist yet.
type EventTable struct {
	Table, CustomerColumn, NameColumn, TimeColumn string
}

// EventTable finds the events table and its columns.
func (s *Store) EventTable(ctx context.Context) (*EventTable, error) {
	q := `SELECT name FROM pragma_table_info('events')`
	if s.dialect == Postgres {
		q = `SELECT column_name FROM information_schema.columns WHERE table_name = 'events' AND table_schema = ANY (current_schemas(false))`
	}
	rows, err := s.read.QueryContext(ctx, q)
	if err != nil {
		return nil, fmt.Errorf("store: find events table: %w", err)
	}
	defer rows.Close()
	var cols []string
	for rows.Next() {
		var c string
		if err := rows.Scan(&c); err != nil {
			return nil, fmt.Errorf("store: find events table: %w", err)
		}
		cols = append(cols, strings.ToLower(c))
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: find events table: %w", err)
	}
	pick := func(names ...string) string {
		for _, n := range names {
			if slices.Contains(cols, n) {
				return n
			}
		}
		return ""
	}
	t := &EventTable{Table: "events", CustomerColumn: pick("customer_id"),
		NameColumn: pick("event", "name", "event_name"), TimeColumn: pick("timestamp", "at", "occurred_at", "ts", "time", "received_at", "created_at")}
	if t.CustomerColumn == "" || t.NameColumn == "" || t.TimeColumn == "" {
		return nil, nil
	}
	return t, nil
}

// FactNeeds says which behaviour LoadFacts reads beside the records.
type FactNeeds struct {
	Orders     bool
	OrderSince time.Time // zero: all orders
	Categories bool
	// Events maps event names to the earliest time needed (zero: all).
	Events map[string]time.Time
	Table  *EventTable
}

// CustomerFacts is a customer with the behaviour a segment matcher needs.
type CustomerFacts struct {
	Customer customer.Customer
	Orders   []FactOrder
	Events   []FactEvent
}

// FactOrder is one completed order.
type FactOrder struct {
	ID         string
	At         time.Time
	Total      float64
	Categories []string
}

// FactEvent is one tracked event.
type FactEvent struct {
	Name string
	At   time.Time
}

// LoadFacts reads customers (deleted ones too, with DeletedAt set) with
// stats, scores, identities and the behaviour needs asks for, a few
// set-wise queries per 500 customers. Unknown ids are absent from the map.
func (s *Store) LoadFacts(ctx context.Context, ids []string, needs FactNeeds) (map[string]*CustomerFacts, error) {
	out := make(map[string]*CustomerFacts, len(ids))
	for start := 0; start < len(ids); start += 500 {
		if err := s.loadFactsChunk(ctx, ids[start:min(start+500, len(ids))], needs, out); err != nil {
			return nil, fmt.Errorf("store: load facts: %w", err)
		}
	}
	return out, nil
}

func (s *Store) loadFactsChunk(ctx context.Context, ids []string, needs FactNeeds, out map[string]*CustomerFacts) error {
	args := make([]any, len(ids))
	for i, id := range ids {
		args[i] = id
	}
	in := placeholders(1, len(args))
	rows, err := s.read.QueryContext(ctx, `SELECT `+customerColumns+customerFrom+` WHERE c.id IN (`+in+`)`, args...)
	if err != nil {
		return err
	}
	var list []*customer.Customer
	err = func() error {
		defer rows.Close()
		for rows.Next() {
			c, _, err := scanCustomer(rows)
			if err != nil {
				return err
			}
			f := &CustomerFacts{Customer: c}
			out[c.ID] = f
			list = append(list, &f.Customer)
		}
		return rows.Err()
	}()
	if err != nil {
		return err
	}
	if err := s.fillIdentities(ctx, s.read, list); err != nil {
		return err
	}
	if err := s.fillScores(ctx, s.read, list); err != nil {
		return err
	}
	if needs.Orders || needs.Categories {
		if err := s.loadFactOrders(ctx, args, in, needs, out); err != nil {
			return err
		}
	}
	if len(needs.Events) > 0 && needs.Table != nil {
		if err := s.loadFactEvents(ctx, args, in, needs, out); err != nil {
			return err
		}
	}
	return nil
}

func (s *Store) loadFactOrders(ctx context.Context, args []any, in string, needs FactNeeds, out map[string]*CustomerFacts) error {
	q := `SELECT o.customer_id, o.id, o.placed_at, o.total FROM orders o WHERE o.customer_id IN (` + in + `) AND o.status = 'completed'`
	a := slices.Clone(args)
	if !needs.OrderSince.IsZero() {
		a = append(a, ts(needs.OrderSince))
		q += ` AND o.placed_at >= ` + param(len(a))
	}
	rows, err := s.read.QueryContext(ctx, q+` ORDER BY o.customer_id, o.placed_at`, a...)
	if err != nil {
		return err
	}
	byID := map[string]*FactOrder{}
	err = func() error {
		defer rows.Close()
		for rows.Next() {
			var cid string
			var o FactOrder
			var at dbTime
			if err := rows.Scan(&cid, &o.ID, &at, &o.Total); err != nil {
				return err
			}
			o.At = at.Time
			if f := out[cid]; f != nil {
				f.Orders = append(f.Orders, o)
			}
		}
		return rows.Err()
	}()
	if err != nil || !needs.Categories {
		return err
	}
	for _, f := range out {
		for i := range f.Orders {
			byID[f.Orders[i].ID] = &f.Orders[i]
		}
	}
	rows, err = s.read.QueryContext(ctx, `SELECT order_id, category FROM order_items WHERE customer_id IN (`+in+`) AND category <> ''`, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var oid, cat string
		if err := rows.Scan(&oid, &cat); err != nil {
			return err
		}
		if o := byID[oid]; o != nil && !slices.Contains(o.Categories, cat) {
			o.Categories = append(o.Categories, cat)
		}
	}
	return rows.Err()
}

func (s *Store) loadFactEvents(ctx context.Context, args []any, in string, needs FactNeeds, out map[string]*CustomerFacts) error {
	t := needs.Table
	a := slices.Clone(args)
	var names []string
	for n, since := range needs.Events {
		a = append(a, n)
		cond := `e.` + t.NameColumn + ` = ` + param(len(a))
		if !since.IsZero() {
			a = append(a, ts(since))
			cond += ` AND e.` + t.TimeColumn + ` >= ` + param(len(a))
		}
		names = append(names, "("+cond+")")
	}
	rows, err := s.read.QueryContext(ctx, `SELECT e.`+t.CustomerColumn+`, e.`+t.NameColumn+`, e.`+t.TimeColumn+` FROM `+t.Table+` e WHERE e.`+
		t.CustomerColumn+` IN (`+in+`) AND (`+strings.Join(names, " OR ")+`)`, a...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var cid string
		var e FactEvent
		var at dbTime
		if err := rows.Scan(&cid, &e.Name, &at); err != nil {
			return err
		}
		e.At = at.Time
		if f := out[cid]; f != nil {
			f.Events = append(f.Events, e)
		}
	}
	return rows.Err()
}

// jsonObject decodes a JSON object column (text on SQLite, jsonb on
// PostgreSQL).
func jsonObject(b []byte, v any) error {
	if len(b) == 0 {
		return nil
	}
	return json.Unmarshal(b, v)
}

// MaterializedMembers lists a segment's recorded members (kept current by
// the real-time matcher and the periodic refresh) in customer-id order: a
// read of the segment's own index, however large the workspace.
func (s *Store) MaterializedMembers(ctx context.Context, segmentID, ownerID, cursorText string, limit int) (Page, error) {
	if limit <= 0 || limit > 500 {
		limit = 50
	}
	cur, err := decodeCursor(cursorText)
	if err != nil {
		return Page{}, err
	}
	args := []any{segmentID, cur.Name}
	q := `SELECT ` + customerColumns + `, c.sort_key FROM segment_members m JOIN customers c ON c.id = m.customer_id
		LEFT JOIN customer_stats st ON st.customer_id = c.id
		WHERE m.segment_id = $1 AND m.customer_id > $2 AND c.deleted_at IS NULL`
	if ownerID != "" {
		args = append(args, ownerID)
		q += ` AND c.owner_id = ` + param(len(args))
	}
	args = append(args, limit+1)
	rows, err := s.read.QueryContext(ctx, q+` ORDER BY m.customer_id LIMIT `+param(len(args)), args...)
	if err != nil {
		return Page{}, fmt.Errorf("store: materialized members: %w", err)
	}
	var page Page
	err = func() error {
		defer rows.Close()
		for rows.Next() {
			if len(page.Items) == limit {
				page.NextCursor = encodeCursor(cursor{Name: page.Items[len(page.Items)-1].ID})
				break
			}
			var sortKey string
			c, _, err := scanCustomerWith(rows, &sortKey)
			if err != nil {
				return err
			}
			page.Items = append(page.Items, c)
		}
		return rows.Err()
	}()
	if err != nil {
		return Page{}, fmt.Errorf("store: materialized members: %w", err)
	}
	ptrs := make([]*customer.Customer, len(page.Items))
	for i := range page.Items {
		ptrs[i] = &page.Items[i]
	}
	if err := s.fillIdentities(ctx, s.read, ptrs); err != nil {
		return Page{}, fmt.Errorf("store: materialized members: %w", err)
	}
	if err := s.fillScores(ctx, s.read, ptrs); err != nil {
		return Page{}, fmt.Errorf("store: materialized members: %w", err)
	}
	if page.Items == nil {
		page.Items = []customer.Customer{}
	}
	return page, nil
}
