package insight

import (
	"cmp"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/rapportcrm/rapport/internal/analytics/value"
	"github.com/rapportcrm/rapport/internal/customer"
	"github.com/rapportcrm/rapport/internal/errs"
)

// Pivot measures.
var pivotMeasures = []string{"customers", "revenue", "orders", "clv", "profit"}

// Built-in pivot dimensions; any enum attribute of the field registry is
// one too, by its key (or as attr:<key>).
var pivotDimensions = []string{"tier", "predicted_tier", "rfm_segment", "city", "channel", "cohort", "period", "tag", "owner"}

// PivotFilter keeps the customers (or, for period, the orders) whose value
// of a dimension is one of Values.
type PivotFilter struct {
	Dimension string   `json:"dimension" doc:"A dimension name, as in dimensions"`
	Values    []string `json:"values" minItems:"1" doc:"Keep these values"`
}

// PivotRequest asks for measures broken down by up to three dimensions.
type PivotRequest struct {
	Measures   []string      `json:"measures" minItems:"1" maxItems:"5" doc:"customers, revenue, orders, clv, profit"`
	Dimensions []string      `json:"dimensions" maxItems:"3" doc:"Up to three of tier, predicted_tier, rfm_segment, city, channel, cohort, period, tag, owner, or an enum attribute key (attr:<key> also works)"`
	Filters    []PivotFilter `json:"filters,omitempty"`
}

// PivotRow is one cell of the pivot: the dimension values and the
// measures in request order.
type PivotRow struct {
	Keys   []string  `json:"keys"`
	Values []float64 `json:"values"`
}

// PivotResult is a computed pivot. Revenue and orders are split by period
// when period is a dimension; customers, CLV and profit count each
// customer once in every cell they appear in (a customer with two tags is
// in both tag rows), so those columns need not add up to the total.
type PivotResult struct {
	Dimensions []string               `json:"dimensions"`
	Measures   []string               `json:"measures"`
	Rows       []PivotRow             `json:"rows"`
	Totals     []float64              `json:"totals"`
	Labels     map[string]value.Label `json:"labels"` // tier and segment ids → names
	Version    uint64                 `json:"version"`
}

type pivotCell struct {
	keys []string
	vals []float64
	last int // last customer counted, so customer measures count once
}

// Pivot computes a pivot table over every live customer.
func (s *Service) Pivot(ctx context.Context, req PivotRequest) (PivotResult, error) {
	dims, filters, err := s.checkPivot(ctx, req)
	if err != nil {
		return PivotResult{}, err
	}
	canon := PivotRequest{Measures: req.Measures, Dimensions: dims, Filters: req.Filters}
	key, _ := json.Marshal(canon)
	return cache(s, ctx, "pivot/"+string(key), func(snap *snapshot) (PivotResult, error) {
		return s.pivot(ctx, snap, canon.Measures, dims, filters, nil)
	})
}

// PivotCustomers lists the customers behind a pivot cell: the ids of the
// first limit live customers whose value of each filter's dimension is one
// of its values (for period: who placed a completed order in it), and how
// many there are in all. It is the drill-down of any cell, including those
// no customer-list filter can express (predicted tier, channel, period).
func (s *Service) PivotCustomers(ctx context.Context, filters []PivotFilter, limit int) (ids []string, total int, err error) {
	_, fs, err := s.checkPivot(ctx, PivotRequest{Measures: []string{"customers"}, Filters: filters})
	if err != nil {
		return nil, 0, err
	}
	err = s.readSnapshot(ctx, func(snap *snapshot) error {
		_, err := s.pivot(ctx, snap, []string{"customers"}, nil, fs, func(r *row) {
			if total < limit {
				ids = append(ids, snap.ids.str(r.id))
			}
			total++
		})
		return err
	})
	return ids, total, err
}

