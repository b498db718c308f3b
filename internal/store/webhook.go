package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/rapportcrm/rapport/internal/errs"
)

// Webhook is a subscription to segment entries and exits. Its cursor is
// the sequence number of the last membership event it delivered: the
// membership log is the outbox, so nothing is copied per subscription.
type Webhook struct {
	ID            string     `json:"id"`
	URL           string     `json:"url"`
	Events        []string   `json:"events"`
	SegmentIDs    []string   `json:"segment_ids"`
	Secret        string     `json:"-"`
	Active        bool       `json:"active"`
	Cursor        int64      `json:"cursor"`
	Failures      int        `json:"failures"`
	NextAttemptAt *time.Time `json:"next_attempt_at,omitempty"`
	CreatedBy     string     `json:"created_by,omitempty"`
	CreatedAt     time.Time  `json:"created_at"`
}

// WebhookDelivery is one attempt to deliver events [FirstSeq, LastSeq].
type WebhookDelivery struct {
	ID         int64     `json:"id"`
	WebhookID  string    `json:"webhook_id"`
	FirstSeq   int64     `json:"first_seq"`
	LastSeq    int64     `json:"last_seq"`
	Events     int       `json:"events"`
	Status     int       `json:"status" doc:"HTTP status of the answer; 0 when there was none"`
	Error      string    `json:"error,omitempty"`
	DurationMS int       `json:"duration_ms"`
	At         time.Time `json:"at"`
}

// Delivered reports whether the attempt succeeded (a 2xx answer).
func (d WebhookDelivery) Delivered() bool { return d.Status >= 200 && d.Status < 300 }

// CreateWebhook stores a subscription. It starts at the end of the
// membership log: it delivers what happens from now on.
func (s *Store) CreateWebhook(ctx context.Context, a Actor, w *Webhook) error {
	err := s.tx(ctx, func(tx *Tx) error {
		if err := tx.QueryRowContext(ctx, `SELECT COALESCE(max(seq), 0) FROM segment_membership_events`).Scan(&w.Cursor); err != nil {
			return err
		}
		w.Active = true
		if _, err := tx.ExecContext(ctx, `INSERT INTO webhooks (id, url, events, segment_ids, secret, active, cursor, failures, created_by, created_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, 0, $8, $9)`,
			w.ID, w.URL, jsonText(w.Events, "[]"), jsonText(w.SegmentIDs, "[]"), w.Secret, true, w.Cursor, a.ID, ts(w.CreatedAt)); err != nil {
			return err
		}
		return s.audit(ctx, tx, a, "create", "webhook", w.ID, "", map[string]any{"url": map[string]any{"after": w.URL}})
	})
	return wrap("create webhook", err)
}

const webhookColumns = `id, url, events, segment_ids, secret, active, cursor, failures, next_attempt_at, created_by, created_at`

func scanWebhook(row interface{ Scan(...any) error }) (Webhook, error) {
	var w Webhook
	var events, segs string
	var next, created dbTime
	if err := row.Scan(&w.ID, &w.URL, &events, &segs, &w.Secret, &w.Active, &w.Cursor, &w.Failures, &next, &w.CreatedBy, &created); err != nil {
		return w, err
	}
	if err := json.Unmarshal([]byte(events), &w.Events); err != nil {
		return w, fmt.Errorf("events of webhook %s: %w", w.ID, err)
	}
	if err := json.Unmarshal([]byte(segs), &w.SegmentIDs); err != nil {
		return w, fmt.Errorf("segments of webhook %s: %w", w.ID, err)
	}
	if next.Valid {
		t := next.Time
		w.NextAttemptAt = &t
	}
	w.CreatedAt = created.Time
	return w, nil
}

