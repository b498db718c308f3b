package api_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/danielgtaylor/huma/v2"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/rapportcrm/rapport/internal/api"
	"github.com/rapportcrm/rapport/internal/auth"
	"github.com/rapportcrm/rapport/internal/store"
	"github.com/rapportcrm/rapport/internal/storetest"
)

type env struct {
	t      *testing.T
	url    string
	store  *store.Store
	keys   map[auth.Role]string
	users  map[auth.Role]string // user id per role
	huma   huma.API
	client *http.Client
}

func newEnv(t *testing.T, e storetest.Engine) *env {
	t.Helper()
	en := newEnvTB(t, e)
	en.t = t
	return en
}

func newEnvTB(t testing.TB, e storetest.Engine) *env {
	t.Helper()
	ctx := context.Background()
	reg := prometheus.NewRegistry()
	svc := &auth.Service{Store: e.Store}
	srv := &api.Server{Store: e.Store, Auth: svc, Log: slog.New(slog.NewTextHandler(io.Discard, nil)), Region: "CN", Metrics: api.NewMetrics(reg)}
	mux := http.NewServeMux()
	h := srv.Register(mux)
	srv.MountOps(mux, reg)
	ts := httptest.NewServer(mux)
	t.Cleanup(ts.Close)
	en := &env{url: ts.URL, store: e.Store, keys: map[auth.Role]string{}, users: map[auth.Role]string{}, huma: h, client: ts.Client()}
	for _, r := range auth.Roles {
		u, err := svc.CreateUser(ctx, string(r)+"@example.com", string(r), r, "password-"+string(r))
		if err != nil {
			t.Fatal(err)
		}
		// Keys act for a user in the UI's place: tests use user sessions via keys
		// created per role.
		_, secret, err := svc.CreateAPIKey(ctx, string(r)+" key", r, u.ID)
		if err != nil {
			t.Fatal(err)
		}
		en.keys[r], en.users[r] = secret, u.ID
	}
	return en
}

type resp struct {
	status int
	header http.Header
	body   []byte
}

func (r resp) json(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.body, &m); err != nil {
		t.Fatalf("response is not JSON (%d): %s", r.status, r.body)
	}
	return m
}

func (e *env) do(role auth.Role, method, path string, body any, header ...string) resp {
	e.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	case []byte:
		rd = bytes.NewReader(b)
	default:
		j, _ := json.Marshal(b)
		rd = bytes.NewReader(j)
	}
	req, _ := http.NewRequest(method, e.url+path, rd)
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if role != "" {
		req.Header.Set("Authorization", "Bearer "+e.keys[role])
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	res, err := e.client.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return resp{res.StatusCode, res.Header, b}
}

func forEachEngine(t *testing.T, fn func(t *testing.T, e *env)) {
	for _, eng := range storetest.Engines(t) {
		t.Run(eng.Name, func(t *testing.T) { fn(t, newEnv(t, eng)) })
	}
}

const zhangWei = `{"kind":"person","name":"张伟","identities":[{"type":"email","value":" Zhang.Wei@Example.COM "},{"type":"phone","value":"138 0013 8000"}]}`

