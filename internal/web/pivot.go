package web

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/rapportcrm/rapport/internal/auth"
	"github.com/rapportcrm/rapport/internal/customer"
	"github.com/rapportcrm/rapport/internal/errs"
	"github.com/rapportcrm/rapport/internal/insight"
	"github.com/rapportcrm/rapport/internal/segment"
	"github.com/rapportcrm/rapport/internal/store"
)

// The pivot table: measures of internal/insight's pivot by a row and an
// optional column dimension, chosen in a GET form so a pivot is a URL to
// share. Each cell drills down to its customers: the customer list when its
// filters can say who they are, else a list of the pivot's own built from a
// segment rule. insight validates the spec, exactly as for the API.

// pivotDimensions are the built-in dimensions the form offers (insight
// accepts these and any enum attribute).
var pivotDimensions = []string{"tier", "predicted_tier", "rfm_segment", "city", "channel", "cohort", "period", "tag", "owner"}

// pivotMeasures are the measures insight computes, in form order.
var pivotMeasures = []string{"customers", "revenue", "orders", "clv", "profit"}

const (
	pivotRowsShown = 200 // rows beyond are left to the export (keeps the page light)
	pivotColsShown = 20
	pivotCellShown = 100 // customers listed by a drill-down
)

func (s *Server) registerPivot(h func(string, http.HandlerFunc)) {
	h("GET /pivot", s.page(auth.ReadAnalytics, "dashboards", s.pivotPage))
	h("GET /pivot/export", s.page(auth.ReadAnalytics, "dashboards", s.pivotExport))
	h("GET /pivot/cell", s.page(auth.ReadAnalytics, "dashboards", s.pivotCell))
}

// pivotQuery is the pivot's state, all of it in the URL.
type pivotQuery struct {
	Row, Col string
	Measures []string
}

// parsePivotQuery reads the form; a first visit (no row) gets customers and
// revenue by tier.
func parsePivotQuery(q url.Values) pivotQuery {
	pq := pivotQuery{Row: strings.TrimSpace(q.Get("row")), Col: strings.TrimSpace(q.Get("col"))}
	if !q.Has("row") {
		pq.Row = "tier"
	}
	for _, m := range q["m"] {
		if m = strings.TrimSpace(m); m != "" && !slices.Contains(pq.Measures, m) {
			pq.Measures = append(pq.Measures, m)
		}
	}
	if len(pq.Measures) == 0 && !q.Has("row") {
		pq.Measures = []string{"customers", "revenue"}
	}
	return pq
}

// Values encodes the query.
func (pq pivotQuery) Values() url.Values {
	v := url.Values{"row": {pq.Row}}
	if pq.Col != "" {
		v.Set("col", pq.Col)
	}
	for _, m := range pq.Measures {
		v.Add("m", m)
	}
	return v
}

func (pq pivotQuery) dims() []string {
	if pq.Col == "" {
		return []string{pq.Row}
	}
	return []string{pq.Row, pq.Col}
}

// computePivot runs the pivot by the query's dimensions. A bad spec comes back
// as a translated message (and a nil error).
func (s *Server) computePivot(ctx context.Context, v *view, pq pivotQuery, dims []string) (insight.PivotResult, string, error) {
	if pq.Row == "" {
		return insight.PivotResult{}, v.T("pivot.err_need_row"), nil
	}
	if pq.Col != "" && pq.Col == pq.Row {
		return insight.PivotResult{}, v.T("pivot.err_same"), nil
	}
	res, err := s.Insight.Pivot(ctx, insight.PivotRequest{Measures: pq.Measures, Dimensions: dims})
	if err == nil {
		return res, "", nil
	}
	var e *errs.Error
	if !errors.As(err, &e) || e.Kind != errs.Invalid {
		return res, "", err
	}
	var msgs []string
	for _, f := range e.Fields {
		val := fmt.Sprint(f.Value)
		switch {
		case f.Field == "body.measures":
			msgs = append(msgs, v.T("pivot.err_need_measure"))
		case strings.HasPrefix(f.Field, "body.measures"):
			msgs = append(msgs, v.T("pivot.err_measure", val))
		case strings.HasPrefix(f.Field, "body.dimensions"):
			msgs = append(msgs, v.T("pivot.err_dimension", val))
		default:
			msgs = append(msgs, v.T("pivot.err_bad"))
		}
	}
	if len(msgs) == 0 {
		msgs = append(msgs, v.T("pivot.err_bad"))
	}
	return res, strings.Join(msgs, " "), nil
}

