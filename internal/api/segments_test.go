package api_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/rapportcrm/rapport/internal/auth"
	"github.com/rapportcrm/rapport/internal/customer"
)

func decode[T any](t *testing.T, r resp) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(r.body, &v); err != nil {
		t.Fatalf("response (%d) is not the expected JSON: %v\n%s", r.status, err, r.body)
	}
	return v
}

// seedShanghai declares the city field and creates customers through the
// API, then gives them scores as the scoring engine would.
func seedShanghai(t *testing.T, e *env) []string {
	t.Helper()
	if r := e.do(auth.Admin, "POST", "/api/v1/fields", `{"key":"city","type":"text","label_en":"City","label_zh":"城市"}`); r.status != 201 {
		t.Fatalf("field: %d %s", r.status, r.body)
	}
	var ids []string
	scores := map[string]customer.Scores{}
	for i := range 40 {
		city := []string{"上海", "北京"}[i%2]
		r := e.do(auth.Rep, "POST", "/api/v1/customers", fmt.Sprintf(`{"kind":"person","name":"客户%02d","attributes":{"city":%q}}`, i, city))
		if r.status != 201 {
			t.Fatalf("customer: %d %s", r.status, r.body)
		}
		id := r.json(t)["id"].(string)
		ids = append(ids, id)
		p := float64(i%10) / 10
		scores[id] = customer.Scores{Tier: []string{"gold", "silver", "bronze"}[i%3], PAlive: &p, UpdatedAt: time.Now()}
	}
	if err := e.store.UpsertScores(context.Background(), scores); err != nil {
		t.Fatal(err)
	}
	return ids
}

func TestSegmentEndpoints(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		seedShanghai(t, e)
		rule := `tier in ("gold","silver") and p_alive < 0.5 and orders_90d = 0 and city = "上海"`
		// Who qualifies: even i (上海), i%3 in {0,1}, i%10 < 5.
		want := 0
		for i := range 40 {
			if i%2 == 0 && i%3 != 2 && i%10 < 5 {
				want++
			}
		}
		if r := e.do(auth.Rep, "POST", "/api/v1/segments", map[string]string{"name": "x", "rule": rule}); r.status != 403 {
			t.Fatalf("a rep created a segment: %d", r.status)
		}
		r := e.do(auth.Analyst, "POST", "/api/v1/segments", map[string]string{"name": "上海沉睡金银客户", "rule": rule})
		if r.status != 201 {
			t.Fatalf("create: %d %s", r.status, r.body)
		}
		seg := decode[struct {
			ID          string              `json:"id"`
			Count       int                 `json:"count"`
			MemberCount int                 `json:"member_count"`
			Preview     []customer.Customer `json:"preview"`
		}](t, r)
		if seg.Count != want || seg.MemberCount != want || len(seg.Preview) != want {
			t.Fatalf("count %d, members %d, preview %d; want %d", seg.Count, seg.MemberCount, len(seg.Preview), want)
		}
		for _, c := range seg.Preview {
			if c.Attributes["city"] != "上海" || c.Scores == nil || *c.Scores.PAlive >= 0.5 {
				t.Fatalf("preview holds %s %v", c.Name, c.Attributes)
			}
		}
		r = e.do(auth.Viewer, "GET", "/api/v1/segments/"+seg.ID+"/members?limit=2", nil)
		page := decode[struct {
			Items      []customer.Customer `json:"items"`
			NextCursor *string             `json:"next_cursor"`
		}](t, r)
		if r.status != 200 || len(page.Items) != 2 || page.NextCursor == nil {
			t.Fatalf("members: %d %s", r.status, r.body)
		}
		if r := e.do(auth.Viewer, "GET", "/api/v1/segments/"+seg.ID, nil); r.status != 200 || int(r.json(t)["count"].(float64)) != want {
			t.Fatalf("get: %d %s", r.status, r.body)
		}
		if r := e.do(auth.Viewer, "POST", "/api/v1/segments/preview", map[string]string{"rule": `city = "北京"`}); r.status != 200 || r.json(t)["count"].(float64) != 20 {
			t.Fatalf("preview: %d %s", r.status, r.body)
		}
		// A bad rule: 422 with each problem located in the rule.
		r = e.do(auth.Analyst, "POST", "/api/v1/segments", map[string]string{"name": "bad", "rule": `tier in ("gold") and cty = "上海"`})
		if r.status != 422 || !strings.Contains(r.header.Get("Content-Type"), "problem+json") {
			t.Fatalf("bad rule: %d %s", r.status, r.body)
		}
		prob := decode[struct {
			Errors []struct {
				Location string         `json:"location"`
				Message  string         `json:"message"`
				Value    map[string]int `json:"value"`
			} `json:"errors"`
		}](t, r)
		if len(prob.Errors) != 1 || prob.Errors[0].Location != "body.rule" || prob.Errors[0].Value["column"] != 22 ||
			!strings.Contains(prob.Errors[0].Message, "did you mean city") {
			t.Fatalf("problem %s", r.body)
		}
		r = e.do(auth.Analyst, "POST", "/api/v1/segments", map[string]string{"name": "syntax", "rule": `tier in ("gold"`})
		if r.status != 422 || !strings.Contains(string(r.body), "line 1, column 16") {
			t.Fatalf("syntax error: %d %s", r.status, r.body)
		}
		if r := e.do(auth.Analyst, "POST", "/api/v1/segments", map[string]string{"name": "上海沉睡金银客户", "rule": `city = "上海"`}); r.status != 422 {
			t.Fatalf("duplicate name: %d %s", r.status, r.body)
		}
		if r := e.do(auth.Viewer, "GET", "/api/v1/segments/fields", nil); r.status != 200 || !strings.Contains(string(r.body), `"name":"city"`) {
			t.Fatalf("fields: %d", r.status)
		}
		if r := e.do(auth.Viewer, "GET", "/api/v1/segments/nope/members", nil); r.status != 404 {
			t.Fatalf("unknown segment: %d", r.status)
		}
	})
}