func TestCreateCustomerNormalizesIdentities(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		r := e.do(auth.Rep, "POST", "/api/v1/customers", zhangWei)
		if r.status != 201 {
			t.Fatalf("create: %d %s", r.status, r.body)
		}
		if r.header.Get("ETag") != `"1"` {
			t.Fatalf("ETag %q", r.header.Get("ETag"))
		}
		c := r.json(t)
		ids := c["identities"].([]any)
		if ids[0].(map[string]any)["value"] != "zhang.wei@example.com" || ids[1].(map[string]any)["value"] != "+8613800138000" {
			t.Fatalf("identities not normalized: %v", ids)
		}
		if c["owner_id"] != e.users[auth.Rep] {
			t.Fatalf("creator should own the customer by default: %v", c["owner_id"])
		}
		id := c["id"].(string)
		g := e.do(auth.Viewer, "GET", "/api/v1/customers/"+id, nil)
		if g.status != 200 || g.header.Get("ETag") != `"1"` || g.json(t)["stats"] == nil {
			t.Fatalf("get: %d %s", g.status, g.body)
		}
		for _, q := range []string{"%E5%BC%A0", "zhangwei", "example.com", "8000"} {
			l := e.do(auth.Viewer, "GET", "/api/v1/customers?q="+q, nil)
			m := l.json(t)
			if l.status != 200 || len(m["items"].([]any)) != 1 {
				t.Fatalf("search %s: %d %s", q, l.status, l.body)
			}
			if _, ok := m["next_cursor"]; !ok {
				t.Fatal("list response must carry next_cursor")
			}
		}
	})
}

func TestPatchNeedsCurrentETag(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		id := e.do(auth.Rep, "POST", "/api/v1/customers", zhangWei).json(t)["id"].(string)
		path := "/api/v1/customers/" + id
		if r := e.do(auth.Rep, "PATCH", path, `{"name":"张伟伟"}`); r.status != 428 {
			t.Fatalf("PATCH without If-Match: %d %s", r.status, r.body)
		}
		r := e.do(auth.Rep, "PATCH", path, `{"name":"张伟伟","tags":["vip"]}`, "If-Match", `"1"`)
		if r.status != 200 || r.header.Get("ETag") != `"2"` || r.json(t)["name"] != "张伟伟" {
			t.Fatalf("PATCH: %d %s", r.status, r.body)
		}
		if r := e.do(auth.Rep, "PATCH", path, `{"name":"stale"}`, "If-Match", `"1"`); r.status != 412 {
			t.Fatalf("stale PATCH: %d %s", r.status, r.body)
		}
		if got := e.do(auth.Rep, "GET", path, nil).json(t); got["name"] != "张伟伟" {
			t.Fatalf("stale write landed: %v", got["name"])
		}
		a := e.do(auth.Manager, "GET", "/api/v1/audit?customer_id="+id, nil)
		if a.status != 200 || len(a.json(t)["items"].([]any)) != 2 {
			t.Fatalf("audit: %d %s", a.status, a.body)
		}
	})
}

