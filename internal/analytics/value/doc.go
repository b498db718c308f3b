// Package value is Rapport's descriptive customer-value analytics: RFM scores
// and segments, value tiers and the Pareto curve, tier migration, acquisition
// cohorts, product association rules and customer profitability.
//
// It works on plain in-memory data (per-customer aggregates, orders indexed by
// dense customer numbers, baskets) and knows no database: the store keeps the
// aggregates current on write and hands them here, so a refresh reads
// O(customers), while FromOrders is the full recompute from the order log used
// for repair and for proving both paths agree. It must not do I/O.
package value

// Label is a user-facing name in the two languages Rapport ships.
type Label struct {
	EN string `json:"en"`
	ZH string `json:"zh"`
}
