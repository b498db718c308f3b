package web

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/rapportcrm/rapport/internal/store"
	"github.com/rapportcrm/rapport/internal/targeting"
)

// listScores are the scores a list may be ranked by (targeting.ListSpec).
var listScores = []string{"churn_risk", "clv", "p_alive"}

// listForm is the new-list form as typed, so a failed post comes back
// with everything kept.
type listForm struct {
	Name, SegmentID, Score, TopN, Control, Assign  string
	DueDays, AttributionDays, Script, InitiativeID string
	ScriptB                                        string // a second message variant: arms A and B beside the control
	Reps                                           []string
	Errors                                         map[string]string
	// The choices the form offers.
	Segments    []store.Segment
	Users       []store.User
	Initiatives []store.Initiative
	Scores      []string
}

func (s *Server) newListForm(w http.ResponseWriter, r *http.Request, v *view) {
	q := r.URL.Query()
	f := listForm{SegmentID: q.Get("segment"), InitiativeID: q.Get("initiative"), Control: "20", Assign: targeting.AssignOwner,
		DueDays: "7", AttributionDays: strconv.Itoa(targeting.DefaultAttributionDays), Errors: map[string]string{}}
	s.renderListForm(w, r, v, http.StatusOK, f)
}

func (s *Server) renderListForm(w http.ResponseWriter, r *http.Request, v *view, status int, f listForm) {
	ctx := r.Context()
	var err error
	if f.Segments, err = s.Store.Segments(ctx); err != nil {
		s.fail(w, r, v, err)
		return
	}
	if f.Users, _, err = s.userNames(r); err != nil {
		s.fail(w, r, v, err)
		return
	}
	if f.Initiatives, err = s.Store.Initiatives(ctx); err != nil {
		s.fail(w, r, v, err)
		return
	}
	f.Scores = listScores
	if f.Name == "" && f.SegmentID != "" && status == http.StatusOK {
		for _, sg := range f.Segments {
			if sg.ID == f.SegmentID {
				f.Name = v.T("tgt.list.default_name", sg.Name, v.L.Date(v.Now))
			}
		}
	}
	s.render(w, r, v, status, "list-new", "", f)
}

// createList freezes the list the form describes and opens it.
func (s *Server) createList(w http.ResponseWriter, r *http.Request, v *view) {
	f := listForm{Name: r.PostFormValue("name"), SegmentID: r.PostFormValue("segment_id"), Score: r.PostFormValue("score"),
		TopN: r.PostFormValue("top_n"), Control: r.PostFormValue("control"), Assign: r.PostFormValue("assign"),
		DueDays: r.PostFormValue("due_days"), AttributionDays: r.PostFormValue("attribution_days"), Script: r.PostFormValue("script"),
		InitiativeID: r.PostFormValue("initiative_id"), Reps: r.PostForm["reps"], ScriptB: r.PostFormValue("script_b"), Errors: map[string]string{}}
	sp := targeting.ListSpec{Name: f.Name, SegmentID: f.SegmentID, Score: f.Score, InitiativeID: f.InitiativeID,
		Script: strings.TrimSpace(f.Script), Assign: f.Assign}
	if f.Assign != targeting.AssignNone {
		sp.Reps = f.Reps
	}
	if sp.Score != "" {
		parseInt(v, f.Errors, "top_n", f.TopN, &sp.TopN)
	}
	parseInt(v, f.Errors, "due_days", f.DueDays, &sp.DueDays)
	parseInt(v, f.Errors, "attribution_days", f.AttributionDays, &sp.AttributionDays)
	var pct float64
	parseAmount(v, f.Errors, "holdout", f.Control, &pct)
	sp.Holdout = pct / 100
	if b := strings.TrimSpace(f.ScriptB); b != "" && len(f.Errors) == 0 {
		// Two message variants: the rest of the list split evenly between
		// them, each task carrying its variant's script.
		if sp.Holdout <= 0 {
			f.Errors["holdout"] = v.T("tgt.err.variants_need_control")
		}
		rest := (1 - sp.Holdout) / 2
		sp.Arms = []store.ExperimentArm{{Name: "control", Weight: sp.Holdout}, {Name: "A", Weight: rest, Script: sp.Script}, {Name: "B", Weight: rest, Script: b}}
		sp.Control = "control"
	}
	if len(f.Errors) > 0 {
		s.renderListForm(w, r, v, http.StatusUnprocessableEntity, f)
		return
	}
	l, err := s.Targeting.CreateList(r.Context(), v.P.Actor(), sp)
	if err != nil {
		if v.formError(err, f.Errors) {
			s.renderListForm(w, r, v, http.StatusUnprocessableEntity, f)
			return
		}
		s.fail(w, r, v, err)
		return
	}
	s.flash(w, r, v.T("tgt.list.created", l.Name, l.Size, l.Tasks))
	http.Redirect(w, r, "/lists/"+l.ID, http.StatusSeeOther)
}

// listRow is a list on /lists with its board reading.
type listRow struct {
	store.TargetList
	Board *targeting.BoardRow
}

func (s *Server) lists(w http.ResponseWriter, r *http.Request, v *view) {
	ctx := r.Context()
	ls, err := s.Store.Lists(ctx, "")
	if err != nil {
		s.fail(w, r, v, err)
		return
	}
	b, err := s.Targeting.SuccessBoard(ctx)
	if err != nil {
		s.fail(w, r, v, err)
		return
	}
	rows := boardByList(b)
	out := make([]listRow, len(ls))
	for i, l := range ls {
		out[i] = listRow{TargetList: l, Board: rows[l.ID]}
	}
	s.render(w, r, v, http.StatusOK, "lists", "", out)
}

