package web

import (
	"cmp"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/rapportcrm/rapport/internal/analytics/churn"
	"github.com/rapportcrm/rapport/internal/customer"
	"github.com/rapportcrm/rapport/internal/errs"
	"github.com/rapportcrm/rapport/internal/store"
)

// balanceAttribute is the custom attribute that, when present, holds what
// a customer owes (a shop's tab, an unpaid invoice total).
const balanceAttribute = "balance"

// event is one entry of a customer's timeline.
type event struct {
	At       time.Time
	Type     string // note, interaction, order
	Kind     string // interaction kind or order status
	Text     string
	Amount   float64
	Currency string
	Items    []customer.OrderItem
	By       string
}

type timelineData struct {
	CustomerID string
	Type       string
	Events     []event
}

type link struct {
	ID, Name, Role string
	Kind           customer.Kind
}

type attrView struct {
	Key, Label, Value string
}

type c360 struct {
	C            customer.Customer
	Owner        string
	Emails       []string
	Phones       []string
	OtherIDs     []customer.Identity
	Balance      float64
	HasBalance   bool
	NextPurchase *time.Time
	Overdue      bool
	LatestNote   *customer.Note
	Products     []store.Purchase
	Categories   []store.Purchase
	Orders       []customer.Order
	Timeline     timelineData
	Links        []link
	Attrs        []attrView
	Kinds        []string
	NowLocal     string
	// From the analytics models, when they are on.
	Suggestions []suggestion
	Reasons     []churn.Contribution
}

// suggestion is a product the customer has not bought that buyers of
// something they did buy often take too.
type suggestion struct {
	Name, Because string
	Confidence    float64
}

func (s *Server) loadCustomer(w http.ResponseWriter, r *http.Request, v *view) (customer.Customer, bool) {
	c, err := s.Store.Customer(r.Context(), r.PathValue("id"))
	if err == nil && c.DeletedAt != nil {
		err = errs.E(errs.NotFound, "customer %s was deleted", c.ID)
	}
	if err == nil {
		err = s.visible(r, v.P, c)
	}
	if err != nil {
		s.fail(w, r, v, err)
		return c, false
	}
	return c, true
}

func (s *Server) customer360(w http.ResponseWriter, r *http.Request, v *view) {
	c, ok := s.loadCustomer(w, r, v)
	if !ok {
		return
	}
	ctx := r.Context()
	d := c360{C: c, Kinds: customer.InteractionKinds, NowLocal: v.Now.Local().Format("2006-01-02T15:04")}
	for _, id := range c.Identities {
		switch id.Type {
		case customer.IdentityEmail:
			d.Emails = append(d.Emails, id.Value)
		case customer.IdentityPhone:
			d.Phones = append(d.Phones, id.Value)
		default:
			d.OtherIDs = append(d.OtherIDs, id)
		}
	}
	if c.OwnerID != "" {
		if u, err := s.Store.UserByID(ctx, c.OwnerID); err == nil {
			d.Owner = displayName(u)
		} else {
			d.Owner = c.OwnerID
		}
	}
	if b, ok := toFloat(c.Attributes[balanceAttribute]); ok {
		d.Balance, d.HasBalance = b, true
	}
	if c.Scores != nil && c.Scores.ExpectedNextPurchase != nil {
		d.NextPurchase = c.Scores.ExpectedNextPurchase
		d.Overdue = d.NextPurchase.Before(v.Now)
	}
	var err error
	if d.Products, err = s.Store.TopProducts(ctx, c.ID, 5); err != nil {
		s.fail(w, r, v, err)
		return
	}
	if d.Categories, err = s.Store.TopCategories(ctx, c.ID, 5); err != nil {
		s.fail(w, r, v, err)
		return
	}
	if d.Timeline, err = s.timeline(r, c.ID, r.URL.Query().Get("type")); err != nil {
		s.fail(w, r, v, err)
		return
	}
	for _, e := range d.Timeline.Events {
		if e.Type == "order" && len(d.Orders) < 5 {
			d.Orders = append(d.Orders, customer.Order{PlacedAt: e.At, Total: e.Amount, Currency: e.Currency, Status: e.Kind, Items: e.Items})
		}
	}
	notes, err := s.Store.Notes(ctx, c.ID, 1)
	if err != nil {
		s.fail(w, r, v, err)
		return
	}
	if len(notes) > 0 {
		d.LatestNote = &notes[0]
	}
	if d.Links, err = s.links(r, c); err != nil {
		s.fail(w, r, v, err)
		return
	}
	s.insights(r, c.ID, &d)
	fields, err := s.Store.FieldMap(ctx)
	if err != nil {
		s.fail(w, r, v, err)
		return
	}
	for k, val := range c.Attributes {
		label := k
		if f, ok := fields[k]; ok {
			label = cmp.Or(v.L.Label(f.LabelEn, f.LabelZh), k)
		}
		d.Attrs = append(d.Attrs, attrView{Key: k, Label: label, Value: formatAttr(v, val)})
	}
	sort.Slice(d.Attrs, func(i, j int) bool { return d.Attrs[i].Key < d.Attrs[j].Key })
	s.render(w, r, v, http.StatusOK, "customer", "", d)
}

