package api_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/rapportcrm/rapport/internal/auth"
	"github.com/rapportcrm/rapport/internal/customer"
)

func TestSourcesAreAdminOnlyAndRevocable(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		if r := e.do(auth.Manager, http.MethodPost, "/api/v1/sources", map[string]any{"name": "web"}); r.status != http.StatusForbidden {
			t.Fatalf("manager created a source: %d", r.status)
		}
		r := e.do(auth.Admin, http.MethodPost, "/api/v1/sources", map[string]any{"name": "web"})
		body := r.json(t)
		if r.status != http.StatusCreated || body["write_key"] == nil || body["id"] == nil {
			t.Fatalf("create source: %d %s", r.status, r.body)
		}
		if r := e.do(auth.Admin, http.MethodPost, "/api/v1/sources", map[string]any{"name": "web"}); r.status != http.StatusConflict {
			t.Fatalf("duplicate source name: %d", r.status)
		}
		id := body["id"].(string)
		if r := e.do(auth.Admin, http.MethodPost, "/api/v1/sources/"+id+"/revoke", nil); r.status != http.StatusOK || r.json(t)["revoked_at"] == nil {
			t.Fatalf("revoke: %d %s", r.status, r.body)
		}
		list := e.do(auth.Admin, http.MethodGet, "/api/v1/sources", nil).json(t)["items"].([]any)
		if len(list) != 1 || list[0].(map[string]any)["write_key"] != nil {
			t.Fatalf("list shows %v (the key must never be listed)", list)
		}
	})
}

func TestIngestQueueStatusAndRetryAreAdminOnly(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		if r := e.do(auth.Manager, http.MethodGet, "/api/v1/ingest", nil); r.status != http.StatusForbidden {
			t.Fatalf("manager read the ingest queue: %d", r.status)
		}
		r := e.do(auth.Admin, http.MethodGet, "/api/v1/ingest", nil)
		body := r.json(t)
		if r.status != http.StatusOK || body["requests"] != 0.0 || body["events"] != 0.0 || body["failed"] == nil {
			t.Fatalf("ingest status: %d %s", r.status, r.body)
		}
		if r := e.do(auth.Manager, http.MethodPost, "/api/v1/ingest/retry", nil); r.status != http.StatusForbidden {
			t.Fatalf("manager retried: %d", r.status)
		}
		if r := e.do(auth.Admin, http.MethodPost, "/api/v1/ingest/retry", nil); r.status != http.StatusOK || r.json(t)["requeued"] != 0.0 {
			t.Fatalf("retry: %d %s", r.status, r.body)
		}
	})
}

func TestOrdersResolveByIdentityAndAreIdempotent(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		order := map[string]any{"identities": []any{map[string]any{"type": "phone", "value": "138 0013 8000"}}, "name": "张伟",
			"order_id": "POS-9", "source": "pos", "currency": "cny", "placed_at": "2025-04-01T10:00:00Z",
			"products": []any{map[string]any{"category": "tea", "price": 60, "quantity": 2}}}
		r := e.do(auth.Rep, http.MethodPost, "/api/v1/orders", order)
		o := r.json(t)
		if r.status != http.StatusCreated || o["created"] != true || o["total"] != 120.0 {
			t.Fatalf("create order: %d %s", r.status, r.body)
		}
		if r := e.do(auth.Rep, http.MethodPost, "/api/v1/orders", order).json(t); r["created"] != false || r["customer_id"] != o["customer_id"] {
			t.Fatalf("repeat: %v", r)
		}
		cid := o["customer_id"].(string)
		c := e.do(auth.Rep, http.MethodGet, "/api/v1/customers/"+cid, nil).json(t)
		if c["name"] != "张伟" {
			t.Fatalf("resolved customer %v", c)
		}
		st := e.do(auth.Rep, http.MethodGet, "/api/v1/customers/"+cid+"/stats", nil).json(t)
		if st["orders"] != 1.0 || st["revenue"] != 120.0 || st["favourite_category"] != "tea" || st["last_channel"] != "pos" || st["last_order_at"] == nil {
			t.Fatalf("stats %v", st)
		}
		bad := e.do(auth.Rep, http.MethodPost, "/api/v1/orders", map[string]any{"currency": "CNY"})
		if bad.status != http.StatusUnprocessableEntity {
			t.Fatalf("order without a customer: %d %s", bad.status, bad.body)
		}
		// Amounts beyond any real order are refused: two of them would sum
		// to infinity, which JSON cannot show, and every later read of the
		// customer would fail.
		for _, huge := range []map[string]any{
			{"customer_id": cid, "currency": "CNY", "total": 1e308},
			{"customer_id": cid, "currency": "CNY", "products": []any{map[string]any{"price": 1e300, "quantity": 1e10}}},
			{"customer_id": cid, "currency": "CNY", "products": []any{map[string]any{"price": 2e6, "quantity": 1e7}}}, // each fine, the total not
		} {
			if r := e.do(auth.Rep, http.MethodPost, "/api/v1/orders", huge); r.status != http.StatusUnprocessableEntity || !strings.Contains(string(r.body), "1e12") {
				t.Fatalf("huge order %v: %d %s", huge, r.status, r.body)
			}
		}
		if st := e.do(auth.Rep, http.MethodGet, "/api/v1/customers/"+cid+"/stats", nil).json(t); st["orders"] != 1.0 || st["revenue"] != 120.0 {
			t.Fatalf("a refused order changed the stats: %v", st)
		}
		tl := e.do(auth.Rep, http.MethodGet, "/api/v1/customers/"+cid+"/timeline?kind=order", nil)
		items := tl.json(t)["items"].([]any)
		if tl.status != 200 || len(items) != 1 || items[0].(map[string]any)["type"] != "order" || items[0].(map[string]any)["time"] == nil {
			t.Fatalf("timeline %d %s", tl.status, tl.body)
		}
		if _, ok := tl.json(t)["next_cursor"]; !ok {
			t.Fatal("timeline has no next_cursor field")
		}
	})
}

