package web

import (
	"encoding/json"
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/rapportcrm/rapport/internal/auth"
	"github.com/rapportcrm/rapport/internal/customer"
	"github.com/rapportcrm/rapport/internal/errs"
	"github.com/rapportcrm/rapport/internal/store"
)

// The segment pages: saved segments with their live member counts, a new
// segment written as a rule or put together in the visual builder (which
// only writes the rule text, so both forms are one), a preview that counts
// and lists members or points at the rule's mistakes, and a segment's page
// with its members and who entered or left it. Rules, counts and
// membership all come from internal/targeting.

const (
	segmentMembersShown = 50
	segmentEventsShown  = 50
)

// registerSegmentPages mounts the segment pages.
func (s *Server) registerSegmentPages(h func(string, http.HandlerFunc)) {
	h("GET /segments", s.page(auth.ReadCustomers, "segments", s.withTargeting(s.segments)))
	h("GET /segments/new", s.page(auth.WriteTargeting, "segments", s.withTargeting(s.newSegmentForm)))
	h("POST /segments/new", s.page(auth.WriteTargeting, "segments", s.withTargeting(s.createSegment)))
	h("POST /segments/preview", s.page(auth.ReadCustomers, "segments", s.withTargeting(s.previewSegment)))
	h("GET /segments/{id}", s.page(auth.ReadCustomers, "segments", s.withTargeting(s.segmentPage)))
	h("POST /segments/{id}/refresh", s.page(auth.WriteTargeting, "segments", s.withTargeting(s.refreshSegment)))
	h("POST /segments/{id}/delete", s.page(auth.WriteTargeting, "segments", s.withTargeting(s.deleteSegment)))
}

func (s *Server) segments(w http.ResponseWriter, r *http.Request, v *view) {
	segs, err := s.Store.Segments(r.Context())
	if err != nil {
		s.fail(w, r, v, err)
		return
	}
	s.render(w, r, v, http.StatusOK, "segments", "", segs)
}

// ruleProblem is one mistake in a rule, placed for the user: the line it
// is on with a marker under the column.
type ruleProblem struct {
	Message      string
	Line, Column int
	Text         string // the rule's line
	Before       string // the line up to the mistake
}

// segmentForm is the new-segment form as typed, with the rule builder's
// field list and the last preview.
type segmentForm struct {
	Name, Rule string
	Errors     map[string]string
	Problems   []ruleProblem
	Fields     string // JSON for the builder
	Preview    *segmentPreview
}

// segmentPreview is a rule's count and first members, or its problems.
type segmentPreview struct {
	Count    int64
	Members  []customer.Customer
	Problems []ruleProblem
	Empty    bool // no rule yet
}

// builderField is a field as the builder shows it, labelled in the
// user's language.
type builderField struct {
	Name    string   `json:"name"`
	Label   string   `json:"label"`
	Type    string   `json:"type"`
	Ops     []string `json:"ops"`
	Options []string `json:"options,omitempty"`
}

func (s *Server) newSegmentForm(w http.ResponseWriter, r *http.Request, v *view) {
	f := segmentForm{Rule: r.URL.Query().Get("rule"), Errors: map[string]string{}}
	s.renderSegmentForm(w, r, v, http.StatusOK, f)
}

func (s *Server) renderSegmentForm(w http.ResponseWriter, r *http.Request, v *view, status int, f segmentForm) {
	cat, err := s.Targeting.Catalogue(r.Context())
	if err != nil {
		s.fail(w, r, v, err)
		return
	}
	var fields []builderField
	for _, fi := range cat.FieldList() {
		label := fi.LabelEn
		if v.L.Zh() && fi.LabelZh != "" {
			label = fi.LabelZh
		}
		if label == "" {
			label = fi.Name
		}
		fields = append(fields, builderField{Name: fi.Name, Label: label, Type: string(fi.Type), Ops: fi.Ops, Options: fi.Options})
	}
	b, err := json.Marshal(fields)
	if err != nil {
		s.fail(w, r, v, err)
		return
	}
	f.Fields = string(b)
	s.render(w, r, v, status, "segment-new", "", f)
}

func (s *Server) createSegment(w http.ResponseWriter, r *http.Request, v *view) {
	f := segmentForm{Name: r.PostFormValue("name"), Rule: r.PostFormValue("rule"), Errors: map[string]string{}}
	seg, err := s.Targeting.CreateSegment(r.Context(), v.P.Actor(), f.Name, f.Rule)
	if err != nil {
		var ok bool
		if f.Problems, f.Errors, ok = ruleErrors(v, err, f.Rule); !ok {
			s.fail(w, r, v, err)
			return
		}
		s.renderSegmentForm(w, r, v, http.StatusUnprocessableEntity, f)
		return
	}
	s.flash(w, r, v.T("seg.created", seg.Name, v.L.Int(seg.Count)))
	http.Redirect(w, r, "/segments/"+seg.ID, http.StatusSeeOther)
}

// ruleErrors splits a validation error into the rule's mistakes, placed
// on their lines, and messages for the form's other fields; ok is false
// when err is not the user's input at fault.
func ruleErrors(v *view, err error, rule string) (problems []ruleProblem, fields map[string]string, ok bool) {
	var e *errs.Error
	if !asErr(err, &e) || e.Kind != errs.Invalid {
		return nil, nil, false
	}
	fields = map[string]string{}
	for _, fe := range e.Fields {
		switch strings.TrimPrefix(fe.Field, "body.") {
		case "rule":
			problems = append(problems, placeProblem(v, rule, fe))
		case "name":
			fields["name"] = v.T("seg.err.name")
		default:
			fields["form"] = v.Bilingual(fe.Message)
		}
	}
	if len(e.Fields) == 0 {
		fields["form"] = v.Bilingual(e.Message)
	}
	return problems, fields, true
}