// pivotOption is one choice of the form.
type pivotOption struct {
	ID, Label string
	On        bool
}

// pivotCellView is one cell: its measures, formatted, and where it drills.
type pivotCellView struct {
	Text []string
	Href string
}

type pivotLine struct {
	Key   string // the raw value
	Label string
	Cells []pivotCellView // one per column, or one without a column dimension
	Total pivotCellView   // the row's total, with a column dimension
}

type pivotData struct {
	Q            pivotQuery
	Dims         []pivotOption
	ColDims      []pivotOption
	Measures     []pivotOption
	Error        string
	Note         string
	Table        bool
	RowLabel     string
	ColLabel     string
	MeasureNames []string
	Cols         []pivotOption // column values and their labels
	Lines        []pivotLine
	ColTotals    []pivotCellView
	Grand        pivotCellView
	MoreRows     int
	MoreCols     int
	Reading      string
	ExportCSV    string
	ExportXLSX   string
	Cell         *pivotCellData
}

// pivotCellData is the drill list of one cell.
type pivotCellData struct {
	Title string
	Rule  string
	Items []customer.Customer
	More  bool
	List  string // the same customers in the customer list, when it can say who
	Back  string
	// Snapshot: no rule can say who is in the cell (predicted tier,
	// channel, order period), so the analytics snapshot lists them.
	Snapshot bool
}

// pivotForm fills the form's choices, including the workspace's enum
// attributes.
func (s *Server) pivotForm(ctx context.Context, v *view, d *pivotData) error {
	dims := slices.Clone(pivotDimensions)
	fields, err := s.Store.Fields(ctx)
	if err != nil {
		return err
	}
	labels := map[string]string{}
	for _, f := range fields {
		if f.Type == customer.FieldEnum && !slices.Contains(dims, f.Key) {
			dims = append(dims, "attr:"+f.Key)
			labels["attr:"+f.Key] = v.L.Label(f.LabelEn, f.LabelZh)
		}
	}
	name := func(id string) string {
		if l, ok := labels[id]; ok && l != "" {
			return l
		}
		return v.pivotDimName(id)
	}
	d.ColDims = []pivotOption{{ID: "", Label: v.T("pivot.no_col"), On: d.Q.Col == ""}}
	for _, id := range dims {
		d.Dims = append(d.Dims, pivotOption{ID: id, Label: name(id), On: d.Q.Row == id})
		d.ColDims = append(d.ColDims, pivotOption{ID: id, Label: name(id), On: d.Q.Col == id})
	}
	for _, m := range pivotMeasures {
		d.Measures = append(d.Measures, pivotOption{ID: m, Label: v.T("pivot.m." + m), On: slices.Contains(d.Q.Measures, m)})
	}
	d.RowLabel, d.ColLabel = name(d.Q.Row), name(d.Q.Col)
	for _, m := range d.Q.Measures {
		d.MeasureNames = append(d.MeasureNames, v.T("pivot.m."+m))
	}
	return nil
}

// pivotDimName names a dimension in the user's language.
func (v *view) pivotDimName(id string) string {
	if t := v.T("pivot.dim." + id); t != "pivot.dim."+id {
		return t
	}
	return strings.TrimPrefix(id, "attr:")
}

