package web

import (
	"context"
	"fmt"
	"math"
	"net/http"
	"time"

	"github.com/rapportcrm/rapport/internal/analytics/value"
	"github.com/rapportcrm/rapport/internal/insight"
)

// chart is one dashboard panel: a title, a one-line reading in plain
// language, and the ECharts option that draws it (rendered into a data
// attribute; app.js draws it, so no inline script is needed).
type chart struct {
	ID      string
	Title   string
	Reading string
	Option  map[string]any
	Empty   string // why there is no chart, when there is none
}

type dashData struct {
	Charts []chart
	Note   string
}

// dashboards shows the analytics of internal/insight. Each report that
// cannot be computed yet (no orders, model not fitted) says so in its panel
// instead of failing the page.
func (s *Server) dashboards(w http.ResponseWriter, r *http.Request, v *view) {
	d := dashData{}
	if s.Insight == nil {
		d.Note = v.T("dash.unavailable")
		s.render(w, r, v, http.StatusOK, "dashboards", "", d)
		return
	}
	ctx := r.Context()
	for _, build := range []func(context.Context, *view) (chart, error){
		s.pyramidChart, s.paretoChart, s.rfmChart, s.migrationChart, s.cohortChart, s.clvChart, s.profitChart,
	} {
		c, err := build(ctx, v)
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			s.Log.WarnContext(ctx, "dashboard chart", "chart", c.ID, "err", err)
			c.Empty, c.Option = v.T("dash.no_data"), nil
		}
		d.Charts = append(d.Charts, c)
	}
	s.render(w, r, v, http.StatusOK, "dashboards", "", d)
}

func pct(x float64) float64 { return math.Round(x*1000) / 10 }

func (s *Server) pyramidChart(ctx context.Context, v *view) (chart, error) {
	c := chart{ID: "pyramid", Title: v.T("dash.pyramid")}
	rep, err := s.Insight.Tiers(ctx, insight.TierQuery{UpgradeLimit: 1})
	if err != nil {
		return c, err
	}
	total := 0
	for _, t := range rep.Historical {
		total += t.Customers
	}
	if total == 0 {
		c.Empty = v.T("dash.no_data")
		return c, nil
	}
	var data []map[string]any
	for i, t := range rep.Historical {
		// The funnel sorts ascending by value: platinum (1) on top, bronze at the base.
		data = append(data, map[string]any{"name": v.L.Label(t.Label.EN, t.Label.ZH), "value": i + 1,
			"customers": t.Customers, "share": pct(t.ValueShare)})
	}
	top := rep.Historical[0]
	c.Reading = v.T("dash.pyramid_reading", v.L.Label(top.Label.EN, top.Label.ZH), v.L.Pct(float64(top.Customers)/float64(total)), v.L.Pct(top.ValueShare))
	labels := make([]string, len(rep.Historical))
	for i, t := range rep.Historical {
		labels[i] = fmt.Sprintf("%s · %s · %s", v.L.Label(t.Label.EN, t.Label.ZH), v.T("dash.n_customers", v.L.Int(t.Customers)), v.L.Pct(t.ValueShare))
		data[i]["name"] = labels[i]
	}
	c.Option = map[string]any{
		"tooltip": map[string]any{"trigger": "item", "formatter": "{b}"},
		"color":   []string{"#1e293b", "#d4a017", "#9ca3af", "#c2703d"},
		"series": []any{map[string]any{
			"type": "funnel", "sort": "ascending", "left": "10%", "width": "80%", "gap": 2, "minSize": "20%",
			"label": map[string]any{"show": true, "position": "inside", "color": "#fff", "fontSize": 12, "textBorderColor": "rgba(0,0,0,.45)", "textBorderWidth": 2},
			"data":  data,
		}},
	}
	return c, nil
}

func (s *Server) paretoChart(ctx context.Context, v *view) (chart, error) {
	c := chart{ID: "pareto", Title: v.T("dash.pareto")}
	rep, err := s.Insight.Pareto(ctx)
	if err != nil {
		return c, err
	}
	if len(rep.Revenue.Curve.Points) == 0 {
		c.Empty = v.T("dash.no_data")
		return c, nil
	}
	c.Reading = v.L.Label(rep.Revenue.Reading.EN, rep.Revenue.Reading.ZH)
	line := func(side insight.ParetoSide) [][2]float64 {
		pts := [][2]float64{{0, 0}}
		for _, p := range side.Curve.Points {
			pts = append(pts, [2]float64{pct(p.CustomerShare), pct(p.ValueShare)})
		}
		return pts
	}
	series := []any{map[string]any{"name": v.T("dash.revenue"), "type": "line", "showSymbol": false, "data": line(rep.Revenue), "areaStyle": map[string]any{"opacity": 0.15}}}
	if rep.Predicted != nil {
		series = append(series, map[string]any{"name": v.T("dash.predicted"), "type": "line", "showSymbol": false, "data": line(*rep.Predicted), "lineStyle": map[string]any{"type": "dashed"}})
	}
	series = append(series, map[string]any{"name": v.T("dash.equal"), "type": "line", "showSymbol": false, "data": [][2]float64{{0, 0}, {100, 100}},
		"lineStyle": map[string]any{"color": "#9ca3af", "type": "dotted"}, "itemStyle": map[string]any{"color": "#9ca3af"}})
	c.Option = map[string]any{
		"tooltip": map[string]any{"trigger": "axis"},
		"legend":  map[string]any{"bottom": 0},
		"grid":    map[string]any{"left": 50, "right": 20, "top": 36, "bottom": 60},
		"xAxis":   map[string]any{"type": "value", "min": 0, "max": 100, "name": v.T("dash.top_customers_pct"), "nameLocation": "middle", "nameGap": 28},
		"yAxis":   map[string]any{"type": "value", "min": 0, "max": 100, "name": v.T("dash.value_pct")},
		"series":  series,
	}
	return c, nil
}

