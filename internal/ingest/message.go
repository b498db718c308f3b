package ingest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/rapportcrm/rapport/internal/customer"
	"github.com/rapportcrm/rapport/internal/identity"
	"github.com/rapportcrm/rapport/internal/store"
	"github.com/rapportcrm/rapport/internal/textcheck"
)

// Size limits from the Segment HTTP tracking API.
const (
	MaxEventBytes = 32 * 1024
	MaxBatchBytes = 500 * 1024
)

// Types are the Segment message types the API accepts.
var Types = []string{"identify", "track", "page", "screen", "group", "alias"}

// flexString accepts a JSON string or number (some clients send numeric
// user ids) and keeps it as text.
type flexString string

func (f *flexString) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) == 0 || string(b) == "null" {
		*f = ""
		return nil
	}
	if b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*f = flexString(s)
		return nil
	}
	var n json.Number
	if err := json.Unmarshal(b, &n); err != nil {
		return fmt.Errorf("must be a string")
	}
	*f = flexString(n.String())
	return nil
}

// message is one Segment message as sent. Nested objects stay raw until a
// rule needs them.
type message struct {
	MessageID         flexString      `json:"messageId"`
	Type              string          `json:"type"`
	UserID            flexString      `json:"userId"`
	AnonymousID       flexString      `json:"anonymousId"`
	PreviousID        flexString      `json:"previousId"`
	GroupID           flexString      `json:"groupId"`
	Event             string          `json:"event"`
	Name              string          `json:"name"`
	Properties        json.RawMessage `json:"properties"`
	Traits            json.RawMessage `json:"traits"`
	Context           json.RawMessage `json:"context"`
	Integrations      json.RawMessage `json:"integrations"`
	Timestamp         string          `json:"timestamp"`
	SentAt            string          `json:"sentAt"`
	OriginalTimestamp string          `json:"originalTimestamp"`
	WriteKey          string          `json:"writeKey"`
}

// batchBody is the body of /v1/batch.
type batchBody struct {
	Batch    []json.RawMessage `json:"batch"`
	SentAt   string            `json:"sentAt"`
	WriteKey string            `json:"writeKey"`
}

// traits are the profile fields resolution reads.
type traits struct {
	Email     flexString `json:"email"`
	Phone     flexString `json:"phone"`
	Name      string     `json:"name"`
	FirstName string     `json:"firstName"`
	LastName  string     `json:"lastName"`
}

// orderProperties are the Segment e-commerce spec's order fields.
type orderProperties struct {
	OrderID  flexString `json:"order_id"`
	Total    *float64   `json:"total"`
	Revenue  *float64   `json:"revenue"`
	Currency string     `json:"currency"`
	Products []struct {
		ProductID flexString `json:"product_id"`
		SKU       flexString `json:"sku"`
		Name      string     `json:"name"`
		Category  string     `json:"category"`
		Price     float64    `json:"price"`
		Quantity  float64    `json:"quantity"`
	} `json:"products"`
}

// parseTime reads an ISO 8601 timestamp as clients send them.
func parseTime(s string) (time.Time, error) {
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.999999999Z0700", "2006-01-02T15:04:05.999999999"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("%q is not an ISO 8601 timestamp", s)
}

// correctedTime applies Segment's clock-skew correction: when the client
// says when it sent the message (sentAt) and when the event happened
// (originalTimestamp, else timestamp), the event time is receivedAt minus
// the difference, so a device clock that is off shifts nothing. Without
// sentAt the client's timestamp is taken as it is; without any, receivedAt.
func correctedTime(m *message, batchSentAt string, receivedAt time.Time) (at time.Time, err error) {
	base := m.OriginalTimestamp
	if base == "" {
		base = m.Timestamp
	}
	if base == "" {
		return receivedAt, nil
	}
	t, err := parseTime(base)
	if err != nil {
		return t, err
	}
	sent := m.SentAt
	if sent == "" {
		sent = batchSentAt
	}
	if sent == "" {
		return t, nil
	}
	s, err := parseTime(sent)
	if err != nil {
		return t, fmt.Errorf("sentAt: %w", err)
	}
	return receivedAt.Add(-s.Sub(t)), nil
}

