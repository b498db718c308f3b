package ingest_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/rapportcrm/rapport/internal/customer"
	"github.com/rapportcrm/rapport/internal/ingest"
	"github.com/rapportcrm/rapport/internal/store"
	"github.com/rapportcrm/rapport/internal/storetest"
)

type server struct {
	url   string
	svc   *ingest.Service
	store *store.Store
	src   store.Source
	key   string
}

// testClient gives up on a hung request, so a test that hangs the server
// fails instead of waiting for the whole run's timeout.
var testClient = &http.Client{Timeout: 15 * time.Second}

func newServer(t *testing.T, e storetest.Engine) *server {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	mux := http.NewServeMux()
	svc := ingest.New(ctx, e.Store, ingest.Options{Region: "CN"})
	svc.Register(mux)
	ts := httptest.NewServer(mux)
	t.Cleanup(ts.Close)
	src, key, err := ingest.CreateSource(ctx, e.Store, store.Actor{ID: "test", Kind: "system"}, "web")
	if err != nil {
		t.Fatal(err)
	}
	return &server{url: ts.URL, svc: svc, store: e.Store, src: src, key: key}
}

func (s *server) post(t *testing.T, path, key string, body any) (int, map[string]any) {
	t.Helper()
	status, out, err := s.send(path, key, body)
	if err != nil {
		t.Fatal(err)
	}
	return status, out
}

// send is post for goroutines other than the test's own, which must not
// call t.Fatal: it returns what went wrong instead.
func (s *server) send(path, key string, body any) (int, map[string]any, error) {
	var b []byte
	switch v := body.(type) {
	case string:
		b = []byte(v)
	case []byte:
		b = v
	default:
		b, _ = json.Marshal(v)
	}
	req, _ := http.NewRequest(http.MethodPost, s.url+path, bytes.NewReader(b))
	req.Header.Set("Content-Type", "application/json")
	if key != "" {
		req.SetBasicAuth(key, "")
	}
	res, err := testClient.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	// Read what was acknowledged: wait until the applier has stored it.
	if err := s.svc.Flush(context.Background()); err != nil {
		return 0, nil, err
	}
	var out map[string]any
	if err := json.Unmarshal(raw, &out); err != nil {
		return 0, nil, fmt.Errorf("%s answered %d with non-JSON %q", path, res.StatusCode, raw)
	}
	return res.StatusCode, out, nil
}

func customerOf(t *testing.T, s *store.Store, id customer.Identity) customer.Customer {
	t.Helper()
	page, err := s.ListCustomers(context.Background(), store.Filter{Q: id.Value, Limit: 5})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range page.Items {
		for _, x := range c.Identities {
			if x == id {
				return c
			}
		}
	}
	t.Fatalf("no customer has %v", id)
	return customer.Customer{}
}

func TestWriteKeyIsCheckedAndRevocable(t *testing.T) {
	for _, e := range storetest.Engines(t) {
		t.Run(e.Name, func(t *testing.T) {
			s := newServer(t, e)
			msg := map[string]any{"userId": "u1", "event": "Viewed"}
			cases := []struct {
				name string
				key  string
				want int
			}{
				{"no key", "", http.StatusUnauthorized},
				{"unknown key", "rwk_nope", http.StatusUnauthorized},
				{"good key", s.key, http.StatusOK},
			}
			for _, c := range cases {
				if status, body := s.post(t, "/v1/track", c.key, msg); status != c.want {
					t.Fatalf("%s: status %d %v, want %d", c.name, status, body, c.want)
				}
			}
			// Beacons cannot set headers: the key in the body works too.
			if status, body := s.post(t, "/v1/batch", "", map[string]any{"writeKey": s.key, "batch": []any{map[string]any{"type": "track", "userId": "u1", "event": "Viewed"}}}); status != http.StatusOK {
				t.Fatalf("body key: %d %v", status, body)
			}
			if _, err := s.store.RevokeSource(context.Background(), store.Actor{ID: "t", Kind: "system"}, s.src.ID, time.Now()); err != nil {
				t.Fatal(err)
			}
			if status, _ := s.post(t, "/v1/track", s.key, msg); status != http.StatusUnauthorized {
				t.Fatalf("revoked key answered %d", status)
			}
		})
	}
}