func formatAttr(v *view, x any) string {
	switch t := x.(type) {
	case float64:
		return v.L.Num(t)
	case bool:
		if t {
			return v.T("common.yes")
		}
		return v.T("common.no")
	case string:
		return t
	}
	return fmt.Sprint(x)
}

// links are the organizations a person belongs to, or an organization's people.
func (s *Server) links(r *http.Request, c customer.Customer) ([]link, error) {
	var ids []string
	for _, m := range c.Memberships {
		if m.PersonID == c.ID {
			ids = append(ids, m.OrganizationID)
		} else {
			ids = append(ids, m.PersonID)
		}
	}
	if len(ids) == 0 {
		return nil, nil
	}
	refs, err := s.Store.CustomerRefs(r.Context(), ids)
	if err != nil {
		return nil, err
	}
	var out []link
	for i, m := range c.Memberships {
		ref, ok := refs[ids[i]]
		if !ok || ref.Deleted {
			continue
		}
		out = append(out, link{ID: ref.ID, Name: ref.Name, Kind: ref.Kind, Role: m.Role})
	}
	return out, nil
}

// timelineLimit is how many entries of each kind the timeline reads.
const timelineLimit = 50

// timeline merges notes, interactions and orders, newest first.
func (s *Server) timeline(r *http.Request, id, typ string) (timelineData, error) {
	ctx := r.Context()
	switch typ {
	case "note", "interaction", "order", "segment":
	default:
		typ = ""
	}
	td := timelineData{CustomerID: id, Type: typ}
	users, err := s.Store.ListUsers(ctx)
	if err != nil {
		return td, err
	}
	names := map[string]string{}
	for _, u := range users {
		names[u.ID] = displayName(u)
	}
	if typ == "" || typ == "note" {
		notes, err := s.Store.Notes(ctx, id, timelineLimit)
		if err != nil {
			return td, err
		}
		for _, n := range notes {
			td.Events = append(td.Events, event{At: n.CreatedAt, Type: "note", Text: n.Body, By: names[n.AuthorID]})
		}
	}
	if typ == "" || typ == "interaction" {
		ins, err := s.Store.Interactions(ctx, id, timelineLimit)
		if err != nil {
			return td, err
		}
		for _, in := range ins {
			td.Events = append(td.Events, event{At: in.At, Type: "interaction", Kind: in.Kind, Text: in.Summary, By: names[in.UserID]})
		}
	}
	if typ == "" || typ == "order" {
		orders, err := s.Store.CustomerOrders(ctx, id, timelineLimit)
		if err != nil {
			return td, err
		}
		for _, o := range orders {
			td.Events = append(td.Events, event{At: o.PlacedAt, Type: "order", Kind: o.Status, Amount: o.Total, Currency: o.Currency, Items: o.Items, Text: o.ExternalID})
		}
	}
	if typ == "" || typ == "segment" {
		page, err := s.Store.Timeline(ctx, id, store.TimelineFilter{Types: []string{"segment"}, Limit: timelineLimit})
		if err != nil {
			return td, err
		}
		for _, it := range page.Items {
			if it.Name == "" {
				continue // the segment was deleted since
			}
			change, _ := it.Data["change"].(string)
			td.Events = append(td.Events, event{At: it.Time, Type: "segment", Kind: change, Text: it.Name})
		}
	}
	slices.SortStableFunc(td.Events, func(a, b event) int { return b.At.Compare(a.At) })
	if len(td.Events) > timelineLimit {
		td.Events = td.Events[:timelineLimit]
	}
	return td, nil
}