// convert validates one raw message and turns it into a store.Event. typ
// is the endpoint's type ("" for /v1/batch, where each message says).
func convert(raw json.RawMessage, typ, batchSentAt string, src store.Source, receivedAt time.Time, region string) (store.Event, error) {
	// The message is stored as sent; text PostgreSQL cannot hold would
	// fail the applier after the 200.
	if err := textcheck.JSON(raw); err != nil {
		return store.Event{}, err
	}
	var m message
	if err := json.Unmarshal(raw, &m); err != nil {
		return store.Event{}, fmt.Errorf("not a valid message: %v", err)
	}
	if typ != "" && m.Type == "" {
		m.Type = typ
	}
	if typ != "" && m.Type != typ {
		return store.Event{}, fmt.Errorf("type %q sent to /v1/%s", m.Type, typ)
	}
	switch m.Type {
	case "identify", "track", "page", "screen", "group", "alias":
	case "":
		return store.Event{}, fmt.Errorf("type is required (one of %s)", strings.Join(Types, ", "))
	default:
		return store.Event{}, fmt.Errorf("type %q is not one of %s", m.Type, strings.Join(Types, ", "))
	}
	userID, anonID := customer.NormalizeText(string(m.UserID)), customer.NormalizeText(string(m.AnonymousID))
	if userID == "" && anonID == "" {
		return store.Event{}, fmt.Errorf("userId or anonymousId is required")
	}
	if len(userID) > 200 || len(anonID) > 200 {
		return store.Event{}, fmt.Errorf("userId and anonymousId are at most 200 bytes")
	}
	ev := store.Event{SourceID: src.ID, Source: src.Name, MessageID: string(m.MessageID), Type: m.Type, ReceivedAt: receivedAt, Payload: raw}
	if ev.MessageID == "" {
		// Segment assigns one too; a retry of such a message cannot be
		// recognised, which is why the libraries always send one.
		ev.MessageID = "rapport-" + customer.NewID()
	}
	if len(ev.MessageID) > 200 {
		return store.Event{}, fmt.Errorf("messageId is at most 200 bytes")
	}
	var err error
	if ev.At, err = correctedTime(&m, batchSentAt, receivedAt); err != nil {
		return store.Event{}, err
	}
	if userID != "" {
		ev.Claims = append(ev.Claims, identity.Claim{Identity: customer.Identity{Type: customer.IdentityExternalID, Source: src.Name, Value: userID}})
	}
	if anonID != "" {
		ev.Claims = append(ev.Claims, identity.Claim{Identity: customer.Identity{Type: customer.IdentityAnonymousID, Value: anonID}})
	}
	switch m.Type {
	case "track":
		ev.Name = customer.NormalizeText(m.Event)
		if ev.Name == "" {
			return store.Event{}, fmt.Errorf("event is required for track")
		}
		if err := orderFromTrack(&ev, &m); err != nil {
			return store.Event{}, err
		}
	case "page", "screen":
		ev.Name = customer.NormalizeText(m.Name)
	case "group":
		ev.Name = customer.NormalizeText(string(m.GroupID))
		if ev.Name == "" {
			return store.Event{}, fmt.Errorf("groupId is required for group")
		}
	case "alias":
		prev := customer.NormalizeText(string(m.PreviousID))
		if prev == "" || userID == "" {
			return store.Event{}, fmt.Errorf("alias needs previousId and userId")
		}
		ev.Name = prev
		// previousId is usually the anonymous id the visitor had, sometimes
		// a former user id: link whichever profile has it.
		ev.Claims = append(ev.Claims,
			identity.Claim{Identity: customer.Identity{Type: customer.IdentityAnonymousID, Value: prev}, Explicit: true},
			identity.Claim{Identity: customer.Identity{Type: customer.IdentityExternalID, Source: src.Name, Value: prev}, Explicit: true, IfKnown: true})
	}
	// Identities from traits: identify's own, or the context.traits other
	// calls carry.
	rawTraits := m.Traits
	if m.Type != "identify" || len(rawTraits) == 0 {
		rawTraits = contextTraits(m.Context)
	}
	if len(rawTraits) > 0 && rawTraits[0] == '{' {
		var t traits
		if json.Unmarshal(rawTraits, &t) == nil {
			if e, err := customer.NormalizeEmail(string(t.Email)); err == nil && t.Email != "" {
				ev.Claims = append(ev.Claims, identity.Claim{Identity: customer.Identity{Type: customer.IdentityEmail, Value: e}})
			}
			if p, err := customer.NormalizePhone(string(t.Phone), region); err == nil && t.Phone != "" {
				ev.Claims = append(ev.Claims, identity.Claim{Identity: customer.Identity{Type: customer.IdentityPhone, Value: p}})
			}
			name := customer.NormalizeText(t.Name)
			if name == "" {
				name = customer.NormalizeText(t.FirstName + " " + t.LastName)
			}
			if len(name) <= 200 {
				ev.ProfileName = name
			}
		}
	}
	return ev, nil
}

