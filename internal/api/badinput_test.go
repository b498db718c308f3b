package api_test

import (
	"fmt"
	"math"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/danielgtaylor/huma/v2"

	"github.com/rapportcrm/rapport/internal/auth"
)

// TestNoOperationAnswersBadInputWith500 sends every operation in the
// OpenAPI document a battery of bad input — garbage, hostile and oversized
// path ids, malformed and wrongly typed bodies, every body field and
// query parameter with a value of the wrong type — and checks that each
// answer is a 4xx (or a success) with a problem document, never a 5xx.
// New operations are swept as soon as they are registered. Both engines:
// a 500 is as often the database's reaction to a value as the handler's.
func TestNoOperationAnswersBadInputWith500(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		// A real customer, so that operations on it get past the lookup
		// and reach their body and query validation.
		c := e.do(auth.Admin, "POST", "/api/v1/customers", zhangWei)
		if c.status != 201 {
			t.Fatalf("create: %d %s", c.status, c.body)
		}
		realID := c.json(t)["id"].(string)
		oapi := e.huma.OpenAPI()
		paths := make([]string, 0, len(oapi.Paths))
		for p := range oapi.Paths {
			paths = append(paths, p)
		}
		slices.Sort(paths)
		sent := 0
		statuses := map[int]int{}
		for _, path := range paths {
			item := oapi.Paths[path]
			for _, o := range []*huma.Operation{item.Get, item.Post, item.Put, item.Patch, item.Delete} {
				if o == nil {
					continue
				}
				for _, rq := range badRequests(oapi, o, path, realID) {
					r := e.do(auth.Admin, o.Method, rq.path, rq.body, "If-Match", `"1"`)
					sent++
					statuses[r.status]++
					if r.status >= 500 {
						t.Errorf("%s %s (%s): %d %s", o.Method, rq.path, rq.what, r.status, r.body)
						continue
					}
					if r.status >= 400 && r.header.Get("Content-Type") != "application/problem+json" {
						t.Errorf("%s %s (%s): %d with content type %q", o.Method, rq.path, rq.what, r.status, r.header.Get("Content-Type"))
					}
				}
			}
		}
		t.Logf("%d bad requests: %v", sent, statuses)
		if sent < 500 {
			t.Fatalf("only %d bad requests sent; the sweep found too few operations", sent)
		}
		// The customer the sweep aimed at is still there and readable (the
		// sweep deletes it, then restores it), and what the sweep managed to
		// store does not break the list: every page of it reads.
		if r := e.do(auth.Admin, "GET", "/api/v1/customers/"+realID, nil); r.status != 200 {
			t.Fatalf("after the sweep: %d %s", r.status, r.body)
		}
		for cursor, pages := "", 0; ; pages++ {
			r := e.do(auth.Admin, "GET", "/api/v1/customers?limit=100&cursor="+url.QueryEscape(cursor), nil)
			if r.status != 200 {
				t.Fatalf("after the sweep, page %d of the list: %d %s", pages, r.status, r.body)
			}
			next, _ := r.json(t)["next_cursor"].(string)
			if next == "" {
				break
			}
			cursor = next
		}
	})
}

type badRequest struct {
	what, path string
	body       any // nil for none
}

// badIDs are path parameter values no handler should choke on.
var badIDs = []string{"nope", "0", "-1", "' OR 1=1 --", "张伟", "%00", "\x00", "a\xffb", "..%2F..%2Fetc", strings.Repeat("a", 300), "00000000-0000-7000-8000-000000000000"}

// wrongValues are JSON values of every type, each wrong for most fields.
var wrongValues = []any{"x", -1, 1e308, true, nil, []any{1, "a"}, map[string]any{"a": 1}, strings.Repeat("长", 5000)}