func TestExperimentToTheFrontLineAndBack(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		ids := seedShanghai(t, e)
		r := e.do(auth.Analyst, "POST", "/api/v1/segments", map[string]string{"name": "上海", "rule": `city = "上海"`})
		segID := r.json(t)["id"].(string)
		r = e.do(auth.Analyst, "POST", "/api/v1/experiments", map[string]any{"name": "上海回访", "segment_id": segID,
			"arms":    []map[string]any{{"name": "control", "weight": 1}, {"name": "call_a", "weight": 1, "script": "话术 A"}, {"name": "call_b", "weight": 1, "script": "话术 B"}},
			"control": "control", "reps": []string{e.users[auth.Rep]}, "due_days": 7, "attribution_days": 14})
		if r.status != 201 {
			t.Fatalf("experiment: %d %s", r.status, r.body)
		}
		view := decode[struct {
			ID         string `json:"id"`
			Size       int    `json:"size"`
			Tasks      int    `json:"tasks"`
			Experiment struct {
				ID string `json:"id"`
			} `json:"experiment"`
		}](t, r)
		if view.Size != 20 || view.Tasks < 11 || view.Tasks > 16 {
			t.Fatalf("list %s", r.body)
		}
		r = e.do(auth.Rep, "GET", "/api/v1/tasks?assignee=me&status=open", nil)
		tasks := decode[struct {
			Items []struct {
				ID         string `json:"id"`
				CustomerID string `json:"customer_id"`
				Script     string `json:"script"`
			} `json:"items"`
		}](t, r)
		if len(tasks.Items) != view.Tasks || (tasks.Items[0].Script != "话术 A" && tasks.Items[0].Script != "话术 B") {
			t.Fatalf("tasks: %s", r.body)
		}
		if r := e.do(auth.Rep, "POST", "/api/v1/tasks/"+tasks.Items[0].ID+"/outcome", `{"outcome":"won"}`); r.status != 422 {
			t.Fatalf("bad outcome: %d", r.status)
		}
		if r := e.do(auth.Rep, "POST", "/api/v1/tasks/"+tasks.Items[0].ID+"/outcome", `{"outcome":"bought","notes":"买了两件"}`); r.status != 200 || r.json(t)["status"] != "done" {
			t.Fatalf("outcome: %d %s", r.status, r.body)
		}
		if r := e.do(auth.Rep, "POST", "/api/v1/customers/"+tasks.Items[1].CustomerID+"/outcome", `{"outcome":"interested"}`); r.status != 200 || r.json(t)["id"] != tasks.Items[1].ID {
			t.Fatalf("customer outcome: %d %s", r.status, r.body)
		}
		if r := e.do(auth.Viewer, "POST", "/api/v1/tasks/"+tasks.Items[2].ID+"/outcome", `{"outcome":"bought"}`); r.status != 403 {
			t.Fatalf("a viewer recorded an outcome: %d", r.status)
		}
		_ = ids
		r = e.do(auth.Viewer, "GET", "/api/v1/experiments/"+view.Experiment.ID+"/results", nil)
		if r.status != 200 {
			t.Fatalf("results: %d %s", r.status, r.body)
		}
		res := decode[struct {
			Arms []struct {
				Arm      string             `json:"arm"`
				N        int                `json:"n"`
				Rate     map[string]float64 `json:"rate"`
				Outcomes map[string]int     `json:"outcomes"`
			} `json:"arms"`
			Comparisons []struct {
				Arm       string  `json:"arm"`
				Outcome   string  `json:"outcome"`
				CILow     float64 `json:"ci_low"`
				CIHigh    float64 `json:"ci_high"`
				PValue    float64 `json:"p_value"`
				ReadingEN string  `json:"reading_en"`
			} `json:"comparisons"`
			SRMPValue *float64 `json:"srm_p_value"`
		}](t, r)
		if len(res.Arms) != 3 || res.Arms[0].Arm != "control" || res.SRMPValue == nil || len(res.Comparisons) != 4 {
			t.Fatalf("results %s", r.body)
		}
		for _, c := range res.Comparisons {
			if c.CILow > c.CIHigh || c.PValue < 0 || c.PValue > 1 || c.ReadingEN == "" {
				t.Fatalf("comparison %+v", c)
			}
		}
		if !strings.Contains(string(r.body), `"reading_zh"`) {
			t.Fatalf("results lack intervals or readings: %s", r.body)
		}
		r = e.do(auth.Viewer, "GET", "/api/v1/board", nil)
		if r.status != 200 || !strings.Contains(string(r.body), `"kind":"control"`) {
			t.Fatalf("board: %d %s", r.status, r.body)
		}
		r = e.do(auth.Manager, "POST", "/api/v1/initiatives", `{"name":"回访计划","hypothesis":"电话回访提升复购","segment_id":"`+segID+`","budget":10000}`)
		if r.status != 201 || r.json(t)["stage"] != "explore" {
			t.Fatalf("initiative: %d %s", r.status, r.body)
		}
		inID := r.json(t)["id"].(string)
		if r := e.do(auth.Manager, "POST", "/api/v1/costs", `{"initiative_id":"`+inID+`","hours":5,"hourly_rate":80}`); r.status != 201 || r.json(t)["hours"].(float64) != 5 {
			t.Fatalf("cost: %d %s", r.status, r.body)
		}
		if r := e.do(auth.Manager, "PATCH", "/api/v1/initiatives/"+inID, `{"stage":"pilot"}`); r.status != 200 || r.json(t)["stage"] != "pilot" {
			t.Fatalf("stage: %d %s", r.status, r.body)
		}
		r = e.do(auth.Viewer, "GET", "/api/v1/initiatives", nil)
		if r.status != 200 || !strings.Contains(string(r.body), `"flag":"measure"`) || !strings.Contains(string(r.body), `"cost":400`) {
			t.Fatalf("portfolio: %d %s", r.status, r.body)
		}
		r = e.do(auth.Analyst, "POST", "/api/v1/predictive/rounds", map[string]any{"name": "第二轮", "segment_id": segID, "size": 5})
		if r.status != 422 || !strings.Contains(string(r.body), "not enough past results") {
			t.Fatalf("predictive without history: %d %s", r.status, r.body)
		}
	})
}
