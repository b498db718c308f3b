package customer

import (
	"fmt"
	"math"
	"time"
)

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

// MaxAmount bounds every money amount and quantity Rapport takes in (an
// order's total, a line's price, quantity and cost): a trillion in any
// currency is beyond any real order, and the bound keeps every sum of them
// (revenue, averages, returns) finite, so a stored figure can always be
// shown. JSON has no infinity: a sum that overflowed would fail every read
// of the customer afterwards.
const MaxAmount = 1e12

// CheckAmount reports whether n is a usable amount.
func CheckAmount(n float64) error {
	if math.IsNaN(n) || math.IsInf(n, 0) || math.Abs(n) > MaxAmount {
		return fmt.Errorf("%g is not an amount between -1e12 and 1e12 / 金额须在 ±1 万亿之内", n)
	}
	return nil
}

// CheckAmounts checks an order's total and its lines, naming the first bad
// one: "total" or "products[i]".
func CheckAmounts(total float64, items []OrderItem) (string, error) {
	for i, it := range items {
		for _, n := range []float64{it.Price, it.Quantity, it.UnitCost} {
			if err := CheckAmount(n); err != nil {
				return fmt.Sprintf("products[%d]", i), err
			}
		}
	}
	if err := CheckAmount(total); err != nil {
		return "total", err
	}
	return "", nil
}
