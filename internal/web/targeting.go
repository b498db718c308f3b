package web

import (
	"cmp"
	"errors"
	"math"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/rapportcrm/rapport/internal/auth"
	"github.com/rapportcrm/rapport/internal/customer"
	"github.com/rapportcrm/rapport/internal/errs"
	"github.com/rapportcrm/rapport/internal/store"
	"github.com/rapportcrm/rapport/internal/targeting"
)

// The targeting pages: target lists with their experiment results, the
// reps' tasks with outcomes, the success board and the initiative
// portfolio. Every rule (who may record on which task, what a valid list
// is, how results are read) lives in internal/targeting; these handlers
// read forms, call it and render. Lists are in targeting_lists.go, the
// board and initiatives in targeting_board.go.

// tasksPerPage is how many tasks a page shows; the store returns at most
// maxTasksShown, so pages end there.
const (
	tasksPerPage  = 50
	maxTasksShown = 1000
)

// registerTargetingPages mounts target lists, tasks, the success board and initiatives.
func (s *Server) registerTargetingPages(h func(string, http.HandlerFunc)) {
	h("GET /lists", s.page(auth.ReadCustomers, "segments", s.withTargeting(s.lists)))
	h("GET /lists/new", s.page(auth.WriteTargeting, "segments", s.withTargeting(s.newListForm)))
	h("POST /lists/new", s.page(auth.WriteTargeting, "segments", s.withTargeting(s.createList)))
	h("GET /lists/{id}", s.page(auth.ReadCustomers, "segments", s.withTargeting(s.listPage)))
	h("POST /lists/{id}/costs", s.page(auth.WriteTargeting, "segments", s.withTargeting(s.addListCost)))

	h("GET /tasks", s.page(auth.ReadCustomers, "tasks", s.withTargeting(s.tasks)))
	h("POST /tasks/{id}/outcome", s.page(auth.WriteCustomers, "tasks", s.withTargeting(s.recordTaskOutcome)))
	h("GET /customers/{id}/tasks", s.page(auth.ReadCustomers, "customers", s.customerTasks)) // store only: works with targeting off
	h("POST /customers/{id}/outcome", s.page(auth.WriteCustomers, "customers", s.withTargeting(s.recordCustomerOutcome)))

	h("GET /board", s.page(auth.ReadCustomers, "board", s.withTargeting(s.board)))
	h("GET /initiatives", s.page(auth.ReadCustomers, "board", s.withTargeting(s.initiatives)))
	h("POST /initiatives", s.page(auth.WriteTargeting, "board", s.withTargeting(s.createInitiative)))
	h("GET /initiatives/{id}", s.page(auth.ReadCustomers, "board", s.withTargeting(s.initiativePage)))
	h("POST /initiatives/{id}/stage", s.page(auth.WriteTargeting, "board", s.withTargeting(s.setInitiativeStage)))
	h("POST /initiatives/{id}/costs", s.page(auth.WriteTargeting, "board", s.withTargeting(s.addInitiativeCost)))
}

// withTargeting answers "targeting is off" when the server runs without
// the targeting service.
func (s *Server) withTargeting(h func(http.ResponseWriter, *http.Request, *view)) func(http.ResponseWriter, *http.Request, *view) {
	return func(w http.ResponseWriter, r *http.Request, v *view) {
		if s.Targeting == nil {
			data := struct {
				Status          int
				Message, Detail string
			}{http.StatusServiceUnavailable, "tgt.off", ""}
			s.render(w, r, v, http.StatusServiceUnavailable, "error", "", data)
			return
		}
		h(w, r, v)
	}
}

// ownerScope is the owner a rep is limited to when the workspace keeps
// reps to their own customers ("" otherwise): the customer list's rule,
// applied as the API's ownerScope to tasks, segment members and previews.
func (s *Server) ownerScope(r *http.Request, p auth.Principal) (string, error) {
	f, _, err := s.filter(r, p, listQuery{}, 1)
	return f.OwnerID, err
}

// Bilingual picks the user's language from a domain message written
// "English / 中文"; other messages are shown as they are.
func (v *view) Bilingual(msg string) string {
	en, zh, ok := strings.Cut(msg, " / ")
	if !ok {
		return msg
	}
	return v.L.Label(strings.TrimSpace(en), strings.TrimSpace(zh))
}

// Outcome names a task outcome in the user's language.
func (v *view) Outcome(o string) string {
	if o == "" {
		return ""
	}
	return v.T("tgt.outcome." + o)
}