func TestDuplicateReviewMergeAndUndo(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		mk := func(name, phone string) string {
			r := e.do(auth.Admin, http.MethodPost, "/api/v1/customers", map[string]any{"kind": "person", "name": name,
				"identities": []any{map[string]any{"type": "phone", "value": phone}}})
			if r.status != http.StatusCreated {
				t.Fatalf("create: %d %s", r.status, r.body)
			}
			return r.json(t)["id"].(string)
		}
		a, b := mk("欧阳娜娜", "13800138001"), mk("欧阳娜娜", "13800138002")
		mk("王建国", "13900000000")
		dups := e.do(auth.Rep, http.MethodGet, "/api/v1/duplicates", nil)
		items := dups.json(t)["items"].([]any)
		if dups.status != 200 || len(items) != 1 {
			t.Fatalf("duplicates %d %s", dups.status, dups.body)
		}
		pair := items[0].(map[string]any)
		if pair["a"].(map[string]any)["id"] != a || pair["b"].(map[string]any)["id"] != b {
			t.Fatalf("pair %v", pair)
		}
		if r := e.do(auth.Rep, http.MethodPost, "/api/v1/merges", map[string]any{"winner": a, "loser": b}); r.status != http.StatusForbidden {
			t.Fatalf("a rep merged customers: %d", r.status)
		}
		r := e.do(auth.Manager, http.MethodPost, "/api/v1/merges", map[string]any{"winner": a, "loser": b})
		if r.status != http.StatusCreated {
			t.Fatalf("merge %d %s", r.status, r.body)
		}
		mergeID := r.json(t)["id"].(string)
		if r := e.do(auth.Rep, http.MethodGet, "/api/v1/customers/"+b, nil); r.status != http.StatusNotFound {
			t.Fatalf("merged-away customer still served: %d", r.status)
		}
		winner, _ := e.store.Customer(ctx, a)
		if len(winner.Identities) != 2 {
			t.Fatalf("winner identities %+v", winner.Identities)
		}
		if r := e.do(auth.Manager, http.MethodPost, "/api/v1/merges/"+mergeID+"/undo", nil); r.status != 200 || r.json(t)["undone_at"] == nil {
			t.Fatalf("undo %d %s", r.status, r.body)
		}
		for id, phone := range map[string]string{a: "+8613800138001", b: "+8613800138002"} {
			c, err := e.store.Customer(ctx, id)
			if err != nil || c.DeletedAt != nil || len(c.Identities) != 1 || c.Identities[0] != (customer.Identity{Type: "phone", Value: phone}) {
				t.Fatalf("after undo %s: %+v %v", id, c, err)
			}
		}
		if r := e.do(auth.Manager, http.MethodPost, "/api/v1/merges/"+mergeID+"/undo", nil); r.status != http.StatusConflict {
			t.Fatalf("second undo %d", r.status)
		}
	})
}

func TestIdentityRulesAreValidatedSettings(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		rules := map[string]any{"precedence": []string{"external_id", "email"}, "auto_merge": []string{"email"}, "exclusive": []string{"external_id"}, "never_merge_organizations": true}
		if r := e.do(auth.Manager, http.MethodPut, "/api/v1/settings/identity-rules", rules); r.status != http.StatusForbidden {
			t.Fatalf("manager changed rules: %d", r.status)
		}
		if r := e.do(auth.Admin, http.MethodPut, "/api/v1/settings/identity-rules", rules); r.status != 200 {
			t.Fatalf("set rules %d %s", r.status, r.body)
		}
		got := e.do(auth.Viewer, http.MethodGet, "/api/v1/settings/identity-rules", nil).json(t)
		if am := got["auto_merge"].([]any); len(am) != 1 || am[0] != "email" {
			t.Fatalf("rules %v", got)
		}
		rules["auto_merge"] = []string{"Not A Type!"}
		if r := e.do(auth.Admin, http.MethodPut, "/api/v1/settings/identity-rules", rules); r.status != http.StatusUnprocessableEntity {
			t.Fatalf("bad rules %d %s", r.status, r.body)
		}
	})
}
