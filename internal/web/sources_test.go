package web_test

import (
	"context"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/rapportcrm/rapport/internal/auth"
	"github.com/rapportcrm/rapport/internal/customer"
	"github.com/rapportcrm/rapport/internal/errs"
	"github.com/rapportcrm/rapport/internal/store"
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

func TestSourcesPageShowsTheIngestQueueAndRetriesFailures(t *testing.T) {
	forEngine(t, 0, func(t *testing.T, e *env) {
		ctx := context.Background()
		b := e.login(auth.Admin)
		if res := b.get("/settings/sources?lang=en"); !strings.Contains(res.body, "Nothing is waiting") {
			t.Fatalf("an empty queue is not shown as such: %d", res.status)
		}
		src := store.Source{ID: customer.NewID(), Name: "web", Prefix: "rwk_test", KeyHash: "h", CreatedAt: time.Now().UTC()}
		if err := e.st.CreateSource(ctx, store.SystemActor, src); err != nil {
			t.Fatal(err)
		}
		var seqs []int64
		for _, m := range []string{"m1", "m2"} {
			q, err := store.NewQueuedRequest(src.ID, []store.Event{{SourceID: src.ID, Source: "web", MessageID: m, Type: "track", Name: "Viewed",
				At: time.Now().UTC(), ReceivedAt: time.Now().UTC(), Payload: []byte(`{}`)}})
			if err != nil {
				t.Fatal(err)
			}
			s, err := e.st.EnqueueRequests(ctx, []store.QueuedRequest{q})
			if err != nil {
				t.Fatal(err)
			}
			seqs = append(seqs, s...)
		}
		if err := e.st.FailQueued(ctx, seqs[1], "cannot apply: a test failure"); err != nil {
			t.Fatal(err)
		}
		res := b.get("/settings/sources?lang=en")
		if !strings.Contains(res.body, "Waiting: 1 events from 1 requests") || !strings.Contains(res.body, "cannot apply: a test failure") {
			t.Fatalf("the page does not show what waits and what failed:\n%s", res.body)
		}
		if zh := b.get("/settings/sources?lang=zh-CN"); !strings.Contains(zh.body, "无法写入的请求") || !strings.Contains(zh.body, "正在等待") {
			t.Error("the queue is not shown in Chinese")
		}
		if res := b.post("/settings/sources/retry", nil); res.status != http.StatusSeeOther {
			t.Fatalf("retry: %d", res.status)
		}
		if st, err := e.st.IngestQueueStatus(ctx); err != nil || st.Requests != 2 || len(st.Failed) != 0 {
			t.Fatalf("after retry: %+v %v", st, err)
		}
		if res := e.login(auth.Manager).post("/settings/sources/retry", nil); res.status != http.StatusForbidden {
			t.Errorf("a manager retried: %d", res.status)
		}
	})
}
