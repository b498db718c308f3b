package importer

import (
	"context"
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/rapportcrm/rapport/internal/customer"
	"github.com/rapportcrm/rapport/internal/store"
)

// orderLine is one row of an orders file.
type orderLine struct {
	orderID  string
	placedAt time.Time
	total    float64
	hasTotal bool
	currency string
	status   string
	item     *customer.OrderItem
}

var statusWords = map[string]string{
	"": customer.OrderCompleted, "completed": customer.OrderCompleted, "complete": customer.OrderCompleted, "paid": customer.OrderCompleted,
	"done": customer.OrderCompleted, "已完成": customer.OrderCompleted, "完成": customer.OrderCompleted, "已付款": customer.OrderCompleted,
	"交易成功": customer.OrderCompleted, "已签收": customer.OrderCompleted,
	"refunded": customer.OrderRefunded, "refund": customer.OrderRefunded, "已退款": customer.OrderRefunded, "退款": customer.OrderRefunded,
	"退货": customer.OrderRefunded, "已退货": customer.OrderRefunded,
}

var currencyPattern = regexp.MustCompile(`^[A-Z]{3}$`)

// amountNoise is what number strips: separators, currency signs, spaces.
var amountNoise = strings.NewReplacer(",", "", "¥", "", "￥", "", "$", "", "元", "", " ", "")

// number reads an amount written with thousands separators or a currency
// sign ("¥1,299.00").
func number(s string) (float64, bool) {
	s = amountNoise.Replace(customer.NormalizeText(s))
	n, err := strconv.ParseFloat(s, 64)
	return n, err == nil && customer.CheckAmount(n) == nil
}

// prepareOrder reads one order row.
func (r *run) prepareOrder(p *prepared) {
	cells, reason := r.cellsOf(p)
	if reason != "" {
		p.reason = reason
		return
	}
	ids, bad := r.identitiesOf(cells)
	o := orderLine{currency: "CNY", status: customer.OrderCompleted}
	var it customer.OrderItem
	hasItem := false
	it.Quantity = 1
	for i, f := range r.m.Columns {
		v := strings.TrimSpace(cells[i])
		h := r.m.Header[i]
		num := func(dst *float64) {
			if v == "" {
				return
			}
			n, ok := number(v)
			if !ok {
				bad = append(bad, fmt.Sprintf("%s: %q is not an amount (a number within ±1e12) / 不是有效数字（须在 ±1 万亿之内）", h, v))
				return
			}
			*dst = n
		}
		switch f {
		case FieldOrderID:
			o.orderID = customer.NormalizeText(v)
			if o.orderID == "" {
				bad = append(bad, h+": order id is empty / 订单号为空")
			}
		case FieldPlacedAt:
			t, ok := parseTime(v, r.opt.Location)
			if !ok {
				bad = append(bad, fmt.Sprintf("%s: %s is not a date or time / 时间无效", h, quoteOrEmpty(v)))
			}
			o.placedAt = t
		case FieldTotal:
			if v != "" {
				num(&o.total)
				o.hasTotal = true
			}
		case FieldCurrency:
			if v != "" {
				c := strings.ToUpper(customer.NormalizeText(v))
				if c == "RMB" || c == "人民币" {
					c = "CNY"
				}
				if !currencyPattern.MatchString(c) {
					bad = append(bad, fmt.Sprintf("%s: %q is not a currency code like CNY / 币种无效", h, v))
				}
				o.currency = c
			}
		case FieldStatus:
			st, ok := statusWords[strings.ToLower(customer.NormalizeText(v))]
			if !ok {
				bad = append(bad, fmt.Sprintf("%s: %q must be completed or refunded / 状态无效", h, v))
			}
			o.status = st
		case FieldProductID:
			it.ProductID, hasItem = customer.NormalizeText(v), hasItem || v != ""
		case FieldSKU:
			it.SKU, hasItem = customer.NormalizeText(v), hasItem || v != ""
		case FieldProduct:
			it.Name, hasItem = customer.NormalizeText(v), hasItem || v != ""
		case FieldCategory:
			it.Category = customer.NormalizeText(v)
		case FieldPrice:
			num(&it.Price)
			hasItem = hasItem || v != ""
		case FieldQuantity:
			num(&it.Quantity)
		case FieldUnitCost:
			num(&it.UnitCost)
		}
	}
	if !o.hasTotal && !hasItem {
		bad = append(bad, "neither a total nor a price / 没有订单金额或单价")
	}
	if len(ids) == 0 && len(bad) == 0 {
		bad = append(bad, "no email, phone or customer id to find the customer by / 没有邮箱、手机或客户编号")
	}
	p.order = o // a bad row keeps its order id, so its whole order is rejected
	if len(bad) > 0 {
		p.reason = strings.Join(bad, "; ")
		return
	}
	if hasItem {
		p.order.item = &it
	}
	p.c = &customer.Customer{Identities: ids}
}

// orderGroup is the rows of one order.
type orderGroup struct {
	id   string
	rows []*prepared
}

