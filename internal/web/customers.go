package web

import (
	"encoding/csv"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/rapportcrm/rapport/internal/analytics/value"
	"github.com/rapportcrm/rapport/internal/auth"
	"github.com/rapportcrm/rapport/internal/customer"
	"github.com/rapportcrm/rapport/internal/errs"
	"github.com/rapportcrm/rapport/internal/store"
)

// listQuery is the customer list's state, all of it in the URL so a view
// can be bookmarked, shared, saved and exported.
type listQuery struct {
	Q, Kind, Tag, Owner, Tier, Segment, AttrKey, AttrValue, Sort, Cursor string
}

func parseListQuery(q url.Values) listQuery {
	lq := listQuery{
		Q: strings.TrimSpace(q.Get("q")), Kind: q.Get("kind"), Tag: strings.TrimSpace(q.Get("tag")), Owner: q.Get("owner"),
		Tier: q.Get("tier"), Segment: q.Get("segment"), AttrKey: strings.TrimSpace(q.Get("ak")), AttrValue: strings.TrimSpace(q.Get("av")),
		Sort: q.Get("sort"), Cursor: q.Get("cursor"),
	}
	if lq.Kind != string(customer.Person) && lq.Kind != string(customer.Organization) {
		lq.Kind = ""
	}
	if lq.Sort != "name" {
		lq.Sort = ""
	}
	if len(lq.Q) > 200 {
		lq.Q = lq.Q[:200]
	}
	return lq
}

// Values encodes the query; without the cursor when first is set.
func (lq listQuery) Values(first bool) url.Values {
	v := url.Values{}
	set := func(k, x string) {
		if x != "" {
			v.Set(k, x)
		}
	}
	set("q", lq.Q)
	set("kind", lq.Kind)
	set("tag", lq.Tag)
	set("owner", lq.Owner)
	set("tier", lq.Tier)
	set("segment", lq.Segment)
	if lq.AttrKey != "" {
		set("ak", lq.AttrKey)
		set("av", lq.AttrValue)
	}
	set("sort", lq.Sort)
	if !first {
		set("cursor", lq.Cursor)
	}
	return v
}

// SortURL is the query of the first page sorted by name, or back to
// newest first when already sorted by name.
func (lq listQuery) SortURL(by string) string {
	if lq.Sort == by {
		by = ""
	}
	lq.Sort = by
	return lq.Values(true).Encode()
}

// Filtered reports whether any filter beyond search is set.
func (lq listQuery) Filtered() bool {
	return lq.Kind != "" || lq.Tag != "" || lq.Owner != "" || lq.Tier != "" || lq.Segment != "" || lq.AttrKey != ""
}

// filter turns the query into store filters, applying the rule that reps
// may be limited to their own customers.
func (s *Server) filter(r *http.Request, p auth.Principal, lq listQuery, limit int) (store.Filter, store.ScoreFilter, error) {
	f := store.Filter{Q: lq.Q, Kind: lq.Kind, Tag: lq.Tag, OwnerID: lq.Owner, Sort: lq.Sort, Cursor: lq.Cursor, Limit: limit}
	if lq.AttrKey != "" {
		f.Attrs = map[string]string{lq.AttrKey: lq.AttrValue}
	}
	if p.Role == auth.Rep {
		var ownOnly bool
		if _, err := s.Store.Setting(r.Context(), RepsOwnOnlySetting, &ownOnly); err != nil {
			return f, store.ScoreFilter{}, err
		}
		if ownOnly {
			f.OwnerID = p.UserID
		}
	}
	return f, store.ScoreFilter{Tier: lq.Tier, RFMSegment: lq.Segment}, nil
}

type listData struct {
	Q        listQuery
	Items    []customer.Customer
	Owners   []store.User
	OwnerOf  map[string]string
	Tags     []store.TagCount
	Tiers    []string
	Segments []string
	Fields   []customer.Field
	Views    []store.SavedView
	Query    string // current query without cursor
	Next     string // URL of the next page, if any
	First    string // URL of the first page, when not on it
}

