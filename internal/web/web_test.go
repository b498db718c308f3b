package web_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/rapportcrm/rapport/internal/auth"
	"github.com/rapportcrm/rapport/internal/customer"
	"github.com/rapportcrm/rapport/internal/insight"
	"github.com/rapportcrm/rapport/internal/store"
	"github.com/rapportcrm/rapport/internal/storetest"
	"github.com/rapportcrm/rapport/internal/web"
)

func TestLoginFormAndSessionCookie(t *testing.T) {
	forEngine(t, 0, func(t *testing.T, e *env) {
		b := e.anonymous()
		res := b.get("/login")
		if res.status != http.StatusOK || !strings.Contains(res.body, `name="email"`) || !strings.Contains(res.body, `name="password"`) {
			t.Fatalf("GET /login: %d %s", res.status, res.body)
		}
		// An email PostgreSQL cannot compare is a failed login, not a 500.
		if res := b.post("/login", url.Values{"email": {"admin\x00@example.com"}, "password": {"x"}}); res.status != http.StatusUnauthorized {
			t.Fatalf("NUL in the email: %d", res.status)
		}
		res = b.post("/login", url.Values{"email": {"admin@example.com"}, "password": {password(auth.Admin)}, "next": {"/settings/users"}})
		if res.status != http.StatusSeeOther || res.header.Get("Location") != "/settings/users" {
			t.Fatalf("POST /login: %d to %q", res.status, res.header.Get("Location"))
		}
		var sc *http.Cookie
		for _, c := range (&http.Response{Header: res.header}).Cookies() {
			if c.Name == web.SessionCookie {
				sc = c
			}
		}
		if sc == nil || !sc.HttpOnly || sc.SameSite != http.SameSiteLaxMode || sc.Secure || sc.Path != "/" {
			t.Fatalf("session cookie = %+v, want HttpOnly, SameSite=Lax, not Secure on plain HTTP", sc)
		}
		if res := b.get("/customers"); res.status != http.StatusOK {
			t.Fatalf("GET /customers after login: %d", res.status)
		}
		// The API accepts the same cookie.
		if res := b.post("/logout", nil); res.status != http.StatusSeeOther || res.header.Get("Location") != "/login" {
			t.Fatalf("logout: %d %q", res.status, res.header.Get("Location"))
		}
		if res := b.get("/customers"); res.status != http.StatusSeeOther || !strings.HasPrefix(res.header.Get("Location"), "/login?next=") {
			t.Fatalf("after logout /customers = %d %q, want a redirect to /login", res.status, res.header.Get("Location"))
		}
	})
}

func TestOpenRedirectAfterLoginIsRefused(t *testing.T) {
	e := newEnv(t, storetest.SQLite(t), 0)
	for _, next := range []string{"//evil.example/x", "https://evil.example/", `/\evil.example`} {
		res := e.anonymous().post("/login", url.Values{"email": {"rep@example.com"}, "password": {password(auth.Rep)}, "next": {next}})
		if loc := res.header.Get("Location"); loc != "/customers" {
			t.Errorf("next=%q redirected to %q, want /customers", next, loc)
		}
	}
}

func TestFailedLoginsAreRateLimitedPerAddressAndEmail(t *testing.T) {
	e := newEnv(t, storetest.SQLite(t), 0)
	b := e.anonymous()
	for i := range 5 {
		res := b.post("/login", url.Values{"email": {"rep@example.com"}, "password": {"wrong"}})
		if res.status != http.StatusUnauthorized || !strings.Contains(res.body, "Wrong email or password") {
			t.Fatalf("attempt %d: %d", i+1, res.status)
		}
	}
	res := b.post("/login", url.Values{"email": {"rep@example.com"}, "password": {password(auth.Rep)}})
	if res.status != http.StatusTooManyRequests || res.header.Get("Retry-After") == "" {
		t.Fatalf("sixth attempt with the right password: %d, want 429 with Retry-After", res.status)
	}
	// Another account from the same address is not locked out.
	if res := b.post("/login", url.Values{"email": {"viewer@example.com"}, "password": {password(auth.Viewer)}}); res.status != http.StatusSeeOther {
		t.Fatalf("other email: %d, want 303", res.status)
	}
}