// placeProblem turns a rule error into a problem on its line. The message
// is "1:5: English / 第 1 行第 5 列：中文"; the position travels as the value.
func placeProblem(v *view, rule string, fe errs.FieldError) ruleProblem {
	p := ruleProblem{Message: v.Bilingual(fe.Message)}
	pos, _ := fe.Value.(map[string]int)
	if pos == nil {
		return p
	}
	p.Line, p.Column = pos["line"], pos["column"]
	lines := strings.Split(rule, "\n")
	if p.Line >= 1 && p.Line <= len(lines) {
		p.Text = lines[p.Line-1]
		// Columns count characters (runes), from 1.
		col := min(max(p.Column-1, 0), utf8.RuneCountInString(p.Text))
		p.Before = string([]rune(p.Text)[:col])
	}
	return p
}

// previewSegment counts and lists a rule's first members (the fragment the
// form shows as the rule changes), or shows the rule's mistakes.
func (s *Server) previewSegment(w http.ResponseWriter, r *http.Request, v *view) {
	rule := r.PostFormValue("rule")
	pv := &segmentPreview{Empty: strings.TrimSpace(rule) == ""}
	if !pv.Empty {
		owner, err := s.ownerScope(r, v.P)
		if err != nil {
			s.fail(w, r, v, err)
			return
		}
		p, err := s.Targeting.PreviewRule(r.Context(), rule, owner)
		if err != nil {
			problems, fields, ok := ruleErrors(v, err, rule)
			if !ok {
				s.fail(w, r, v, err)
				return
			}
			if len(problems) == 0 { // only the rule is posted, so this is the rule too
				problems = []ruleProblem{{Message: fields["form"]}}
			}
			pv.Problems = problems
		}
		pv.Count, pv.Members = p.Count, p.Preview
	}
	if r.Header.Get("HX-Request") != "" {
		// htmx swaps only 2xx answers by default: the problems are the answer.
		s.render(w, r, v, http.StatusOK, "segment-new", "preview", segmentForm{Preview: pv})
		return
	}
	// Without JavaScript the preview comes back as the whole form.
	status := http.StatusOK
	if pv.Problems != nil {
		status = http.StatusUnprocessableEntity
	}
	s.renderSegmentForm(w, r, v, status, segmentForm{Name: r.PostFormValue("name"), Rule: rule, Errors: map[string]string{}, Preview: pv})
}

// segmentData is a segment's page.
type segmentData struct {
	store.Segment
	Members      []customer.Customer
	Events       []segmentEvent
	EventsHidden bool
}

type segmentEvent struct {
	store.MembershipEvent
	Ref store.CustomerRef // zero when the customer is gone for good
}

func (s *Server) segmentPage(w http.ResponseWriter, r *http.Request, v *view) {
	ctx := r.Context()
	id := r.PathValue("id")
	seg, err := s.Store.Segment(ctx, id)
	if err != nil {
		s.fail(w, r, v, err)
		return
	}
	owner, err := s.ownerScope(r, v.P)
	if err != nil {
		s.fail(w, r, v, err)
		return
	}
	page, err := s.Targeting.MaterializedMembers(ctx, id, owner, "", segmentMembersShown)
	if err != nil {
		s.fail(w, r, v, err)
		return
	}
	d := segmentData{Segment: seg, Members: page.Items, EventsHidden: owner != ""}
	if !d.EventsHidden { // a rep kept to their own customers does not see who else moved
		evs, err := s.Store.MembershipEvents(ctx, "", id, segmentEventsShown)
		if err != nil {
			s.fail(w, r, v, err)
			return
		}
		ids := make([]string, 0, len(evs))
		for _, e := range evs {
			ids = append(ids, e.CustomerID)
		}
		refs, err := s.Store.CustomerRefs(ctx, ids)
		if err != nil {
			s.fail(w, r, v, err)
			return
		}
		for _, e := range evs {
			d.Events = append(d.Events, segmentEvent{MembershipEvent: e, Ref: refs[e.CustomerID]})
		}
	}
	s.render(w, r, v, http.StatusOK, "segment", "", d)
}

func (s *Server) refreshSegment(w http.ResponseWriter, r *http.Request, v *view) {
	id := r.PathValue("id")
	entered, left, err := s.Targeting.Refresh(r.Context(), id)
	if err != nil {
		s.fail(w, r, v, err)
		return
	}
	s.flash(w, r, v.T("seg.refreshed", v.L.Int(entered), v.L.Int(left)))
	http.Redirect(w, r, "/segments/"+id, http.StatusSeeOther)
}

func (s *Server) deleteSegment(w http.ResponseWriter, r *http.Request, v *view) {
	id := r.PathValue("id")
	seg, err := s.Store.Segment(r.Context(), id)
	if err != nil {
		s.fail(w, r, v, err)
		return
	}
	if err := s.Targeting.DeleteSegment(r.Context(), v.P.Actor(), id); err != nil {
		s.fail(w, r, v, err)
		return
	}
	s.flash(w, r, v.T("seg.deleted", seg.Name))
	http.Redirect(w, r, "/segments", http.StatusSeeOther)
}
