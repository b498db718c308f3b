package web_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/rapportcrm/rapport/internal/auth"
	"github.com/rapportcrm/rapport/internal/store"
	"github.com/rapportcrm/rapport/internal/storetest"
	"github.com/rapportcrm/rapport/internal/targeting"
)

// withTargeting turns the targeting pages on over e's store and adds a
// segment holding every customer.
func withTargeting(t testing.TB, e *env) (svc *targeting.Service, segmentID string) {
	t.Helper()
	svc = &targeting.Service{Store: e.st, Region: "CN"}
	e.ui.Targeting = svc
	seg, err := svc.CreateSegment(context.Background(), store.SystemActor, "所有客户", `orders >= 0`)
	if err != nil {
		t.Fatal(err)
	}
	return svc, seg.ID
}

var (
	taskAttr    = regexp.MustCompile(`data-task="([^"]+)" data-status="open"`)
	listCreated = regexp.MustCompile(`^/lists/([^/?]+)$`)
)

func openTasks(body string) []string {
	var out []string
	for _, m := range taskAttr.FindAllStringSubmatch(body, -1) {
		out = append(out, m[1])
	}
	return out
}

// createList posts the new-list form and returns the new list's id.
func createList(t *testing.T, b *browser, form url.Values) string {
	t.Helper()
	res := b.post("/lists/new", form)
	if res.status != http.StatusSeeOther {
		t.Fatalf("create list: %d %s", res.status, res.body)
	}
	m := listCreated.FindStringSubmatch(res.header.Get("Location"))
	if m == nil {
		t.Fatalf("create list redirected to %q", res.header.Get("Location"))
	}
	return m[1]
}

