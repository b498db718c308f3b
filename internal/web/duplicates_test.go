package web_test

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/rapportcrm/rapport/internal/auth"
	"github.com/rapportcrm/rapport/internal/customer"
	"github.com/rapportcrm/rapport/internal/store"
)

// twins stores two people with one name and different phones (a likely
// duplicate pair) and a third who matches neither.
func twins(t testing.TB, st *store.Store) (a, b string) {
	t.Helper()
	mk := func(name, phone string) *customer.Customer {
		now := time.Now().UTC()
		return &customer.Customer{ID: customer.NewID(), Kind: customer.Person, Name: name, Attributes: map[string]any{}, Tags: []string{},
			Identities: []customer.Identity{{Type: customer.IdentityPhone, Value: phone}}, CreatedAt: now, UpdatedAt: now, Version: 1}
	}
	cs := []*customer.Customer{mk("欧阳娜娜", "+8613800138001"), mk("欧阳娜娜", "+8613800138002"), mk("王建国", "+8613900000000")}
	if err := st.CreateCustomers(context.Background(), store.SystemActor, cs); err != nil {
		t.Fatal(err)
	}
	return cs[0].ID, cs[1].ID
}

var pairAttrs = regexp.MustCompile(`data-a="([^"]+)" data-b="([^"]+)"`)

func pairsOn(body string) [][2]string {
	var out [][2]string
	for _, m := range pairAttrs.FindAllStringSubmatch(body, -1) {
		out = append(out, [2]string{m[1], m[2]})
	}
	return out
}

var undoForm = regexp.MustCompile(`action="/duplicates/merges/([^"]+)/undo"`)

func TestDuplicateReviewMergesKeepingTheChosenOneAndUndoes(t *testing.T) {
	forEngine(t, 0, func(t *testing.T, e *env) {
		ctx := context.Background()
		a, b := twins(t, e.st)
		if res := e.login(auth.Rep).get("/duplicates"); res.status != http.StatusForbidden {
			t.Fatalf("a rep opened the review: %d, want 403", res.status)
		}
		m := e.login(auth.Manager)
		res := m.get("/duplicates")
		if ps := pairsOn(res.body); len(ps) != 1 || ps[0] != [2]string{a, b} {
			t.Fatalf("pairs %v, want [%s %s]", ps, a, b)
		}
		if !strings.Contains(res.body, "8613800138002") || !strings.Contains(res.body, "Match ") {
			t.Error("the pair does not show both sides' identities and the score")
		}

		// Keep the second: the first is folded into it.
		res = m.post("/duplicates/merge", url.Values{"a": {a}, "b": {b}, "keep": {b}})
		if res.status != http.StatusSeeOther {
			t.Fatalf("merge: %d %s", res.status, res.body)
		}
		kept, _ := e.st.Customer(ctx, b)
		gone, _ := e.st.Customer(ctx, a)
		if len(kept.Identities) != 2 || gone.DeletedAt == nil {
			t.Fatalf("after merge: kept %+v, merged-away deleted=%v", kept.Identities, gone.DeletedAt)
		}
		res = m.get("/duplicates")
		if len(pairsOn(res.body)) != 0 || !strings.Contains(res.body, "Merged. You can undo it") {
			t.Fatalf("after merge the pair is still listed or no flash")
		}
		u := undoForm.FindStringSubmatch(res.body)
		if u == nil {
			t.Fatal("recent merges offer no undo")
		}

		res = m.post("/duplicates/merges/"+u[1]+"/undo", nil)
		if res.status != http.StatusSeeOther {
			t.Fatalf("undo: %d %s", res.status, res.body)
		}
		if back, _ := e.st.Customer(ctx, a); back.DeletedAt != nil || len(back.Identities) != 1 {
			t.Fatalf("undo did not restore %s: %+v", a, back)
		}
		res = m.get("/duplicates")
		if len(pairsOn(res.body)) != 1 || undoForm.MatchString(res.body) || !strings.Contains(res.body, "Undone") {
			t.Fatalf("after undo the pair should be back and the merge marked undone")
		}
		// Undoing twice is a conflict, shown as a page, not a 500.
		if res := m.post("/duplicates/merges/"+u[1]+"/undo", nil); res.status != http.StatusConflict {
			t.Fatalf("second undo: %d, want 409", res.status)
		}
	})
}

func TestDuplicateReviewRefusesBadMergesAndRemembersDismissals(t *testing.T) {
	forEngine(t, 0, func(t *testing.T, e *env) {
		ctx := context.Background()
		a, b := twins(t, e.st)
		m := e.login(auth.Manager)
		for _, form := range []url.Values{
			{"a": {a}, "b": {b}, "keep": {"someone-else"}},
			{"a": {a}, "b": {a}, "keep": {a}},
		} {
			if res := m.post("/duplicates/merge", form); res.status != http.StatusUnprocessableEntity {
				t.Errorf("merge %v: %d, want 422", form, res.status)
			}
		}
		if res := m.post("/duplicates/merge", url.Values{"a": {a}, "b": {"missing"}, "keep": {a}}); res.status != http.StatusNotFound {
			t.Errorf("merge with an unknown customer: %d, want 404", res.status)
		}
		if c, _ := e.st.Customer(ctx, a); c.DeletedAt != nil || len(c.Identities) != 1 {
			t.Fatal("a refused merge changed a customer")
		}
		if res := m.post("/duplicates/dismiss", url.Values{"a": {b}, "b": {a}}); res.status != http.StatusSeeOther {
			t.Fatalf("dismiss: %d %s", res.status, res.body)
		}
		if ps := pairsOn(m.get("/duplicates").body); len(ps) != 0 {
			t.Fatalf("a dismissed pair is still listed: %v", ps)
		}
		if res := e.login(auth.Rep).post("/duplicates/dismiss", url.Values{"a": {a}, "b": {b}}); res.status != http.StatusForbidden {
			t.Fatalf("a rep dismissed a pair: %d", res.status)
		}
	})
}
