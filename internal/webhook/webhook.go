// Package webhook delivers segment entries and exits to subscribers'
// URLs. The membership log in the store is the outbox: each subscription
// keeps the sequence number of the last event it delivered, so delivery is
// at least once and in order per subscription, and nothing is lost when
// the server stops (it resumes from the cursor).
//
// A delivery is one POST of up to BatchSize events:
//
//	{"id":"<webhook id>:<first seq>-<last seq>","events":[
//	  {"id":"mse_42","type":"segment.entered","created_at":"…",
//	   "data":{"segment_id":"…","segment_name":"…","customer_id":"…"}}]}
//
// signed with the subscription's secret in the header
// Rapport-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">.
// Receivers check the signature and the timestamp, and drop event ids they
// have seen (a retry after a lost answer repeats them).
package webhook

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/rapportcrm/rapport/internal/customer"
	"github.com/rapportcrm/rapport/internal/errs"
	"github.com/rapportcrm/rapport/internal/store"
)

// Event types a subscription can ask for.
const (
	SegmentEntered = "segment.entered"
	SegmentLeft    = "segment.left"
)

// EventTypes are every event type, the default subscription.
var EventTypes = []string{SegmentEntered, SegmentLeft}

// SignatureHeader carries the delivery's signature.
const SignatureHeader = "Rapport-Signature"

const (
	// BatchSize is the most events one delivery carries.
	BatchSize = 100
	// MaxFailures in a row turn a subscription off (with the backoff
	// capped at an hour, about a day of failures).
	MaxFailures = 30
	maxBackoff  = time.Hour
	timeout     = 10 * time.Second
	// PostgreSQLGrace: on PostgreSQL a sequence number is taken before its
	// transaction commits, so a lower number can become visible after a
	// higher one; waiting a few seconds keeps the cursor from passing it.
	PostgreSQLGrace = 5 * time.Second
)

// defaultClient sends deliveries when the worker has no client of its own.
var defaultClient = &http.Client{Timeout: timeout}

// Event is one entry or exit as delivered.
type Event struct {
	ID        string    `json:"id"`
	Type      string    `json:"type"`
	CreatedAt time.Time `json:"created_at"`
	Data      EventData `json:"data"`
}

// EventData says who entered or left which segment.
type EventData struct {
	SegmentID   string `json:"segment_id"`
	SegmentName string `json:"segment_name"`
	CustomerID  string `json:"customer_id"`
}

// Payload is a delivery's body.
type Payload struct {
	ID     string  `json:"id"`
	Events []Event `json:"events"`
}

// Sign returns the signature header value for body at t.
func Sign(secret string, t time.Time, body []byte) string {
	ts := strconv.FormatInt(t.Unix(), 10)
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(ts + "."))
	m.Write(body)
	return "t=" + ts + ",v1=" + hex.EncodeToString(m.Sum(nil))
}

// Verify checks a signature header against body, accepting timestamps
// within tolerance of now; receivers written in Go can use it as is.
func Verify(secret, header string, body []byte, now time.Time, tolerance time.Duration) error {
	var ts, sig string
	for _, part := range strings.Split(header, ",") {
		k, v, _ := strings.Cut(strings.TrimSpace(part), "=")
		switch k {
		case "t":
			ts = v
		case "v1":
			sig = v
		}
	}
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil || sig == "" {
		return errors.New("webhook: malformed signature header")
	}
	if d := now.Sub(time.Unix(sec, 0)); d > tolerance || d < -tolerance {
		return errors.New("webhook: signature timestamp outside the tolerance")
	}
	want := Sign(secret, time.Unix(sec, 0), body)
	if !hmac.Equal([]byte(want), []byte("t="+ts+",v1="+sig)) {
		return errors.New("webhook: signature does not match")
	}
	return nil
}

// Spec is a new subscription as asked for.
type Spec struct {
	URL        string
	Events     []string
	SegmentIDs []string
}