// formError reports whether err is the user's input at fault (a
// validation error, or a reference to something that no longer exists),
// filling errors with one translated message per form field. Field
// messages come from the catalog as tgt.err.FIELD when it has one, else
// from the domain's bilingual message.
func (v *view) formError(err error, fe map[string]string) bool {
	var e *errs.Error
	if !asErr(err, &e) || (e.Kind != errs.Invalid && e.Kind != errs.NotFound) {
		return false
	}
	if e.Kind == errs.NotFound {
		fe["form"] = v.T("tgt.err.gone")
		return true
	}
	for _, f := range e.Fields {
		name := strings.TrimPrefix(f.Field, "body.")
		msg := v.T("tgt.err." + name)
		if msg == "tgt.err."+name {
			msg = v.Bilingual(f.Message)
		}
		if prev, ok := fe[name]; ok {
			msg = prev + "; " + msg
		}
		fe[name] = msg
	}
	if len(e.Fields) == 0 {
		fe["form"] = v.Bilingual(e.Message)
	}
	return true
}

// asErr finds the application error in err's chain.
func asErr(err error, e **errs.Error) bool { return errors.As(err, e) }

// parseInt reads a whole number from a form field into dst; empty leaves
// dst as it is. A bad value is recorded in errors under field.
func parseInt(v *view, fe map[string]string, field, s string, dst *int) {
	s = strings.TrimSpace(s)
	if s == "" {
		return
	}
	n, err := strconv.Atoi(s)
	if err != nil {
		fe[field] = v.T("tgt.err.whole_number")
		return
	}
	*dst = n
}

