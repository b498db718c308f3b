package store

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/rapportcrm/rapport/internal/errs"
)

// TimelineTypes are the kinds of item a customer's timeline holds: the
// tracked event types, orders, interactions, notes, and segment entries
// and exits.
var TimelineTypes = []string{"track", "page", "screen", "identify", "group", "alias", "order", "interaction", "note", "segment"}

// TimelineItem is one touchpoint on a customer's timeline.
type TimelineItem struct {
	Type   string         `json:"type" doc:"track, page, screen, identify, group, alias, order, interaction, note or segment"`
	Time   time.Time      `json:"time"`
	ID     string         `json:"id"`
	Source string         `json:"source,omitempty" doc:"The tracking source or order source"`
	Name   string         `json:"name,omitempty" doc:"Event, page or screen name; order id; interaction kind"`
	Data   map[string]any `json:"data,omitempty" doc:"The details: the message's properties/traits/context, the order, the interaction or note"`
}

// TimelineFilter selects a page of a timeline.
type TimelineFilter struct {
	Types  []string // empty: every type
	Source string   // only items from this source (events and orders)
	Cursor string
	Limit  int
}

// TimelinePage is one page of a timeline, newest first.
type TimelinePage struct {
	Items      []TimelineItem
	NextCursor string
}

type timelineCursor struct {
	At  string `json:"t"`
	Key string `json:"k"`
}