func TestCrossSiteFormPostsAreRefused(t *testing.T) {
	e := newEnv(t, storetest.SQLite(t), 20)
	b := e.login(auth.Rep)
	id := e.data.Customers[0].ID
	before, _ := e.st.Notes(context.Background(), id, 1000)
	res := b.post("/customers/"+id+"/notes", url.Values{"body": {"forged"}}, "Sec-Fetch-Site", "cross-site", "Origin", "https://evil.example")
	if res.status != http.StatusForbidden {
		t.Fatalf("cross-site POST: %d, want 403", res.status)
	}
	res = e.anonymous().post("/login", url.Values{"email": {"rep@example.com"}, "password": {password(auth.Rep)}}, "Sec-Fetch-Site", "cross-site")
	if res.status != http.StatusForbidden {
		t.Fatalf("cross-site login POST: %d, want 403", res.status)
	}
	after, _ := e.st.Notes(context.Background(), id, 1000)
	if len(after) != len(before) {
		t.Fatalf("a refused request wrote a note")
	}
	// The same request from the page itself works.
	if res := b.post("/customers/"+id+"/notes", url.Values{"body": {"mine"}}, "Sec-Fetch-Site", "same-origin"); res.status != http.StatusSeeOther {
		t.Fatalf("same-origin POST: %d, want 303", res.status)
	}
}

func TestLanguageFollowsBrowserThenTheUsersChoice(t *testing.T) {
	forEngine(t, 5, func(t *testing.T, e *env) {
		anon := e.anonymous()
		if res := anon.get("/login", "Accept-Language", "zh-CN,zh;q=0.9,en;q=0.5"); !strings.Contains(res.body, "登录 Rapport") || !strings.Contains(res.body, `lang="zh-CN"`) {
			t.Fatalf("Chinese browser did not get Chinese login page")
		}
		if res := anon.get("/login", "Accept-Language", "en-US,en;q=0.9"); !strings.Contains(res.body, "Log in to Rapport") {
			t.Fatalf("English browser did not get English login page")
		}
		b := e.login(auth.Manager)
		zh := []string{"Accept-Language", "zh-CN"}
		if res := b.get("/customers", zh...); !strings.Contains(res.body, "导出 CSV") {
			t.Fatalf("customers page not in Chinese for a Chinese browser")
		}
		if res := b.get("/customers?lang=en", zh...); !strings.Contains(res.body, "Export CSV") {
			t.Fatalf("?lang=en did not switch to English")
		}
		u, err := e.st.UserByID(context.Background(), e.users[auth.Manager].ID)
		if err != nil || u.Locale != "en" {
			t.Fatalf("user locale = %q, %v; want en remembered", u.Locale, err)
		}
		// Remembered per user: a fresh login from a Chinese browser stays English.
		if res := e.login(auth.Manager).get("/customers", zh...); !strings.Contains(res.body, "Export CSV") {
			t.Fatalf("the user's language choice was not remembered")
		}
		if res := b.get("/customers?lang=zh-CN"); !strings.Contains(res.body, "导出 CSV") || !strings.Contains(res.body, `href="/customers?lang=en"`) {
			t.Fatalf("?lang=zh-CN did not switch to Chinese with a link back to English")
		}
	})
}

var rowName = regexp.MustCompile(`<a class="name" href="/customers/([^"]+)">([^<]+)</a>`)

func names(body string) (ids, ns []string) {
	for _, m := range rowName.FindAllStringSubmatch(body, -1) {
		ids, ns = append(ids, m[1]), append(ns, m[2])
	}
	return ids, ns
}

func TestInstantSearchFindsChinesePinyinEmailAndPhone(t *testing.T) {
	forEngine(t, 300, func(t *testing.T, e *env) {
		b := e.login(auth.Viewer)
		htmx := []string{"HX-Request", "true", "HX-Target", "results"}
		res := b.get("/customers?q="+url.QueryEscape("张"), htmx...)
		if res.status != http.StatusOK || strings.Contains(res.body, "<html") {
			t.Fatalf("htmx search should answer with the results fragment only: %d", res.status)
		}
		_, ns := names(res.body)
		if len(ns) == 0 {
			t.Fatal("no customer found for 张 in demo data")
		}
		for _, n := range ns {
			if !strings.Contains(n, "张") {
				t.Errorf("search 张 returned %q", n)
			}
		}
		var zhang *customer.Customer
		for i, c := range e.data.Customers {
			if strings.HasPrefix(c.Name, "张") && len(c.Identities) >= 2 {
				zhang = &e.data.Customers[i]
				break
			}
		}
		if zhang == nil {
			t.Fatal("demo data has no 张 with identities")
		}
		py, _ := customer.Pinyin(zhang.Name)
		queries := []string{py}
		for _, id := range zhang.Identities {
			switch id.Type {
			case customer.IdentityEmail:
				queries = append(queries, id.Value)
			case customer.IdentityPhone:
				queries = append(queries, id.Value[len(id.Value)-6:])
			}
		}
		for _, q := range queries {
			ids, _ := names(b.get("/customers?q="+url.QueryEscape(q), htmx...).body)
			if !slices.Contains(ids, zhang.ID) {
				t.Errorf("search %q did not find %s", q, zhang.Name)
			}
		}
	})
}