func (s *Server) customers(w http.ResponseWriter, r *http.Request, v *view) {
	lq := parseListQuery(r.URL.Query())
	f, sf, err := s.filter(r, v.P, lq, 50)
	if err != nil {
		s.fail(w, r, v, err)
		return
	}
	page, err := s.Store.ListCustomersScored(r.Context(), f, sf)
	if err != nil {
		s.fail(w, r, v, err)
		return
	}
	d := listData{Q: lq, Items: page.Items, Query: lq.Values(true).Encode()}
	if page.NextCursor != "" {
		n := lq
		n.Cursor = page.NextCursor
		d.Next = "/customers?" + n.Values(false).Encode()
	}
	if lq.Cursor != "" {
		d.First = "/customers?" + d.Query
	}
	if d.Owners, err = s.Store.ListUsers(r.Context()); err != nil {
		s.fail(w, r, v, err)
		return
	}
	d.OwnerOf = map[string]string{}
	for _, u := range d.Owners {
		d.OwnerOf[u.ID] = displayName(u)
	}
	// An htmx search or filter change replaces only the results.
	if r.Header.Get("HX-Request") != "" && r.Header.Get("HX-Target") == "results" {
		s.render(w, r, v, http.StatusOK, "customers", "results", d)
		return
	}
	for _, t := range value.Tiers() {
		d.Tiers = append(d.Tiers, t.String())
	}
	for _, sg := range value.Segments() {
		d.Segments = append(d.Segments, sg.String())
	}
	if d.Tags, err = s.tags(r); err != nil {
		s.fail(w, r, v, err)
		return
	}
	if d.Fields, err = s.Store.Fields(r.Context()); err != nil {
		s.fail(w, r, v, err)
		return
	}
	if d.Views, err = s.Store.SavedViews(r.Context(), v.P.UserID); err != nil {
		s.fail(w, r, v, err)
		return
	}
	s.render(w, r, v, http.StatusOK, "customers", "", d)
}

func displayName(u store.User) string {
	if u.Name != "" {
		return u.Name
	}
	return u.Email
}

// tags returns the filter menu's tag list, cached for a minute: counting
// tags reads every tag row, too much for every page view at a million
// customers.
func (s *Server) tags(r *http.Request) ([]store.TagCount, error) {
	s.tagMu.Lock()
	defer s.tagMu.Unlock()
	if s.tagList != nil && s.now().Sub(s.tagAt) < time.Minute {
		return s.tagList, nil
	}
	ts, err := s.Store.Tags(r.Context(), 100)
	if err != nil {
		return nil, err
	}
	if ts == nil {
		ts = []store.TagCount{}
	}
	s.tagList, s.tagAt = ts, s.now()
	return ts, nil
}

// exportLimit bounds one export; the page says so when it is reached.
const exportLimit = 100_000