func (s *Server) rfmChart(ctx context.Context, v *view) (chart, error) {
	c := chart{ID: "rfm", Title: v.T("dash.rfm")}
	rep, err := s.Insight.RFM(ctx)
	if err != nil {
		return c, err
	}
	if rep.Ranked == 0 || len(rep.Grid) == 0 {
		c.Empty = v.T("dash.no_data")
		return c, nil
	}
	var cells []any
	maxN := 0
	var rows []string
	for i, row := range rep.Grid {
		rows = append(rows, fmt.Sprintf("R%d", row[0].R))
		for j, cell := range row {
			cells = append(cells, map[string]any{"value": []any{j, i, cell.Customers}, "name": v.L.Label(cell.Label.EN, cell.Label.ZH)})
			maxN = max(maxN, cell.Customers)
		}
	}
	var cols []string
	for _, cell := range rep.Grid[0] {
		cols = append(cols, fmt.Sprintf("FM%d", cell.FM))
	}
	best := value.SegmentSummary{}
	for _, sg := range rep.Segments {
		if sg.Customers > best.Customers {
			best = sg
		}
	}
	c.Reading = v.T("dash.rfm_reading", v.L.Label(best.Label.EN, best.Label.ZH), v.L.Int(best.Customers), v.L.Pct(best.RevenueShare))
	c.Option = map[string]any{
		"tooltip":   map[string]any{"position": "top", "formatter": "{b}: {c}"},
		"grid":      map[string]any{"left": 50, "right": 20, "top": 10, "bottom": 70},
		"xAxis":     map[string]any{"type": "category", "data": cols, "name": v.T("dash.fm_axis"), "nameLocation": "middle", "nameGap": 28},
		"yAxis":     map[string]any{"type": "category", "data": rows, "name": v.T("dash.r_axis")},
		"visualMap": map[string]any{"min": 0, "max": max(maxN, 1), "calculable": false, "orient": "horizontal", "left": "center", "bottom": 0, "itemHeight": 120},
		"series": []any{map[string]any{"type": "heatmap", "data": cells,
			"label": map[string]any{"show": true, "fontSize": 10, "formatter": "{b}"}}},
	}
	return c, nil
}

func (s *Server) migrationChart(ctx context.Context, v *view) (chart, error) {
	c := chart{ID: "migration", Title: v.T("dash.migration")}
	now := s.now().UTC().Truncate(24 * time.Hour)
	to := insight.Interval{Start: now.AddDate(-1, 0, 0), End: now.AddDate(0, 0, -1)}
	from := insight.Interval{Start: now.AddDate(-2, 0, 0), End: to.Start.AddDate(0, 0, -1)}
	rep, err := s.Insight.Tiers(ctx, insight.TierQuery{From: &from, To: &to, UpgradeLimit: 1})
	if err != nil {
		return c, err
	}
	m := rep.Migration
	if m == nil || len(m.Tiers) == 0 {
		c.Empty = v.T("dash.no_data")
		return c, nil
	}
	names := make([]string, len(m.Tiers))
	for i, t := range m.Tiers {
		names[i] = v.L.Label(t.Label.EN, t.Label.ZH)
	}
	var cells []any
	maxN := 0
	for i, row := range m.Matrix {
		for j, n := range row {
			cells = append(cells, []any{j, i, n})
			maxN = max(maxN, n)
		}
	}
	c.Reading = v.T("dash.migration_reading", v.L.Int(m.Up), v.L.Int(m.Down), v.L.Int(m.Same))
	c.Option = map[string]any{
		"tooltip":   map[string]any{"position": "top"},
		"grid":      map[string]any{"left": 80, "right": 20, "top": 10, "bottom": 80},
		"xAxis":     map[string]any{"type": "category", "data": names, "name": v.T("dash.this_year"), "nameLocation": "middle", "nameGap": 28},
		"yAxis":     map[string]any{"type": "category", "data": names, "name": v.T("dash.last_year")},
		"visualMap": map[string]any{"min": 0, "max": max(maxN, 1), "orient": "horizontal", "left": "center", "bottom": 0, "itemHeight": 120},
		"series":    []any{map[string]any{"type": "heatmap", "data": cells, "label": map[string]any{"show": true}}},
	}
	return c, nil
}

// cohortLimit keeps the heatmap readable: the latest cohorts, the first periods.
const cohortLimit = 12

