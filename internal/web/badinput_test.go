package web_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"maps"
	"mime/multipart"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/rapportcrm/rapport/internal/analytics/value"
	"github.com/rapportcrm/rapport/internal/auth"
	"github.com/rapportcrm/rapport/internal/customer"
	"github.com/rapportcrm/rapport/internal/ingest"
	"github.com/rapportcrm/rapport/internal/store"
	"github.com/rapportcrm/rapport/internal/targeting"
)

// TestNoRouteAnswersBadInputWith500 sends every route Register mounts a
// battery of bad input — garbage, hostile and oversized path ids, every
// query parameter and form field its handler reads with a value of the
// wrong type or at an extreme, empty and oversized forms, plain and htmx —
// and checks that each answer is a success, a redirect or a 4xx page in
// the user's language, never a 5xx. New routes are swept as soon as they
// are registered. Both engines: a 500 is as often the database's reaction
// to a value as the handler's.
func TestNoRouteAnswersBadInputWith500(t *testing.T) {
	forEngine(t, 40, func(t *testing.T, e *env) {
		fx := newSweepFixtures(t, e)
		routes := e.ui.Routes()
		if len(routes) < 30 {
			t.Fatalf("only %d routes registered: %v", len(routes), routes)
		}
		sent := 0
		statuses := map[int]int{}
		for _, route := range routes {
			method, pattern, _ := strings.Cut(route, " ")
			b := e.login(auth.Admin) // afresh: the route before may have logged out
			for _, rq := range fx.badRequests(method, pattern) {
				res, err := b.send(rq)
				sent++
				if err != nil {
					t.Errorf("%s %.120s (%s): no answer (did the handler panic?): %v", method, rq.path, rq.what, err)
					continue
				}
				statuses[res.status]++
				switch {
				case res.status >= 500:
					t.Errorf("%s %.120s (%s): %d %.300s", method, rq.path, rq.what, res.status, res.body)
				case res.status < 400 || res.status == http.StatusUnauthorized || strings.HasPrefix(pattern, "/static/"):
					// A success, a redirect, htmx sent to log in, or a file not found.
				case !strings.HasPrefix(res.header.Get("Content-Type"), "text/html"):
					t.Errorf("%s %.120s (%s): %d with content type %q, not a page", method, rq.path, rq.what, res.status, res.header.Get("Content-Type"))
				case !rq.htmx && !strings.Contains(res.body, `<html lang="en">`) && !strings.Contains(res.body, `<html lang="zh-CN">`):
					t.Errorf("%s %.120s (%s): %d is not a page in the user's language: %.300s", method, rq.path, rq.what, res.status, res.body)
				}
			}
		}
		t.Logf("%d bad requests to %d routes: %v", sent, len(routes), statuses)
		if sent < 1000 {
			t.Fatalf("only %d bad requests sent; the sweep found too few routes", sent)
		}
		// Every page still renders what the sweep managed to store, and the
		// customer it aimed at is still there.
		b := e.login(auth.Admin)
		for _, route := range routes {
			method, pattern, _ := strings.Cut(route, " ")
			if path, _ := fill(pattern, fx.realID(pattern)); method == http.MethodGet {
				if res := b.get(path); res.status >= 500 {
					t.Errorf("after the sweep, GET %s: %d %.300s", path, res.status, res.body)
				}
			}
		}
		if res := b.get("/customers/" + fx.ids["/customers/"]); res.status != http.StatusOK {
			t.Fatalf("after the sweep: %d %.300s", res.status, res.body)
		}
	})
}

// sweepRequest is one request of the sweep; a nil form means a GET.
type sweepRequest struct {
	what, path string
	form       func() url.Values // made as the request is sent: a plausible form moves with the data
	multipart  bool              // sent as a multipart form even without a "file"
	header     []string          // more headers: name, value, name, value…
	htmx       bool
}