func TestSizeLimitsAndBadMessagesAreRejectedWhole(t *testing.T) {
	e := storetest.SQLite(t)
	s := newServer(t, e)
	big := strings.Repeat("x", 33*1024)
	cases := []struct {
		name, path string
		body       any
		want       int
		errorHas   string
	}{
		{"event over 32 KB", "/v1/track", map[string]any{"userId": "u", "event": "E", "properties": map[string]any{"blob": big}}, 413, "32 KB"},
		{"batched event over 32 KB", "/v1/batch", map[string]any{"batch": []any{map[string]any{"type": "track", "userId": "u", "event": "E", "properties": map[string]any{"blob": big}}}}, 413, "32 KB"},
		{"batch over 500 KB", "/v1/batch", map[string]any{"batch": manyMessages(40, 14*1024)}, 413, "500 KB"},
		{"no user or anonymous id", "/v1/batch", map[string]any{"batch": []any{
			map[string]any{"type": "track", "userId": "u", "event": "ok"}, map[string]any{"type": "track", "event": "E"}}}, 400, "nothing was stored"},
		{"track without event", "/v1/track", map[string]any{"userId": "u"}, 400, "invalid"},
		{"unknown type in batch", "/v1/batch", map[string]any{"batch": []any{map[string]any{"type": "bogus", "userId": "u"}}}, 400, "invalid"},
		{"bad timestamp", "/v1/track", map[string]any{"userId": "u", "event": "E", "timestamp": "yesterday"}, 400, "invalid"},
		{"not JSON", "/v1/batch", "{", 400, "not a batch"},
	}
	for _, c := range cases {
		status, body := s.post(t, c.path, s.key, c.body)
		if status != c.want || !strings.Contains(fmt.Sprint(body["error"]), c.errorHas) {
			t.Fatalf("%s: %d %v, want %d with %q", c.name, status, body, c.want, c.errorHas)
		}
	}
	// Nothing from the rejected requests was stored.
	page, err := e.Store.ListCustomers(context.Background(), store.Filter{Limit: 10})
	if err != nil || len(page.Items) != 0 {
		t.Fatalf("rejected requests stored customers: %+v %v", page.Items, err)
	}
	// Just under the limits is accepted.
	if status, body := s.post(t, "/v1/batch", s.key, map[string]any{"batch": manyMessages(30, 16*1024)}); status != 200 {
		t.Fatalf("480 KB batch: %d %v", status, body)
	}
}

func manyMessages(n, size int) []any {
	var out []any
	for i := 0; i < n; i++ {
		out = append(out, map[string]any{"type": "track", "userId": fmt.Sprint("u", i), "event": "E", "messageId": fmt.Sprint("big-", i),
			"properties": map[string]any{"blob": strings.Repeat("y", size-200)}})
	}
	return out
}

func TestClockSkewIsCorrectedFromSentAt(t *testing.T) {
	e := storetest.SQLite(t)
	s := newServer(t, e)
	// The device clock is a year behind: it stamped the event 5 s before
	// it sent it. The stored time is 5 s before the server received it.
	skewed := time.Now().Add(-365 * 24 * time.Hour)
	before := time.Now()
	status, body := s.post(t, "/v1/batch", s.key, map[string]any{
		"sentAt": skewed.Format(time.RFC3339Nano),
		"batch": []any{
			map[string]any{"type": "track", "userId": "clock", "event": "E", "messageId": "skew-1", "timestamp": skewed.Add(-5 * time.Second).Format(time.RFC3339Nano)},
			map[string]any{"type": "track", "userId": "clock", "event": "F", "messageId": "skew-2", "originalTimestamp": skewed.Add(-7 * time.Second).Format(time.RFC3339Nano),
				"timestamp": "2000-01-01T00:00:00Z"},
			// A historical import without sentAt keeps its timestamp.
		}})
	if status != 200 {
		t.Fatalf("%d %v", status, body)
	}
	after := time.Now()
	s.post(t, "/v1/track", s.key, map[string]any{"userId": "clock", "event": "Old", "messageId": "hist", "timestamp": "2020-05-06T07:08:09Z"})
	c := customerOf(t, e.Store, customer.Identity{Type: "external_id", Source: "web", Value: "clock"})
	page, err := e.Store.Timeline(context.Background(), c.ID, store.TimelineFilter{})
	if err != nil || len(page.Items) != 3 {
		t.Fatalf("timeline %+v %v", page.Items, err)
	}
	at := map[string]time.Time{}
	for _, it := range page.Items {
		at[it.Name] = it.Time
	}
	for name, lag := range map[string]time.Duration{"E": 5 * time.Second, "F": 7 * time.Second} {
		if got := at[name]; got.Before(before.Add(-lag-time.Millisecond)) || got.After(after.Add(-lag+time.Millisecond)) {
			t.Fatalf("%s stored at %v, want received time − %v (received between %v and %v)", name, got, lag, before, after)
		}
	}
	if want := time.Date(2020, 5, 6, 7, 8, 9, 0, time.UTC); !at["Old"].Equal(want) {
		t.Fatalf("timestamp without sentAt stored as %v, want %v", at["Old"], want)
	}
}