func TestListWithControlGroupIsWorkedFromTasksAndMeasuredOnTheBoard(t *testing.T) {
	forEngine(t, 120, func(t *testing.T, e *env) {
		ctx := context.Background()
		_, seg := withTargeting(t, e)
		rep := e.users[auth.Rep].ID
		m := e.login(auth.Manager)

		if res := m.get("/lists/new?segment=" + seg); res.status != http.StatusOK || !strings.Contains(res.body, `value="`+seg+`" selected`) {
			t.Fatalf("new list form does not preselect the segment: %d", res.status)
		}
		id := createList(t, m, url.Values{"name": {"回访名单"}, "segment_id": {seg}, "control": {"30"}, "assign": {"round_robin"},
			"reps": {rep}, "due_days": {"3"}, "attribution_days": {"30"}, "script": {"问候并介绍新品"}})
		l, err := e.st.List(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		exp, err := e.st.ExperimentOfList(ctx, id)
		if err != nil || exp == nil {
			t.Fatalf("the list has no experiment: %v", err)
		}
		if l.Size != 120 || l.Tasks == 0 || l.Tasks >= l.Size || l.DueAt == nil {
			t.Fatalf("list size %d tasks %d due %v: want 120 customers, some held out, a due date", l.Size, l.Tasks, l.DueAt)
		}
		page := m.get("/lists/" + id)
		for _, want := range []string{"Control (not contacted)", "Contacted", "Sample ratio check", "95% confidence interval", `id="list-size">120<`} {
			if !strings.Contains(page.body, want) {
				t.Errorf("list page lacks %q", want)
			}
		}

		// The rep works the list from /tasks: every open task is theirs.
		r := e.login(auth.Rep)
		res := r.get("/tasks")
		ids := openTasks(res.body)
		if len(ids) != min(l.Tasks, 50) || !strings.Contains(res.body, "问候并介绍新品") {
			t.Fatalf("rep sees %d open tasks, want %d, with the script", len(ids), min(l.Tasks, 50))
		}
		// Plain form post, then back to /tasks.
		res = r.post("/tasks/"+ids[0]+"/outcome", url.Values{"outcome": {"bought"}, "notes": {"买了两盒"}, "back": {"/tasks?assignee=me&status=open"}})
		if res.status != http.StatusSeeOther || res.header.Get("Location") != "/tasks?assignee=me&status=open" {
			t.Fatalf("record outcome: %d to %q", res.status, res.header.Get("Location"))
		}
		// htmx: the task is replaced in place.
		res = r.post("/tasks/"+ids[1]+"/outcome", url.Values{"outcome": {"declined"}}, "HX-Request", "true")
		if res.status != http.StatusOK || !strings.Contains(res.body, `data-status="done"`) || !strings.Contains(res.body, "Declined") {
			t.Fatalf("htmx outcome: %d %s", res.status, res.body)
		}
		if tk, _ := e.st.Task(ctx, ids[0]); tk.Outcome != "bought" || tk.Notes != "买了两盒" {
			t.Fatalf("task after outcome: %+v", tk)
		}
		if got := openTasks(r.get("/tasks").body); len(got) != min(l.Tasks-2, 50) {
			t.Errorf("after two outcomes %d open tasks shown, want %d", len(got), min(l.Tasks-2, 50))
		}

		// One of two recorded outcomes responded: 50%, on the lists, the
		// list page and the board, which everyone may see.
		if res := m.get("/lists"); !strings.Contains(res.body, `data-list="`+id+`"`) || !strings.Contains(res.body, "50%") {
			t.Errorf("/lists does not show the list with its 50%% response rate")
		}
		if res := m.get("/lists/" + id); !strings.Contains(res.body, `id="response-rate">50%<`) {
			t.Errorf("list page does not show the 50%% response rate")
		}
		for _, role := range []auth.Role{auth.Viewer, auth.Rep, auth.Analyst} {
			res := e.login(role).get("/board")
			if res.status != http.StatusOK || !strings.Contains(res.body, `data-list="`+id+`"`) || !strings.Contains(res.body, `class="response">50%<`) ||
				!strings.Contains(res.body, "data-chart=") || !strings.Contains(res.body, "control group:") {
				t.Errorf("%s: board %d does not show the list's 50%% response and reading", role, res.status)
			}
		}
		if res := e.login(auth.Viewer).get("/board?lang=zh-CN"); !strings.Contains(res.body, "成效榜") || !strings.Contains(res.body, "对照组") {
			t.Error("the board is not in Chinese")
		}
	})
}

func TestListFormKeepsInputAndExplainsErrorsInBothLanguages(t *testing.T) {
	e := newEnv(t, storetest.SQLite(t), 30)
	_, seg := withTargeting(t, e)
	m := e.login(auth.Manager)
	cases := []struct {
		name string
		form url.Values
		want []string
	}{
		{"not a number", url.Values{"name": {"前 N"}, "score": {"clv"}, "top_n": {"abc"}, "script": {"记得说明优惠"}},
			[]string{"Enter a whole number.", "记得说明优惠", `value="前 N"`, `value="clv" selected`}},
		{"no name, no source", url.Values{"name": {""}, "control": {"20"}, "script": {"保留我"}},
			[]string{"Give the list a name", "Choose a segment, or rank by a score", "保留我"}},
		{"control out of range", url.Values{"name": {"x"}, "segment_id": {seg}, "control": {"150"}},
			[]string{"Enter a control share from 0 to 99", `value="150"`}},
		{"round robin without reps", url.Values{"name": {"x"}, "segment_id": {seg}, "assign": {"round_robin"}, "due_days": {"5"}},
			[]string{"Choose at least one rep", `value="5"`}},
		{"segment gone", url.Values{"name": {"x"}, "segment_id": {"no-such-segment"}},
			[]string{"no longer exists"}},
	}
	for _, c := range cases {
		res := m.post("/lists/new", c.form)
		if res.status != http.StatusUnprocessableEntity {
			t.Errorf("%s: status %d, want 422", c.name, res.status)
			continue
		}
		for _, w := range c.want {
			if !strings.Contains(res.body, htmlEscape(w)) && !strings.Contains(res.body, w) {
				t.Errorf("%s: page lacks %q", c.name, w)
			}
		}
	}
	m.get("/lists/new?lang=zh-CN")
	res := m.post("/lists/new", url.Values{"name": {"前 N"}, "score": {"clv"}, "top_n": {"abc"}})
	if res.status != http.StatusUnprocessableEntity || !strings.Contains(res.body, "请填写整数。") || !strings.Contains(res.body, "新建名单") {
		t.Errorf("Chinese error: %d", res.status)
	}
	if lists, _ := e.st.Lists(context.Background(), ""); len(lists) != 0 {
		t.Errorf("bad input created %d lists", len(lists))
	}
	// A top-N list by score is made without a segment.
	id := createList(t, m, url.Values{"name": {"高价值"}, "score": {"clv"}, "top_n": {"10"}, "control": {"0"}, "assign": {"none"}})
	if l, _ := e.st.List(context.Background(), id); l.Size != 10 || l.Source != "score" {
		t.Errorf("top-10 list: %+v", l)
	}
	if res := m.get("/lists/" + id); !strings.Contains(res.body, "no control group") && !strings.Contains(res.body, "没有对照组") {
		t.Error("a list without control does not say it is compared with history")
	}
}

func TestTargetingPagesCheckRoles(t *testing.T) {
	e := newEnv(t, storetest.SQLite(t), 40)
	ctx := context.Background()
	_, seg := withTargeting(t, e)
	m := e.login(auth.Manager)
	id := createList(t, m, url.Values{"name": {"名单"}, "segment_id": {seg}, "control": {"20"}, "assign": {"round_robin"},
		"reps": {e.users[auth.Manager].ID}})

	rep, viewer := e.login(auth.Rep), e.login(auth.Viewer)
	for _, c := range []struct {
		b      *browser
		method string
		path   string
		want   int
	}{
		{rep, "GET", "/lists/new", http.StatusForbidden},
		{rep, "POST", "/lists/new", http.StatusForbidden},
		{viewer, "POST", "/initiatives", http.StatusForbidden},
		{rep, "POST", "/lists/" + id + "/costs", http.StatusForbidden},
		{viewer, "GET", "/board", http.StatusOK},
		{viewer, "GET", "/initiatives", http.StatusOK},
		{viewer, "GET", "/lists", http.StatusOK},
		{viewer, "GET", "/lists/" + id, http.StatusOK},
		{viewer, "GET", "/tasks", http.StatusOK},
		{e.anonymous(), "GET", "/board", http.StatusSeeOther},
	} {
		var res response
		if c.method == "GET" {
			res = c.b.get(c.path)
		} else {
			res = c.b.post(c.path, url.Values{"name": {"x"}})
		}
		if res.status != c.want {
			t.Errorf("%s %s: %d, want %d", c.method, c.path, res.status, c.want)
		}
	}
	if strings.Contains(viewer.get("/lists").body, `href="/lists/new"`) {
		t.Error("a viewer is offered to create lists")
	}

	// Every task is the manager's: a viewer may not record, a rep may not
	// record on someone else's task, and /tasks?assignee=all is only a
	// filter for those who manage targeting.
	tasks, err := e.st.Tasks(ctx, store.TaskFilter{ListID: id})
	if err != nil || len(tasks) == 0 {
		t.Fatal(err, len(tasks))
	}
	tk := tasks[0].ID
	if res := viewer.post("/tasks/"+tk+"/outcome", url.Values{"outcome": {"reached"}}); res.status != http.StatusForbidden {
		t.Errorf("viewer recorded an outcome: %d", res.status)
	}
	if res := rep.post("/tasks/"+tk+"/outcome", url.Values{"outcome": {"reached"}}); res.status != http.StatusForbidden {
		t.Errorf("rep recorded on the manager's task: %d", res.status)
	}
	if got := openTasks(rep.get("/tasks?assignee=all").body); len(got) != 0 {
		t.Errorf("a rep listed everyone's tasks: %d", len(got))
	}
	if got := openTasks(m.get("/tasks?assignee=" + e.users[auth.Rep].ID).body); len(got) != 0 {
		t.Errorf("the rep has no tasks, the filter shows %d", len(got))
	}
	if got := openTasks(e.login(auth.Admin).get("/tasks?assignee=all").body); len(got) == 0 {
		t.Error("an admin filtering by everyone sees no tasks")
	}
	// A manager's bad outcome comes back with the notes kept.
	res := m.post("/tasks/"+tk+"/outcome", url.Values{"outcome": {""}, "notes": {"电话没人接，明天再打"}, "back": {"https://evil.example/"}})
	if res.status != http.StatusUnprocessableEntity || !strings.Contains(res.body, "Choose an outcome.") || !strings.Contains(res.body, "电话没人接，明天再打") {
		t.Errorf("bad outcome: %d", res.status)
	}
	res = m.post("/tasks/"+tk+"/outcome", url.Values{"outcome": {"reached"}, "back": {"https://evil.example/"}})
	if res.status != http.StatusSeeOther || res.header.Get("Location") != "/tasks" {
		t.Errorf("outcome redirected to %q, want /tasks", res.header.Get("Location"))
	}

	// Reps kept to their own customers see only their own tasks.
	if err := e.st.SetSetting(ctx, "reps_own_customers_only", true); err != nil {
		t.Fatal(err)
	}
	if got := openTasks(rep.get("/lists/" + id).body); len(got) != 0 {
		t.Errorf("a rep kept to their own sees %d of the manager's tasks on the list", len(got))
	}
}

func TestOutcomeFromTheCustomerPage(t *testing.T) {
	e := newEnv(t, storetest.SQLite(t), 20)
	ctx := context.Background()
	_, seg := withTargeting(t, e)
	rep := e.users[auth.Rep].ID
	id := createList(t, e.login(auth.Manager), url.Values{"name": {"名单"}, "segment_id": {seg}, "control": {"0"}, "assign": {"round_robin"},
		"reps": {rep}, "script": {"介绍会员日"}, "due_days": {"2"}})
	tasks, _ := e.st.Tasks(ctx, store.TaskFilter{ListID: id, Limit: 1})
	cust := tasks[0].CustomerID
	r := e.login(auth.Rep)
	if res := r.get("/customers/" + cust); !strings.Contains(res.body, `hx-get="/customers/`+cust+`/tasks"`) {
		t.Fatal("the customer page does not load its tasks")
	}
	res := r.get("/customers/"+cust+"/tasks", "HX-Request", "true")
	if !strings.Contains(res.body, "介绍会员日") || !strings.Contains(res.body, `action="/customers/`+cust+`/outcome"`) || !strings.Contains(res.body, "Due ") {
		t.Fatalf("customer task panel: %s", res.body)
	}
	// Five days on, the tasks are overdue.
	e.ui.Now = func() time.Time { return time.Now().Add(5 * 24 * time.Hour) }
	if res := r.get("/tasks"); !strings.Contains(res.body, "overdue-task") || !strings.Contains(res.body, "Overdue since") {
		t.Error("/tasks does not mark overdue tasks")
	}
	if res := r.get("/customers/"+cust+"/tasks", "HX-Request", "true"); !strings.Contains(res.body, "Overdue since") {
		t.Error("the customer panel does not mark an overdue task")
	}
	e.ui.Now = nil
	res = r.post("/customers/"+cust+"/outcome", url.Values{"list_id": {id}, "notes": {"稍后回电"}}, "HX-Request", "true")
	if !strings.Contains(res.body, "Choose an outcome.") || !strings.Contains(res.body, "稍后回电") {
		t.Errorf("missing outcome: %s", res.body)
	}
	res = r.post("/customers/"+cust+"/outcome", url.Values{"list_id": {id}, "outcome": {"interested"}}, "HX-Request", "true")
	if !strings.Contains(res.body, "Outcome recorded: Interested.") {
		t.Errorf("recorded: %s", res.body)
	}
	if tk, _ := e.st.Task(ctx, tasks[0].ID); tk.Outcome != "interested" {
		t.Errorf("task outcome %q", tk.Outcome)
	}
	res = r.post("/customers/"+cust+"/outcome", url.Values{"outcome": {"bought"}})
	if res.status != http.StatusSeeOther {
		t.Errorf("no open task left: %d", res.status)
	}
}

func TestInitiativePortfolioWithStagesAndCosts(t *testing.T) {
	e := newEnv(t, storetest.SQLite(t), 40)
	ctx := context.Background()
	_, seg := withTargeting(t, e)
	a := e.login(auth.Analyst)
	res := a.post("/initiatives", url.Values{"name": {"金卡挽回"}, "hypothesis": {"电话回访能挽回"}, "budget": {"很多"}, "segment_id": {seg}})
	if res.status != http.StatusUnprocessableEntity || !strings.Contains(res.body, "Enter a number") || !strings.Contains(res.body, "电话回访能挽回") {
		t.Fatalf("bad budget: %d", res.status)
	}
	res = a.post("/initiatives", url.Values{"name": {"金卡挽回"}, "hypothesis": {"电话回访能挽回"}, "budget": {"5,000"}, "segment_id": {seg}, "stage": {"explore"}})
	if res.status != http.StatusSeeOther {
		t.Fatalf("create initiative: %d %s", res.status, res.body)
	}
	in := strings.TrimPrefix(res.header.Get("Location"), "/initiatives/")
	if got, err := e.st.Initiative(ctx, in); err != nil || got.Budget != 5000 {
		t.Fatalf("initiative %+v %v", got, err)
	}
	page := a.get("/initiatives/" + in)
	if !strings.Contains(page.body, `/lists/new?initiative=`+in) {
		t.Error("the initiative page offers no list for it")
	}
	list := createList(t, a, url.Values{"name": {"第一轮"}, "segment_id": {seg}, "control": {"50"}, "initiative_id": {in}})
	if l, _ := e.st.List(ctx, list); l.InitiativeID != in {
		t.Fatalf("list not in the initiative")
	}

	res = a.post("/initiatives/"+in+"/costs", url.Values{"hours": {"十"}, "note": {"电话费"}})
	if res.status != http.StatusUnprocessableEntity || !strings.Contains(res.body, "Enter a number") || !strings.Contains(res.body, "电话费") {
		t.Errorf("bad cost: %d", res.status)
	}
	res = a.post("/initiatives/"+in+"/costs", url.Values{"money": {"1e308"}})
	if res.status != http.StatusUnprocessableEntity || !strings.Contains(res.body, "up to one trillion") {
		t.Errorf("cost 1e308: %d", res.status)
	}
	res = a.post("/initiatives/"+in+"/costs", url.Values{})
	if res.status != http.StatusUnprocessableEntity || !strings.Contains(res.body, "Enter hours and an hourly rate") {
		t.Errorf("empty cost: %d", res.status)
	}
	if res := a.post("/initiatives/"+in+"/costs", url.Values{"hours": {"10"}, "hourly_rate": {"50"}, "money": {"200"}}); res.status != http.StatusSeeOther {
		t.Fatalf("add cost: %d %s", res.status, res.body)
	}
	if res := a.post("/lists/"+list+"/costs", url.Values{"money": {"100"}}); res.status != http.StatusSeeOther {
		t.Fatalf("add list cost: %d", res.status)
	}
	if res := a.post("/initiatives/"+in+"/stage", url.Values{"stage": {"pilot"}}); res.status != http.StatusSeeOther {
		t.Fatalf("stage: %d", res.status)
	}
	page = a.get("/initiatives/" + in)
	if !strings.Contains(page.body, `id="stage">Pilot<`) || !strings.Contains(page.body, `800.00</span>`) || !strings.Contains(page.body, "第一轮") {
		t.Errorf("initiative page after stage and costs lacks pilot stage, cost 800 or its list")
	}
	p := e.login(auth.Viewer).get("/initiatives")
	if !strings.Contains(p.body, `data-initiative="`+in+`"`) || !strings.Contains(p.body, "flag-") || strings.Contains(p.body, `id="initiative-form"`) {
		t.Error("portfolio does not list the initiative with a flag, or offers a viewer the form")
	}
	if p := a.get("/initiatives?lang=zh-CN"); !strings.Contains(p.body, "举措") || !strings.Contains(p.body, "试点") {
		t.Error("portfolio is not in Chinese")
	}
	if b := a.get("/board"); !strings.Contains(b.body, `href="/initiatives"`) {
		t.Error("the board does not link the initiatives")
	}
}

func TestTargetingPagesSayWhenTargetingIsOff(t *testing.T) {
	e := newEnv(t, storetest.SQLite(t), 0)
	res := e.login(auth.Viewer).get("/board")
	if res.status != http.StatusServiceUnavailable || !strings.Contains(res.body, "Targeting is not running") {
		t.Errorf("board without targeting: %d", res.status)
	}
}

// TestTargetingCatalogsNameEveryValue checks the keys built from values
// (outcomes, stages, flags, scores, sources, …) exist in both languages.
func TestTargetingCatalogsNameEveryValue(t *testing.T) {
	for _, lang := range []string{"en", "zh-CN"} {
		b, err := os.ReadFile("i18n/targeting." + lang + ".json")
		if err != nil {
			t.Fatal(err)
		}
		var msgs map[string]string
		if err := json.Unmarshal(b, &msgs); err != nil {
			t.Fatal(err)
		}
		keys := []string{}
		for _, o := range targeting.Outcomes {
			keys = append(keys, "tgt.outcome."+o)
		}
		for _, s := range store.InitiativeStages {
			keys = append(keys, "tgt.stage."+s)
		}
		for _, k := range []string{"flag.scale", "flag.stop", "flag.continue", "flag.measure", "score.clv", "score.p_alive", "score.churn_risk",
			"source.segment", "source.score", "source.predictive", "assign.owner", "assign.round_robin", "assign.none", "baseline.control",
			"baseline.historical", "res.outcome.conversion", "res.outcome.revenue", "tasks.status.open", "tasks.status.done", "tasks.status.all",
			"err.name", "err.segment_id", "err.top_n", "err.holdout", "err.reps", "err.due_days", "err.attribution_days", "err.budget"} {
			keys = append(keys, "tgt."+k)
		}
		for _, k := range keys {
			if msgs[k] == "" {
				t.Errorf("%s catalog lacks %s", lang, k)
			}
		}
	}
}

func TestListFormTestsTwoMessagesAgainstAControl(t *testing.T) {
	forEngine(t, 120, func(t *testing.T, e *env) {
		ctx := context.Background()
		_, seg := withTargeting(t, e)
		m := e.login(auth.Manager)
		form := url.Values{"name": {"两种话术"}, "segment_id": {seg}, "control": {"20"}, "assign": {"none"},
			"script": {"介绍新品"}, "script_b": {"提供九折优惠"}, "attribution_days": {"30"}}

		// Without a control group two messages cannot be compared.
		bad := url.Values{}
		for k, v := range form {
			bad[k] = v
		}
		bad.Set("control", "0")
		if res := m.post("/lists/new?lang=en", bad); res.status != http.StatusUnprocessableEntity || !strings.Contains(res.body, "Two messages need a control group") ||
			!strings.Contains(res.body, "提供九折优惠") {
			t.Fatalf("two messages without control: %d", res.status)
		}

		id := createList(t, m, form)
		exp, err := e.st.ExperimentOfList(ctx, id)
		if err != nil || exp == nil || len(exp.Arms) != 3 || exp.Control != "control" {
			t.Fatalf("experiment %+v %v, want control, A and B", exp, err)
		}
		tasks, err := e.st.Tasks(ctx, store.TaskFilter{ListID: id, Limit: 1000})
		if err != nil {
			t.Fatal(err)
		}
		scripts := map[string]int{}
		for _, tk := range tasks {
			scripts[tk.Script]++
		}
		if len(tasks) == 0 || scripts["介绍新品"] == 0 || scripts["提供九折优惠"] == 0 || scripts["介绍新品"]+scripts["提供九折优惠"] != len(tasks) {
			t.Fatalf("task scripts %v over %d tasks, want both messages", scripts, len(tasks))
		}
		page := m.get("/lists/" + id + "?lang=en")
		for _, want := range []string{`data-arm="A"`, `data-arm="B"`, `data-arm="control"`, "Message A", "Message B"} {
			if !strings.Contains(page.body, want) {
				t.Errorf("list page lacks %q", want)
			}
		}
	})
}