func (s *Server) pivotPage(w http.ResponseWriter, r *http.Request, v *view) {
	ctx := r.Context()
	d := pivotData{Q: parsePivotQuery(r.URL.Query())}
	var res insight.PivotResult
	status := http.StatusOK
	if s.Insight == nil {
		d.Note = v.T("dash.unavailable")
	} else {
		var err error
		if res, d.Error, err = s.computePivot(ctx, v, d.Q, d.Q.dims()); err != nil {
			s.fail(w, r, v, err)
			return
		}
		if d.Error != "" {
			status = http.StatusBadRequest
		} else {
			// insight names enum attributes canonically (attr:<key>).
			d.Q.Row = res.Dimensions[0]
			if len(res.Dimensions) > 1 {
				d.Q.Col = res.Dimensions[1]
			}
		}
	}
	if err := s.pivotForm(ctx, v, &d); err != nil {
		s.fail(w, r, v, err)
		return
	}
	if s.Insight == nil || d.Error != "" {
		s.render(w, r, v, status, "pivot", "", d)
		return
	}
	if err := s.fillPivot(ctx, v, &d, res); err != nil {
		s.fail(w, r, v, err)
		return
	}
	s.render(w, r, v, http.StatusOK, "pivot", "", d)
}

// fillPivot lays the result out as a table with totals, drill links and a
// one-line reading.
func (s *Server) fillPivot(ctx context.Context, v *view, d *pivotData, res insight.PivotResult) error {
	d.Table = true
	q := d.Q.Values()
	q.Set("format", "csv")
	d.ExportCSV = "/pivot/export?" + q.Encode()
	q.Set("format", "xlsx")
	d.ExportXLSX = "/pivot/export?" + q.Encode()
	dr, err := s.newDriller(ctx, v)
	if err != nil {
		return err
	}
	format := func(vals []float64) []string {
		out := make([]string, len(vals))
		for i, x := range vals {
			out[i] = v.pivotMeasure(d.Q.Measures[i], x)
		}
		return out
	}
	cell := func(vals []float64, pairs ...[2]string) pivotCellView {
		if vals == nil { // no customer has this combination
			dash := make([]string, len(d.Q.Measures))
			for i := range dash {
				dash[i] = "–"
			}
			return pivotCellView{Text: dash}
		}
		return pivotCellView{Text: format(vals), Href: dr.href(pairs)}
	}
	// Row and column values in insight's order (tiers and segments top
	// first, blanks last), with their totals from one-dimension pivots
	// (cached by insight), which count a customer once per row.
	byRow := res
	if d.Q.Col != "" {
		if byRow, err = s.Insight.Pivot(ctx, insight.PivotRequest{Measures: d.Q.Measures, Dimensions: []string{d.Q.Row}}); err != nil {
			return err
		}
	}
	var rows []insight.PivotRow
	rows = byRow.Rows
	if len(rows) > pivotRowsShown {
		d.MoreRows = len(rows) - pivotRowsShown
		rows = rows[:pivotRowsShown]
	}
	var cols []insight.PivotRow
	cells := map[[2]string][]float64{}
	if d.Q.Col != "" {
		byCol, err := s.Insight.Pivot(ctx, insight.PivotRequest{Measures: d.Q.Measures, Dimensions: []string{d.Q.Col}})
		if err != nil {
			return err
		}
		cols = byCol.Rows
		if len(cols) > pivotColsShown {
			d.MoreCols = len(cols) - pivotColsShown
			cols = cols[:pivotColsShown]
		}
		for _, c := range cols {
			d.Cols = append(d.Cols, pivotOption{ID: c.Keys[0], Label: dr.label(d.Q.Col, c.Keys[0])})
			d.ColTotals = append(d.ColTotals, cell(c.Values, [2]string{d.Q.Col, c.Keys[0]}))
		}
		for _, pr := range res.Rows {
			cells[[2]string{pr.Keys[0], pr.Keys[1]}] = pr.Values
		}
	}
	// The largest cell by the first measure, for the reading.
	best, bestVal := "", 0.0
	consider := func(label string, vals []float64) {
		if len(vals) > 0 && (best == "" || vals[0] > bestVal) {
			best, bestVal = label, vals[0]
		}
	}
	for _, pr := range rows {
		rk := pr.Keys[0]
		line := pivotLine{Key: rk, Label: dr.label(d.Q.Row, rk)}
		rp := [2]string{d.Q.Row, rk}
		if d.Q.Col == "" {
			line.Cells = []pivotCellView{cell(pr.Values, rp)}
			consider(line.Label, pr.Values)
		} else {
			for i, c := range cols {
				vals := cells[[2]string{rk, c.Keys[0]}]
				line.Cells = append(line.Cells, cell(vals, rp, [2]string{d.Q.Col, c.Keys[0]}))
				consider(line.Label+" × "+d.Cols[i].Label, vals)
			}
			line.Total = cell(pr.Values, rp)
		}
		d.Lines = append(d.Lines, line)
	}
	d.Grand = cell(res.Totals)
	switch total := res.Totals[0]; {
	case best == "" || total <= 0:
		d.Reading = v.T("pivot.reading_empty")
	default:
		d.Reading = v.T("pivot.reading", best, d.MeasureNames[0], v.pivotMeasure(d.Q.Measures[0], bestVal), v.L.Pct(bestVal/total))
	}
	return nil
}