func TestFiltersSortAndPages(t *testing.T) {
	forEngine(t, 300, func(t *testing.T, e *env) {
		ctx := context.Background()
		b := e.login(auth.Analyst)
		// Tier filter: every row is in the tier.
		body := b.get("/customers?tier=gold").body
		ids, _ := names(body)
		if len(ids) == 0 {
			t.Fatal("no gold customers in scored demo data")
		}
		for _, id := range ids {
			c, _ := e.st.Customer(ctx, id)
			if c.Scores == nil || c.Scores.Tier != "gold" {
				t.Errorf("tier=gold listed %s with scores %+v", c.Name, c.Scores)
			}
		}
		// Kind filter.
		ids, _ = names(b.get("/customers?kind=organization").body)
		for _, id := range ids {
			if c, _ := e.st.Customer(ctx, id); c.Kind != customer.Organization {
				t.Errorf("kind=organization listed a %s", c.Kind)
			}
		}
		// Attribute filter.
		var city string
		for _, c := range e.data.Customers {
			if s, ok := c.Attributes["city"].(string); ok {
				city = s
				break
			}
		}
		ids, _ = names(b.get("/customers?ak=city&av=" + url.QueryEscape(city)).body)
		if len(ids) == 0 {
			t.Fatalf("no customer in %s", city)
		}
		for _, id := range ids {
			if c, _ := e.st.Customer(ctx, id); c.Attributes["city"] != city {
				t.Errorf("city=%s listed one in %v", city, c.Attributes["city"])
			}
		}
		// Sorted by name in pinyin order across two pages.
		first := b.get("/customers?sort=name").body
		_, n1 := names(first)
		next := regexp.MustCompile(`href="(/customers\?[^"]*cursor=[^"]+)" rel="next"`).FindStringSubmatch(first)
		if len(n1) != 50 || next == nil {
			t.Fatalf("first page: %d rows, next link %v", len(n1), next)
		}
		_, n2 := names(b.get(strings.ReplaceAll(next[1], "&amp;", "&")).body)
		all := append(n1, n2...)
		for i := 1; i < len(all); i++ {
			if customer.SortKey(htmlUnescape(all[i-1])) > customer.SortKey(htmlUnescape(all[i])) {
				t.Fatalf("not in pinyin order: %q before %q", all[i-1], all[i])
			}
		}
	})
}

func htmlUnescape(s string) string {
	return strings.NewReplacer("&amp;", "&", "&#39;", "'", "&quot;", `"`, "&lt;", "<", "&gt;", ">").Replace(s)
}

func TestExportIsTheCurrentView(t *testing.T) {
	forEngine(t, 300, func(t *testing.T, e *env) {
		ctx := context.Background()
		b := e.login(auth.Manager)
		want := 0
		f := store.Filter{Kind: "person", Limit: 500}
		for {
			p, err := e.st.ListCustomers(ctx, f)
			if err != nil {
				t.Fatal(err)
			}
			want += len(p.Items)
			if p.NextCursor == "" {
				break
			}
			f.Cursor = p.NextCursor
		}
		res := b.get("/customers/export?kind=person&lang=en")
		if res.status != http.StatusOK || !strings.HasPrefix(res.body, "\xEF\xBB\xBF") || !strings.Contains(res.header.Get("Content-Disposition"), ".csv") {
			t.Fatalf("csv export: %d %q", res.status, res.header)
		}
		recs, err := csv.NewReader(strings.NewReader(strings.TrimPrefix(res.body, "\xEF\xBB\xBF"))).ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		if len(recs)-1 != want || recs[0][1] != "Name" {
			t.Fatalf("csv has %d rows (header %v), want %d", len(recs)-1, recs[0], want)
		}
		for _, r := range recs[1:] {
			if r[2] != "Person" {
				t.Fatalf("kind=person export has a %q row", r[2])
			}
		}
		res = b.get("/customers/export?format=xlsx&kind=person")
		xf, err := excelize.OpenReader(bytes.NewReader([]byte(res.body)))
		if err != nil {
			t.Fatalf("xlsx export does not open: %v", err)
		}
		rows, err := xf.GetRows("Sheet1")
		if err != nil || len(rows)-1 != want {
			t.Fatalf("xlsx has %d rows, %v; want %d", len(rows)-1, err, want)
		}
	})
}