// checkPivot validates a request and returns its canonical dimensions and
// its filters as sets.
func (s *Service) checkPivot(ctx context.Context, req PivotRequest) ([]string, map[string]map[string]bool, error) {
	fields, err := s.store.FieldMap(ctx)
	if err != nil {
		return nil, nil, err
	}
	var fe []errs.FieldError
	for i, m := range req.Measures {
		if !slices.Contains(pivotMeasures, m) {
			fe = append(fe, errs.FieldError{Field: fmt.Sprintf("body.measures[%d]", i), Message: "must be one of " + strings.Join(pivotMeasures, ", "), Value: m})
		}
	}
	if len(req.Measures) == 0 {
		fe = append(fe, errs.FieldError{Field: "body.measures", Message: "name at least one measure"})
	}
	if len(req.Dimensions) > 3 {
		fe = append(fe, errs.FieldError{Field: "body.dimensions", Message: "at most three dimensions", Value: len(req.Dimensions)})
	}
	norm := func(field, d string) string {
		if slices.Contains(pivotDimensions, d) {
			return d
		}
		key := strings.TrimPrefix(d, "attr:")
		if f, ok := fields[key]; ok && f.Type == customer.FieldEnum {
			return "attr:" + key
		}
		fe = append(fe, errs.FieldError{Field: field, Message: "must be one of " + strings.Join(pivotDimensions, ", ") + " or an enum attribute", Value: d})
		return d
	}
	dims := make([]string, len(req.Dimensions))
	for i, d := range req.Dimensions {
		dims[i] = norm(fmt.Sprintf("body.dimensions[%d]", i), d)
	}
	for i := range dims {
		for j := range i {
			if dims[i] == dims[j] {
				fe = append(fe, errs.FieldError{Field: fmt.Sprintf("body.dimensions[%d]", i), Message: "repeated dimension", Value: dims[i]})
			}
		}
	}
	filters := map[string]map[string]bool{}
	for i, f := range req.Filters {
		d := norm(fmt.Sprintf("body.filters[%d].dimension", i), f.Dimension)
		set := filters[d]
		if set == nil {
			set = map[string]bool{}
			filters[d] = set
		}
		for _, v := range f.Values {
			set[v] = true
		}
	}
	if len(fe) > 0 {
		return nil, nil, errs.Validation(fe...)
	}
	return dims, filters, nil
}

