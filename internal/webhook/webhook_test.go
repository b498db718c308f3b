package webhook_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/rapportcrm/rapport/internal/customer"
	"github.com/rapportcrm/rapport/internal/errs"
	"github.com/rapportcrm/rapport/internal/store"
	"github.com/rapportcrm/rapport/internal/storetest"
	"github.com/rapportcrm/rapport/internal/targeting"
	"github.com/rapportcrm/rapport/internal/webhook"
)

// receiver is a real HTTP endpoint that answers with the statuses it is
// given, in turn (then 200), and keeps what it received.
type receiver struct {
	mu       sync.Mutex
	statuses []int
	bodies   [][]byte
	sigs     []string
	srv      *httptest.Server
}

func newReceiver(t *testing.T, statuses ...int) *receiver {
	r := &receiver{statuses: statuses}
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		b, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		defer r.mu.Unlock()
		r.bodies = append(r.bodies, b)
		r.sigs = append(r.sigs, req.Header.Get(webhook.SignatureHeader))
		status := http.StatusOK
		if len(r.statuses) > 0 {
			status, r.statuses = r.statuses[0], r.statuses[1:]
		}
		w.WriteHeader(status)
	}))
	t.Cleanup(r.srv.Close)
	return r
}

func (r *receiver) got() ([][]byte, []string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([][]byte(nil), r.bodies...), append([]string(nil), r.sigs...)
}

// fixture is a store with a VIP segment and customers who can join it.
type fixture struct {
	st    *store.Store
	tg    *targeting.Service
	segID string
	ids   []string
}

func newFixture(t *testing.T, e storetest.Engine) *fixture {
	ctx := context.Background()
	f := &fixture{st: e.Store, tg: &targeting.Service{Store: e.Store, Region: "CN"}}
	var cs []*customer.Customer
	for _, name := range []string{"张伟", "王芳", "Linda"} {
		now := time.Now().UTC()
		c := &customer.Customer{ID: customer.NewID(), Kind: customer.Person, Name: name, Attributes: map[string]any{}, Tags: []string{},
			CreatedAt: now, UpdatedAt: now, Version: 1}
		cs = append(cs, c)
		f.ids = append(f.ids, c.ID)
	}
	if err := e.Store.CreateCustomers(ctx, store.SystemActor, cs); err != nil {
		t.Fatal(err)
	}
	seg, err := f.tg.CreateSegment(ctx, store.SystemActor, "VIP", `tag = "vip"`)
	if err != nil {
		t.Fatal(err)
	}
	f.segID = seg.ID
	return f
}