// send makes the request; unlike get and post an unanswered request is
// reported, not fatal, so that the sweep goes on.
func (b *browser) send(rq sweepRequest) (response, error) {
	method, body, ctype := http.MethodGet, io.Reader(nil), ""
	if rq.form != nil {
		form := rq.form()
		method, body, ctype = http.MethodPost, strings.NewReader(form.Encode()), "application/x-www-form-urlencoded"
		if rq.multipart || form.Has("file") {
			var buf bytes.Buffer
			mw := multipart.NewWriter(&buf)
			for k, vs := range form {
				for _, v := range vs {
					if k == "file" {
						fw, _ := mw.CreateFormFile("file", "扫描.csv")
						io.WriteString(fw, v)
						continue
					}
					mw.WriteField(k, v)
				}
			}
			mw.Close()
			body, ctype = &buf, mw.FormDataContentType()
		}
	}
	req, err := http.NewRequest(method, b.e.url+rq.path, body)
	if err != nil {
		return response{}, err
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	if rq.htmx {
		// The target the customer list answers with its results alone;
		// other pages ignore it.
		req.Header.Set("HX-Request", "true")
		req.Header.Set("HX-Target", "results")
	}
	for i := 0; i+1 < len(rq.header); i += 2 {
		req.Header.Set(rq.header[i], rq.header[i+1])
	}
	res, err := b.c.Do(req)
	if err != nil {
		return response{}, err
	}
	defer res.Body.Close()
	out, err := io.ReadAll(res.Body)
	return response{status: res.StatusCode, header: res.Header, body: string(out)}, err
}

// badIDs are path wildcard values no handler should choke on.
var badIDs = []string{"nope", "0", "-1", "' OR 1=1 --", "张伟", "%00", "\x00", "a\xffb", "..%2F..%2Fetc",
	strings.Repeat("a", 300), "00000000-0000-7000-8000-000000000000", "0123456789abcdef0123456789abcdef"}

// badValues are query and form values of the wrong type or at an extreme;
// NUL and non-UTF-8 text are refused before any handler, the rest reach it.
var badValues = []string{"", "abc", "-1", "0", "1e309", "NaN", "Inf", "-9223372036854775809", "9223372036854775807",
	"99999999999999999999", "9999-12", "9999-12-31", "9999-12-31T23:59", "0001-01-01T00:00", "0000-00", "2026-13-45",
	"' OR 1=1 --", "\x00", "a\xffb", "张伟", strings.Repeat("z", 2000), strings.Repeat("长", 20000),
	// Cursors as the server encodes them, holding what it never would.
	base64.RawURLEncoding.EncodeToString([]byte(`{"s":-9223372036854775808,"n":"\u0000"}`)),
	base64.RawURLEncoding.EncodeToString([]byte(`{"s":1,"n":"` + strings.Repeat("长", 5000) + `"}`))}

// sweepQuery lists plausible queries for the pages under a path, which
// between them hold every parameter those pages read; each parameter of
// each query is swept with every bad value while the rest stay plausible
// ("@…" values name a fixture, as in sweepForm). A route takes the entry
// of its longest prefix here, and one with none is swept with all of
// them. Every route also gets "lang".
var sweepQuery = map[string][]string{
	"/":       nil,
	"/static": {"v=1"},
	"/login":  {"next=/customers"},
	"/customers": {"q=张&kind=person&tag=vip&owner=@admin&tier=@tier&segment=@rfm&format=csv",
		"sort=name&cursor=@cursor", "cursor=@cursor", "ak=city&av=上海", "ak=birthday&av=1990-01-01", "ak=credit_limit&av=1000",
		"ak=vip&av=true", "ak=industry&av=@industry"},
	"/customers/new":  nil,
	"/customers/{id}": {"type=call"},
	"/dashboards":     nil,
	"/settings":       nil,
	"/imports":        nil,
	"/duplicates":     nil,
	"/segments":       nil,
	"/segments/new":   {"rule=orders >= 1"},
	"/lists":          nil,
	"/lists/new":      {"segment=@segment&initiative=@initiative"},
	"/lists/{id}":     {"page=1"},
	"/tasks":          {"assignee=all&status=all&page=1", "assignee=@rep&status=done"},
	"/board":          nil,
	"/initiatives":    nil,
	"/pivot": {"row=tier&col=city&m=customers&m=revenue&format=csv", "row=cohort&col=period&m=clv&m=orders",
		"row=attr:industry&col=owner&m=customers", "row=industry&m=revenue", "row=tag&col=rfm_segment&m=customers&format=xlsx",
		"row=predicted_tier&col=channel&m=customers"},
	"/pivot/cell": {"d=tier&v=@tier", "d=predicted_tier&v=@tier", "d=rfm_segment&v=@rfm", "d=city&v=上海", "d=channel&v=web",
		"d=cohort&v=2025-01", "d=cohort&v=2025-01-01", "d=period&v=2025-01", "d=tag&v=vip", "d=owner&v=@admin",
		"d=industry&v=@industry", "d=attr:industry&v=@industry", "d=attr:birthday&v=1990-01-01", "d=attr:credit_limit&v=1000",
		"d=tier&v=@tier&d=city&v=上海", "d=cohort&v=2025-01&d=tag&v=vip&d=owner&v=@admin"},
}

// customerForm is the customer create and edit form; "@…" values name a
// fixture (sweepFixtures.value).
var customerForm = map[string]string{"name": "张伟", "kind": "person", "emails": "@unique:sweep%d@example.com", "phones": "@unique:1390000%04d",
	"tags": "vip", "owner": "@admin", "attr.city": "上海", "attr.industry": "@industry", "attr.birthday": "1990-01-01",
	"attr.vip": "true", "attr.credit_limit": "1000", "attr.balance": "-10"}

// costFields are the cost entry of lists and initiatives.
var costFields = map[string]string{"hours": "1", "hourly_rate": "100", "money": "50", "note": "电话费"}

// sweepForm lists the form fields the handlers under a path read, each
// with a plausible value, so that a bad value in one field gets past the
// others; a route takes the entry of its longest prefix here, and one with
// none is swept with every field the table knows. A form with a "file"
// is sent as a multipart form with the value as the file.
var sweepForm = map[string]map[string]string{
	"/login":                       {"email": "nobody@example.com", "password": "wrong", "next": "/customers"},
	"/logout":                      {},
	"/customers/bulk":              {"id": "@bulk", "back": "q=a", "action": "tag", "tag": "vip", "owner": "@admin"},
	"/customers/views":             {"name": "我的客户", "query": "q=a"},
	"/customers/new":               customerForm,
	"/customers/{id}/edit":         merged(customerForm, map[string]string{"version": "@version"}),
	"/customers/{id}/notes":        {"body": "回访记录"},
	"/customers/{id}/interactions": {"kind": "call", "summary": "电话回访", "at": "2026-01-02T15:04"},
	"/customers/{id}/outcome":      {"outcome": "reached", "notes": "ok", "list_id": "@list"},
	"/settings/users":              {"email": "@unique:user%d@example.com", "name": "新用户", "role": "rep", "action": "role"},
	"/settings/keys":               {"name": "@unique:密钥%d", "role": "rep"},
	"/settings/profile":            {"purchase_cycle_days": "30", "marketing_cost_per_customer": "5", "cost.call": "1", "cost.visit": "2"},
	"/settings/fields": {"key": "@unique:sweep_%d", "type": "text", "label_en": "Sweep", "label_zh": "扫描",
		"options": "a, b"},
	"/settings/sources": {"name": "@unique:来源%d"},
	"/imports":          {"kind": "customers", "file": "@csv"},
	"/imports/uploads":  {"action": "dry", "col.0": "name", "col.1": "phone", "col.2": "email"},
	"/duplicates":       {"a": "@twin", "b": "@twin2", "keep": "@twin"},
	"/segments":         {"name": "上海客户", "rule": "orders >= 0"},
	"/lists/new": {"name": "回访名单", "segment_id": "@segment", "score": "clv", "top_n": "10", "control": "20",
		"assign": "round_robin", "reps": "@rep", "due_days": "7", "attribution_days": "30", "script": "问候", "script_b": "",
		"initiative_id": "@initiative"},
	"/lists/{id}/costs":       costFields,
	"/tasks":                  {"outcome": "reached", "notes": "ok", "back": "/tasks"},
	"/initiatives":            {"name": "复购计划", "hypothesis": "回访提升复购", "segment_id": "@segment", "budget": "1000", "stage": "pilot"},
	"/initiatives/{id}/stage": {"stage": "scale"},
	"/initiatives/{id}/costs": costFields,
}

// merged is a copy of a with b's entries added.
func merged(a, b map[string]string) map[string]string {
	out := maps.Clone(a)
	maps.Copy(out, b)
	return out
}

// lookup is the entry of the longest prefix of pattern (by whole path
// segments) in table.
func lookup[T any](table map[string]T, pattern string) (T, bool) {
	best, found := "", false
	for k := range table {
		if (pattern == k || strings.HasPrefix(pattern, k+"/")) && (!found || len(k) > len(best)) {
			best, found = k, true
		}
	}
	return table[best], found
}

// sweepFixtures are real records for the sweep to aim at, so that a
// request gets past the lookup of its path's record to its input.
type sweepFixtures struct {
	t   *testing.T
	e   *env
	ids map[string]string // real id by path prefix before the wildcard ("/lists/"), or by "@name"
	n   int               // values made unique so far
}

// newSweepFixtures turns targeting on and makes a record of every kind a
// route's path names, and the other records plausible forms refer to.
func newSweepFixtures(t *testing.T, e *env) *sweepFixtures {
	t.Helper()
	ctx := context.Background()
	svc, seg := withTargeting(t, e)
	admin, rep := e.users[auth.Admin].ID, e.users[auth.Rep].ID
	c := e.data.Customers
	fx := &sweepFixtures{t: t, e: e, ids: map[string]string{
		"/static/": "app.css", "/customers/": c[0].ID, "/settings/users/": rep, "@admin": admin, "@rep": rep, "@bulk": c[1].ID,
		"@twin": c[2].ID, "@twin2": c[3].ID, "@csv": wizardCSV,
	}}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	page, err := e.st.ListCustomers(ctx, store.Filter{Limit: 5})
	must(err)
	fx.ids["@cursor"] = page.NextCursor
	fx.ids["@tier"], fx.ids["@rfm"] = value.Tiers()[0].String(), value.Segments()[0].String()
	for _, f := range e.data.Fields {
		if f.Key == "industry" {
			fx.ids["@industry"] = f.Options[0]
		}
	}
	fx.ids["@segment"] = seg
	// Its own segment for the segment pages, which delete it.
	sg, err := svc.CreateSegment(ctx, store.SystemActor, "扫描", `orders >= 1`)
	must(err)
	fx.ids["/segments/"] = sg.ID
	in, err := svc.CreateInitiative(ctx, store.SystemActor, targeting.InitiativeSpec{Name: "扫描计划", SegmentID: seg})
	must(err)
	fx.ids["/initiatives/"], fx.ids["@initiative"] = in.ID, in.ID
	l, err := svc.CreateList(ctx, store.SystemActor, targeting.ListSpec{Name: "扫描名单", SegmentID: seg, Holdout: 0.2,
		Assign: targeting.AssignRoundRobin, Reps: []string{rep}, DueDays: 7})
	must(err)
	fx.ids["/lists/"], fx.ids["@list"] = l.ID, l.ID
	ts, err := e.st.Tasks(ctx, store.TaskFilter{ListID: l.ID, Limit: 1})
	must(err)
	if len(ts) == 0 {
		t.Fatal("the list has no tasks")
	}
	fx.ids["/tasks/"] = ts[0].ID
	k, _, err := e.ui.Auth.CreateAPIKey(ctx, "扫描", auth.Admin, admin)
	must(err)
	fx.ids["/settings/keys/"] = k.ID
	src, _, err := ingest.CreateSource(ctx, e.st, store.SystemActor, "扫描")
	must(err)
	fx.ids["/settings/sources/"] = src.ID
	view := store.SavedView{ID: customer.NewID(), UserID: admin, Name: "扫描", Query: "q=a", CreatedAt: time.Now()}
	must(e.st.SaveView(ctx, view))
	fx.ids["/customers/views/"] = view.ID
	m, err := e.st.MergeCustomers(ctx, store.SystemActor, c[4].ID, c[5].ID)
	must(err)
	fx.ids["/duplicates/merges/"] = m.ID
	b := e.login(auth.Admin)
	fx.ids["/imports/uploads/"] = strings.TrimPrefix(uploadFile(t, b, "customers", "扫描.csv", []byte(wizardCSV)), "/imports/uploads/")
	job := uploadFile(t, b, "customers", "扫描.csv", []byte(wizardCSV))
	res := b.post(job, url.Values{"col.0": {"name"}, "col.1": {"phone"}, "col.2": {"email"}, "action": {"run"}})
	if res.status != http.StatusSeeOther || !strings.HasPrefix(res.header.Get("Location"), "/imports/jobs/") {
		t.Fatalf("run import: %d %s", res.status, res.body)
	}
	fx.ids["/imports/jobs/"] = strings.TrimPrefix(res.header.Get("Location"), "/imports/jobs/")
	e.ui.Imports.Wait(ctx, fx.ids["/imports/jobs/"])
	return fx
}

// fill puts id in the pattern's wildcards (and after a trailing slash,
// which matches any path below it).
func fill(pattern, id string) (string, bool) {
	pattern = strings.ReplaceAll(pattern, "{$}", "")
	var out []string
	wild := false
	for _, seg := range strings.Split(pattern, "/") {
		if strings.HasPrefix(seg, "{") && strings.HasSuffix(seg, "}") {
			seg, wild = id, true
		}
		out = append(out, seg)
	}
	p := strings.Join(out, "/")
	if strings.HasSuffix(pattern, "/") && pattern != "/" {
		p, wild = p+id, true
	}
	return p, wild
}

// realID is a fixture's id for the pattern's wildcard (or what follows its
// trailing slash), "" when there is none.
func (fx *sweepFixtures) realID(pattern string) string {
	prefix, _, ok := strings.Cut(pattern, "{")
	if !ok && !strings.HasSuffix(pattern, "/") {
		return ""
	}
	return fx.ids[prefix]
}

// value resolves a plausible value: "@version" is the real customer's
// current version (it moves as the sweep saves the customer), "@unique:…"
// a format for a value never used before, any other "@…" a fixture's id.
func (fx *sweepFixtures) value(v string) string {
	if f, ok := strings.CutPrefix(v, "@unique:"); ok {
		fx.n++
		return fmt.Sprintf(f, fx.n)
	}
	if v == "@version" {
		c, err := fx.e.st.Customer(context.Background(), fx.ids["/customers/"])
		if err != nil {
			return "1"
		}
		return fmt.Sprint(c.Version)
	}
	if id, ok := fx.ids[v]; ok {
		return id
	}
	return v
}

// plausible is the pattern's entry in sweepForm, or all of them.
func plausible(pattern string) map[string]string {
	if f, ok := lookup(sweepForm, pattern); ok {
		return f
	}
	all := map[string]string{}
	for _, f := range sweepForm {
		maps.Copy(all, f)
	}
	return all
}

// base is a plausible form for the pattern, built afresh for each request.
func (fx *sweepFixtures) base(pattern string) url.Values {
	form := url.Values{}
	for n, v := range plausible(pattern) {
		form.Set(n, fx.value(v))
	}
	return form
}

// queries are the pattern's plausible queries with "@…" values resolved.
func (fx *sweepFixtures) queries(pattern string) []url.Values {
	qs, ok := lookup(sweepQuery, strings.ReplaceAll(pattern, "{$}", ""))
	if !ok {
		for _, sq := range sweepQuery {
			qs = append(qs, sq...)
		}
	}
	var out []url.Values
	for _, raw := range qs {
		q, err := url.ParseQuery(raw)
		if err != nil {
			fx.t.Fatalf("sweepQuery %q: %v", raw, err)
		}
		for _, vs := range q {
			for i, v := range vs {
				vs[i] = fx.value(v)
			}
		}
		out = append(out, q)
	}
	return out
}

// badRequests is the battery for one route.
func (fx *sweepFixtures) badRequests(method, pattern string) []sweepRequest {
	post := method == http.MethodPost
	good, wild := fill(pattern, fx.realID(pattern))
	// with is the plausible form with one field set (no field: as it is).
	with := func(name string, vs ...string) func() url.Values {
		return func() url.Values {
			form := fx.base(pattern)
			if name != "" {
				form[name] = vs
			}
			return form
		}
	}
	var out []sweepRequest
	add := func(rq sweepRequest) {
		if post && rq.form == nil {
			rq.form = with("")
		}
		out = append(out, rq)
	}
	if wild {
		for i, id := range badIDs {
			p, _ := fill(pattern, url.PathEscape(id))
			add(sweepRequest{what: fmt.Sprintf("path id %.40q", id), path: p, htmx: i%2 == 1})
		}
	}
	if wild && fx.realID(pattern) == "" {
		// No record to aim at: the bad ids are the sweep.
		return out
	}
	add(sweepRequest{what: "plausible", path: good})
	add(sweepRequest{what: "plausible, htmx", path: good, htmx: true})
	add(sweepRequest{what: "bad language and cookies", path: good, header: []string{
		"Accept-Language", "zh-CN;q=abc, ,;q=2, " + strings.Repeat("x-", 2000), "Cookie", "rapport_lang=%zz; rapport_flash=%zz%00"}})
	if !post {
		for _, q := range append(fx.queries(pattern), url.Values{"lang": {"zh-CN"}}) {
			add(sweepRequest{what: "query " + q.Encode(), path: good + "?" + q.Encode()})
			for _, name := range slices.Sorted(maps.Keys(q)) {
				for i, v := range badValues {
					bad := maps.Clone(q)
					bad[name] = []string{v}
					add(sweepRequest{what: fmt.Sprintf("query %s with %s=%.20q", q.Encode(), name, v), path: good + "?" + bad.Encode(), htmx: i%2 == 1})
				}
			}
		}
		return out
	}
	empty := func() url.Values { return url.Values{} }
	add(sweepRequest{what: "empty form", path: good, form: empty})
	add(sweepRequest{what: "empty form, htmx", path: good, form: empty, htmx: true})
	add(sweepRequest{what: "plausible form, query lang=zz", path: good + "?lang=zz"})
	for _, name := range slices.Sorted(maps.Keys(plausible(pattern))) {
		values := badValues
		if name == "file" {
			values = append(slices.Clone(values), "\x00\x01\x02\xff", "a,b\n1\x00,2\n", "\xff\xfe,名\n张,1\n",
				strings.Repeat("a,", 20000)+"\n", "名称\n"+strings.Repeat("长", 100000)+"\n")
		}
		for i, v := range values {
			add(sweepRequest{what: fmt.Sprintf("field %s=%.20q", name, v), path: good, form: with(name, v), htmx: i%2 == 1})
		}
		// The field repeated, past any cap on how many a form may hold.
		many := slices.Repeat([]string{fx.value(plausible(pattern)[name])}, 600)
		add(sweepRequest{what: "field " + name + " ×600", path: good, form: with(name, many...)})
		// Multipart forms are not checked for unstorable text up front.
		for _, v := range []string{"\x00", "a\xffb"} {
			add(sweepRequest{what: fmt.Sprintf("multipart field %s=%q", name, v), path: good, form: with(name, v), multipart: true})
		}
	}
	return out
}
