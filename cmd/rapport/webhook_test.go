package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/rapportcrm/rapport/internal/auth"
	"github.com/rapportcrm/rapport/internal/store"
	"github.com/rapportcrm/rapport/internal/webhook"
)

// TestServeDeliversSegmentEntriesToWebhooks runs the whole path in a
// served instance: a webhook and a segment over the API, a customer
// created over the API who matches it, the real-time matcher logging the
// entry, and the delivery worker POSTing it, signed, to the receiver.
func TestServeDeliversSegmentEntriesToWebhooks(t *testing.T) {
	s, err := store.Open(context.Background(), store.Config{DataDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	_, key, err := (&auth.Service{Store: s}).CreateAPIKey(context.Background(), "test", auth.Admin, "")
	if err != nil {
		t.Fatal(err)
	}
	got := make(chan []byte, 10)
	var secret string
	rcv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		if err := webhook.Verify(secret, r.Header.Get(webhook.SignatureHeader), b, time.Now(), time.Minute); err != nil {
			t.Errorf("delivery signature: %v", err)
		}
		got <- b
	}))
	defer rcv.Close()

	ctx, cancel := context.WithCancel(context.Background())
	urls := make(chan string, 1)
	done := make(chan error, 1)
	go func() {
		done <- serve(ctx, s, serveConfig{addr: "127.0.0.1:0", region: "CN", log: newLogger(io.Discard), ready: func(u string) { urls <- u }})
	}()
	u := <-urls
	call := func(method, path, body string) map[string]any {
		t.Helper()
		req, _ := http.NewRequest(method, u+path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+key)
		req.Header.Set("Content-Type", "application/json")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		var out map[string]any
		json.NewDecoder(res.Body).Decode(&out)
		if res.StatusCode >= 300 {
			t.Fatalf("%s %s: %d %v", method, path, res.StatusCode, out)
		}
		return out
	}
	secret = call("POST", "/api/v1/webhooks", `{"url":"`+rcv.URL+`"}`)["secret"].(string)
	seg := call("POST", "/api/v1/segments", `{"name":"VIP","rule":"tag = \"vip\""}`)["id"].(string)
	cust := call("POST", "/api/v1/customers", `{"kind":"person","name":"张伟","tags":["vip"]}`)["id"].(string)

	select {
	case b := <-got:
		var p webhook.Payload
		if err := json.Unmarshal(b, &p); err != nil {
			t.Fatal(err)
		}
		if len(p.Events) != 1 || p.Events[0].Type != webhook.SegmentEntered || p.Events[0].Data.CustomerID != cust || p.Events[0].Data.SegmentID != seg {
			t.Fatalf("delivered %s", b)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("no delivery within 15 s")
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("graceful shutdown: %v", err)
	}
}