// pivot computes the table; visit, when set, also sees every customer
// the filters keep.
func (s *Service) pivot(ctx context.Context, snap *snapshot, measures, dims []string, filters map[string]map[string]bool, visit func(*row)) (PivotResult, error) {
	res := PivotResult{Dimensions: dims, Measures: measures, Rows: []PivotRow{}, Labels: map[string]value.Label{}}
	for _, t := range value.Tiers() {
		res.Labels[t.String()] = t.Label()
	}
	for _, sg := range value.Segments() {
		res.Labels[sg.String()] = sg.Label()
	}
	rk := snap.rank
	ps, _, err := profits(snap)
	if err != nil {
		return res, err
	}
	_, byPeriod := filters["period"]
	byPeriod = byPeriod || slices.Contains(dims, "period")
	var log *orderLog
	var start []int // start[k]: first log entry of live customer k (log is grouped by customer)
	if byPeriod {
		if log, err = s.orderLog(ctx, snap); err != nil {
			return res, err
		}
		first := make(map[int32]int, len(rk.live))
		for e := len(log.cust) - 1; e >= 0; e-- {
			first[log.cust[e]] = e
		}
		start = make([]int, len(rk.live))
		for k, i := range rk.live {
			if e, ok := first[i]; ok {
				start[k] = e
			} else {
				start[k] = -1
			}
		}
	}
	periodDays := snap.profile.CohortPeriodDays
	values := func(dim string, k int, r *row) []string {
		switch dim {
		case "tier":
			return []string{tierID(rk.tier[k])}
		case "predicted_tier":
			return []string{tierID(rk.ptier[k])}
		case "rfm_segment":
			if sg := rk.rfm.Scores[k].Segment; sg != value.SegmentNone {
				return []string{sg.String()}
			}
			return []string{""}
		case "city":
			return []string{r.x().city}
		case "channel":
			return []string{r.x().channel}
		case "cohort":
			if r.p().orders == 0 {
				return []string{""}
			}
			return []string{periodLabel(r.p().first, periodDays)}
		case "tag":
			if len(r.x().tags) == 0 {
				return []string{""}
			}
			return r.x().tags
		case "owner":
			return []string{r.x().owner}
		}
		return []string{r.x().attrs.get(strings.TrimPrefix(dim, "attr:"))}
	}
	midx := map[string]int{}
	for j, m := range measures {
		midx[m] = j
	}
	cells := map[string]*pivotCell{}
	totals := make([]float64, len(measures))
	addCustomer := func(vals []float64, k int, r *row) {
		if j, ok := midx["customers"]; ok {
			vals[j]++
		}
		if j, ok := midx["clv"]; ok {
			vals[j] += r.p().clv
		}
		if j, ok := midx["profit"]; ok {
			vals[j] += ps[k].Profit
		}
	}
	addOrders := func(vals []float64, orders, revenue float64) {
		if j, ok := midx["orders"]; ok {
			vals[j] += orders
		}
		if j, ok := midx["revenue"]; ok {
			vals[j] += revenue
		}
	}
	keys := make([]string, len(dims))
	var combos [][]string
	for k, i := range rk.live {
		r := &snap.rows[i]
		pass := true
		for d, set := range filters {
			if d == "period" {
				continue
			}
			ok := false
			for _, v := range values(d, k, r) {
				if set[v] {
					ok = true
					break
				}
			}
			if !ok {
				pass = false
				break
			}
		}
		if !pass {
			continue
		}
		// Every combination of this customer's dimension values; period is
		// filled per order below.
		combos = combos[:0]
		combos = append(combos, keys[:0:0])
		for _, d := range dims {
			vs := []string{""}
			if d != "period" {
				vs = values(d, k, r)
			}
			next := make([][]string, 0, len(combos)*len(vs))
			for _, c := range combos {
				for _, v := range vs {
					next = append(next, append(slices.Clip(c), v))
				}
			}
			combos = next
		}
		cell := func(ks []string) *pivotCell {
			id := strings.Join(ks, "\x1f")
			c := cells[id]
			if c == nil {
				c = &pivotCell{keys: slices.Clone(ks), vals: make([]float64, len(measures)), last: -1}
				cells[id] = c
			}
			return c
		}
		counted := false
		if !byPeriod {
			if visit != nil {
				visit(r)
			}
			for _, c := range combos {
				pc := cell(c)
				addCustomer(pc.vals, k, r)
				addOrders(pc.vals, float64(r.p().orders), r.p().revenue)
			}
			addCustomer(totals, k, r)
			addOrders(totals, float64(r.p().orders), r.p().revenue)
			continue
		}
		pi := slices.Index(dims, "period")
		for e := start[k]; e >= 0 && e < len(log.cust) && log.cust[e] == i; e++ {
			pl := periodLabel(log.at[e], periodDays)
			if set, ok := filters["period"]; ok && !set[pl] {
				continue
			}
			for _, c := range combos {
				if pi >= 0 {
					c[pi] = pl
				}
				pc := cell(c)
				if pc.last != k {
					pc.last = k
					addCustomer(pc.vals, k, r)
				}
				addOrders(pc.vals, 1, log.amt[e])
			}
			if !counted {
				counted = true
				addCustomer(totals, k, r)
				if visit != nil {
					visit(r)
				}
			}
			addOrders(totals, 1, log.amt[e])
		}
	}
	for _, c := range cells {
		res.Rows = append(res.Rows, PivotRow{Keys: c.keys, Values: c.vals})
	}
	slices.SortFunc(res.Rows, func(a, b PivotRow) int {
		for d := range dims {
			if c := compareKey(dims[d], a.Keys[d], b.Keys[d]); c != 0 {
				return c
			}
		}
		return 0
	})
	res.Totals = totals
	return res, nil
}