func TestBadInputGetsProblemJSON(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		big := `{"kind":"person","name":"` + strings.Repeat("x", 300<<10) + `"}`
		for _, tc := range []struct {
			name   string
			body   string
			status int
		}{
			{"malformed JSON", `{"kind":"person",`, 400},
			{"wrong type", `{"kind":"person","name":42}`, 422},
			{"unknown field", `{"kind":"person","name":"A","nickname":"B"}`, 422},
			{"bad enum", `{"kind":"robot","name":"A"}`, 422},
			{"invalid email", `{"kind":"person","name":"A","identities":[{"type":"email","value":"not-an-email"}]}`, 422},
			{"invalid phone", `{"kind":"person","name":"A","identities":[{"type":"phone","value":"12"}]}`, 422},
			{"missing name", `{"kind":"person"}`, 422},
			{"undeclared attribute", `{"kind":"person","name":"A","attributes":{"city":"上海"}}`, 422},
			{"oversized body", big, 413},
			{"empty body", ``, 400},
			{"NUL character", `{"kind":"person","name":"a\u0000b"}`, 422},
			{"not UTF-8", "{\"kind\":\"person\",\"name\":\"a\xffb\"}", 422},
		} {
			r := e.do(auth.Admin, "POST", "/api/v1/customers", tc.body)
			if r.status != tc.status {
				t.Errorf("%s: status %d, want %d: %s", tc.name, r.status, tc.status, r.body)
				continue
			}
			if ct := r.header.Get("Content-Type"); ct != "application/problem+json" {
				t.Errorf("%s: content type %q", tc.name, ct)
			}
			m := r.json(t)
			if m["title"] == nil || m["status"] == nil {
				t.Errorf("%s: not a problem document: %s", tc.name, r.body)
			}
		}
		// Field errors name the field.
		r := e.do(auth.Admin, "POST", "/api/v1/customers", `{"kind":"person","name":"A","identities":[{"type":"email","value":"x"},{"type":"phone","value":"1"}]}`)
		errsList, _ := r.json(t)["errors"].([]any)
		if len(errsList) != 2 || errsList[0].(map[string]any)["location"] != "body.identities[0].value" {
			t.Fatalf("field errors: %s", r.body)
		}
		// Nothing was written by any rejected request.
		if l := e.do(auth.Admin, "GET", "/api/v1/customers", nil).json(t); len(l["items"].([]any)) != 0 {
			t.Fatalf("a rejected request wrote data: %v", l["items"])
		}
		for _, tc := range []struct{ method, path, body string }{
			{"GET", "/api/v1/customers?limit=0", ""},
			{"GET", "/api/v1/customers?limit=abc", ""},
			{"GET", "/api/v1/customers?cursor=zzz", ""},
			{"GET", "/api/v1/customers?sort=name&cursor=" + base64.RawURLEncoding.EncodeToString([]byte(`{"s":1,"n":"a\u0000"}`)), ""}, // forged, with a NUL
			{"GET", "/api/v1/customers?kind=robot", ""},
			{"GET", "/api/v1/customers?attr=nocolon", ""},
		} {
			if r := e.do(auth.Admin, tc.method, tc.path, nil); r.status != 422 && r.status != 400 {
				t.Errorf("%s %s: %d %s", tc.method, tc.path, r.status, r.body)
			}
		}
		if r := e.do(auth.Admin, "GET", "/api/v1/customers/nope", nil); r.status != 404 {
			t.Errorf("missing customer: %d", r.status)
		}
	})
}

func TestBatchCreateReportsEveryBadItem(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		body := `{"items":[{"kind":"person","name":"A"},{"kind":"person","name":"B","identities":[{"type":"email","value":"bad"}]},{"kind":"person"}]}`
		r := e.do(auth.Admin, "POST", "/api/v1/customers/batch", body)
		if r.status != 422 || !strings.Contains(string(r.body), "body.items[1].identities[0].value") || !strings.Contains(string(r.body), "body.items[2].name") {
			t.Fatalf("batch errors: %d %s", r.status, r.body)
		}
		if l := e.do(auth.Admin, "GET", "/api/v1/customers", nil).json(t); len(l["items"].([]any)) != 0 {
			t.Fatal("a rejected batch wrote data")
		}
		r = e.do(auth.Admin, "POST", "/api/v1/customers/batch", `{"items":[{"kind":"person","name":"A"},{"kind":"organization","name":"B Ltd"}]}`)
		if r.status != 201 || len(r.json(t)["items"].([]any)) != 2 {
			t.Fatalf("batch: %d %s", r.status, r.body)
		}
	})
}

