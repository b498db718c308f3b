package web_test

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/rapportcrm/rapport/internal/auth"
	"github.com/rapportcrm/rapport/internal/customer"
	"github.com/rapportcrm/rapport/internal/store"
	"github.com/rapportcrm/rapport/internal/targeting"
)

var segmentCreated = regexp.MustCompile(`^/segments/([^/?]+)$`)

// shanghai counts the env's customers whose city is 上海, independently of
// the rule compiler.
func shanghai(e *env) (n int) {
	for _, c := range e.data.Customers {
		if c.Attributes["city"] == "上海" {
			n++
		}
	}
	return n
}

func TestSegmentIsWrittenPreviewedSavedAndShown(t *testing.T) {
	forEngine(t, 150, func(t *testing.T, e *env) {
		ctx := context.Background()
		svc := &targeting.Service{Store: e.st, Region: "CN"}
		e.ui.Targeting = svc
		want := shanghai(e)
		if want == 0 {
			t.Fatal("the demo data has nobody in 上海")
		}
		m := e.login(auth.Manager)

		form := m.get("/segments/new")
		if form.status != http.StatusOK || !strings.Contains(form.body, `id="builder"`) || !strings.Contains(form.body, `&#34;name&#34;:&#34;city&#34;`) {
			t.Fatalf("new segment form: %d, builder with the city field missing", form.status)
		}

		// The preview counts as the rule is typed (htmx fragment)…
		rule := `city = "上海"`
		res := m.post("/segments/preview", url.Values{"rule": {rule}}, "HX-Request", "true")
		if res.status != http.StatusOK || !strings.Contains(res.body, `id="preview"`) || strings.Contains(res.body, "<html") {
			t.Fatalf("preview fragment: %d %s", res.status, res.body)
		}
		if !strings.Contains(res.body, itoa(int64(want))+" customers match") {
			t.Fatalf("preview does not count %d customers in 上海: %s", want, res.body)
		}
		// …and without JavaScript the preview comes back inside the whole form.
		res = m.post("/segments/preview", url.Values{"rule": {rule}, "name": {"上海客户"}})
		if res.status != http.StatusOK || !strings.Contains(res.body, "<html") || !strings.Contains(res.body, `value="上海客户"`) {
			t.Fatalf("plain preview: %d", res.status)
		}

		// Save it: the segment page shows the count and its members.
		res = m.post("/segments/new", url.Values{"name": {"上海客户"}, "rule": {rule}})
		if res.status != http.StatusSeeOther {
			t.Fatalf("save segment: %d %s", res.status, res.body)
		}
		mm := segmentCreated.FindStringSubmatch(res.header.Get("Location"))
		if mm == nil {
			t.Fatalf("saved segment redirected to %q", res.header.Get("Location"))
		}
		id := mm[1]
		seg, err := e.st.Segment(ctx, id)
		if err != nil || seg.MemberCount != int64(want) || seg.Rule != rule {
			t.Fatalf("stored segment %+v %v, want %d members", seg, err, want)
		}
		page := m.get("/segments/" + id)
		if page.status != http.StatusOK || !strings.Contains(page.body, `id="segment-count">`+itoa(int64(want))+`<`) ||
			!strings.Contains(page.body, `/lists/new?segment=`+id) || !strings.Contains(page.body, "Segment “上海客户” saved") {
			t.Fatalf("segment page: %d", page.status)
		}
		if got := strings.Count(page.body[strings.Index(page.body, `id="members"`):], `<a href="/customers/`); got != min(want, 50) {
			t.Errorf("segment page lists %d members, want %d", got, min(want, 50))
		}
		if list := m.get("/segments"); !strings.Contains(list.body, `data-segment="`+id+`"`) || !strings.Contains(list.body, "上海客户") {
			t.Errorf("/segments does not list the new segment")
		}
		// Chinese.
		if zh := m.get("/segments/" + id + "?lang=zh-CN"); !strings.Contains(zh.body, "生成目标名单") || !strings.Contains(zh.body, "成员数") {
			t.Errorf("segment page in Chinese lacks its labels")
		}

		// Someone moves to 上海: re-evaluating logs their entry, shown on the
		// segment's page and on their own timeline.
		var mover customer.Customer
		for _, c := range e.data.Customers {
			if c.Attributes["city"] != "上海" && c.Kind == customer.Person {
				mover = c
				break
			}
		}
		cur, err := e.st.Customer(ctx, mover.ID)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.st.UpdateCustomer(ctx, store.SystemActor, mover.ID, cur.Version, func(c *customer.Customer) error {
			c.Attributes["city"] = "上海"
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		m.get("/segments?lang=en") // back to English
		if res := m.post("/segments/"+id+"/refresh", nil); res.status != http.StatusSeeOther {
			t.Fatalf("refresh: %d", res.status)
		}
		page = m.get("/segments/" + id)
		if !strings.Contains(page.body, "1 entered, 0 left") || !strings.Contains(page.body[strings.Index(page.body, `id="segment-events"`):], htmlEscape(mover.Name)) {
			t.Errorf("after the refresh the segment page does not show %s entering", mover.Name)
		}
		if tl := m.get("/customers/" + mover.ID + "/timeline?type=segment"); !strings.Contains(tl.body, "Entered the segment “上海客户”") {
			t.Errorf("the customer's timeline does not show the entry: %s", tl.body)
		}
		if res := m.post("/segments/"+id+"/delete", nil); res.status != http.StatusSeeOther || res.header.Get("Location") != "/segments" {
			t.Fatalf("delete: %d %q", res.status, res.header.Get("Location"))
		}
		if _, err := e.st.Segment(ctx, id); err == nil {
			t.Fatal("the segment is still there after delete")
		}
	})
}

func TestBadRuleIsPlacedAndTheInputKept(t *testing.T) {
	forEngine(t, 20, func(t *testing.T, e *env) {
		e.ui.Targeting = &targeting.Service{Store: e.st, Region: "CN"}
		m := e.login(auth.Manager)
		rule := "tier = \"gold\" and\ncity = 上海"
		res := m.post("/segments/new", url.Values{"name": {"坏规则"}, "rule": {rule}})
		if res.status != http.StatusUnprocessableEntity {
			t.Fatalf("bad rule saved? status %d", res.status)
		}
		// The mistake is on line 2, column 8: the unquoted 上海, marked under it.
		for _, want := range []string{`value="坏规则"`, htmlEscape(rule), `class="rule-caret"`, "city = 上海\ncity = <mark>^</mark>", "line 2"} {
			if !strings.Contains(res.body, want) {
				t.Errorf("the form after a bad rule lacks %q", want)
			}
		}
		zh := m.post("/segments/preview?lang=zh-CN", url.Values{"rule": {`tier in ("gold" "silver")`}}, "HX-Request", "true")
		if zh.status != http.StatusOK || !strings.Contains(zh.body, "第 1 行") {
			t.Errorf("preview of a bad rule in Chinese: %d %s", zh.status, zh.body)
		}
		// A missing name is a field error in the user's language, not a 500.
		res = m.post("/segments/new?lang=zh-CN", url.Values{"name": {""}, "rule": {`city = "上海"`}})
		if res.status != http.StatusUnprocessableEntity || !strings.Contains(res.body, "请为分群命名") {
			t.Errorf("nameless segment: %d", res.status)
		}
	})
}

func TestSegmentPagesCheckRoles(t *testing.T) {
	forEngine(t, 20, func(t *testing.T, e *env) {
		svc := &targeting.Service{Store: e.st, Region: "CN"}
		e.ui.Targeting = svc
		seg, err := svc.CreateSegment(context.Background(), store.SystemActor, "全部", `orders >= 0`)
		if err != nil {
			t.Fatal(err)
		}
		v := e.login(auth.Viewer)
		if res := v.get("/segments/" + seg.ID); res.status != http.StatusOK || strings.Contains(res.body, `id="delete-segment"`) {
			t.Errorf("viewer: segment page %d, or it offers delete", res.status)
		}
		for _, path := range []string{"/segments/new", "/segments/" + seg.ID + "/delete", "/segments/" + seg.ID + "/refresh"} {
			var res response
			if path == "/segments/new" {
				res = v.get(path)
			} else {
				res = v.post(path, nil)
			}
			if res.status != http.StatusForbidden {
				t.Errorf("viewer %s: %d, want 403", path, res.status)
			}
		}
		if _, err := e.st.Segment(context.Background(), seg.ID); err != nil {
			t.Fatalf("the viewer's delete went through: %v", err)
		}
		if res := e.anonymous().get("/segments"); res.status != http.StatusSeeOther {
			t.Errorf("anonymous /segments: %d, want a redirect to log in", res.status)
		}
	})
}