func (s *Server) timelineFragment(w http.ResponseWriter, r *http.Request, v *view) {
	c, ok := s.loadCustomer(w, r, v)
	if !ok {
		return
	}
	td, err := s.timeline(r, c.ID, r.URL.Query().Get("type"))
	if err != nil {
		s.fail(w, r, v, err)
		return
	}
	s.render(w, r, v, http.StatusOK, "customer", "timeline", td)
}

// addNote stores a note and answers with the refreshed timeline, so the
// page updates without a reload.
func (s *Server) addNote(w http.ResponseWriter, r *http.Request, v *view) {
	c, ok := s.loadCustomer(w, r, v)
	if !ok {
		return
	}
	body := strings.TrimSpace(r.PostFormValue("body"))
	if body == "" || len(body) > 20000 {
		s.fail(w, r, v, errs.E(errs.Invalid, "%s", v.T("note.need_body")))
		return
	}
	n := customer.Note{ID: customer.NewID(), CustomerID: c.ID, AuthorID: v.P.UserID, Body: body, CreatedAt: s.now().UTC()}
	if err := s.Store.AddNote(r.Context(), v.P.Actor(), n); err != nil {
		s.fail(w, r, v, err)
		return
	}
	s.afterAdd(w, r, v, c.ID)
}

func (s *Server) addInteraction(w http.ResponseWriter, r *http.Request, v *view) {
	c, ok := s.loadCustomer(w, r, v)
	if !ok {
		return
	}
	kind := r.PostFormValue("kind")
	summary := strings.TrimSpace(r.PostFormValue("summary"))
	if !slices.Contains(customer.InteractionKinds, kind) {
		s.fail(w, r, v, errs.E(errs.Invalid, "%s", v.T("interaction.bad_kind")))
		return
	}
	if summary == "" || len(summary) > 20000 {
		s.fail(w, r, v, errs.E(errs.Invalid, "%s", v.T("interaction.need_summary")))
		return
	}
	at := s.now()
	if x := r.PostFormValue("at"); x != "" {
		t, err := time.ParseInLocation("2006-01-02T15:04", x, time.Local)
		if err != nil {
			s.fail(w, r, v, errs.E(errs.Invalid, "%s", v.T("interaction.bad_time")))
			return
		}
		at = t
	}
	in := customer.Interaction{ID: customer.NewID(), CustomerID: c.ID, UserID: v.P.UserID, Kind: kind, At: at.UTC(), Summary: summary, CreatedAt: s.now().UTC()}
	if err := s.Store.AddInteraction(r.Context(), v.P.Actor(), in); err != nil {
		s.fail(w, r, v, err)
		return
	}
	s.afterAdd(w, r, v, c.ID)
}

// afterAdd answers an htmx form with the new timeline, a plain form with a
// redirect back to the page.
func (s *Server) afterAdd(w http.ResponseWriter, r *http.Request, v *view, id string) {
	if r.Header.Get("HX-Request") == "" {
		s.flash(w, r, v.T("common.saved"))
		http.Redirect(w, r, "/customers/"+id, http.StatusSeeOther)
		return
	}
	td, err := s.timeline(r, id, "")
	if err != nil {
		s.fail(w, r, v, err)
		return
	}
	s.render(w, r, v, http.StatusOK, "customer", "timeline", td)
}

