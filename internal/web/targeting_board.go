package web

import (
	"math"
	"net/http"
	"strings"

	"github.com/rapportcrm/rapport/internal/store"
	"github.com/rapportcrm/rapport/internal/targeting"
)

type boardData struct {
	Rows  []targeting.BoardRow
	Chart map[string]any // ECharts option; nil without lists
}

// board is the success board: every list's response against its
// baseline, for every role.
func (s *Server) board(w http.ResponseWriter, r *http.Request, v *view) {
	b, err := s.Targeting.SuccessBoard(r.Context())
	if err != nil {
		s.fail(w, r, v, err)
		return
	}
	d := boardData{Rows: b.Lists}
	if len(b.Lists) > 0 {
		d.Chart = boardChart(v, b.Lists)
	}
	s.render(w, r, v, http.StatusOK, "board", "", d)
}

// boardChart compares each list's purchase rate with its baseline, the
// most recent lists first as on the board (at most 20 bars each).
func boardChart(v *view, rows []targeting.BoardRow) map[string]any {
	rows = rows[:min(len(rows), 20)]
	names := make([]string, len(rows))
	list, base := make([]float64, len(rows)), make([]float64, len(rows))
	for i, r := range rows {
		names[i] = r.Name
		list[i] = math.Round(r.ConversionRate*1000) / 10
		base[i] = math.Round(r.Baseline.Rate*1000) / 10
	}
	return map[string]any{
		"tooltip": map[string]any{"trigger": "axis"},
		"legend":  map[string]any{"data": []string{v.T("tgt.board.list_rate"), v.T("tgt.board.baseline_rate")}},
		"grid":    map[string]any{"left": 8, "right": 8, "bottom": 8, "top": 36, "containLabel": true},
		"xAxis":   map[string]any{"type": "category", "data": names, "axisLabel": map[string]any{"interval": 0, "overflow": "truncate", "width": 90}},
		"yAxis":   map[string]any{"type": "value", "axisLabel": map[string]any{"formatter": "{value}%"}},
		"series": []map[string]any{
			{"name": v.T("tgt.board.list_rate"), "type": "bar", "data": list, "itemStyle": map[string]any{"color": "#1d4ed8"}},
			{"name": v.T("tgt.board.baseline_rate"), "type": "bar", "data": base, "itemStyle": map[string]any{"color": "#94a3b8"}},
		},
	}
}

// initiativeForm is the new-initiative form as typed.
type initiativeForm struct {
	Name, Hypothesis, SegmentID, Budget, Stage string
	Errors                                     map[string]string
}

type initiativesData struct {
	Rows     []targeting.PortfolioRow
	Form     initiativeForm
	Segments []store.Segment
	Stages   []string
}

func (s *Server) initiatives(w http.ResponseWriter, r *http.Request, v *view) {
	s.renderInitiatives(w, r, v, http.StatusOK, initiativeForm{Stage: "explore", Errors: map[string]string{}})
}

func (s *Server) renderInitiatives(w http.ResponseWriter, r *http.Request, v *view, status int, f initiativeForm) {
	ctx := r.Context()
	p, err := s.Targeting.Portfolio(ctx)
	if err != nil {
		s.fail(w, r, v, err)
		return
	}
	d := initiativesData{Rows: p.Initiatives, Form: f, Stages: store.InitiativeStages}
	if d.Segments, err = s.Store.Segments(ctx); err != nil {
		s.fail(w, r, v, err)
		return
	}
	s.render(w, r, v, status, "initiatives", "", d)
}

func (s *Server) createInitiative(w http.ResponseWriter, r *http.Request, v *view) {
	f := initiativeForm{Name: strings.TrimSpace(r.PostFormValue("name")), Hypothesis: strings.TrimSpace(r.PostFormValue("hypothesis")),
		SegmentID: r.PostFormValue("segment_id"), Budget: r.PostFormValue("budget"), Stage: r.PostFormValue("stage"), Errors: map[string]string{}}
	sp := targeting.InitiativeSpec{Name: f.Name, Hypothesis: f.Hypothesis, SegmentID: f.SegmentID, Stage: f.Stage}
	parseAmount(v, f.Errors, "budget", f.Budget, &sp.Budget)
	if len(f.Errors) == 0 {
		in, err := s.Targeting.CreateInitiative(r.Context(), v.P.Actor(), sp)
		if err == nil {
			s.flash(w, r, v.T("tgt.in.created", in.Name))
			http.Redirect(w, r, "/initiatives/"+in.ID, http.StatusSeeOther)
			return
		}
		if !v.formError(err, f.Errors) {
			s.fail(w, r, v, err)
			return
		}
	}
	s.renderInitiatives(w, r, v, http.StatusUnprocessableEntity, f)
}

type initiativePageData struct {
	In      store.Initiative
	Row     *targeting.PortfolioRow
	Segment string
	Lists   []listRow
	Stages  []string
	Cost    costForm
	Costs   []store.Cost
}

func (s *Server) initiativePage(w http.ResponseWriter, r *http.Request, v *view) {
	s.renderInitiative(w, r, v, http.StatusOK, costForm{Errors: map[string]string{}})
}

func (s *Server) renderInitiative(w http.ResponseWriter, r *http.Request, v *view, status int, cost costForm) {
	ctx := r.Context()
	in, err := s.Store.Initiative(ctx, r.PathValue("id"))
	if err != nil {
		s.fail(w, r, v, err)
		return
	}
	cost.Action = "/initiatives/" + in.ID + "/costs"
	d := initiativePageData{In: in, Stages: store.InitiativeStages, Cost: cost}
	if in.SegmentID != "" {
		if sg, err := s.Store.Segment(ctx, in.SegmentID); err == nil {
			d.Segment = sg.Name
		}
	}
	p, err := s.Targeting.Portfolio(ctx)
	if err != nil {
		s.fail(w, r, v, err)
		return
	}
	for i := range p.Initiatives {
		if p.Initiatives[i].ID == in.ID {
			d.Row = &p.Initiatives[i]
		}
	}
	ls, err := s.Store.Lists(ctx, in.ID)
	if err != nil {
		s.fail(w, r, v, err)
		return
	}
	for _, l := range ls {
		row, err := s.Targeting.BoardRow(ctx, l.ID)
		if err != nil {
			s.fail(w, r, v, err)
			return
		}
		d.Lists = append(d.Lists, listRow{TargetList: l, Board: &row})
	}
	costs, err := s.Store.Costs(ctx)
	if err != nil {
		s.fail(w, r, v, err)
		return
	}
	for _, c := range costs {
		if c.InitiativeID == in.ID {
			d.Costs = append(d.Costs, c)
		}
	}
	s.render(w, r, v, status, "initiative", "", d)
}

func (s *Server) setInitiativeStage(w http.ResponseWriter, r *http.Request, v *view) {
	id := r.PathValue("id")
	in, err := s.Targeting.SetStage(r.Context(), v.P.Actor(), id, r.PostFormValue("stage"))
	if err != nil {
		s.fail(w, r, v, err)
		return
	}
	s.flash(w, r, v.T("tgt.in.staged", in.Name, v.T("tgt.stage."+in.Stage)))
	http.Redirect(w, r, "/initiatives/"+id, http.StatusSeeOther)
}

// addInitiativeCost records a cost against an initiative.
func (s *Server) addInitiativeCost(w http.ResponseWriter, r *http.Request, v *view) {
	s.addCost(w, r, v, func(c *store.Cost, id string) { c.InitiativeID = id }, "/initiatives/", s.renderInitiative)
}