func TestBulkTagAndAssign(t *testing.T) {
	forEngine(t, 30, func(t *testing.T, e *env) {
		ctx := context.Background()
		b := e.login(auth.Manager)
		ids := []string{e.data.Customers[0].ID, e.data.Customers[1].ID}
		res := b.post("/customers/bulk", url.Values{"id": ids, "action": {"tag"}, "tag": {"回头客"}, "back": {"kind=person"}})
		if res.status != http.StatusSeeOther || res.header.Get("Location") != "/customers?kind=person" {
			t.Fatalf("bulk tag: %d %q", res.status, res.header.Get("Location"))
		}
		rep := e.users[auth.Rep].ID
		b.post("/customers/bulk", url.Values{"id": ids, "action": {"assign"}, "owner": {rep}})
		for _, id := range ids {
			c, _ := e.st.Customer(ctx, id)
			if !slices.Contains(c.Tags, "回头客") || c.OwnerID != rep {
				t.Errorf("%s: tags %v owner %s", c.Name, c.Tags, c.OwnerID)
			}
		}
		if !strings.Contains(b.get("/customers?lang=en").body, "Assigned 2 customers") {
			t.Error("no confirmation after the bulk action")
		}
		// Viewers may not.
		if res := e.login(auth.Viewer).post("/customers/bulk", url.Values{"id": ids, "action": {"untag"}, "tag": {"回头客"}}); res.status != http.StatusForbidden {
			t.Fatalf("viewer bulk: %d, want 403", res.status)
		}
	})
}

func TestSavedViews(t *testing.T) {
	forEngine(t, 10, func(t *testing.T, e *env) {
		b := e.login(auth.Rep)
		res := b.post("/customers/views", url.Values{"name": {"上海的机构"}, "query": {"kind=organization&ak=city&av=上海&cursor=abc"}})
		if res.status != http.StatusSeeOther {
			t.Fatalf("save view: %d", res.status)
		}
		body := b.get("/customers").body
		want := `href="/customers?ak=city&amp;av=%E4%B8%8A%E6%B5%B7&amp;kind=organization">上海的机构</a>`
		if !strings.Contains(body, want) {
			t.Fatalf("saved view link missing (cursor must be dropped): %s", body[strings.Index(body, "views"):][:600])
		}
		// Another user does not see it.
		if strings.Contains(e.login(auth.Viewer).get("/customers").body, "上海的机构") {
			t.Fatal("a saved view leaked to another user")
		}
		vs, _ := e.st.SavedViews(context.Background(), e.users[auth.Rep].ID)
		if res := b.post("/customers/views/"+vs[0].ID+"/delete", nil); res.status != http.StatusSeeOther {
			t.Fatalf("delete view: %d", res.status)
		}
		if strings.Contains(b.get("/customers").body, "上海的机构") {
			t.Fatal("deleted view still listed")
		}
	})
}

func TestCustomer360AnswersTheGrocersQuestions(t *testing.T) {
	forEngine(t, 300, func(t *testing.T, e *env) {
		ctx := context.Background()
		b := e.login(auth.Rep)
		// A customer with orders, a balance and a predicted next purchase.
		var c customer.Customer
		for _, d := range e.data.Customers {
			full, err := e.st.Customer(ctx, d.ID)
			if err != nil {
				t.Fatal(err)
			}
			if full.Stats.Orders >= 2 && full.Attributes["balance"] != nil && full.Scores != nil && full.Scores.ExpectedNextPurchase != nil {
				c = full
				break
			}
		}
		if c.ID == "" {
			t.Fatal("demo data has no customer with orders, balance and scores")
		}
		res := b.get("/customers/" + c.ID + "?lang=en")
		if res.status != http.StatusOK {
			t.Fatalf("360: %d", res.status)
		}
		top, err := e.st.TopProducts(ctx, c.ID, 5)
		if err != nil || len(top) == 0 {
			t.Fatalf("top products: %v %v", top, err)
		}
		for _, want := range []string{htmlEscape(c.Name), "What they buy", htmlEscape(top[0].Name), "Owes", "Expected back", "Lifetime value", "Timeline"} {
			if !strings.Contains(res.body, want) {
				t.Errorf("360 page lacks %q", want)
			}
		}
		overdue := c.Scores.ExpectedNextPurchase.Before(time.Now())
		if strings.Contains(res.body, "Overdue") != overdue {
			t.Errorf("overdue shown = %v, want %v (expected %v)", !overdue, overdue, c.Scores.ExpectedNextPurchase)
		}
		if res := b.get("/customers/" + c.ID + "?lang=zh-CN"); !strings.Contains(res.body, "购买了什么") || !strings.Contains(res.body, "欠款") {
			t.Error("360 page not in Chinese")
		}
		if res := b.get("/customers/nope"); res.status != http.StatusNotFound {
			t.Errorf("unknown customer: %d, want 404", res.status)
		}
	})
}