func TestRolesAreEnforced(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		if r := e.do("", "GET", "/api/v1/customers", nil); r.status != 401 || r.header.Get("Content-Type") != "application/problem+json" {
			t.Fatalf("anonymous: %d", r.status)
		}
		if r := e.do("", "GET", "/api/v1/customers", nil, "Authorization", "Bearer rpk_wrong"); r.status != 401 {
			t.Fatalf("bad key: %d", r.status)
		}
		if r := e.do(auth.Viewer, "POST", "/api/v1/customers", zhangWei); r.status != 403 {
			t.Fatalf("viewer create: %d", r.status)
		}
		if r := e.do(auth.Analyst, "POST", "/api/v1/customers", zhangWei); r.status != 403 {
			t.Fatalf("analyst create: %d", r.status)
		}
		if r := e.do(auth.Manager, "GET", "/api/v1/users", nil); r.status != 403 {
			t.Fatalf("manager lists users: %d", r.status)
		}
		if r := e.do(auth.Rep, "GET", "/api/v1/audit", nil); r.status != 403 {
			t.Fatalf("rep reads audit: %d", r.status)
		}
		if r := e.do(auth.Admin, "GET", "/api/v1/users", nil); r.status != 200 || len(r.json(t)["items"].([]any)) != 5 {
			t.Fatalf("admin lists users: %d %s", r.status, r.body)
		}
		// A rep may be restricted to the customers they own.
		mine := e.do(auth.Rep, "POST", "/api/v1/customers", `{"kind":"person","name":"Mine"}`).json(t)["id"].(string)
		theirs := e.do(auth.Manager, "POST", "/api/v1/customers", `{"kind":"person","name":"Theirs"}`).json(t)["id"].(string)
		if r := e.do(auth.Rep, "GET", "/api/v1/customers/"+theirs, nil); r.status != 200 {
			t.Fatalf("unrestricted rep: %d", r.status)
		}
		if err := e.store.SetSetting(context.Background(), api.RepsOwnOnlySetting, true); err != nil {
			t.Fatal(err)
		}
		if r := e.do(auth.Rep, "GET", "/api/v1/customers/"+theirs, nil); r.status != 404 {
			t.Fatalf("restricted rep reads another's customer: %d", r.status)
		}
		if r := e.do(auth.Rep, "GET", "/api/v1/customers/"+mine, nil); r.status != 200 {
			t.Fatalf("restricted rep reads own customer: %d", r.status)
		}
		l := e.do(auth.Rep, "GET", "/api/v1/customers", nil).json(t)
		if items := l["items"].([]any); len(items) != 1 || items[0].(map[string]any)["id"] != mine {
			t.Fatalf("restricted rep list: %v", items)
		}
	})
}

func TestDeleteRestoreNotesInteractionsFields(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		if r := e.do(auth.Manager, "POST", "/api/v1/fields", `{"key":"city","type":"text","label_zh":"城市"}`); r.status != 403 {
			t.Fatalf("manager declares field: %d", r.status)
		}
		if r := e.do(auth.Admin, "POST", "/api/v1/fields", `{"key":"city","type":"text","label_zh":"城市"}`); r.status != 201 {
			t.Fatalf("declare field: %d %s", r.status, r.body)
		}
		if r := e.do(auth.Admin, "POST", "/api/v1/fields", `{"key":"Bad Key","type":"text"}`); r.status != 422 {
			t.Fatalf("bad field key: %d %s", r.status, r.body)
		}
		if r := e.do(auth.Admin, "POST", "/api/v1/fields", `{"key":"level","type":"enum"}`); r.status != 422 {
			t.Fatalf("enum without options: %d %s", r.status, r.body)
		}
		c := e.do(auth.Rep, "POST", "/api/v1/customers", `{"kind":"person","name":"李娜","attributes":{"city":"上海"}}`)
		if c.status != 201 {
			t.Fatalf("create with attribute: %d %s", c.status, c.body)
		}
		id := c.json(t)["id"].(string)
		if l := e.do(auth.Viewer, "GET", "/api/v1/customers?attr=city:%E4%B8%8A%E6%B5%B7", nil).json(t); len(l["items"].([]any)) != 1 {
			t.Fatalf("attribute filter: %v", l)
		}
		if r := e.do(auth.Rep, "POST", "/api/v1/customers/"+id+"/notes", `{"body":"喜欢乌龙茶"}`); r.status != 201 {
			t.Fatalf("add note: %d %s", r.status, r.body)
		}
		if r := e.do(auth.Rep, "POST", "/api/v1/customers/"+id+"/notes", `{"body":"   "}`); r.status != 422 {
			t.Fatalf("blank note: %d %s", r.status, r.body)
		}
		if r := e.do(auth.Rep, "POST", "/api/v1/customers/"+id+"/interactions", `{"kind":"call","summary":"回访"}`); r.status != 201 {
			t.Fatalf("add interaction: %d %s", r.status, r.body)
		}
		if r := e.do(auth.Rep, "POST", "/api/v1/customers/"+id+"/interactions", `{"kind":"fax","summary":"x"}`); r.status != 422 {
			t.Fatalf("bad interaction kind: %d %s", r.status, r.body)
		}
		if n := e.do(auth.Viewer, "GET", "/api/v1/customers/"+id+"/notes", nil).json(t); len(n["items"].([]any)) != 1 {
			t.Fatalf("notes: %v", n)
		}
		if n := e.do(auth.Viewer, "GET", "/api/v1/customers/"+id+"/interactions", nil).json(t); len(n["items"].([]any)) != 1 {
			t.Fatalf("interactions: %v", n)
		}
		if r := e.do(auth.Rep, "DELETE", "/api/v1/customers/"+id, nil); r.status != 403 {
			t.Fatalf("rep deletes: %d", r.status)
		}
		if r := e.do(auth.Manager, "DELETE", "/api/v1/customers/"+id, nil); r.status != 204 {
			t.Fatalf("delete: %d %s", r.status, r.body)
		}
		if r := e.do(auth.Viewer, "GET", "/api/v1/customers/"+id, nil); r.status != 404 {
			t.Fatalf("get deleted: %d", r.status)
		}
		if r := e.do(auth.Manager, "POST", "/api/v1/customers/"+id+"/restore", nil); r.status != 200 {
			t.Fatalf("restore: %d %s", r.status, r.body)
		}
		if r := e.do(auth.Viewer, "GET", "/api/v1/customers/"+id, nil); r.status != 200 {
			t.Fatalf("get restored: %d", r.status)
		}
	})
}