// parseAmount reads a non-negative decimal (thousands separators allowed).
func parseAmount(v *view, fe map[string]string, field, s string, dst *float64) {
	s = strings.ReplaceAll(strings.TrimSpace(s), ",", "")
	if s == "" {
		return
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || customer.CheckAmount(f) != nil {
		fe[field] = v.T("tgt.err.number")
		return
	}
	*dst = f
}

// userNames maps user ids to display names, for assignees.
func (s *Server) userNames(r *http.Request) ([]store.User, map[string]string, error) {
	us, err := s.Store.ListUsers(r.Context())
	if err != nil {
		return nil, nil, err
	}
	names := make(map[string]string, len(us))
	for _, u := range us {
		names[u.ID] = displayName(u)
	}
	return us, names, nil
}

// taskView is a task as a row with its outcome form.
type taskView struct {
	store.Task
	Overdue  bool
	Assignee string
	ListName string
	Back     string // where a plain form post returns
	// Error and the kept input, after a failed outcome post.
	Error, Picked, Notes string
}

type tasksData struct {
	Tasks     []taskView
	Assignee  string // me, all or a user id
	Status    string
	Users     []store.User
	CanFilter bool
	Page      int
	// PrevURL and NextURL are the neighbouring pages ("" at either end).
	PrevURL, NextURL string
}

// tasks lists the current user's open tasks; those who may manage
// targeting can look at another rep's, or everyone's.
func (s *Server) tasks(w http.ResponseWriter, r *http.Request, v *view) {
	s.renderTasks(w, r, v, http.StatusOK, nil)
}

// renderTasks renders the task list; failed, when set, is a task whose
// outcome post failed, shown with its error and the user's input.
func (s *Server) renderTasks(w http.ResponseWriter, r *http.Request, v *view, status int, failed *taskView) {
	q := r.URL.Query()
	d := tasksData{Assignee: q.Get("assignee"), Status: q.Get("status"), CanFilter: v.Can(string(auth.WriteTargeting))}
	if d.Assignee == "" || !d.CanFilter {
		d.Assignee = "me"
	}
	if d.Status != store.TaskDone && d.Status != "all" {
		d.Status = store.TaskOpen
	}
	d.Page, _ = strconv.Atoi(q.Get("page"))
	d.Page = max(d.Page, 0)
	f := store.TaskFilter{AssigneeID: d.Assignee, Status: d.Status}
	switch d.Assignee {
	case "me":
		f.AssigneeID = v.P.UserID
	case "all":
		f.AssigneeID = ""
	}
	if d.Status == "all" {
		f.Status = ""
	}
	owner, err := s.ownerScope(r, v.P)
	if err != nil {
		s.fail(w, r, v, err)
		return
	}
	if owner != "" {
		f.AssigneeID = owner // reps kept to their own customers see their own tasks
	}
	if d.Users, _, err = s.userNames(r); err != nil {
		s.fail(w, r, v, err)
		return
	}
	ts, more, err := s.taskPage(r, f, d.Page)
	if err != nil {
		s.fail(w, r, v, err)
		return
	}
	pageURL := func(page int) string {
		qs := url.Values{"assignee": {d.Assignee}, "status": {d.Status}}
		if page > 0 {
			qs.Set("page", strconv.Itoa(page))
		}
		return "/tasks?" + qs.Encode()
	}
	if d.Page > 0 {
		d.PrevURL = pageURL(d.Page - 1)
	}
	if more {
		d.NextURL = pageURL(d.Page + 1)
	}
	if d.Tasks, err = s.taskViews(r, v, ts, pageURL(d.Page)); err != nil {
		s.fail(w, r, v, err)
		return
	}
	for i := range d.Tasks {
		if tv := &d.Tasks[i]; failed != nil && failed.ID == tv.ID {
			tv.Error, tv.Picked, tv.Notes = failed.Error, failed.Picked, failed.Notes
		}
	}
	s.render(w, r, v, status, "tasks", "", d)
}

// taskPage reads one page of tasks; the store lists by due date with a
// limit, so a page reads up to its end and keeps its part.
func (s *Server) taskPage(r *http.Request, f store.TaskFilter, page int) ([]store.Task, bool, error) {
	if page >= maxTasksShown/tasksPerPage { // before multiplying: ?page= can be as large as an int goes
		return nil, false, nil
	}
	start := page * tasksPerPage
	f.Limit = min(start+tasksPerPage+1, maxTasksShown)
	ts, err := s.Store.Tasks(r.Context(), f)
	if err != nil || start >= len(ts) {
		return nil, false, err
	}
	ts = ts[start:]
	more := len(ts) > tasksPerPage
	if more {
		ts = ts[:tasksPerPage]
	}
	return ts, more, nil
}

// taskViews makes rows of tasks: assignee and list named, overdue marked,
// back is where their plain form posts return.
func (s *Server) taskViews(r *http.Request, v *view, ts []store.Task, back string) ([]taskView, error) {
	_, names, err := s.userNames(r)
	if err != nil {
		return nil, err
	}
	lists, err := s.Store.Lists(r.Context(), "")
	if err != nil {
		return nil, err
	}
	listName := make(map[string]string, len(lists))
	for _, l := range lists {
		listName[l.ID] = l.Name
	}
	out := make([]taskView, 0, len(ts))
	for _, t := range ts {
		tv := taskView{Task: t, Assignee: cmp.Or(names[t.AssigneeID], t.AssigneeID), ListName: listName[t.ListID], Back: back}
		tv.Overdue = t.Status == store.TaskOpen && t.DueAt != nil && t.DueAt.Before(v.Now)
		out = append(out, tv)
	}
	return out, nil
}

// renderTask renders one task's row (htmx swaps it in place), with the
// error and input of a failed post when failed is set.
func (s *Server) renderTask(w http.ResponseWriter, r *http.Request, v *view, t store.Task, back string, failed *taskView) {
	tvs, err := s.taskViews(r, v, []store.Task{t}, back)
	if err != nil {
		s.fail(w, r, v, err)
		return
	}
	tv := tvs[0]
	if failed != nil {
		tv.Error, tv.Picked, tv.Notes = failed.Error, failed.Picked, failed.Notes
	}
	s.render(w, r, v, http.StatusOK, "tasks", "tgt-task", tv)
}

// safeBack is where to return after a plain form post: one of our own
// pages, never another site.
func safeBack(back, fallback string) string {
	for _, p := range []string{"/tasks", "/lists/", "/customers/"} {
		if strings.HasPrefix(back, p) && !strings.HasPrefix(back, "//") && !strings.Contains(back, "\\") {
			return back
		}
	}
	return fallback
}

// recordTaskOutcome records an outcome from /tasks (or a list page). With
// htmx the task's row is replaced in place; otherwise the browser returns
// to the page it came from. Bad input comes back with the notes kept.
func (s *Server) recordTaskOutcome(w http.ResponseWriter, r *http.Request, v *view) {
	id := r.PathValue("id")
	outcome, notes := r.PostFormValue("outcome"), r.PostFormValue("notes")
	back := safeBack(r.PostFormValue("back"), "/tasks")
	t, err := s.Targeting.RecordOutcome(r.Context(), v.P.Actor(), v.P.UserID, v.P.Role == auth.Rep, id, outcome, notes)
	if err != nil {
		var e *errs.Error
		if !asErr(err, &e) || e.Kind != errs.Invalid {
			s.fail(w, r, v, err)
			return
		}
		failed := &taskView{Task: store.Task{ID: id}, Error: v.T("tgt.err.outcome"), Picked: outcome, Notes: notes}
		if r.Header.Get("HX-Request") != "" {
			cur, err := s.Store.Task(r.Context(), id)
			if err != nil {
				s.fail(w, r, v, err)
				return
			}
			s.renderTask(w, r, v, cur, back, failed)
			return
		}
		if u, perr := url.Parse(back); perr == nil && u.Path == "/tasks" {
			r.URL.RawQuery = u.RawQuery
		}
		s.renderTasks(w, r, v, http.StatusUnprocessableEntity, failed)
		return
	}
	if r.Header.Get("HX-Request") != "" {
		s.renderTask(w, r, v, t, back, nil)
		return
	}
	s.flash(w, r, v.T("tgt.task.recorded", t.CustomerName, v.Outcome(t.Outcome)))
	http.Redirect(w, r, back, http.StatusSeeOther)
}

type customerTasksData struct {
	CustomerID string
	Tasks      []taskView
	Error      string
	Picked     string
	Notes      string
	Done       string // the outcome just recorded
}

// customerTasks is the customer page's panel: the customer's open tasks
// with an outcome form (loaded in place by the customer page).
func (s *Server) customerTasks(w http.ResponseWriter, r *http.Request, v *view) {
	c, ok := s.loadCustomer(w, r, v)
	if !ok {
		return
	}
	s.renderCustomerTasks(w, r, v, http.StatusOK, customerTasksData{CustomerID: c.ID})
}

func (s *Server) renderCustomerTasks(w http.ResponseWriter, r *http.Request, v *view, status int, d customerTasksData) {
	ts, err := s.Store.Tasks(r.Context(), store.TaskFilter{CustomerID: d.CustomerID, Status: store.TaskOpen, Limit: 20})
	if err != nil {
		s.fail(w, r, v, err)
		return
	}
	ts = slices.DeleteFunc(ts, func(t store.Task) bool { // not theirs to record (the rule RecordCustomerOutcome applies)
		return v.P.Role == auth.Rep && t.AssigneeID != "" && t.AssigneeID != v.P.UserID
	})
	if d.Tasks, err = s.taskViews(r, v, ts, "/customers/"+d.CustomerID); err != nil {
		s.fail(w, r, v, err)
		return
	}
	s.render(w, r, v, status, "tasks", "tgt-customer-tasks", d)
}

// recordCustomerOutcome records an outcome from the customer page on the
// customer's open task (in the list named, else the one due first).
func (s *Server) recordCustomerOutcome(w http.ResponseWriter, r *http.Request, v *view) {
	c, ok := s.loadCustomer(w, r, v)
	if !ok {
		return
	}
	outcome, notes := r.PostFormValue("outcome"), r.PostFormValue("notes")
	t, err := s.Targeting.RecordCustomerOutcome(r.Context(), v.P.Actor(), v.P.UserID, v.P.Role == auth.Rep, c.ID, r.PostFormValue("list_id"), outcome, notes)
	hx := r.Header.Get("HX-Request") != ""
	if err != nil {
		var e *errs.Error
		if !asErr(err, &e) || (e.Kind != errs.Invalid && e.Kind != errs.NotFound) {
			s.fail(w, r, v, err)
			return
		}
		d := customerTasksData{CustomerID: c.ID, Error: v.T("tgt.err.outcome"), Picked: outcome, Notes: notes}
		if e.Kind == errs.NotFound {
			d.Error = v.T("tgt.err.no_open_task")
		}
		if !hx { // the panel loads with htmx, so this is a form posted by hand
			s.flash(w, r, d.Error)
			http.Redirect(w, r, "/customers/"+c.ID, http.StatusSeeOther)
			return
		}
		s.renderCustomerTasks(w, r, v, http.StatusOK, d) // htmx swaps only successful answers
		return
	}
	if hx {
		s.renderCustomerTasks(w, r, v, http.StatusOK, customerTasksData{CustomerID: c.ID, Done: v.Outcome(t.Outcome)})
		return
	}
	s.flash(w, r, v.T("tgt.task.recorded", c.Name, v.Outcome(t.Outcome)))
	http.Redirect(w, r, "/customers/"+c.ID, http.StatusSeeOther)
}

// outcomes is every outcome a rep can record, for the forms.
func (v *view) Outcomes() []string { return targeting.Outcomes }

// Pts writes a difference of proportions in percentage points, signed.
func (v *view) Pts(x float64) string {
	r := math.Round(x*1000) / 10
	if r == 0 {
		r = 0 // no "-0.0"
	}
	n := strconv.FormatFloat(r, 'f', 1, 64)
	if r > 0 {
		n = "+" + n
	}
	return v.T("tgt.pts", n)
}

// Arm names an experiment arm in the user's language when it is one of
// the usual two.
func (v *view) Arm(name string) string {
	if s := v.T("tgt.arm." + name); s != "tgt.arm."+name {
		return s
	}
	return name
}

// Reading picks the user's language of a domain reading.
func (v *view) Reading(en, zh string) string { return v.L.Label(en, zh) }

// PValue writes a p-value briefly: "p = 0.042", or "p < 0.001".
func (v *view) PValue(p float64) string {
	if p < 0.001 {
		return "p < 0.001"
	}
	return "p = " + strconv.FormatFloat(p, 'g', 2, 64)
}