func htmlEscape(s string) string {
	return strings.NewReplacer("&", "&amp;", "'", "&#39;", `"`, "&#34;", "<", "&lt;", ">", "&gt;").Replace(s)
}

func TestQuickAddNoteAndInteractionUpdateTheTimelineInPlace(t *testing.T) {
	forEngine(t, 20, func(t *testing.T, e *env) {
		ctx := context.Background()
		b := e.login(auth.Rep)
		id := e.data.Customers[3].ID
		htmx := []string{"HX-Request", "true", "HX-Target", "timeline"}
		res := b.post("/customers/"+id+"/notes", url.Values{"body": {"喜欢明前龙井，周五来店"}}, htmx...)
		if res.status != http.StatusOK || !strings.HasPrefix(strings.TrimSpace(res.body), `<div id="timeline">`) || !strings.Contains(res.body, "喜欢明前龙井，周五来店") {
			t.Fatalf("note: %d %s", res.status, res.body)
		}
		res = b.post("/customers/"+id+"/interactions", url.Values{"kind": {"call"}, "summary": {"Called about the autumn tasting"}, "at": {"2025-03-04T10:30"}}, htmx...)
		if res.status != http.StatusOK || !strings.Contains(res.body, "Called about the autumn tasting") {
			t.Fatalf("interaction: %d", res.status)
		}
		ins, _ := e.st.Interactions(ctx, id, 100)
		found := false
		for _, in := range ins {
			found = found || (in.Summary == "Called about the autumn tasting" && in.Kind == "call" && in.UserID == e.users[auth.Rep].ID)
		}
		if !found {
			t.Fatal("interaction not stored with its author")
		}
		// Bad input is refused with a message, nothing stored.
		res = b.post("/customers/"+id+"/notes", url.Values{"body": {"   "}}, htmx...)
		if res.status != http.StatusUnprocessableEntity || !strings.Contains(res.body, "role=\"alert\"") {
			t.Fatalf("empty note: %d", res.status)
		}
		res = b.post("/customers/"+id+"/interactions", url.Values{"kind": {"telepathy"}, "summary": {"x"}}, htmx...)
		if res.status != http.StatusUnprocessableEntity {
			t.Fatalf("bad kind: %d", res.status)
		}
		// Text PostgreSQL cannot hold is refused on both engines, not
		// stored on one and a 500 on the other.
		for _, bad := range []string{"a\x00b", "a\xffb"} {
			res = b.post("/customers/"+id+"/notes", url.Values{"body": {bad}}, htmx...)
			if res.status != http.StatusUnprocessableEntity || !strings.Contains(res.body, "role=\"alert\"") {
				t.Fatalf("note %q: %d", bad, res.status)
			}
		}
		if res = b.get("/customers/" + id + "/timeline?type=%00"); res.status != http.StatusUnprocessableEntity {
			t.Fatalf("NUL in the query: %d", res.status)
		}
		if notes, _ := e.st.Notes(ctx, id, 100); len(notes) != 1 {
			t.Fatalf("%d notes stored, want the one good one", len(notes))
		}
		// Timeline filter.
		res = b.get("/customers/"+id+"/timeline?type=note", htmx...)
		if !strings.Contains(res.body, "喜欢明前龙井") || strings.Contains(res.body, "autumn tasting") {
			t.Fatal("timeline filter type=note shows other entries")
		}
	})
}

