package customer

import "time"

// Order statuses.
const (
	OrderCompleted = "completed"
	OrderRefunded  = "refunded"
)

// Order is a purchase by a customer. Refunded orders stay on record but no
// longer count towards revenue.
type Order struct {
	ID         string      `json:"id"`
	CustomerID string      `json:"customer_id"`
	ExternalID string      `json:"order_id,omitempty"` // the source system's order id
	Source     string      `json:"source,omitempty"`
	PlacedAt   time.Time   `json:"placed_at"`
	Currency   string      `json:"currency"`
	Total      float64     `json:"total"`
	Status     string      `json:"status"`
	Items      []OrderItem `json:"products"`
}

// OrderItem is one line of an order.
type OrderItem struct {
	ProductID string  `json:"product_id,omitempty"`
	SKU       string  `json:"sku,omitempty"`
	Name      string  `json:"name,omitempty"`
	Category  string  `json:"category,omitempty"`
	Price     float64 `json:"price"`
	Quantity  float64 `json:"quantity"`
	UnitCost  float64 `json:"unit_cost,omitempty"` // cost of goods, when known
}