func (s *Server) cohortChart(ctx context.Context, v *view) (chart, error) {
	c := chart{ID: "cohorts", Title: v.T("dash.cohorts")}
	rep, err := s.Insight.Cohorts(ctx)
	if err != nil {
		return c, err
	}
	cs := rep.Cohorts
	if len(cs) == 0 {
		c.Empty = v.T("dash.no_data")
		return c, nil
	}
	if len(cs) > cohortLimit {
		cs = cs[len(cs)-cohortLimit:]
	}
	var labels []string
	var cells []any
	periods := 0
	second, n := 0.0, 0
	for i, co := range cs {
		labels = append(labels, co.Label)
		for k, ret := range co.Retention {
			if k >= cohortLimit {
				break
			}
			cells = append(cells, []any{k, i, pct(ret)})
			periods = max(periods, k+1)
		}
		if len(co.Retention) > 1 && co.Customers > 0 {
			second += co.Retention[1] * float64(co.Customers)
			n += co.Customers
		}
	}
	var xs []string
	for k := range periods {
		xs = append(xs, fmt.Sprint(k))
	}
	if n > 0 {
		c.Reading = v.T("dash.cohorts_reading", v.L.Pct(second/float64(n)))
	} else {
		c.Reading = v.T("dash.cohorts_young")
	}
	c.Option = map[string]any{
		"tooltip":   map[string]any{"position": "top"},
		"grid":      map[string]any{"left": 80, "right": 20, "top": 10, "bottom": 80},
		"xAxis":     map[string]any{"type": "category", "data": xs, "name": v.T("dash.periods_after"), "nameLocation": "middle", "nameGap": 28},
		"yAxis":     map[string]any{"type": "category", "data": labels, "inverse": true},
		"visualMap": map[string]any{"min": 0, "max": 100, "orient": "horizontal", "left": "center", "bottom": 0, "itemHeight": 120, "text": []string{"100%", "0%"}},
		"series":    []any{map[string]any{"type": "heatmap", "data": cells, "label": map[string]any{"show": true, "fontSize": 9}}},
	}
	return c, nil
}

func (s *Server) clvChart(ctx context.Context, v *view) (chart, error) {
	c := chart{ID: "clv", Title: v.T("dash.clv")}
	rep, err := s.Insight.CLV(ctx)
	if err != nil {
		return c, err
	}
	dist := rep.Distribution
	if dist == nil || len(dist.Histogram) == 0 {
		c.Empty = v.T("dash.no_model")
		return c, nil
	}
	var xs []string
	var ys []int
	for _, b := range dist.Histogram {
		xs = append(xs, v.L.Compact(b.From)+"–"+v.L.Compact(b.To))
		ys = append(ys, b.Customers)
	}
	c.Reading = v.T("dash.clv_reading", rep.HorizonDays, v.L.Money(dist.Total), v.L.Money(dist.Mean))
	c.Option = map[string]any{
		"tooltip": map[string]any{"trigger": "axis"},
		"grid":    map[string]any{"left": 50, "right": 20, "top": 36, "bottom": 70},
		"xAxis":   map[string]any{"type": "category", "data": xs, "name": v.T("dash.clv_axis"), "nameLocation": "middle", "nameGap": 52, "axisLabel": map[string]any{"rotate": 30}},
		"yAxis":   map[string]any{"type": "value", "name": v.T("dash.customers")},
		"series":  []any{map[string]any{"type": "bar", "data": ys, "itemStyle": map[string]any{"color": "#1d4ed8"}}},
	}
	return c, nil
}

func (s *Server) profitChart(ctx context.Context, v *view) (chart, error) {
	c := chart{ID: "profit", Title: v.T("dash.profit")}
	rep, err := s.Insight.Profitability(ctx)
	if err != nil {
		return c, err
	}
	if len(rep.Segments) == 0 {
		c.Empty = v.T("dash.no_data")
		return c, nil
	}
	var names []string
	var data []any
	for _, sg := range rep.Segments {
		names = append(names, v.L.Label(sg.Label.EN, sg.Label.ZH))
		color := "#067647"
		if sg.Profit.Profit < 0 {
			color = "#b42318"
		}
		data = append(data, map[string]any{"value": math.Round(sg.Profit.Profit), "itemStyle": map[string]any{"color": color}})
	}
	if rep.UnprofitableCustomers == 0 {
		c.Reading = v.T("dash.profit_all", v.L.Money(rep.Total.Profit), v.L.Pct(rep.Total.Margin))
	} else {
		c.Reading = v.T("dash.profit_reading", v.L.Money(rep.Total.Profit), v.L.Pct(rep.Total.Margin), v.L.Int(rep.UnprofitableCustomers), v.L.Int(rep.Customers))
	}
	c.Option = map[string]any{
		"tooltip": map[string]any{"trigger": "axis"},
		"grid":    map[string]any{"left": 110, "right": 20, "top": 10, "bottom": 30},
		"xAxis":   map[string]any{"type": "value"},
		"yAxis":   map[string]any{"type": "category", "data": names, "inverse": true},
		"series":  []any{map[string]any{"type": "bar", "data": data}},
	}
	return c, nil
}