func TestOrderCompletedBecomesAnOrderAndRefundReversesIt(t *testing.T) {
	for _, e := range storetest.Engines(t) {
		t.Run(e.Name, func(t *testing.T) {
			s := newServer(t, e)
			props := map[string]any{"order_id": "50314b8e", "total": 27.5, "currency": "cny", "products": []any{
				map[string]any{"product_id": "507f1f77", "sku": "45790-32", "name": "Monopoly", "category": "Games", "price": 19, "quantity": 1},
				map[string]any{"product_id": "505bd76785", "sku": "46493-32", "name": "Uno", "category": "Games", "price": 3.75, "quantity": 2},
			}}
			for i := 0; i < 2; i++ { // a retry with a new messageId is still one order
				status, body := s.post(t, "/v1/track", s.key, map[string]any{"userId": "buyer", "event": "Order Completed", "properties": props, "messageId": fmt.Sprint("oc-", i)})
				if status != 200 {
					t.Fatalf("%d %v", status, body)
				}
			}
			c := customerOf(t, e.Store, customer.Identity{Type: "external_id", Source: "web", Value: "buyer"})
			st, _ := e.Store.CustomerStats(context.Background(), c.ID)
			if st.Orders != 1 || st.Revenue != 27.5 || st.FavouriteCategory != "Games" || st.Events != 2 {
				t.Fatalf("stats after order %+v", st)
			}
			orders, _ := e.Store.Orders(context.Background(), c.ID, 10)
			if len(orders) != 1 || orders[0].ExternalID != "50314b8e" || orders[0].Currency != "CNY" || len(orders[0].Items) != 2 || orders[0].Items[1].Quantity != 2 {
				t.Fatalf("orders %+v", orders)
			}
			// A total beyond any real order is refused before the 200.
			for _, huge := range []map[string]any{{"order_id": "h1", "total": 1e308}, {"order_id": "h2", "products": []any{map[string]any{"price": 1e300, "quantity": 1e10}}}} {
				if status, body := s.post(t, "/v1/track", s.key, map[string]any{"userId": "buyer", "event": "Order Completed", "properties": huge}); status != 400 || !strings.Contains(fmt.Sprint(body), "1e12") {
					t.Fatalf("huge order %v: %d %v", huge, status, body)
				}
			}
			s.post(t, "/v1/track", s.key, map[string]any{"userId": "buyer", "event": "Order Refunded", "properties": map[string]any{"order_id": "50314b8e"}})
			st, _ = e.Store.CustomerStats(context.Background(), c.ID)
			if st.Orders != 0 || st.Revenue != 0 || st.FavouriteCategory != "" {
				t.Fatalf("stats after refund %+v", st)
			}
		})
	}
}

func TestTrackerIsServed(t *testing.T) {
	s := newServer(t, storetest.SQLite(t))
	res, err := http.Get(s.url + "/t.js")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if res.StatusCode != 200 || !strings.HasPrefix(res.Header.Get("Content-Type"), "application/javascript") || len(b) > 8*1024 {
		t.Fatalf("t.js: %d %s, %d bytes", res.StatusCode, res.Header.Get("Content-Type"), len(b))
	}
	for _, want := range []string{"/v1/batch", "data-rapport-track", "identify", "localStorage", "writeKey"} {
		if !bytes.Contains(b, []byte(want)) {
			t.Fatalf("t.js lacks %q", want)
		}
	}
}