// pivotMeasure formats a value of measure m: counts as whole numbers, money
// in the locale's currency format.
func (v *view) pivotMeasure(m string, x float64) string {
	if m == "customers" || m == "orders" {
		return v.L.Int(x)
	}
	return v.L.Money(x)
}

// pivotDriller knows how to name dimension values and where a cell drills.
type pivotDriller struct {
	v       *view
	owners  map[string]string
	fields  map[string]customer.Field
	profile insight.Profile
}

func (s *Server) newDriller(ctx context.Context, v *view) (*pivotDriller, error) {
	dr := &pivotDriller{v: v, owners: map[string]string{}}
	users, err := s.Store.ListUsers(ctx)
	if err != nil {
		return nil, err
	}
	for _, u := range users {
		dr.owners[u.ID] = displayName(u)
	}
	if dr.fields, err = s.Store.FieldMap(ctx); err != nil {
		return nil, err
	}
	if dr.profile, err = s.Insight.Profile(ctx); err != nil {
		return nil, err
	}
	return dr, nil
}

// label names one value of a dimension.
func (dr *pivotDriller) label(dim, key string) string {
	v := dr.v
	switch {
	case key == "":
		return v.T("pivot.none")
	case dim == "tier" || dim == "predicted_tier":
		return v.Tier(key)
	case dim == "rfm_segment":
		return v.Segment(key)
	case dim == "owner":
		if n, ok := dr.owners[key]; ok {
			return n
		}
	}
	return key
}

// attrKey is the attribute a dimension reads, or "".
func (dr *pivotDriller) attrKey(dim string) string {
	if dim == "city" {
		return dr.profile.CityAttribute
	}
	k, _ := strings.CutPrefix(dim, "attr:")
	if k == dim {
		return ""
	}
	return k
}

// listQuery is the customer-list query holding exactly the customers of a
// cell, when the list's filters can say it.
func (dr *pivotDriller) listQuery(pairs [][2]string) (listQuery, bool) {
	var lq listQuery
	for _, p := range pairs {
		dim, val := p[0], p[1]
		if val == "" { // "none" is not a list filter
			return lq, false
		}
		switch dim {
		case "tier":
			lq.Tier = val
		case "rfm_segment":
			lq.Segment = val
		case "tag":
			lq.Tag = val
		case "owner":
			lq.Owner = val
		default:
			k := dr.attrKey(dim)
			if k == "" || lq.AttrKey != "" {
				return lq, false
			}
			lq.AttrKey, lq.AttrValue = k, val
		}
	}
	return lq, true
}

// href is where a cell drills: the customer list when it can say who is
// in the cell, else the pivot's own list of the cell.
func (dr *pivotDriller) href(pairs [][2]string) string {
	if lq, ok := dr.listQuery(pairs); ok {
		if q := lq.Values(true).Encode(); q != "" {
			return "/customers?" + q
		}
		return "/customers"
	}
	q := url.Values{}
	for _, p := range pairs {
		q.Add("d", p[0])
		q.Add("v", p[1])
	}
	return "/pivot/cell?" + q.Encode()
}

