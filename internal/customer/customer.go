// Package customer holds Rapport's domain types and the pure rules that
// apply to them: what a customer is, how input is normalized at the door,
// and how custom attributes are validated against the field registry.
// It knows nothing about storage or HTTP.
package customer

import (
	"time"
)

// Kind says whether a customer is a person or an organization.
type Kind string

// The kinds of customer.
const (
	Person       Kind = "person"
	Organization Kind = "organization"
)

// Identity types. Other types are allowed (lower-case letters, digits, '_').
const (
	IdentityEmail        = "email"
	IdentityPhone        = "phone"
	IdentityExternalID   = "external_id"
	IdentityAnonymousID  = "anonymous_id"
	IdentityWechatOpenID = "wechat_openid"
)

// Identity is one way of recognising a customer. The pair (type, source,
// value) is unique across all customers; source is empty except for
// external ids, which are unique per source system.
type Identity struct {
	Type   string `json:"type"`
	Value  string `json:"value"`
	Source string `json:"source,omitempty"`
}

// Membership links a person to an organization with a role or title.
type Membership struct {
	PersonID       string `json:"person_id,omitempty"`
	OrganizationID string `json:"organization_id"`
	Role           string `json:"role,omitempty"`
}

// Customer is the unit of analysis: a person or an organization with all the
// identities that recognise it.
type Customer struct {
	ID          string         `json:"id"`
	Kind        Kind           `json:"kind"`
	Name        string         `json:"name"`
	Identities  []Identity     `json:"identities"`
	Attributes  map[string]any `json:"attributes"`
	Tags        []string       `json:"tags"`
	OwnerID     string         `json:"owner_id,omitempty"`
	Memberships []Membership   `json:"memberships"`
	CreatedAt   time.Time      `json:"created_at"`
	UpdatedAt   time.Time      `json:"updated_at"`
	DeletedAt   *time.Time     `json:"deleted_at,omitempty"`
	Version     int64          `json:"version"`
	Stats       Stats          `json:"stats"`
	Scores      *Scores        `json:"scores,omitempty"`
}

// Scores are model outputs for one customer: value tier, RFM segment,
// lifetime value, probability of being alive, expected next purchase and
// churn risk. They are refreshed when the customer's data changes and by
// the scheduled refit; absent until first computed.
type Scores struct {
	Tier                 string     `json:"tier,omitempty"`
	RFMSegment           string     `json:"rfm_segment,omitempty"`
	R                    int        `json:"r,omitempty"`
	F                    int        `json:"f,omitempty"`
	M                    int        `json:"m,omitempty"`
	CLV                  *float64   `json:"clv,omitempty"`
	PAlive               *float64   `json:"p_alive,omitempty"`
	ExpectedNextPurchase *time.Time `json:"expected_next_purchase,omitempty"`
	ChurnRisk            *float64   `json:"churn_risk,omitempty"`
	UpdatedAt            time.Time  `json:"updated_at"`
}

// Stats are the computed traits kept current on every write; reads never
// recompute them from the log. Orders, revenue and everything about
// purchases count completed orders only; first and last seen span every
// tracked event, completed order, interaction and note.
type Stats struct {
	Orders       int64      `json:"orders"`
	Revenue      float64    `json:"revenue"`
	FirstSeen    *time.Time `json:"first_seen,omitempty"`
	LastSeen     *time.Time `json:"last_seen,omitempty"`
	FirstOrderAt *time.Time `json:"first_order_at,omitempty"`
	LastOrderAt  *time.Time `json:"last_order_at,omitempty"`
	Interactions int64      `json:"interactions"`
	// Events counts tracked events (identify, track, page, screen, group, alias).
	Events int64 `json:"events"`
	// LastChannel is the source of the most recent tracked event or order
	// ("web", "ios", "shop"…).
	LastChannel string `json:"last_channel,omitempty"`
	// AverageOrderValue is revenue divided by orders.
	AverageOrderValue float64 `json:"average_order_value"`
	// FavouriteCategory is the product category with the most spend.
	FavouriteCategory string `json:"favourite_category,omitempty"`
	// PurchaseDays counts distinct (UTC) days with a completed order.
	PurchaseDays int64 `json:"purchase_days"`
	// Repeat is the repeat-purchase summary lifetime-value models use.
	Repeat RepeatSummary `json:"repeat"`
}

// RepeatSummary is the frequency/recency/age/monetary summary of a
// customer's purchases as the BG/NBD, Pareto/NBD and Gamma-Gamma models
// read it: purchases on the same (UTC) day count as one, the first
// purchase day is not a repeat, and times are in days.
type RepeatSummary struct {
	// Frequency is the number of repeat purchase days (purchase days − 1).
	Frequency int64 `json:"frequency"`
	// RecencyDays is the time from the first to the last purchase day.
	RecencyDays float64 `json:"recency_days"`
	// AgeDays is the time from the first purchase day to the day read.
	AgeDays float64 `json:"age_days"`
	// MeanRepeatValue is the average spend per repeat purchase day.
	MeanRepeatValue float64 `json:"mean_repeat_value"`
}

// InteractionKinds lists the kinds of recorded interaction.
var InteractionKinds = []string{"call", "meeting", "visit", "email", "message", "service"}

// Note is free text a user wrote about a customer.
type Note struct {
	ID         string    `json:"id"`
	CustomerID string    `json:"customer_id"`
	AuthorID   string    `json:"author_id,omitempty"`
	Body       string    `json:"body"`
	CreatedAt  time.Time `json:"created_at"`
}

// Interaction is a contact between the business and a customer.
type Interaction struct {
	ID         string    `json:"id"`
	CustomerID string    `json:"customer_id"`
	UserID     string    `json:"user_id,omitempty"`
	Kind       string    `json:"kind"`
	At         time.Time `json:"at"`
	Summary    string    `json:"summary"`
	CreatedAt  time.Time `json:"created_at"`
}