// editData is the edit (and create) form: the user's input, the stored
// customer it was based on, and what went wrong.
type editData struct {
	C        customer.Customer // the stored customer (zero when creating)
	Creating bool
	Version  int64
	Kind     string
	Name     string
	Emails   string
	Phones   string
	Tags     string
	Owner    string
	Attrs    []attrInput
	Owners   []store.User
	Errors   map[string]string
	Conflict bool
	// Current holds the stored values that differ from the input after a
	// conflict, by form field.
	Current map[string]string
}

type attrInput struct {
	Key, LabelEn, LabelZh, Type, Value string
	Options                            []string
}

func (s *Server) newCustomerForm(w http.ResponseWriter, r *http.Request, v *view) {
	d, err := s.formFor(r, customer.Customer{Kind: customer.Person, OwnerID: v.P.UserID}, true)
	if err != nil {
		s.fail(w, r, v, err)
		return
	}
	s.render(w, r, v, http.StatusOK, "edit", "", d)
}

func (s *Server) editForm(w http.ResponseWriter, r *http.Request, v *view) {
	c, ok := s.loadCustomer(w, r, v)
	if !ok {
		return
	}
	d, err := s.formFor(r, c, false)
	if err != nil {
		s.fail(w, r, v, err)
		return
	}
	s.render(w, r, v, http.StatusOK, "edit", "", d)
}

// formFor fills the form from a stored customer.
func (s *Server) formFor(r *http.Request, c customer.Customer, creating bool) (editData, error) {
	d := editData{C: c, Creating: creating, Version: c.Version, Kind: string(c.Kind), Name: c.Name, Owner: c.OwnerID,
		Tags: strings.Join(c.Tags, ", "), Errors: map[string]string{}}
	var emails, phones []string
	for _, id := range c.Identities {
		switch id.Type {
		case customer.IdentityEmail:
			emails = append(emails, id.Value)
		case customer.IdentityPhone:
			phones = append(phones, id.Value)
		}
	}
	d.Emails, d.Phones = strings.Join(emails, "\n"), strings.Join(phones, "\n")
	var err error
	if d.Owners, err = s.Store.ListUsers(r.Context()); err != nil {
		return d, err
	}
	fields, err := s.Store.Fields(r.Context())
	if err != nil {
		return d, err
	}
	for _, f := range fields {
		val := ""
		if x, ok := c.Attributes[f.Key]; ok {
			val = attrText(x)
		}
		d.Attrs = append(d.Attrs, attrInput{Key: f.Key, LabelEn: cmp.Or(f.LabelEn, f.Key), LabelZh: f.LabelZh, Type: string(f.Type), Options: f.Options, Value: val})
	}
	return d, nil
}

// attrText writes an attribute value the way the form shows it.
func attrText(x any) string {
	switch t := x.(type) {
	case float64:
		return strconv.FormatFloat(t, 'f', -1, 64)
	case bool:
		return strconv.FormatBool(t)
	case string:
		return t
	}
	return fmt.Sprint(x)
}

var listSplit = regexp.MustCompile(`[\n\r,，;；、]+`)