// Webhook reads one subscription.
func (s *Store) Webhook(ctx context.Context, id string) (Webhook, error) {
	w, err := scanWebhook(s.read.QueryRowContext(ctx, `SELECT `+webhookColumns+` FROM webhooks WHERE id = $1`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return w, errs.E(errs.NotFound, "no webhook with this id")
	}
	return w, wrap("read webhook", err)
}

// Webhooks lists every subscription, oldest first.
func (s *Store) Webhooks(ctx context.Context) ([]Webhook, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT `+webhookColumns+` FROM webhooks ORDER BY created_at, id`)
	if err != nil {
		return nil, wrap("list webhooks", err)
	}
	defer rows.Close()
	out := []Webhook{}
	for rows.Next() {
		w, err := scanWebhook(rows)
		if err != nil {
			return nil, wrap("list webhooks", err)
		}
		out = append(out, w)
	}
	return out, wrap("list webhooks", rows.Err())
}

// DeleteWebhook removes a subscription and its delivery record.
func (s *Store) DeleteWebhook(ctx context.Context, a Actor, id string) error {
	err := s.tx(ctx, func(tx *Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM webhooks WHERE id = $1`, id)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n == 0 {
			return errs.E(errs.NotFound, "no webhook with this id")
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM webhook_deliveries WHERE webhook_id = $1`, id); err != nil {
			return err
		}
		return s.audit(ctx, tx, a, "delete", "webhook", id, "", nil)
	})
	return wrap("delete webhook", err)
}

// MembershipEventsAfter reads the membership log after seq, oldest first,
// at most limit events logged at or before until (zero: no bound).
func (s *Store) MembershipEventsAfter(ctx context.Context, seq int64, until time.Time, limit int) ([]MembershipEvent, error) {
	q := `SELECT seq, segment_id, customer_id, change, at FROM segment_membership_events WHERE seq > $1`
	args := []any{seq}
	if !until.IsZero() {
		q += ` AND at <= $2`
		args = append(args, ts(until))
	}
	q += ` ORDER BY seq LIMIT ` + fmt.Sprint(limit)
	rows, err := s.read.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, wrap("read membership log", err)
	}
	defer rows.Close()
	var out []MembershipEvent
	for rows.Next() {
		var e MembershipEvent
		var at dbTime
		if err := rows.Scan(&e.Seq, &e.SegmentID, &e.CustomerID, &e.Change, &at); err != nil {
			return nil, wrap("read membership log", err)
		}
		e.At = at.Time
		out = append(out, e)
	}
	return out, wrap("read membership log", rows.Err())
}

// RecordWebhookAttempt logs a delivery attempt and moves the
// subscription on: a delivered attempt advances the cursor to cursor and
// clears the failures; a failed one counts a failure, schedules the next
// attempt at next and, when disable is set, turns the subscription off.
// A cursor move with no attempt (events nobody subscribed to) passes a nil d.
func (s *Store) RecordWebhookAttempt(ctx context.Context, id string, d *WebhookDelivery, cursor int64, next time.Time, disable bool) error {
	err := s.tx(ctx, func(tx *Tx) error {
		if d != nil {
			if _, err := tx.ExecContext(ctx, `INSERT INTO webhook_deliveries (webhook_id, first_seq, last_seq, events, status, error, duration_ms, at)
				VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`, id, d.FirstSeq, d.LastSeq, d.Events, d.Status, d.Error, d.DurationMS, ts(d.At)); err != nil {
				return err
			}
		}
		if d == nil || d.Delivered() {
			_, err := tx.ExecContext(ctx, `UPDATE webhooks SET cursor = $1, failures = 0, next_attempt_at = NULL WHERE id = $2 AND cursor < $1`, cursor, id)
			return err
		}
		_, err := tx.ExecContext(ctx, `UPDATE webhooks SET failures = failures + 1, next_attempt_at = $1, active = $2 WHERE id = $3`, ts(next), !disable, id)
		return err
	})
	return wrap("record webhook attempt", err)
}

// RecordWebhookPing logs a test delivery without moving the subscription.
func (s *Store) RecordWebhookPing(ctx context.Context, id string, d WebhookDelivery) error {
	_, err := s.write.ExecContext(ctx, `INSERT INTO webhook_deliveries (webhook_id, first_seq, last_seq, events, status, error, duration_ms, at)
		VALUES ($1, 0, 0, 0, $2, $3, $4, $5)`, id, d.Status, d.Error, d.DurationMS, ts(d.At))
	return wrap("record webhook ping", err)
}

// WebhookDeliveries lists a subscription's latest attempts, newest first.
func (s *Store) WebhookDeliveries(ctx context.Context, id string, limit int) ([]WebhookDelivery, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT id, webhook_id, first_seq, last_seq, events, status, error, duration_ms, at
		FROM webhook_deliveries WHERE webhook_id = $1 ORDER BY id DESC LIMIT `+fmt.Sprint(limit), id)
	if err != nil {
		return nil, wrap("list webhook deliveries", err)
	}
	defer rows.Close()
	out := []WebhookDelivery{}
	for rows.Next() {
		var d WebhookDelivery
		var at dbTime
		if err := rows.Scan(&d.ID, &d.WebhookID, &d.FirstSeq, &d.LastSeq, &d.Events, &d.Status, &d.Error, &d.DurationMS, &at); err != nil {
			return nil, wrap("list webhook deliveries", err)
		}
		d.At = at.Time
		out = append(out, d)
	}
	return out, wrap("list webhook deliveries", rows.Err())
}