func boardByList(b targeting.Board) map[string]*targeting.BoardRow {
	out := make(map[string]*targeting.BoardRow, len(b.Lists))
	for i := range b.Lists {
		out[b.Lists[i].ListID] = &b.Lists[i]
	}
	return out
}

// costForm is a cost entry as typed.
type costForm struct {
	Action                         string // where the form posts
	Hours, HourlyRate, Money, Note string
	Errors                         map[string]string
}

type listPageData struct {
	L          store.TargetList
	Segment    string
	Initiative *store.Initiative
	Results    *targeting.Results
	Board      *targeting.BoardRow
	Tasks      []taskView
	Page       int
	More       bool
	Cost       costForm
}

// listPage shows a list's experiment results (or its reading against the
// workspace's history when it has no control group) and its tasks.
func (s *Server) listPage(w http.ResponseWriter, r *http.Request, v *view) {
	s.renderListPage(w, r, v, http.StatusOK, costForm{Errors: map[string]string{}})
}

func (s *Server) renderListPage(w http.ResponseWriter, r *http.Request, v *view, status int, cost costForm) {
	ctx := r.Context()
	l, err := s.Store.List(ctx, r.PathValue("id"))
	if err != nil {
		s.fail(w, r, v, err)
		return
	}
	cost.Action = "/lists/" + l.ID + "/costs"
	d := listPageData{L: l, Cost: cost}
	if l.SegmentID != "" {
		if sg, err := s.Store.Segment(ctx, l.SegmentID); err == nil {
			d.Segment = sg.Name
		}
	}
	if l.InitiativeID != "" {
		if in, err := s.Store.Initiative(ctx, l.InitiativeID); err == nil {
			d.Initiative = &in
		}
	}
	exp, err := s.Store.ExperimentOfList(ctx, l.ID)
	if err != nil {
		s.fail(w, r, v, err)
		return
	}
	if exp != nil {
		res, err := s.Targeting.ExperimentResults(ctx, exp.ID)
		if err != nil {
			s.fail(w, r, v, err)
			return
		}
		d.Results = &res
	}
	row, err := s.Targeting.BoardRow(ctx, l.ID)
	if err != nil {
		s.fail(w, r, v, err)
		return
	}
	d.Board = &row

	d.Page, _ = strconv.Atoi(r.URL.Query().Get("page"))
	d.Page = max(d.Page, 0)
	f := store.TaskFilter{ListID: l.ID}
	owner, err := s.ownerScope(r, v.P)
	if err != nil {
		s.fail(w, r, v, err)
		return
	}
	if owner != "" {
		f.AssigneeID = owner
	}
	ts, more, err := s.taskPage(r, f, d.Page)
	if err != nil {
		s.fail(w, r, v, err)
		return
	}
	d.More = more
	back := "/lists/" + l.ID
	if d.Page > 0 {
		back += "?" + url.Values{"page": {strconv.Itoa(d.Page)}}.Encode()
	}
	if d.Tasks, err = s.taskViews(r, v, ts, back); err != nil {
		s.fail(w, r, v, err)
		return
	}
	s.render(w, r, v, status, "list", "", d)
}

// readCost parses a cost form; ok is false when a number is unreadable.
func readCost(r *http.Request, v *view) (store.Cost, costForm, bool) {
	f := costForm{Hours: r.PostFormValue("hours"), HourlyRate: r.PostFormValue("hourly_rate"), Money: r.PostFormValue("money"),
		Note: strings.TrimSpace(r.PostFormValue("note")), Errors: map[string]string{}}
	c := store.Cost{Note: f.Note}
	parseAmount(v, f.Errors, "hours", f.Hours, &c.Hours)
	parseAmount(v, f.Errors, "hourly_rate", f.HourlyRate, &c.HourlyRate)
	parseAmount(v, f.Errors, "money", f.Money, &c.Money)
	if len(f.Errors) == 0 && c.Total() == 0 {
		f.Errors["form"] = v.T("tgt.err.cost_empty")
	}
	return c, f, len(f.Errors) == 0
}

// addListCost records a cost against a list.
func (s *Server) addListCost(w http.ResponseWriter, r *http.Request, v *view) {
	s.addCost(w, r, v, func(c *store.Cost, id string) { c.ListID = id }, "/lists/", s.renderListPage)
}

// addCost reads the cost form, records the cost against the record the
// path names (attach sets which) and goes back to its page, or re-renders
// that page with the form's errors.
func (s *Server) addCost(w http.ResponseWriter, r *http.Request, v *view, attach func(*store.Cost, string), page string,
	render func(http.ResponseWriter, *http.Request, *view, int, costForm)) {
	id := r.PathValue("id")
	c, f, ok := readCost(r, v)
	if ok {
		attach(&c, id)
		if _, err := s.Targeting.AddCost(r.Context(), v.P.Actor(), c); err != nil {
			if !v.formError(err, f.Errors) {
				s.fail(w, r, v, err)
				return
			}
		} else {
			s.flash(w, r, v.T("tgt.cost.added", v.L.Money(c.Total())))
			http.Redirect(w, r, page+id, http.StatusSeeOther)
			return
		}
	}
	render(w, r, v, http.StatusUnprocessableEntity, f)
}