// rule is a segment rule selecting a cell's customers. Predicted tiers,
// channels (an attribute or else the first order's source) and order
// periods have no rule field, so their cells are not listed.
func (dr *pivotDriller) rule(pairs [][2]string) (segment.Node, bool) {
	str := func(s string) segment.Value { return segment.Value{Kind: segment.StringValue, Str: s} }
	is := func(field, val string) segment.Node {
		return &segment.Compare{Field: field, Op: "=", Values: []segment.Value{str(val)}}
	}
	// "is null" is the language's test for unset and empty alike (and for
	// tags, for having none).
	null := func(field string) segment.Node { return &segment.Compare{Field: field, Op: "null"} }
	var parts []segment.Node
	for _, p := range pairs {
		dim, val := p[0], p[1]
		switch dim {
		case "tier", "rfm_segment", "owner", "tag":
			if val == "" {
				parts = append(parts, null(dim))
			} else {
				parts = append(parts, is(dim, val))
			}
		case "cohort":
			if val == "" {
				parts = append(parts, null("first_order_at"))
				continue
			}
			from, to, ok := dr.period(val)
			if !ok {
				return nil, false
			}
			parts = append(parts, &segment.Compare{Field: "first_order_at", Op: ">=", Values: []segment.Value{str(from)}},
				&segment.Compare{Field: "first_order_at", Op: "<", Values: []segment.Value{str(to)}})
		default:
			k := dr.attrKey(dim)
			if _, ok := dr.fields[k]; !ok {
				return nil, false
			}
			if val == "" {
				parts = append(parts, null(k))
			} else {
				parts = append(parts, is(k, val))
			}
		}
	}
	switch len(parts) {
	case 0:
		return nil, false
	case 1:
		return parts[0], true
	}
	return &segment.Logic{Op: "and", Args: parts}, true
}

// period is the span [from, to) of a cohort label: a calendar month
// ("2006-01") or a period of the business's length starting on a day.
func (dr *pivotDriller) period(label string) (from, to string, ok bool) {
	if t, err := time.Parse("2006-01", label); err == nil {
		return t.Format(time.DateOnly), t.AddDate(0, 1, 0).Format(time.DateOnly), true
	}
	t, err := time.Parse(time.DateOnly, label)
	if err != nil || dr.profile.CohortPeriodDays <= 0 {
		return "", "", false
	}
	return label, t.AddDate(0, 0, dr.profile.CohortPeriodDays).Format(time.DateOnly), true
}

// pivotCell lists the first customers of one cell.
func (s *Server) pivotCell(w http.ResponseWriter, r *http.Request, v *view) {
	ctx := r.Context()
	q := r.URL.Query()
	d := pivotData{Q: parsePivotQuery(url.Values{}), Cell: &pivotCellData{Back: "/pivot"}}
	if s.Insight == nil {
		d.Note = v.T("dash.unavailable")
		s.render(w, r, v, http.StatusOK, "pivot", "", d)
		return
	}
	dr, err := s.newDriller(ctx, v)
	if err != nil {
		s.fail(w, r, v, err)
		return
	}
	ds, vs := q["d"], q["v"]
	var pairs [][2]string
	var title []string
	if len(ds) == len(vs) && len(ds) >= 1 && len(ds) <= 3 {
		for i := range ds {
			pairs = append(pairs, [2]string{ds[i], vs[i]})
			title = append(title, v.pivotDimName(ds[i])+": "+dr.label(ds[i], vs[i]))
		}
	}
	if len(pairs) == 0 {
		d.Error = v.T("pivot.err_cell")
		s.render(w, r, v, http.StatusBadRequest, "pivot", "", d)
		return
	}
	node, ok := dr.rule(pairs)
	d.Cell.Title = strings.Join(title, " · ")
	back := pivotQuery{Row: pairs[0][0], Measures: []string{"customers", "revenue"}}
	if len(pairs) > 1 {
		back.Col = pairs[1][0]
	}
	d.Cell.Back = "/pivot?" + back.Values().Encode()
	if lq, ok := dr.listQuery(pairs); ok {
		d.Cell.List = "/customers?" + lq.Values(true).Encode()
	}
	if !ok {
		s.pivotCellFromSnapshot(w, r, v, d, pairs)
		return
	}
	src := node.String()
	rule, err := segment.Check(src, node, segment.Catalogue{Fields: dr.fields, Region: s.Region})
	if err != nil {
		d.Error = v.T("pivot.err_cell")
		s.render(w, r, v, http.StatusBadRequest, "pivot", "", d)
		return
	}
	d.Cell.Rule = src
	sq, err := rule.SQL(segment.Dialect(s.Store.Dialect()), s.now(), 1, nil)
	if err != nil {
		s.fail(w, r, v, err)
		return
	}
	f, _, err := s.filter(r, v.P, listQuery{}, pivotCellShown)
	if err != nil {
		s.fail(w, r, v, err)
		return
	}
	page, err := s.Store.ListMatching(ctx, store.Condition{Where: sq.Where, Args: sq.Args, Stats: sq.Stats, Scores: sq.Scores}, f.OwnerID, "", pivotCellShown)
	if err != nil {
		s.fail(w, r, v, err)
		return
	}
	d.Cell.Items, d.Cell.More = page.Items, page.NextCursor != ""
	s.render(w, r, v, http.StatusOK, "pivot", "", d)
}