func splitList(s string) []string {
	var out []string
	for _, p := range listSplit.Split(s, -1) {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// readForm reads the submitted form over d and builds the change.
func readForm(r *http.Request, d *editData, keep []customer.Identity) customer.Input {
	d.Name = r.PostFormValue("name")
	d.Kind = r.PostFormValue("kind")
	d.Emails = r.PostFormValue("emails")
	d.Phones = r.PostFormValue("phones")
	d.Tags = r.PostFormValue("tags")
	d.Owner = r.PostFormValue("owner")
	in := customer.Input{Name: &d.Name, OwnerID: &d.Owner, Attributes: map[string]any{}}
	kind := customer.Kind(d.Kind)
	in.Kind = &kind
	ids := []customer.Identity{}
	for _, e := range splitList(d.Emails) {
		ids = append(ids, customer.Identity{Type: customer.IdentityEmail, Value: e})
	}
	for _, p := range splitList(d.Phones) {
		ids = append(ids, customer.Identity{Type: customer.IdentityPhone, Value: p})
	}
	ids = append(ids, keep...)
	in.Identities = &ids
	tags := splitList(d.Tags)
	if tags == nil {
		tags = []string{}
	}
	in.Tags = &tags
	for i := range d.Attrs {
		a := &d.Attrs[i]
		a.Value = strings.TrimSpace(r.PostFormValue("attr." + a.Key))
		switch {
		case a.Value == "":
			in.Attributes[a.Key] = nil
		case a.Type == string(customer.FieldNumber):
			if f, err := strconv.ParseFloat(strings.ReplaceAll(a.Value, ",", ""), 64); err == nil {
				in.Attributes[a.Key] = f
			} else {
				in.Attributes[a.Key] = a.Value // validation names the problem
			}
		case a.Type == string(customer.FieldBool):
			in.Attributes[a.Key] = a.Value == "true"
		default:
			in.Attributes[a.Key] = a.Value
		}
	}
	return in
}

// fieldErrors maps validation errors to the form's fields.
func fieldErrors(err error) map[string]string {
	out := map[string]string{}
	e, ok := err.(*errs.Error)
	if !ok {
		return out
	}
	for _, f := range e.Fields {
		name := strings.TrimPrefix(f.Field, "body.")
		switch {
		case strings.HasPrefix(name, "identities"):
			name = "identities"
		case strings.HasPrefix(name, "tags"):
			name = "tags"
		case strings.HasPrefix(name, "attributes."):
			name = "attr." + strings.TrimPrefix(name, "attributes.")
		}
		msg := f.Message
		if f.Value != nil && name == "identities" {
			msg = fmt.Sprintf("%v: %s", f.Value, f.Message)
		}
		if prev, ok := out[name]; ok {
			msg = prev + "; " + msg
		}
		out[name] = msg
	}
	if len(out) == 0 {
		out["form"] = e.Message
	}
	return out
}

func (s *Server) rules(r *http.Request) (customer.Rules, error) {
	fields, err := s.Store.FieldMap(r.Context())
	if err != nil {
		return customer.Rules{}, err
	}
	return customer.Rules{Region: s.Region, Fields: fields}, nil
}

// saveEdit applies the form with optimistic locking: when someone else
// saved the customer since the form was opened, nothing is written and the
// form comes back with the user's input, a conflict message and the current
// stored values beside the fields that differ.
func (s *Server) saveEdit(w http.ResponseWriter, r *http.Request, v *view) {
	c, ok := s.loadCustomer(w, r, v)
	if !ok {
		return
	}
	d, err := s.formFor(r, c, false)
	if err != nil {
		s.fail(w, r, v, err)
		return
	}
	version, err := strconv.ParseInt(r.PostFormValue("version"), 10, 64)
	if err != nil {
		s.fail(w, r, v, errs.E(errs.Invalid, "missing version"))
		return
	}
	var keep []customer.Identity
	for _, id := range c.Identities {
		if id.Type != customer.IdentityEmail && id.Type != customer.IdentityPhone {
			keep = append(keep, id)
		}
	}
	stored := d
	in := readForm(r, &d, keep)
	d.Version = version
	rules, err := s.rules(r)
	if err != nil {
		s.fail(w, r, v, err)
		return
	}
	_, err = s.Store.UpdateCustomer(r.Context(), v.P.Actor(), c.ID, version, func(x *customer.Customer) error {
		return rules.Apply(x, in, false)
	})
	switch {
	case err == nil:
	case errs.Is(err, errs.PreconditionFailed):
		d.Conflict, d.Version = true, c.Version
		d.Current = map[string]string{}
		for _, f := range []struct{ name, mine, cur string }{
			{"name", d.Name, stored.Name}, {"kind", d.Kind, stored.Kind}, {"emails", d.Emails, stored.Emails},
			{"phones", d.Phones, stored.Phones}, {"tags", d.Tags, stored.Tags}, {"owner", d.Owner, stored.Owner},
		} {
			if strings.TrimSpace(f.mine) != strings.TrimSpace(f.cur) {
				d.Current[f.name] = f.cur
			}
		}
		for i, a := range d.Attrs {
			if a.Value != stored.Attrs[i].Value {
				d.Current["attr."+a.Key] = stored.Attrs[i].Value
			}
		}
		s.render(w, r, v, http.StatusConflict, "edit", "", d)
		return
	case errs.Is(err, errs.Invalid):
		d.Errors = fieldErrors(err)
		s.render(w, r, v, http.StatusUnprocessableEntity, "edit", "", d)
		return
	case errs.Is(err, errs.Conflict):
		d.Errors = fieldErrors(err)
		if len(d.Errors) == 0 || d.Errors["form"] != "" {
			d.Errors["form"] = err.(*errs.Error).Message
		}
		s.render(w, r, v, http.StatusConflict, "edit", "", d)
		return
	default:
		s.fail(w, r, v, err)
		return
	}
	s.flash(w, r, v.T("common.saved"))
	http.Redirect(w, r, "/customers/"+c.ID, http.StatusSeeOther)
}

func (s *Server) createCustomer(w http.ResponseWriter, r *http.Request, v *view) {
	d, err := s.formFor(r, customer.Customer{}, true)
	if err != nil {
		s.fail(w, r, v, err)
		return
	}
	in := readForm(r, &d, nil)
	rules, err := s.rules(r)
	if err != nil {
		s.fail(w, r, v, err)
		return
	}
	now := s.now().UTC()
	c := &customer.Customer{ID: customer.NewID(), CreatedAt: now, UpdatedAt: now, Version: 1,
		Attributes: map[string]any{}, Tags: []string{}, Identities: []customer.Identity{}, Memberships: []customer.Membership{}}
	for k, x := range in.Attributes {
		if x == nil {
			delete(in.Attributes, k)
		}
	}
	err = rules.Apply(c, in, true)
	if err == nil {
		err = s.Store.CreateCustomers(r.Context(), v.P.Actor(), []*customer.Customer{c})
	}
	if k := errs.KindOf(err); k == errs.Invalid || k == errs.Conflict {
		d.Errors = fieldErrors(err)
		s.render(w, r, v, http.StatusUnprocessableEntity, "edit", "", d)
		return
	}
	if err != nil {
		s.fail(w, r, v, err)
		return
	}
	s.flash(w, r, v.T("common.saved"))
	http.Redirect(w, r, "/customers/"+c.ID, http.StatusSeeOther)
}

// insights adds what the models say about the customer: cross-sell
// suggestions and, for subscription customers, why churn risk is high.
// The page works without them (analytics off, or not fitted yet), so a
// failure is logged, not shown.
func (s *Server) insights(r *http.Request, id string, d *c360) {
	if s.Insight == nil || !s.Insight.Fitted() {
		return
	}
	ci, err := s.Insight.Customer(r.Context(), id)
	if err != nil {
		if !errs.Is(err, errs.NotFound) {
			s.Log.Warn("customer insight", "customer", id, "err", err)
		}
		return
	}
	d.Reasons = ci.ChurnReasons
	for _, sg := range ci.CrossSell[:min(3, len(ci.CrossSell))] {
		d.Suggestions = append(d.Suggestions, suggestion{Name: cmp.Or(ci.CrossSellNames[sg.Item], sg.Item),
			Because: cmp.Or(ci.CrossSellNames[sg.Because], sg.Because), Confidence: sg.Confidence})
	}
}