// compareKey orders tiers and segments top first, other values as text,
// blanks last.
func compareKey(dim, a, b string) int {
	if a == b {
		return 0
	}
	if a == "" {
		return 1
	}
	if b == "" {
		return -1
	}
	switch dim {
	case "tier", "predicted_tier":
		var ta, tb value.Tier
		for _, t := range value.Tiers() {
			if t.String() == a {
				ta = t
			}
			if t.String() == b {
				tb = t
			}
		}
		return cmp.Compare(ta, tb)
	case "rfm_segment":
		var sa, sb value.Segment
		_ = sa.UnmarshalText([]byte(a)) // unknown ids sort as none
		_ = sb.UnmarshalText([]byte(b))
		return cmp.Compare(sa, sb)
	}
	return strings.Compare(a, b)
}

// periodLabel names the period holding unix: "2006-01" for calendar
// months, else the first day of the periodDays-long period (counted from
// 1970-01-01).
func periodLabel(unix int64, periodDays int) string {
	if periodDays <= 0 {
		return time.Unix(unix, 0).UTC().Format("2006-01")
	}
	d := civilDay(unix)
	start := d - ((d%int64(periodDays))+int64(periodDays))%int64(periodDays)
	return time.Unix(start*86400, 0).UTC().Format(time.DateOnly)
}

// table is the pivot as text rows: a header, the cells and a total line.
func (p PivotResult) table() [][]string {
	head := append(slices.Clone(p.Dimensions), p.Measures...)
	out := [][]string{head}
	for _, r := range p.Rows {
		line := slices.Clone(r.Keys)
		for _, v := range r.Values {
			line = append(line, strconv.FormatFloat(v, 'f', -1, 64))
		}
		out = append(out, line)
	}
	total := make([]string, len(p.Dimensions))
	if len(total) > 0 {
		total[0] = "Total / 合计"
	}
	for _, v := range p.Totals {
		total = append(total, strconv.FormatFloat(v, 'f', -1, 64))
	}
	return append(out, total)
}

// WriteCSV writes the pivot as CSV (UTF-8 with a byte-order mark, so Excel
// opens Chinese text correctly): a header, one line per cell, a total line.
func (p PivotResult) WriteCSV(w io.Writer) error {
	if _, err := io.WriteString(w, "\ufeff"); err != nil {
		return err
	}
	cw := csv.NewWriter(w)
	if err := cw.WriteAll(p.table()); err != nil {
		return fmt.Errorf("insight: pivot csv: %w", err)
	}
	return nil
}

// WriteXLSX writes the pivot as an Excel workbook with one sheet; measures
// are numeric cells.
func (p PivotResult) WriteXLSX(w io.Writer) error {
	f := excelize.NewFile()
	defer f.Close()
	const sheet = "Pivot"
	if err := f.SetSheetName("Sheet1", sheet); err != nil {
		return fmt.Errorf("insight: pivot xlsx: %w", err)
	}
	nd := len(p.Dimensions)
	put := func(line int, keys []string, vals []float64) error {
		cells := make([]any, 0, nd+len(vals))
		for _, k := range keys {
			cells = append(cells, k)
		}
		for _, v := range vals {
			cells = append(cells, v)
		}
		addr, err := excelize.CoordinatesToCellName(1, line)
		if err != nil {
			return err
		}
		return f.SetSheetRow(sheet, addr, &cells)
	}
	head := append(slices.Clone(p.Dimensions), p.Measures...)
	hc := make([]any, len(head))
	for i, h := range head {
		hc[i] = h
	}
	if err := f.SetSheetRow(sheet, "A1", &hc); err != nil {
		return fmt.Errorf("insight: pivot xlsx: %w", err)
	}
	for i, r := range p.Rows {
		if err := put(i+2, r.Keys, r.Values); err != nil {
			return fmt.Errorf("insight: pivot xlsx: %w", err)
		}
	}
	total := make([]string, nd)
	if nd > 0 {
		total[0] = "Total / 合计"
	}
	if err := put(len(p.Rows)+2, total, p.Totals); err != nil {
		return fmt.Errorf("insight: pivot xlsx: %w", err)
	}
	if err := f.Write(w); err != nil {
		return fmt.Errorf("insight: pivot xlsx: %w", err)
	}
	return nil
}