// pivotCellFromSnapshot lists a cell's customers as the analytics
// snapshot has them, for cells no segment rule can select.
func (s *Server) pivotCellFromSnapshot(w http.ResponseWriter, r *http.Request, v *view, d pivotData, pairs [][2]string) {
	ctx := r.Context()
	f, _, err := s.filter(r, v.P, listQuery{}, pivotCellShown)
	if err != nil {
		s.fail(w, r, v, err)
		return
	}
	var filters []insight.PivotFilter
	for _, p := range pairs {
		filters = append(filters, insight.PivotFilter{Dimension: p[0], Values: []string{p[1]}})
	}
	ids, total, err := s.Insight.PivotCustomers(ctx, filters, pivotCellShown)
	if errs.KindOf(err) == errs.Invalid {
		d.Error = v.T("pivot.err_cell")
		s.render(w, r, v, http.StatusBadRequest, "pivot", "", d)
		return
	}
	if err != nil {
		s.fail(w, r, v, err)
		return
	}
	// One read of those still there (and, for a rep kept to their own, theirs).
	page, err := s.Store.ListMatching(ctx, store.IDsCondition(ids), f.OwnerID, "", pivotCellShown)
	if err != nil {
		s.fail(w, r, v, err)
		return
	}
	d.Cell.Snapshot, d.Cell.Items, d.Cell.More = true, page.Items, total > len(ids)
	s.render(w, r, v, http.StatusOK, "pivot", "", d)
}

// pivotExport downloads the pivot as CSV (with a byte-order mark for
// Excel) or XLSX, exactly as the API's format=csv|xlsx does.
func (s *Server) pivotExport(w http.ResponseWriter, r *http.Request, v *view) {
	ctx := r.Context()
	d := pivotData{Q: parsePivotQuery(r.URL.Query())}
	format := r.URL.Query().Get("format")
	if format == "" {
		format = "csv"
	}
	msg := ""
	if format != "csv" && format != "xlsx" {
		msg = v.T("pivot.err_format", format)
	}
	var res insight.PivotResult
	if msg == "" && s.Insight != nil {
		var err error
		if res, msg, err = s.computePivot(ctx, v, d.Q, d.Q.dims()); err != nil {
			s.fail(w, r, v, err)
			return
		}
	}
	if s.Insight == nil || msg != "" {
		if err := s.pivotForm(ctx, v, &d); err != nil {
			s.fail(w, r, v, err)
			return
		}
		status := http.StatusBadRequest
		if s.Insight == nil {
			d.Note, status = v.T("dash.unavailable"), http.StatusOK
		}
		d.Error = msg
		s.render(w, r, v, status, "pivot", "", d)
		return
	}
	var buf bytes.Buffer
	var err error
	ctype := "text/csv; charset=utf-8"
	if format == "xlsx" {
		err = res.WriteXLSX(&buf)
		ctype = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
	} else {
		err = res.WriteCSV(&buf)
	}
	if err != nil {
		s.fail(w, r, v, err)
		return
	}
	name := "pivot-" + s.now().Format("20060102-1504") + "." + format
	w.Header().Set("Content-Type", ctype)
	w.Header().Set("Content-Disposition", `attachment; filename="`+name+`"`)
	w.Header().Set("Cache-Control", "no-store")
	w.Write(buf.Bytes())
}