// contextTraits returns context.traits, if any.
func contextTraits(ctx json.RawMessage) json.RawMessage {
	if len(ctx) == 0 || !bytes.Contains(ctx, []byte(`"traits"`)) {
		return nil
	}
	var c struct {
		Traits json.RawMessage `json:"traits"`
	}
	if json.Unmarshal(ctx, &c) != nil {
		return nil
	}
	return c.Traits
}

// orderFromTrack turns "Order Completed" into an order and "Order
// Refunded" into a refund (Segment e-commerce spec v2).
func orderFromTrack(ev *store.Event, m *message) error {
	if ev.Name != "Order Completed" && ev.Name != "Order Refunded" {
		return nil
	}
	var p orderProperties
	if len(m.Properties) > 0 {
		if err := json.Unmarshal(m.Properties, &p); err != nil {
			return fmt.Errorf("%s properties: %v", ev.Name, err)
		}
	}
	orderID := customer.NormalizeText(string(p.OrderID))
	currency := strings.ToUpper(strings.TrimSpace(p.Currency))
	if currency == "" {
		currency = "USD" // the spec's default
	}
	total, sum := 0.0, 0.0
	var items []customer.OrderItem
	for _, pr := range p.Products {
		q := pr.Quantity
		if q == 0 {
			q = 1
		}
		items = append(items, customer.OrderItem{ProductID: string(pr.ProductID), SKU: string(pr.SKU), Name: customer.NormalizeText(pr.Name),
			Category: customer.NormalizeText(pr.Category), Price: pr.Price, Quantity: q})
		sum += pr.Price * q
	}
	switch {
	case p.Total != nil:
		total = *p.Total
	case p.Revenue != nil:
		total = *p.Revenue
	default:
		total = math.Round(sum*100) / 100
	}
	if where, err := customer.CheckAmounts(total, items); err != nil {
		return fmt.Errorf("%s: %s: %v", ev.Name, where, err)
	}
	if ev.Name == "Order Refunded" {
		if orderID == "" {
			return fmt.Errorf("Order Refunded needs properties.order_id")
		}
		ev.Refund = &store.Refund{Source: ev.Source, ExternalID: orderID, At: ev.At, Total: total, Currency: currency}
		return nil
	}
	if orderID == "" {
		orderID = ev.MessageID // still idempotent on retries
	}
	ev.Order = &customer.Order{ID: customer.NewID(), ExternalID: orderID, Source: ev.Source, PlacedAt: ev.At,
		Currency: currency, Total: total, Status: customer.OrderCompleted, Items: items}
	return nil
}