// Decoding waits for a free decode slot, and every request gives its slot
// back, answered or rejected: otherwise a few bad requests would stop all
// ingestion.
func TestDecodingWaitsForASlotAndGivesItBack(t *testing.T) {
	for n, want := range map[int]int{1: 1, 2: 1, 4: 3, 16: 15} {
		if got := ingest.DecodeSlots(n); got != want {
			t.Errorf("DecodeSlots(%d) = %d, want %d", n, got, want)
		}
	}
	s := newServer(t, storetest.SQLite(t))
	msg := map[string]any{"userId": "u1", "event": "Viewed"}
	release := s.svc.HoldDecodeSlots()
	type answer struct {
		status int
		err    error
	}
	answered := make(chan answer, 1)
	go func() {
		status, _, err := s.send("/v1/track", s.key, msg)
		answered <- answer{status, err}
	}()
	select {
	case a := <-answered:
		t.Fatalf("answered %d (%v) while every decode slot was taken", a.status, a.err)
	case <-time.After(200 * time.Millisecond):
	}
	release()
	select {
	case a := <-answered:
		if a.err != nil || a.status != http.StatusOK {
			t.Fatalf("status %d (%v) after the slots were given back", a.status, a.err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("not answered after the slots were given back")
	}
	// More rejected and accepted requests than there are slots: each
	// gives its slot back (a slot kept would hang the next request).
	type round struct {
		got [3]int
		err error
	}
	rounds := make(chan round, 1)
	go func() {
		var r round
		bodies := []any{`{"batch": [`,
			map[string]any{"batch": []any{map[string]any{"type": "track", "userId": "u1", "event": "x"}, map[string]any{"type": "nope"}}},
			msg}
		paths := []string{"/v1/batch", "/v1/batch", "/v1/track"}
		for i := 0; i < 3*ingest.DecodeSlots(runtime.GOMAXPROCS(0)) && r.err == nil; i++ {
			for j := range bodies {
				if r.got[j], _, r.err = s.send(paths[j], s.key, bodies[j]); r.err != nil {
					break
				}
			}
			if r.got != [3]int{http.StatusBadRequest, http.StatusBadRequest, http.StatusOK} {
				break
			}
		}
		rounds <- r
	}()
	select {
	case r := <-rounds:
		if r.err != nil || r.got != [3]int{http.StatusBadRequest, http.StatusBadRequest, http.StatusOK} {
			t.Fatalf("malformed batch, batch with a bad message, good message: %v (%v), want 400, 400, 200", r.got, r.err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("a request hung: a decode slot was not given back")
	}
}

// TestUnstorableTextIsRefusedBeforeTheAcknowledgement: a message holding a
// NUL character or bytes that are not UTF-8 cannot be stored on
// PostgreSQL. Acknowledging it would lose it after the 200 (the applier
// would set it aside as failed), so the request is refused whole, with
// the message's index, on both engines alike.
func TestUnstorableTextIsRefusedBeforeTheAcknowledgement(t *testing.T) {
	for _, e := range storetest.Engines(t) {
		t.Run(e.Name, func(t *testing.T) {
			s := newServer(t, e)
			good := `{"type":"track","userId":"u1","event":"Viewed"}`
			for _, c := range []struct{ name, path, body string }{
				{"NUL in a property", "/v1/batch", `{"batch":[` + good + `,{"type":"track","userId":"u1","event":"Viewed","properties":{"note":"a\u0000b"}}]}`},
				{"NUL in the user id", "/v1/track", `{"userId":"u\u0000","event":"Viewed"}`},
				{"not UTF-8", "/v1/batch", "{\"batch\":[" + good + ",{\"type\":\"track\",\"userId\":\"u1\",\"event\":\"Vi\xffewed\"}]}"},
			} {
				status, body := s.post(t, c.path, s.key, c.body)
				if status != http.StatusBadRequest || !strings.Contains(fmt.Sprint(body), "NUL") && !strings.Contains(fmt.Sprint(body), "UTF-8") {
					t.Fatalf("%s: %d %v", c.name, status, body)
				}
				if c.path == "/v1/batch" && !strings.Contains(fmt.Sprint(body["errors"]), "index:1") {
					t.Fatalf("%s: the error does not name message 1: %v", c.name, body)
				}
			}
			st, err := s.store.IngestQueueStatus(context.Background())
			if err != nil || len(st.Failed) != 0 {
				t.Fatalf("requests set aside as failed: %+v %v", st.Failed, err)
			}
			if page, err := s.store.ListCustomers(context.Background(), store.Filter{Limit: 10}); err != nil || len(page.Items) != 0 {
				t.Fatalf("refused requests stored customers: %+v %v", page.Items, err)
			}
			// A backslash before the text u0000 is ordinary text.
			if status, body := s.post(t, "/v1/track", s.key, `{"userId":"u1","event":"Viewed","properties":{"path":"C:\\u0000"}}`); status != http.StatusOK {
				t.Fatalf("escaped backslash: %d %v", status, body)
			}
		})
	}
}