func badRequests(oapi *huma.OpenAPI, o *huma.Operation, path, realID string) []badRequest {
	var pathParams, queryParams []string
	for _, p := range o.Parameters {
		switch p.In {
		case "path":
			pathParams = append(pathParams, p.Name)
		case "query":
			queryParams = append(queryParams, p.Name)
		}
	}
	fill := func(v string) string {
		out := path
		for _, n := range pathParams {
			out = strings.ReplaceAll(out, "{"+n+"}", v)
		}
		return out
	}
	good := fill(realID)
	var out []badRequest
	for _, id := range badIDs {
		if len(pathParams) > 0 {
			out = append(out, badRequest{"path " + id, fill(url.PathEscape(id)), nil})
		}
	}
	for _, q := range queryParams {
		for _, v := range []string{"abc", "-1", "99999999999999999999999", "'", "%ff", "\x00", "\xff\xfe", "2026-13-45", strings.Repeat("z", 2000)} {
			out = append(out, badRequest{"query " + q + "=" + v, good + "?" + url.Values{q: {v}}.Encode(), nil})
		}
	}
	if o.RequestBody == nil {
		return out
	}
	for _, raw := range []string{"", "{", "[]", `"x"`, "null", "42", `{"unknown_field_xyz":1}`, strings.Repeat("[", 5000), "\xff\xfe"} {
		out = append(out, badRequest{fmt.Sprintf("body %.20q", raw), good, raw})
	}
	schema := bodySchema(oapi, o)
	if schema == nil {
		return out
	}
	names := make([]string, 0, len(schema.Properties))
	for n := range schema.Properties {
		if n != "$schema" {
			names = append(names, n)
		}
	}
	slices.Sort(names)
	// Every declared field with each wrong value, alone; then within an
	// otherwise valid body, with values of the right type at their
	// extremes, which get past validation into the handler and the
	// database.
	for _, name := range names {
		for _, v := range wrongValues {
			out = append(out, badRequest{fmt.Sprintf("body field %s=%.20v", name, v), good, map[string]any{name: v}})
		}
		prop := resolve(oapi, schema.Properties[name])
		for _, v := range extremes(oapi, prop) {
			body := validBody(oapi, schema)
			body[name] = v
			out = append(out, badRequest{fmt.Sprintf("valid body with %s=%.20v", name, v), good, body})
		}
	}
	return out
}

// bodySchema is the schema of an operation's JSON body, if it has one.
func bodySchema(oapi *huma.OpenAPI, o *huma.Operation) *huma.Schema {
	mt := o.RequestBody.Content["application/json"]
	if mt == nil || mt.Schema == nil {
		return nil
	}
	return resolve(oapi, mt.Schema)
}

func resolve(oapi *huma.OpenAPI, s *huma.Schema) *huma.Schema {
	if s != nil && s.Ref != "" {
		return oapi.Components.Schemas.SchemaFromRef(s.Ref)
	}
	return s
}

// validBody fills an object schema's required fields with plausible values.
func validBody(oapi *huma.OpenAPI, s *huma.Schema) map[string]any {
	body := map[string]any{}
	for _, n := range s.Required {
		if p := resolve(oapi, s.Properties[n]); p != nil {
			body[n] = plausible(oapi, p)
		}
	}
	return body
}

func plausible(oapi *huma.OpenAPI, s *huma.Schema) any {
	if len(s.Enum) > 0 {
		return s.Enum[0]
	}
	switch s.Type {
	case "string":
		switch s.Format {
		case "date-time":
			return "2026-01-01T00:00:00Z"
		case "date":
			return "2026-01-01"
		case "email":
			return "a@example.com"
		case "uri":
			return "https://example.com/"
		}
		return "a"
	case "integer", "number":
		return 1
	case "boolean":
		return false
	case "array":
		return []any{}
	case "object":
		return validBody(oapi, s)
	}
	return nil
}

// extremes are values of a schema's own type that validation lets through
// and handlers must still cope with.
func extremes(oapi *huma.OpenAPI, s *huma.Schema) []any {
	if s == nil {
		return nil
	}
	switch s.Type {
	case "string":
		return []any{"", "\x00", "a\u0000b", "' OR 1=1 --", "../../etc/passwd", strings.Repeat("长", 20000), "9999-12-31T23:59:59Z", "0001-01-01"}
	case "integer":
		return []any{0, -1, int64(math.MaxInt64), int64(math.MinInt64)}
	case "number":
		return []any{0, -1, 1e308, -1e308, 5e-324}
	case "array":
		var item any = "a"
		if it := resolve(oapi, s.Items); it != nil {
			item = plausible(oapi, it)
		}
		many := make([]any, 2000)
		for i := range many {
			many[i] = item
		}
		return []any{[]any{}, []any{item, item}, many}
	case "object":
		return []any{map[string]any{}, map[string]any{"": ""}}
	}
	return nil
}