// tag sets a customer's tags and re-evaluates the segment, which logs who
// entered and left.
func (f *fixture) tag(t *testing.T, id string, tags ...string) {
	t.Helper()
	ctx := context.Background()
	c, err := f.st.Customer(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.st.UpdateCustomer(ctx, store.SystemActor, id, c.Version, func(c *customer.Customer) error {
		c.Tags = append([]string{}, tags...)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := f.tg.Refresh(ctx, f.segID); err != nil {
		t.Fatal(err)
	}
}

func TestEntriesAndExitsAreDeliveredSignedAndInOrder(t *testing.T) {
	for _, e := range storetest.Engines(t) {
		t.Run(e.Name, func(t *testing.T) {
			ctx := context.Background()
			f := newFixture(t, e)
			f.tag(t, f.ids[2], "vip") // before the subscription: not delivered
			rcv := newReceiver(t)
			h, err := webhook.Create(ctx, f.st, store.SystemActor, webhook.Spec{URL: rcv.srv.URL + "/hook"})
			if err != nil {
				t.Fatal(err)
			}
			// A minute on, so PostgreSQL's grace period has passed.
			w := &webhook.Worker{Store: f.st, Now: func() time.Time { return time.Now().Add(time.Minute) }}
			f.tag(t, f.ids[0], "vip")
			f.tag(t, f.ids[1], "vip")
			f.tag(t, f.ids[0])
			if err := w.Tick(ctx); err != nil {
				t.Fatal(err)
			}
			bodies, sigs := rcv.got()
			if len(bodies) != 1 {
				t.Fatalf("%d deliveries, want one batch", len(bodies))
			}
			if err := webhook.Verify(h.Secret, sigs[0], bodies[0], time.Now(), 5*time.Minute); err != nil {
				t.Fatalf("signature: %v", err)
			}
			if err := webhook.Verify("whsec_wrong", sigs[0], bodies[0], time.Now(), 5*time.Minute); err == nil {
				t.Fatal("a wrong secret verified")
			}
			var p webhook.Payload
			if err := json.Unmarshal(bodies[0], &p); err != nil {
				t.Fatal(err)
			}
			want := []struct{ typ, id string }{{webhook.SegmentEntered, f.ids[0]}, {webhook.SegmentEntered, f.ids[1]}, {webhook.SegmentLeft, f.ids[0]}}
			if len(p.Events) != len(want) {
				t.Fatalf("delivered %+v, want %d events", p.Events, len(want))
			}
			for i, ev := range p.Events {
				if ev.Type != want[i].typ || ev.Data.CustomerID != want[i].id || ev.Data.SegmentID != f.segID || ev.Data.SegmentName != "VIP" || ev.ID == "" {
					t.Errorf("event %d = %+v, want %s of %s", i, ev, want[i].typ, want[i].id)
				}
			}
			// Delivered once: the next round has nothing to send.
			if err := w.Tick(ctx); err != nil {
				t.Fatal(err)
			}
			if bodies, _ := rcv.got(); len(bodies) != 1 {
				t.Fatalf("%d deliveries after a quiet round, want 1", len(bodies))
			}
			ds, err := f.st.WebhookDeliveries(ctx, h.ID, 10)
			if err != nil || len(ds) != 1 || !ds[0].Delivered() || ds[0].Events != 3 {
				t.Fatalf("delivery record %+v %v", ds, err)
			}
			// Deleted: nothing more is sent.
			if err := f.st.DeleteWebhook(ctx, store.SystemActor, h.ID); err != nil {
				t.Fatal(err)
			}
			f.tag(t, f.ids[1])
			if err := w.Tick(ctx); err != nil {
				t.Fatal(err)
			}
			if bodies, _ := rcv.got(); len(bodies) != 1 {
				t.Fatalf("a deleted subscription still delivers")
			}
		})
	}
}

func TestAFailingReceiverIsRetriedWithBackoffAndLosesNothing(t *testing.T) {
	for _, e := range storetest.Engines(t) {
		t.Run(e.Name, func(t *testing.T) {
			ctx := context.Background()
			f := newFixture(t, e)
			rcv := newReceiver(t, http.StatusInternalServerError, http.StatusServiceUnavailable)
			h, err := webhook.Create(ctx, f.st, store.SystemActor, webhook.Spec{URL: rcv.srv.URL, Events: []string{webhook.SegmentEntered}})
			if err != nil {
				t.Fatal(err)
			}
			clock := time.Now().UTC().Add(time.Minute) // past PostgreSQL's grace period
			w := &webhook.Worker{Store: f.st, Now: func() time.Time { return clock }}
			f.tag(t, f.ids[0], "vip")
			f.tag(t, f.ids[0]) // a "left" event this subscription did not ask for
			f.tag(t, f.ids[1], "vip")

			if err := w.Tick(ctx); err != nil { // 500
				t.Fatal(err)
			}
			got, _ := f.st.Webhook(ctx, h.ID)
			if got.Failures != 1 || got.NextAttemptAt == nil || !got.NextAttemptAt.After(clock) || got.Cursor != h.Cursor {
				t.Fatalf("after a failure: %+v", got)
			}
			if err := w.Tick(ctx); err != nil { // too early: no attempt
				t.Fatal(err)
			}
			if bodies, _ := rcv.got(); len(bodies) != 1 {
				t.Fatalf("%d attempts before the backoff ran out, want 1", len(bodies))
			}
			clock = clock.Add(time.Minute)
			w.Tick(ctx) // 503
			clock = clock.Add(time.Hour)
			w.Tick(ctx) // 200
			bodies, _ := rcv.got()
			if len(bodies) != 3 {
				t.Fatalf("%d attempts, want 3", len(bodies))
			}
			var first, last webhook.Payload
			json.Unmarshal(bodies[0], &first)
			json.Unmarshal(bodies[2], &last)
			if len(last.Events) != 2 || last.ID != first.ID || last.Events[0].Data.CustomerID != f.ids[0] || last.Events[1].Data.CustomerID != f.ids[1] {
				t.Fatalf("the retry carried %+v (first attempt %s), want both entries again", last, first.ID)
			}
			for _, ev := range last.Events {
				if ev.Type != webhook.SegmentEntered {
					t.Errorf("delivered a %s the subscription did not ask for", ev.Type)
				}
			}
			got, _ = f.st.Webhook(ctx, h.ID)
			if got.Failures != 0 || got.NextAttemptAt != nil || got.Cursor <= h.Cursor || !got.Active {
				t.Fatalf("after the success: %+v", got)
			}
			ds, _ := f.st.WebhookDeliveries(ctx, h.ID, 10)
			if len(ds) != 3 || ds[0].Status != 200 || ds[1].Status != 503 || ds[2].Status != 500 || ds[2].Error == "" {
				t.Fatalf("delivery record %+v", ds)
			}
		})
	}
}

func TestYoungEventsWaitOutTheGracePeriod(t *testing.T) {
	for _, e := range storetest.Engines(t) {
		t.Run(e.Name, func(t *testing.T) {
			ctx := context.Background()
			f := newFixture(t, e)
			rcv := newReceiver(t)
			if _, err := webhook.Create(ctx, f.st, store.SystemActor, webhook.Spec{URL: rcv.srv.URL}); err != nil {
				t.Fatal(err)
			}
			f.tag(t, f.ids[0], "vip")
			clock := time.Now()
			w := &webhook.Worker{Store: f.st, Now: func() time.Time { return clock }}
			if e.Store.Dialect() == store.Postgres {
				// The default on PostgreSQL: a just-logged event waits.
				if err := w.Tick(ctx); err != nil {
					t.Fatal(err)
				}
				if bodies, _ := rcv.got(); len(bodies) != 0 {
					t.Fatalf("delivered inside PostgreSQL's grace period")
				}
			}
			w.Grace = time.Hour
			clock = clock.Add(time.Minute)
			if err := w.Tick(ctx); err != nil {
				t.Fatal(err)
			}
			if bodies, _ := rcv.got(); len(bodies) != 0 {
				t.Fatalf("delivered inside an hour's grace")
			}
			clock = clock.Add(2 * time.Hour)
			if err := w.Tick(ctx); err != nil {
				t.Fatal(err)
			}
			if bodies, _ := rcv.got(); len(bodies) != 1 {
				t.Fatalf("%d deliveries after the grace period, want 1", len(bodies))
			}
		})
	}
}

func TestSubscriptionsAreValidated(t *testing.T) {
	e := storetest.SQLite(t)
	ctx := context.Background()
	for _, sp := range []webhook.Spec{
		{URL: "ftp://example.com/x"},
		{URL: "not a url"},
		{URL: "https://example.com/x", Events: []string{"segment.exploded"}},
		{URL: "https://example.com/x", SegmentIDs: []string{"no-such-segment"}},
	} {
		if _, err := webhook.Create(ctx, e.Store, store.SystemActor, sp); errs.KindOf(err) != errs.Invalid {
			t.Errorf("%+v: %v, want a validation error", sp, err)
		}
	}
	hooks, err := e.Store.Webhooks(ctx)
	if err != nil || len(hooks) != 0 {
		t.Fatalf("rejected subscriptions were stored: %+v %v", hooks, err)
	}
}

func TestVerifyRefusesOldOrTamperedDeliveries(t *testing.T) {
	body := []byte(`{"id":"x","events":[]}`)
	at := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	sig := webhook.Sign("whsec_k", at, body)
	if err := webhook.Verify("whsec_k", sig, body, at.Add(time.Minute), 5*time.Minute); err != nil {
		t.Fatal(err)
	}
	if webhook.Verify("whsec_k", sig, body, at.Add(time.Hour), 5*time.Minute) == nil {
		t.Error("an hour-old signature verified")
	}
	if webhook.Verify("whsec_k", sig, []byte(`{"id":"y","events":[]}`), at, 5*time.Minute) == nil {
		t.Error("a tampered body verified")
	}
	if webhook.Verify("whsec_k", "v1=abc", body, at, 5*time.Minute) == nil {
		t.Error("a header without a timestamp verified")
	}
}