func TestStaleEditShowsConflictAndKeepsInput(t *testing.T) {
	forEngine(t, 10, func(t *testing.T, e *env) {
		ctx := context.Background()
		b := e.login(auth.Rep)
		c, _ := e.st.Customer(ctx, e.data.Customers[0].ID)
		form := b.get("/customers/" + c.ID + "/edit")
		if form.status != http.StatusOK || !strings.Contains(form.body, `name="version" value="`+itoa(c.Version)+`"`) {
			t.Fatalf("edit form: %d", form.status)
		}
		// Someone else saves first.
		if _, err := e.st.UpdateCustomer(ctx, store.SystemActor, c.ID, c.Version, func(x *customer.Customer) error {
			x.Name = "王老板"
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		in := url.Values{"version": {itoa(c.Version)}, "name": {"我的新名字"}, "kind": {"person"}, "tags": {"熟客, 批发"}, "emails": {""}, "phones": {""}}
		res := b.post("/customers/"+c.ID+"/edit?lang=en", in)
		if res.status != http.StatusConflict || !strings.Contains(res.body, "Someone else saved this customer") ||
			!strings.Contains(res.body, `value="我的新名字"`) || !strings.Contains(res.body, "熟客, 批发") || !strings.Contains(res.body, "王老板") {
			t.Fatalf("stale edit: %d\n%s", res.status, res.body)
		}
		now, _ := e.st.Customer(ctx, c.ID)
		if now.Name != "王老板" {
			t.Fatalf("stale edit overwrote the name: %q", now.Name)
		}
		// Saving again from the conflict form (which carries the new version) applies the user's input.
		in.Set("version", itoa(now.Version))
		if res := b.post("/customers/"+c.ID+"/edit", in); res.status != http.StatusSeeOther {
			t.Fatalf("second save: %d", res.status)
		}
		now, _ = e.st.Customer(ctx, c.ID)
		if now.Name != "我的新名字" || !slices.Equal(now.Tags, []string{"批发", "熟客"}) && !slices.Equal(now.Tags, []string{"熟客", "批发"}) {
			t.Fatalf("after second save: %q %v", now.Name, now.Tags)
		}
		// Validation errors come back on the form.
		in.Set("version", itoa(now.Version))
		in.Set("emails", "not-an-email")
		res = b.post("/customers/"+c.ID+"/edit", in)
		if res.status != http.StatusUnprocessableEntity || !strings.Contains(res.body, "not-an-email") || !strings.Contains(res.body, `class="field-error"`) {
			t.Fatalf("invalid email: %d", res.status)
		}
	})
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

func TestCreateCustomerFromTheForm(t *testing.T) {
	forEngine(t, 0, func(t *testing.T, e *env) {
		b := e.login(auth.Rep)
		res := b.post("/customers/new", url.Values{"name": {"李娜"}, "kind": {"person"}, "emails": {"Li.Na@Example.com"}, "phones": {"138 0013 8000"}, "tags": {"新客"}})
		loc := res.header.Get("Location")
		if res.status != http.StatusSeeOther || !strings.HasPrefix(loc, "/customers/") {
			t.Fatalf("create: %d %s", res.status, res.body)
		}
		c, err := e.st.Customer(context.Background(), strings.TrimPrefix(loc, "/customers/"))
		if err != nil || c.Name != "李娜" || len(c.Identities) != 2 || c.Identities[0].Value != "li.na@example.com" && c.Identities[1].Value != "li.na@example.com" {
			t.Fatalf("created %+v, %v", c, err)
		}
		if body := b.get(loc).body; !strings.Contains(body, "&#43;8613800138000") {
			t.Fatalf("normalized phone not on the page: %s", body)
		}
	})
}

func TestRoleAwareNavigationAndAccess(t *testing.T) {
	e := newEnv(t, storetest.SQLite(t), 5)
	cases := []struct {
		role                       auth.Role
		newButton, settings, users bool
	}{
		{auth.Admin, true, true, true},
		{auth.Manager, true, true, false},
		{auth.Rep, true, true, false},
		{auth.Viewer, false, true, false},
	}
	for _, c := range cases {
		b := e.login(c.role)
		body := b.get("/customers?lang=en").body
		if got := strings.Contains(body, `href="/customers/new"`); got != c.newButton {
			t.Errorf("%s: new-customer button shown = %v", c.role, got)
		}
		if got := strings.Contains(body, `href="/settings"`); got != c.settings {
			t.Errorf("%s: settings link shown = %v", c.role, got)
		}
		res := b.get("/settings/users")
		if (res.status == http.StatusOK) != c.users {
			t.Errorf("%s: /settings/users = %d", c.role, res.status)
		}
	}
}

func TestRepsSeeOnlyTheirOwnCustomersWhenTheWorkspaceSaysSo(t *testing.T) {
	e := newEnv(t, storetest.SQLite(t), 60)
	ctx := context.Background()
	if err := e.st.SetSetting(ctx, "reps_own_customers_only", true); err != nil {
		t.Fatal(err)
	}
	rep := e.users[auth.Rep].ID
	b := e.login(auth.Rep)
	ids, _ := names(b.get("/customers").body)
	for _, id := range ids {
		if c, _ := e.st.Customer(ctx, id); c.OwnerID != rep {
			t.Fatalf("rep sees %s owned by %s", c.Name, c.OwnerID)
		}
	}
	for _, c := range e.data.Customers {
		if c.OwnerID != rep {
			if res := b.get("/customers/" + c.ID); res.status != http.StatusNotFound {
				t.Fatalf("rep opened someone else's customer: %d", res.status)
			}
			break
		}
	}
}

func TestSettingsUsersKeysAndFields(t *testing.T) {
	forEngine(t, 0, func(t *testing.T, e *env) {
		b := e.login(auth.Admin)
		res := b.post("/settings/users", url.Values{"email": {"new.rep@example.com"}, "name": {"小王"}, "role": {"rep"}})
		pw := regexp.MustCompile(`<code id="new-password">([^<]+)</code>`).FindStringSubmatch(res.body)
		if res.status != http.StatusOK || pw == nil {
			t.Fatalf("create user: %d", res.status)
		}
		if res := e.anonymous().post("/login", url.Values{"email": {"new.rep@example.com"}, "password": {pw[1]}}); res.status != http.StatusSeeOther {
			t.Fatalf("new user cannot log in with the shown password: %d", res.status)
		}
		u, _ := e.st.UserByEmail(context.Background(), "new.rep@example.com")
		b.post("/settings/users/"+u.ID, url.Values{"action": {"disable"}})
		if res := e.anonymous().post("/login", url.Values{"email": {"new.rep@example.com"}, "password": {pw[1]}}); res.status != http.StatusUnauthorized {
			t.Fatalf("disabled user logged in: %d", res.status)
		}
		if res := b.post("/settings/users/"+e.users[auth.Admin].ID, url.Values{"action": {"role"}, "role": {"viewer"}}); res.status != http.StatusUnprocessableEntity {
			t.Fatalf("admin demoted themselves: %d", res.status)
		}

		res = b.post("/settings/keys", url.Values{"name": {"收银系统"}, "role": {"rep"}})
		key := regexp.MustCompile(`<code id="new-key">([^<]+)</code>`).FindStringSubmatch(res.body)
		if key == nil {
			t.Fatalf("create key: %d", res.status)
		}
		svc := &auth.Service{Store: e.st}
		if _, err := svc.APIKey(context.Background(), key[1]); err != nil {
			t.Fatalf("shown key does not work: %v", err)
		}
		ks, _ := e.st.ListAPIKeys(context.Background())
		if res := b.post("/settings/keys/"+ks[0].ID+"/revoke", nil); res.status != http.StatusSeeOther {
			t.Fatalf("revoke: %d %s", res.status, res.body)
		}
		// A fresh service: auth caches checked keys for up to auth.CacheTTL.
		if _, err := (&auth.Service{Store: e.st}).APIKey(context.Background(), key[1]); err == nil {
			t.Fatal("revoked key still works")
		}

		res = b.post("/settings/fields", url.Values{"key": {"Bad Key"}, "type": {"text"}})
		if res.status != http.StatusUnprocessableEntity || !strings.Contains(res.body, "field-error") {
			t.Fatalf("bad field key: %d", res.status)
		}
		res = b.post("/settings/fields", url.Values{"key": {"level"}, "type": {"enum"}, "label_en": {"Level"}, "label_zh": {"等级"}, "options": {"A，B, C"}})
		if res.status != http.StatusSeeOther {
			t.Fatalf("create field: %d %s", res.status, res.body)
		}
		fm, _ := e.st.FieldMap(context.Background())
		if !slices.Equal(fm["level"].Options, []string{"A", "B", "C"}) {
			t.Fatalf("field options = %v", fm["level"].Options)
		}
	})
}

func TestStaticAssetsAreEmbeddedAndCached(t *testing.T) {
	e := newEnv(t, storetest.SQLite(t), 0)
	b := e.anonymous()
	page := b.get("/login").body
	m := regexp.MustCompile(`src="(/static/vendor/htmx\.min\.js\?v=[0-9a-f]+)"`).FindStringSubmatch(page)
	if m == nil {
		t.Fatal("login page does not load htmx from /static")
	}
	res := b.get(m[1], "Accept-Encoding", "gzip")
	if res.status != http.StatusOK || !strings.Contains(res.header.Get("Cache-Control"), "immutable") || res.header.Get("Content-Encoding") != "gzip" {
		t.Fatalf("htmx: %d %v", res.status, res.header)
	}
	if res := b.get("/static/vendor/echarts.min.js"); res.status != http.StatusOK || !strings.Contains(res.body, "echarts") {
		t.Fatalf("echarts: %d", res.status)
	}
	if strings.Contains(page, "http://") || strings.Contains(page, "https://") {
		t.Fatal("a page refers to an outside URL")
	}
	if csp := b.get("/login").header.Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'self'") {
		t.Fatalf("CSP = %q", csp)
	}
}

func TestDashboardsDrawEveryChartWithAReading(t *testing.T) {
	forEngine(t, 400, func(t *testing.T, e *env) {
		b := e.login(auth.Analyst)
		for _, lang := range []string{"en", "zh-CN"} {
			res := b.get("/dashboards?lang=" + lang)
			if res.status != http.StatusOK {
				t.Fatalf("%s: %d", lang, res.status)
			}
			charts := strings.Count(res.body, `data-chart="`)
			readings := regexp.MustCompile(`<p class="reading">([^<]+)</p>`).FindAllStringSubmatch(res.body, -1)
			if charts < 6 || len(readings) != charts {
				t.Fatalf("%s: %d charts, %d readings", lang, charts, len(readings))
			}
			for _, r := range readings {
				if hasHan := regexp.MustCompile(`\p{Han}`).MatchString(r[1]); hasHan != (lang == "zh-CN") {
					t.Errorf("%s reading in the wrong language: %q", lang, r[1])
				}
			}
		}
		if res := e.login(auth.Rep).get("/dashboards"); res.status != http.StatusForbidden {
			t.Fatalf("rep opened dashboards: %d", res.status)
		}
	})
}

func TestBusinessProfileSettings(t *testing.T) {
	forEngine(t, 0, func(t *testing.T, e *env) {
		b := e.login(auth.Admin)
		if res := b.get("/settings/profile?lang=en"); res.status != http.StatusOK || !strings.Contains(res.body, "Purchase cycle") {
			t.Fatalf("profile page: %d", res.status)
		}
		res := b.post("/settings/profile", url.Values{"purchase_cycle_days": {"7"}, "cost.call": {"5"}, "cost.visit": {"40"}, "marketing_cost_per_customer": {"12.5"}})
		if res.status != http.StatusSeeOther {
			t.Fatalf("save: %d %s", res.status, res.body)
		}
		var p insight.Profile
		if _, err := e.st.Setting(context.Background(), insight.ProfileSetting, &p); err != nil {
			t.Fatal(err)
		}
		if p.PurchaseCycleDays != 7 || p.CostToServe["call"] != 5 || p.CostToServe["visit"] != 40 || p.MarketingCostPerCustomer != 12.5 || p.HorizonDays != 0 {
			t.Fatalf("stored profile = %+v", p)
		}
		res = b.post("/settings/profile?lang=en", url.Values{"purchase_cycle_days": {"weekly"}, "cost.call": {"-3"}})
		if res.status != http.StatusUnprocessableEntity || !strings.Contains(res.body, "Enter a number, at most one trillion.") {
			t.Fatalf("bad input: %d", res.status)
		}
		// A cost no business has would overflow the profit sums.
		if res := b.post("/settings/profile?lang=en", url.Values{"purchase_cycle_days": {"7"}, "cost.call": {"1e308"}}); res.status != http.StatusUnprocessableEntity {
			t.Fatalf("cost 1e308: %d", res.status)
		}
		if res := e.login(auth.Manager).get("/settings/profile"); res.status != http.StatusForbidden {
			t.Fatalf("manager opened the profile: %d", res.status)
		}
	})
}

func TestCustomer360SuggestsWhatSimilarBuyersTook(t *testing.T) {
	forEngine(t, 300, func(t *testing.T, e *env) {
		ctx := context.Background()
		b := e.login(auth.Rep)
		for _, d := range e.data.Customers {
			a, err := e.ui.Insight.Associations(ctx, insight.AssociationQuery{CustomerID: d.ID})
			if err != nil || len(a.Suggestions) == 0 {
				continue
			}
			res := b.get("/customers/" + d.ID + "?lang=en")
			first := a.Names[a.Suggestions[0].Item]
			if res.status != http.StatusOK || !strings.Contains(res.body, "They may also like") || !strings.Contains(res.body, htmlEscape(first)) {
				t.Fatalf("360 page of %s lacks the suggestion %q (%d)", d.Name, first, res.status)
			}
			if res := b.get("/customers/" + d.ID + "?lang=zh-CN"); !strings.Contains(res.body, "可能还想买") {
				t.Fatal("suggestions not in Chinese")
			}
			return
		}
		t.Fatal("no demo customer has a cross-sell suggestion")
	})
}