// Create validates and stores a subscription and returns it with its
// secret, which is shown this once.
func Create(ctx context.Context, st *store.Store, a store.Actor, sp Spec) (store.Webhook, error) {
	var fe []errs.FieldError
	u, err := url.Parse(strings.TrimSpace(sp.URL))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		fe = append(fe, errs.FieldError{Field: "body.url", Message: "must be an absolute http or https URL / 须为完整的 http 或 https 地址", Value: sp.URL})
	}
	if len(sp.Events) == 0 {
		sp.Events = EventTypes
	}
	for i, e := range sp.Events {
		if !slices.Contains(EventTypes, e) {
			fe = append(fe, errs.FieldError{Field: fmt.Sprintf("body.events[%d]", i), Message: "must be segment.entered or segment.left / 须为 segment.entered 或 segment.left", Value: e})
		}
	}
	for i, id := range sp.SegmentIDs {
		if _, err := st.Segment(ctx, id); errs.KindOf(err) == errs.NotFound {
			fe = append(fe, errs.FieldError{Field: fmt.Sprintf("body.segment_ids[%d]", i), Message: "is not a segment / 不是已有的分群", Value: id})
		} else if err != nil {
			return store.Webhook{}, err
		}
	}
	if len(fe) > 0 {
		return store.Webhook{}, errs.Validation(fe...)
	}
	secret := make([]byte, 24)
	if _, err := rand.Read(secret); err != nil {
		return store.Webhook{}, err
	}
	w := store.Webhook{ID: customer.NewID(), URL: u.String(), Events: slices.Compact(slices.Sorted(slices.Values(sp.Events))),
		SegmentIDs: sp.SegmentIDs, Secret: "whsec_" + hex.EncodeToString(secret), CreatedAt: time.Now().UTC()}
	if w.SegmentIDs == nil {
		w.SegmentIDs = []string{}
	}
	if err := st.CreateWebhook(ctx, a, &w); err != nil {
		return store.Webhook{}, err
	}
	return w, nil
}