// exportCustomers writes every customer of the current view (up to
// exportLimit) as CSV (UTF-8 with a byte-order mark, so Excel reads
// Chinese correctly) or XLSX.
func (s *Server) exportCustomers(w http.ResponseWriter, r *http.Request, v *view) {
	lq := parseListQuery(r.URL.Query())
	lq.Cursor = ""
	f, sf, err := s.filter(r, v.P, lq, 500)
	if err != nil {
		s.fail(w, r, v, err)
		return
	}
	users, err := s.Store.ListUsers(r.Context())
	if err != nil {
		s.fail(w, r, v, err)
		return
	}
	owner := map[string]string{}
	for _, u := range users {
		owner[u.ID] = u.Email
	}
	header := []string{"id", v.T("col.name"), v.T("col.kind"), v.T("col.emails"), v.T("col.phones"), v.T("col.tags"), v.T("col.owner"),
		v.T("col.tier"), v.T("col.segment"), v.T("col.orders"), v.T("col.revenue"), v.T("col.last_order"), v.T("col.created")}
	row := func(c customer.Customer) []any {
		var emails, phones []string
		for _, id := range c.Identities {
			switch id.Type {
			case customer.IdentityEmail:
				emails = append(emails, id.Value)
			case customer.IdentityPhone:
				phones = append(phones, id.Value)
			}
		}
		tier, seg := "", ""
		if c.Scores != nil {
			tier, seg = v.Tier(c.Scores.Tier), v.Segment(c.Scores.RFMSegment)
		}
		last := ""
		if c.Stats.LastOrderAt != nil {
			last = c.Stats.LastOrderAt.Format(time.DateOnly)
		}
		return []any{c.ID, c.Name, v.T("kind." + string(c.Kind)), strings.Join(emails, "; "), strings.Join(phones, "; "), strings.Join(c.Tags, "; "),
			owner[c.OwnerID], tier, seg, c.Stats.Orders, c.Stats.Revenue, last, c.CreatedAt.Format(time.DateOnly)}
	}
	name := "customers-" + s.now().Format("20060102-1504")
	each := func(fn func(c customer.Customer) error) error {
		n := 0
		for {
			page, err := s.Store.ListCustomersScored(r.Context(), f, sf)
			if err != nil {
				return err
			}
			for _, c := range page.Items {
				if n == exportLimit {
					return nil
				}
				if err := fn(c); err != nil {
					return err
				}
				n++
			}
			if page.NextCursor == "" {
				return nil
			}
			f.Cursor = page.NextCursor
		}
	}
	if r.URL.Query().Get("format") == "xlsx" {
		xf := excelize.NewFile()
		defer xf.Close()
		sw, err := xf.NewStreamWriter("Sheet1")
		if err != nil {
			s.fail(w, r, v, err)
			return
		}
		hdr := make([]any, len(header))
		for i, h := range header {
			hdr[i] = h
		}
		line := 1
		write := func(cells []any) error {
			cell, _ := excelize.CoordinatesToCellName(1, line)
			line++
			return sw.SetRow(cell, cells)
		}
		if err := write(hdr); err == nil {
			err = each(func(c customer.Customer) error { return write(row(c)) })
		}
		if err == nil {
			err = sw.Flush()
		}
		if err != nil {
			s.fail(w, r, v, err)
			return
		}
		w.Header().Set("Content-Type", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
		w.Header().Set("Content-Disposition", `attachment; filename="`+name+`.xlsx"`)
		if err := xf.Write(w); err != nil {
			s.Log.ErrorContext(r.Context(), "write xlsx export", "err", err)
		}
		return
	}
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="`+name+`.csv"`)
	w.Write([]byte("\xEF\xBB\xBF"))
	cw := csv.NewWriter(w)
	cw.Write(header)
	err = each(func(c customer.Customer) error {
		cells := row(c)
		out := make([]string, len(cells))
		for i, x := range cells {
			out[i] = fmt.Sprint(x)
		}
		return cw.Write(out)
	})
	cw.Flush()
	if err != nil {
		// Headers are gone; the truncated file is the best we can do, and
		// the log says why.
		s.Log.ErrorContext(r.Context(), "csv export", "err", err)
	}
}

// maxBulk bounds one bulk action (a page is at most 500 rows).
const maxBulk = 500

// bulk tags, untags or assigns the selected customers, each through the
// normal audited update.
func (s *Server) bulk(w http.ResponseWriter, r *http.Request, v *view) {
	if err := r.ParseForm(); err != nil {
		s.fail(w, r, v, errs.E(errs.Invalid, "bad form"))
		return
	}
	ids := r.PostForm["id"]
	back := "/customers"
	if q := r.PostFormValue("back"); q != "" {
		back += "?" + q
	}
	if len(ids) == 0 {
		s.flash(w, r, v.T("bulk.none"))
		http.Redirect(w, r, back, http.StatusSeeOther)
		return
	}
	if len(ids) > maxBulk {
		s.fail(w, r, v, errs.E(errs.Invalid, "at most %d customers at once", maxBulk))
		return
	}
	action := r.PostFormValue("action")
	tag := customer.NormalizeText(r.PostFormValue("tag"))
	owner := r.PostFormValue("owner")
	var change func(c *customer.Customer) error
	switch action {
	case "tag", "untag":
		if tag == "" || len(tag) > 60 {
			s.flash(w, r, v.T("bulk.need_tag"))
			http.Redirect(w, r, back, http.StatusSeeOther)
			return
		}
		change = func(c *customer.Customer) error {
			if action == "tag" && !slices.Contains(c.Tags, tag) {
				c.Tags = append(c.Tags, tag)
				slices.Sort(c.Tags)
			}
			if action == "untag" {
				c.Tags = slices.DeleteFunc(c.Tags, func(t string) bool { return t == tag })
			}
			return nil
		}
	case "assign":
		if owner != "" {
			if _, err := s.Store.UserByID(r.Context(), owner); err != nil {
				s.fail(w, r, v, err)
				return
			}
		}
		change = func(c *customer.Customer) error { c.OwnerID = owner; return nil }
	default:
		s.fail(w, r, v, errs.E(errs.Invalid, "unknown bulk action %q", action))
		return
	}
	done, failed := 0, 0
	for _, id := range ids {
		c, err := s.Store.Customer(r.Context(), id)
		if err == nil {
			err = s.visible(r, v.P, c)
		}
		if err == nil {
			_, err = s.Store.UpdateCustomer(r.Context(), v.P.Actor(), id, c.Version, change)
		}
		if err != nil {
			if errs.KindOf(err) == errs.Internal {
				s.Log.ErrorContext(r.Context(), "bulk update", "customer", id, "err", err)
			}
			failed++
			continue
		}
		done++
	}
	msg := v.T("bulk.done_"+action, done)
	if failed > 0 {
		msg += " " + v.T("bulk.failed", failed)
	}
	s.flash(w, r, msg)
	http.Redirect(w, r, back, http.StatusSeeOther)
}

// visible enforces the rule that reps may only see their own customers.
func (s *Server) visible(r *http.Request, p auth.Principal, c customer.Customer) error {
	if p.Role != auth.Rep || c.OwnerID == p.UserID {
		return nil
	}
	var ownOnly bool
	if _, err := s.Store.Setting(r.Context(), RepsOwnOnlySetting, &ownOnly); err != nil {
		return err
	}
	if ownOnly {
		return errs.E(errs.NotFound, "customer %s not found", c.ID)
	}
	return nil
}

func (s *Server) saveView(w http.ResponseWriter, r *http.Request, v *view) {
	name := customer.NormalizeText(r.PostFormValue("name"))
	q := r.PostFormValue("query")
	back := "/customers"
	if q != "" {
		back += "?" + q
	}
	if name == "" || len(name) > 80 {
		s.flash(w, r, v.T("views.need_name"))
		http.Redirect(w, r, back, http.StatusSeeOther)
		return
	}
	// Keep only what the list understands, never the page cursor.
	parsed, _ := url.ParseQuery(q)
	clean := parseListQuery(parsed).Values(true).Encode()
	err := s.Store.SaveView(r.Context(), store.SavedView{ID: customer.NewID(), UserID: v.P.UserID, Name: name, Query: clean, CreatedAt: s.now()})
	if err != nil {
		s.fail(w, r, v, err)
		return
	}
	s.flash(w, r, v.T("views.saved", name))
	http.Redirect(w, r, back, http.StatusSeeOther)
}

func (s *Server) deleteView(w http.ResponseWriter, r *http.Request, v *view) {
	if err := s.Store.DeleteSavedView(r.Context(), v.P.UserID, r.PathValue("id")); err != nil {
		s.fail(w, r, v, err)
		return
	}
	http.Redirect(w, r, "/customers", http.StatusSeeOther)
}
