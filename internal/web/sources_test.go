package web_test

import (
	"context"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/rapportcrm/rapport/internal/auth"
	"github.com/rapportcrm/rapport/internal/errs"
)

var writeKey = regexp.MustCompile(`<code id="write-key">(rwk_[^<]+)</code>`)

func TestSourcesAreCreatedWithASnippetOnceAndRevoked(t *testing.T) {
	forEngine(t, 0, func(t *testing.T, e *env) {
		ctx := context.Background()
		if res := e.login(auth.Manager).get("/settings/sources"); res.status != http.StatusForbidden {
			t.Fatalf("a manager opened sources: %d, want 403", res.status)
		}
		b := e.login(auth.Admin)
		if res := b.get("/settings/users"); !strings.Contains(res.body, `href="/settings/sources"`) {
			t.Error("the settings navigation does not link to sources")
		}
		res := b.post("/settings/sources", url.Values{"name": {"web"}})
		m := writeKey.FindStringSubmatch(res.body)
		if res.status != http.StatusOK || m == nil {
			t.Fatalf("create: %d, no write key shown: %s", res.status, res.body)
		}
		key := m[1]
		snippet := html.UnescapeString(res.body)
		if !strings.Contains(snippet, `<script async src="`+e.url+`/t.js" data-write-key="`+key+`"></script>`) {
			t.Errorf("the snippet does not load %s/t.js with the key", e.url)
		}
		src, err := e.st.SourceByKeyHash(ctx, auth.HashSecret(key))
		if err != nil || src.Name != "web" {
			t.Fatalf("the shown key does not work: %+v %v", src, err)
		}
		// Shown once: the list has only the prefix.
		if res := b.get("/settings/sources"); strings.Contains(res.body, key) || !strings.Contains(res.body, src.Prefix) {
			t.Fatal("the list shows the whole key, or not its prefix")
		}
		if res := b.post("/settings/sources", url.Values{"name": {"web"}}); res.status != http.StatusConflict || !strings.Contains(res.body, "already exists") {
			t.Errorf("duplicate name: %d", res.status)
		}
		if res := b.post("/settings/sources", url.Values{"name": {"  "}}); res.status != http.StatusUnprocessableEntity || !strings.Contains(res.body, "Enter a name") {
			t.Errorf("blank name: %d", res.status)
		}
		if res := b.post("/settings/sources/"+src.ID+"/revoke", nil); res.status != http.StatusSeeOther {
			t.Fatalf("revoke: %d", res.status)
		}
		if _, err := e.st.SourceByKeyHash(ctx, auth.HashSecret(key)); errs.KindOf(err) != errs.Unauthorized {
			t.Fatalf("a revoked key still works: %v", err)
		}
		if res := b.get("/settings/sources"); !strings.Contains(res.body, "Revoked") {
			t.Error("the list does not show the source as revoked")
		}
		if res := b.post("/settings/sources/no-such-id/revoke", nil); res.status != http.StatusNotFound {
			t.Errorf("revoke unknown: %d, want 404", res.status)
		}
	})
}