// orders imports an orders file: rows are grouped into orders by order id
// (an order's lines need not be adjacent), each order resolves to the one
// customer its rows identify, and orders already stored under the same
// source and order id are left as they are.
func (r *run) orders(ctx context.Context, t *Table) error {
	var all []*prepared
	for {
		row, ok := t.Next()
		if !ok {
			break
		}
		if row.Err == nil && isBlank(row.Cells) {
			r.rep.Blank++
			continue
		}
		p := &prepared{line: row.Line, cells: row.Cells}
		if row.Err != nil {
			p.reason = rowReason(row.Err)
		} else {
			r.prepareOrder(p)
		}
		all = append(all, p)
	}
	byID := map[string]*orderGroup{}
	var groups []*orderGroup
	var loose []*prepared // rejected before they had an order id
	for _, p := range all {
		if p.reason != "" && p.order.orderID == "" {
			loose = append(loose, p)
			continue
		}
		g := byID[p.order.orderID]
		if g == nil {
			g = &orderGroup{id: p.order.orderID}
			byID[g.id] = g
			groups = append(groups, g)
		}
		g.rows = append(g.rows, p)
	}
	if len(loose) > 0 {
		d := r.newDecision()
		for _, p := range loose {
			d.reject(p, p.reason)
		}
		if err := r.recordOrders(ctx, d, 0); err != nil {
			return err
		}
	}
	const perChunk = 1000
	for start := 0; start < len(groups); start += perChunk {
		if err := r.orderChunk(ctx, groups[start:min(start+perChunk, len(groups))]); err != nil {
			return err
		}
	}
	return nil
}

func (r *run) orderChunk(ctx context.Context, groups []*orderGroup) error {
	keys := store.ImportKeys{OrderSource: r.opt.Source}
	seen := map[customer.Identity]bool{}
	for _, g := range groups {
		keys.OrderIDs = append(keys.OrderIDs, g.id)
		for _, p := range g.rows {
			if p.c == nil {
				continue
			}
			for _, id := range p.c.Identities {
				if !seen[id] {
					seen[id] = true
					keys.Identities = append(keys.Identities, id)
				}
			}
		}
	}
	var d *decision
	var orders []customer.Order
	// Orders are written by CreateOrders; the lookup only reads.
	if _, err := r.s.ImportChunk(ctx, r.opt.Actor, "", keys, true, func(look store.ImportLookup) (store.ImportWrite, error) {
		d = r.newDecision()
		v := &resolver{r: r, look: look, targets: map[string]*target{}, orgs: map[string]string{}, seen: map[string]bool{}, d: d}
		for _, g := range groups {
			if o, ok := v.decideOrder(g); ok {
				orders = append(orders, o)
			}
		}
		return d.w, nil
	}); err != nil {
		return err
	}
	created := 0
	if len(orders) > 0 && !r.opt.DryRun {
		var err error
		if created, err = r.createOrders(ctx, orders); err != nil {
			return err
		}
	} else if r.opt.DryRun {
		created = len(orders)
	}
	return r.recordOrders(ctx, d, created)
}

// recordOrders adds a decided chunk of order rows to the job and report.
func (r *run) recordOrders(ctx context.Context, d *decision, created int) error {
	if !r.opt.DryRun {
		if err := r.s.RecordImportChunk(ctx, r.opt.ImportID, d.w.Rejects, d.w.Counts); err != nil {
			return err
		}
	}
	r.rep.Orders += int64(created)
	d.touched = nil
	r.commit(d)
	return nil
}

// decideOrder decides one order: all its rows must be valid and identify the
// same customer, or every row of it is rejected.
func (v *resolver) decideOrder(g *orderGroup) (customer.Order, bool) {
	var bad []string
	for _, p := range g.rows {
		if p.reason != "" {
			bad = append(bad, fmt.Sprintf("line %d: %s", p.line, p.reason))
		}
	}
	var c *customer.Customer
	if len(bad) == 0 {
		var ids []customer.Identity
		for _, p := range g.rows {
			for _, id := range p.c.Identities {
				if !containsIdentity(ids, id) {
					ids = append(ids, id)
				}
			}
		}
		var reason string
		if c, reason = v.customerOf(ids); reason != "" {
			bad = append(bad, reason)
		}
	}
	first := g.rows[0].order
	if len(bad) == 0 {
		for _, p := range g.rows[1:] {
			if !p.order.placedAt.Equal(first.placedAt) || p.order.currency != first.currency || p.order.status != first.status {
				bad = append(bad, fmt.Sprintf("line %d: date, currency or status differs from line %d of the same order / 同一订单的时间、币种或状态不一致", p.line, g.rows[0].line))
			}
		}
	}
	if len(bad) > 0 {
		reason := fmt.Sprintf("order %s: %s", g.id, strings.Join(bad, "; "))
		for _, p := range g.rows {
			v.d.reject(p, reason)
		}
		return customer.Order{}, false
	}
	o := customer.Order{ID: customer.NewID(), CustomerID: c.ID, ExternalID: g.id, Source: v.r.opt.Source,
		PlacedAt: first.placedAt, Currency: first.currency, Status: first.status, Total: first.total}
	sum := 0.0
	for _, p := range g.rows {
		if it := p.order.item; it != nil {
			o.Items = append(o.Items, *it)
			sum += it.Price * it.Quantity
		}
	}
	if !first.hasTotal {
		o.Total = math.Round(sum*100) / 100
		// Each amount read was checked by number; their sum was not.
		if err := customer.CheckAmount(o.Total); err != nil {
			reason := fmt.Sprintf("order %s: total: %v", g.id, err)
			for _, p := range g.rows {
				v.d.reject(p, reason)
			}
			return customer.Order{}, false
		}
	}
	outcome := OutcomeImported
	if v.look.Orders[g.id] || v.seen[g.id] {
		outcome = OutcomeUnchanged
	}
	v.seen[g.id] = true
	for _, p := range g.rows {
		v.d.outcome(p, outcome, c, nil)
	}
	return o, outcome == OutcomeImported
}

func containsIdentity(ids []customer.Identity, id customer.Identity) bool {
	for _, x := range ids {
		if x == id {
			return true
		}
	}
	return false
}

func (r *run) createOrders(ctx context.Context, orders []customer.Order) (int, error) {
	n, err := r.s.CreateOrders(ctx, r.opt.Actor, orders)
	if err != nil {
		return 0, fmt.Errorf("import: create orders: %w", err)
	}
	return n, nil
}
