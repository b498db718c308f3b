package api_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rapportcrm/rapport/internal/auth"
	"github.com/rapportcrm/rapport/internal/webhook"
)

func TestWebhookEndpoints(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		var pings atomic.Int32
		var verified atomic.Bool
		var secret atomic.Value
		rcv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			b, _ := io.ReadAll(r.Body)
			if s, ok := secret.Load().(string); ok && webhook.Verify(s, r.Header.Get(webhook.SignatureHeader), b, time.Now(), time.Minute) == nil {
				verified.Store(true)
			}
			pings.Add(1)
		}))
		defer rcv.Close()

		// Only those who manage settings may subscribe.
		if r := e.do(auth.Rep, "POST", "/api/v1/webhooks", `{"url":"`+rcv.URL+`"}`); r.status != 403 {
			t.Fatalf("rep creating a webhook: %d", r.status)
		}
		if r := e.do(auth.Manager, "GET", "/api/v1/webhooks", nil); r.status != 403 {
			t.Fatalf("manager listing webhooks: %d", r.status)
		}
		// Bad input: problem+json naming the field, nothing stored.
		for _, body := range []string{`{"url":"ftp://x"}`, `{"url":"https://example.com","events":["segment.gone"]}`, `{"url":"https://example.com","segment_ids":["nope"]}`, `{}`, `{"url":"https://example.com","secret":"mine"}`} {
			r := e.do(auth.Admin, "POST", "/api/v1/webhooks", body)
			if r.status != 422 && r.status != 400 || r.header.Get("Content-Type") != "application/problem+json" {
				t.Errorf("%s: %d %s", body, r.status, r.body)
			}
		}
		if r := e.do(auth.Admin, "GET", "/api/v1/webhooks", nil); !strings.Contains(string(r.body), `"items":[]`) {
			t.Fatalf("rejected webhooks were stored: %s", r.body)
		}

		r := e.do(auth.Admin, "POST", "/api/v1/webhooks", `{"url":"`+rcv.URL+`/in","events":["segment.entered"]}`)
		if r.status != 201 {
			t.Fatalf("create: %d %s", r.status, r.body)
		}
		created := r.json(t)
		id, sec := created["id"].(string), created["secret"].(string)
		if !strings.HasPrefix(sec, "whsec_") || created["active"] != true {
			t.Fatalf("created %v", created)
		}
		secret.Store(sec)
		// The secret is shown once: never in the list or the record.
		for _, path := range []string{"/api/v1/webhooks", "/api/v1/webhooks/" + id} {
			if r := e.do(auth.Admin, "GET", path, nil); r.status != 200 || strings.Contains(string(r.body), sec) {
				t.Fatalf("GET %s: %d, or it shows the secret", path, r.status)
			}
		}
		// A test delivery reaches the receiver, signed, and is recorded.
		r = e.do(auth.Admin, "POST", "/api/v1/webhooks/"+id+"/test", nil)
		if r.status != 200 || r.json(t)["status"] != float64(200) || pings.Load() != 1 || !verified.Load() {
			t.Fatalf("test delivery: %d %s (pings %d, verified %v)", r.status, r.body, pings.Load(), verified.Load())
		}
		got := e.do(auth.Admin, "GET", "/api/v1/webhooks/"+id, nil).json(t)
		if ds, _ := got["deliveries"].([]any); len(ds) != 1 {
			t.Fatalf("deliveries after the test: %v", got["deliveries"])
		}
		if r := e.do(auth.Admin, "DELETE", "/api/v1/webhooks/"+id, nil); r.status != 204 {
			t.Fatalf("delete: %d %s", r.status, r.body)
		}
		if r := e.do(auth.Admin, "GET", "/api/v1/webhooks/"+id, nil); r.status != 404 || r.header.Get("Content-Type") != "application/problem+json" {
			t.Fatalf("after delete: %d", r.status)
		}
	})
}