// Timeline returns a customer's touchpoints in time order, newest first:
// tracked events, orders, interactions and notes, one query over the
// customer's rows in each table.
func (s *Store) Timeline(ctx context.Context, customerID string, f TimelineFilter) (TimelinePage, error) {
	if f.Limit <= 0 || f.Limit > 500 {
		f.Limit = 50
	}
	for _, t := range f.Types {
		if !slices.Contains(TimelineTypes, t) {
			return TimelinePage{}, errs.Validation(errs.FieldError{Field: "query.kind", Message: "must be one of " + strings.Join(TimelineTypes, ", "), Value: t})
		}
	}
	var cur timelineCursor
	if f.Cursor != "" {
		b, err := base64.RawURLEncoding.DecodeString(f.Cursor)
		if err == nil {
			err = json.Unmarshal(b, &cur)
		}
		if err != nil || cur.At == "" {
			return TimelinePage{}, errs.Validation(errs.FieldError{Field: "query.cursor", Message: "is not a cursor this server issued", Value: f.Cursor})
		}
	}
	want := func(types ...string) bool {
		if len(f.Types) == 0 {
			return true
		}
		for _, t := range types {
			if slices.Contains(f.Types, t) {
				return true
			}
		}
		return false
	}
	args := []any{customerID}
	arg := func(v any) string {
		args = append(args, v)
		return "$" + strconv.Itoa(len(args))
	}
	// Each part yields (type, at, key, source, name, detail); key orders
	// items with the same time and names them across tables.
	var parts []string
	eventTypes := []string{}
	for _, t := range TimelineTypes[:6] {
		if want(t) {
			eventTypes = append(eventTypes, t)
		}
	}
	if len(eventTypes) > 0 {
		q := `SELECT e.type AS type, e.at AS at, 'e' || ` + s.padded("e.seq") + ` AS k, src.name AS source, e.name AS name, ` + s.text("e.payload") + ` AS detail
			FROM events e JOIN sources src ON src.id = e.source_id WHERE e.customer_id = $1`
		if len(eventTypes) < 6 {
			var ps []string
			for _, t := range eventTypes {
				ps = append(ps, arg(t))
			}
			q += ` AND e.type IN (` + strings.Join(ps, ", ") + `)`
		}
		if f.Source != "" {
			q += ` AND src.name = ` + arg(f.Source)
		}
		parts = append(parts, q)
	}
	if want("order") {
		q := `SELECT 'order' AS type, o.placed_at AS at, 'o' || o.id AS k, o.source AS source, o.external_id AS name, o.id AS detail FROM orders o WHERE o.customer_id = $1`
		if f.Source != "" {
			q += ` AND o.source = ` + arg(f.Source)
		}
		parts = append(parts, q)
	}
	if f.Source == "" && want("interaction") {
		parts = append(parts, `SELECT 'interaction' AS type, i.at AS at, 'i' || i.id AS k, '' AS source, i.kind AS name, i.summary AS detail FROM interactions i WHERE i.customer_id = $1`)
	}
	if f.Source == "" && want("note") {
		parts = append(parts, `SELECT 'note' AS type, n.created_at AS at, 'n' || n.id AS k, '' AS source, '' AS name, n.body AS detail FROM notes n WHERE n.customer_id = $1`)
	}
	if f.Source == "" && want("segment") {
		parts = append(parts, `SELECT 'segment' AS type, m.at AS at, 'm' || `+s.padded("m.seq")+` AS k, '' AS source, COALESCE(g.name, '') AS name,
			m.change || ':' || m.segment_id AS detail FROM segment_membership_events m LEFT JOIN segments g ON g.id = m.segment_id WHERE m.customer_id = $1`)
	}
	if len(parts) == 0 {
		return TimelinePage{Items: []TimelineItem{}}, nil
	}
	where := ""
	if f.Cursor != "" {
		a, k := arg(cur.At), arg(cur.Key)
		if s.dialect == Postgres {
			a = "CAST(" + a + " AS timestamptz)"
		}
		where = ` WHERE t.at < ` + a + ` OR (t.at = ` + a + ` AND t.k < ` + k + `)`
	}
	q := `SELECT t.type, t.at, t.k, t.source, t.name, t.detail FROM (` + strings.Join(parts, " UNION ALL ") + `) t` + where +
		` ORDER BY t.at DESC, t.k DESC LIMIT ` + arg(f.Limit+1)
	rows, err := s.read.QueryContext(ctx, q, args...)
	if err != nil {
		return TimelinePage{}, fmt.Errorf("store: timeline: %w", err)
	}
	var page TimelinePage
	var keys []string
	for rows.Next() {
		var it TimelineItem
		var at dbTime
		var key, detail string
		if err := rows.Scan(&it.Type, &at, &key, &it.Source, &it.Name, &detail); err != nil {
			rows.Close()
			return TimelinePage{}, fmt.Errorf("store: timeline: %w", err)
		}
		it.Time = at.Time
		it.ID = key[1:]
		if key[0] == 'e' || key[0] == 'm' {
			it.ID = strings.TrimLeft(key[1:], "0")
		}
		switch it.Type {
		case "interaction":
			it.Data = map[string]any{"kind": it.Name, "summary": detail}
		case "note":
			it.Data = map[string]any{"body": detail}
		case "order":
			it.Data = map[string]any{"order_id": it.Name}
		case "segment":
			change, segID, _ := strings.Cut(detail, ":")
			it.Data = map[string]any{"change": change, "segment_id": segID, "segment_name": it.Name}
		default:
			var msg map[string]any
			if json.Unmarshal([]byte(detail), &msg) == nil {
				it.Data = map[string]any{}
				for _, k := range []string{"messageId", "userId", "anonymousId", "properties", "traits", "context", "groupId", "previousId"} {
					if v, ok := msg[k]; ok {
						it.Data[k] = v
					}
				}
			}
		}
		page.Items = append(page.Items, it)
		keys = append(keys, key)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return TimelinePage{}, fmt.Errorf("store: timeline: %w", err)
	}
	if len(page.Items) > f.Limit {
		page.Items = page.Items[:f.Limit]
		last := page.Items[f.Limit-1]
		b, _ := json.Marshal(timelineCursor{At: ts(last.Time), Key: keys[f.Limit-1]})
		page.NextCursor = base64.RawURLEncoding.EncodeToString(b)
	}
	if page.Items == nil {
		page.Items = []TimelineItem{}
	}
	// Orders carry their lines and amounts.
	for i := range page.Items {
		it := &page.Items[i]
		if it.Type != "order" {
			continue
		}
		var currency, status string
		var total float64
		if err := s.read.QueryRowContext(ctx, `SELECT currency, total, status FROM orders WHERE id = $1`, it.ID).Scan(&currency, &total, &status); err != nil {
			return TimelinePage{}, fmt.Errorf("store: timeline order: %w", err)
		}
		items, err := s.orderItems(ctx, s.read, it.ID)
		if err != nil {
			return TimelinePage{}, fmt.Errorf("store: timeline order: %w", err)
		}
		it.Data["currency"], it.Data["total"], it.Data["status"], it.Data["products"] = currency, total, status, items
	}
	return page, nil
}

// padded is the dialect seam for an event sequence number as fixed-width
// text, so keys compare like the numbers.
func (s *Store) padded(col string) string {
	if s.dialect == Postgres {
		return `lpad(` + col + `::text, 20, '0')`
	}
	return `printf('%020d', ` + col + `)`
}

// text is the dialect seam for reading a JSON column as text.
func (s *Store) text(col string) string {
	if s.dialect == Postgres {
		return col + `::text`
	}
	return col
}