// Worker delivers every active subscription's pending events.
type Worker struct {
	Store *store.Store
	Log   *slog.Logger
	// Client sends the deliveries; nil means one with a 10 s timeout.
	Client *http.Client
	// Every is how often the worker looks for new events; zero means 1 s.
	Every time.Duration
	// Grace holds back events younger than this; zero means PostgreSQLGrace
	// on PostgreSQL and none on SQLite, which has one writer.
	Grace time.Duration
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

func (w *Worker) now() time.Time {
	if w.Now != nil {
		return w.Now().UTC()
	}
	return time.Now().UTC()
}

func (w *Worker) client() *http.Client {
	if w.Client != nil {
		return w.Client
	}
	return defaultClient
}

func (w *Worker) grace() time.Duration {
	if w.Grace == 0 && w.Store.Dialect() == store.Postgres {
		return PostgreSQLGrace
	}
	return w.Grace
}

func (w *Worker) log() *slog.Logger {
	if w.Log != nil {
		return w.Log
	}
	return slog.New(slog.DiscardHandler)
}

// Run delivers until ctx ends.
func (w *Worker) Run(ctx context.Context) {
	every := w.Every
	if every <= 0 {
		every = time.Second
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		if err := w.Tick(ctx); err != nil && ctx.Err() == nil {
			w.log().Warn("webhook delivery round failed", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Tick makes one delivery round: each active subscription that is due
// gets its next batch. Subscriptions are independent: one failing
// receiver only delays itself.
func (w *Worker) Tick(ctx context.Context) error {
	hooks, err := w.Store.Webhooks(ctx)
	if err != nil {
		return err
	}
	names := map[string]string{}
	for _, h := range hooks {
		if !h.Active || (h.NextAttemptAt != nil && h.NextAttemptAt.After(w.now())) {
			continue
		}
		// Drain what is pending, a batch at a time, while deliveries succeed.
		for ctx.Err() == nil {
			more, err := w.deliverNext(ctx, &h, names)
			if err != nil {
				return err
			}
			if !more {
				break
			}
		}
	}
	return nil
}

// deliverNext sends h's next batch and reports whether another may be
// waiting.
func (w *Worker) deliverNext(ctx context.Context, h *store.Webhook, names map[string]string) (bool, error) {
	var until time.Time
	if g := w.grace(); g > 0 {
		until = w.now().Add(-g)
	}
	evs, err := w.Store.MembershipEventsAfter(ctx, h.Cursor, until, BatchSize)
	if err != nil || len(evs) == 0 {
		return false, err
	}
	last := evs[len(evs)-1].Seq
	p := Payload{ID: fmt.Sprintf("%s:%d-%d", h.ID, evs[0].Seq, last)}
	for _, e := range evs {
		typ := SegmentEntered
		if e.Change == "leave" {
			typ = SegmentLeft
		}
		if !slices.Contains(h.Events, typ) || (len(h.SegmentIDs) > 0 && !slices.Contains(h.SegmentIDs, e.SegmentID)) {
			continue
		}
		name, ok := names[e.SegmentID]
		if !ok {
			g, err := w.Store.Segment(ctx, e.SegmentID)
			if err != nil && errs.KindOf(err) != errs.NotFound { // a deleted segment keeps its id, loses its name
				return false, err
			}
			name, names[e.SegmentID] = g.Name, g.Name
		}
		p.Events = append(p.Events, Event{ID: "mse_" + strconv.FormatInt(e.Seq, 10), Type: typ, CreatedAt: e.At,
			Data: EventData{SegmentID: e.SegmentID, SegmentName: name, CustomerID: e.CustomerID}})
	}
	if len(p.Events) == 0 { // nothing this subscription asked for: move past it
		h.Cursor = last
		return len(evs) == BatchSize, w.Store.RecordWebhookAttempt(ctx, h.ID, nil, last, time.Time{}, false)
	}
	d := w.send(ctx, h, p)
	d.FirstSeq, d.LastSeq, d.Events = evs[0].Seq, last, len(p.Events)
	if d.Delivered() {
		h.Cursor, h.Failures = last, 0
		return len(evs) == BatchSize, w.Store.RecordWebhookAttempt(ctx, h.ID, &d, last, time.Time{}, false)
	}
	h.Failures++
	backoff := min(time.Second<<min(h.Failures, 12), maxBackoff)
	disable := h.Failures >= MaxFailures
	if disable {
		w.log().Warn("webhook turned off after repeated failures", "webhook", h.ID, "url", h.URL, "failures", h.Failures)
	}
	return false, w.Store.RecordWebhookAttempt(ctx, h.ID, &d, h.Cursor, w.now().Add(backoff), disable)
}

// send POSTs a payload and returns the attempt (status 0 without answer).
func (w *Worker) send(ctx context.Context, h *store.Webhook, p Payload) store.WebhookDelivery {
	start := w.now()
	d := store.WebhookDelivery{WebhookID: h.ID, At: start}
	body, err := json.Marshal(p)
	if err != nil {
		d.Error = err.Error()
		return d
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, h.URL, bytes.NewReader(body))
	if err != nil {
		d.Error = err.Error()
		return d
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "Rapport-Webhooks/1")
	req.Header.Set("Rapport-Delivery", p.ID)
	req.Header.Set(SignatureHeader, Sign(h.Secret, start, body))
	res, err := w.client().Do(req)
	d.DurationMS = int(time.Since(start).Milliseconds())
	if err != nil {
		d.Error = err.Error()
		return d
	}
	io.Copy(io.Discard, io.LimitReader(res.Body, 64<<10))
	res.Body.Close()
	d.Status = res.StatusCode
	if !d.Delivered() {
		d.Error = res.Status
	}
	return d
}

// Ping sends a test delivery with no events and records it.
func (w *Worker) Ping(ctx context.Context, id string) (store.WebhookDelivery, error) {
	h, err := w.Store.Webhook(ctx, id)
	if err != nil {
		return store.WebhookDelivery{}, err
	}
	d := w.send(ctx, &h, Payload{ID: h.ID + ":ping", Events: []Event{}})
	return d, w.Store.RecordWebhookPing(ctx, id, d)
}