func TestOpenAPIDocumentCoversEveryOperationWithAPermission(t *testing.T) {
	e := newEnv(t, storetest.SQLite(t))
	r := e.do("", "GET", "/api/v1/openapi.json", nil)
	if r.status != 200 {
		t.Fatalf("openapi: %d", r.status)
	}
	doc := r.json(t)
	if doc["openapi"] != "3.1.0" {
		t.Fatalf("openapi version %v", doc["openapi"])
	}
	paths := doc["paths"].(map[string]any)
	for _, p := range []string{"/api/v1/customers", "/api/v1/customers/{id}", "/api/v1/customers/{id}/restore",
		"/api/v1/customers/{id}/notes", "/api/v1/customers/{id}/interactions", "/api/v1/fields", "/api/v1/users", "/api/v1/audit"} {
		if paths[p] == nil {
			t.Errorf("openapi.json lacks %s", p)
		}
	}
	for path, item := range e.huma.OpenAPI().Paths {
		for _, o := range []*huma.Operation{item.Get, item.Post, item.Patch, item.Put, item.Delete} {
			if o == nil {
				continue
			}
			if _, ok := o.Metadata["permission"].(auth.Permission); !ok {
				t.Errorf("%s %s declares no permission", o.Method, path)
			}
		}
	}
}

func TestOperationalEndpoints(t *testing.T) {
	e := newEnv(t, storetest.SQLite(t))
	if r := e.do("", "GET", "/healthz", nil); r.status != 200 {
		t.Fatalf("healthz %d", r.status)
	}
	if r := e.do("", "GET", "/readyz", nil); r.status != 200 || r.json(t)["database"] != "sqlite" {
		t.Fatalf("readyz %d %s", r.status, r.body)
	}
	e.do(auth.Admin, "GET", "/api/v1/customers", nil)
	if r := e.do("", "GET", "/metrics", nil); r.status != 200 || !strings.Contains(string(r.body), `rapport_api_requests_total{operation="list-customers",status="200"} 1`) {
		t.Fatalf("metrics %d %s", r.status, r.body)
	}
	e.store.Close()
	if r := e.do("", "GET", "/readyz", nil); r.status != 503 {
		t.Fatalf("readyz with the database closed: %d", r.status)
	}
}
