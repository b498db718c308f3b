package ingest_test

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/rapportcrm/rapport/internal/customer"
	"github.com/rapportcrm/rapport/internal/ingest"
	"github.com/rapportcrm/rapport/internal/store"
	"github.com/rapportcrm/rapport/internal/storetest"
)

// A stored request the applier cannot read (here: corrupted on disk) is
// set aside as failed, with the reason, and the requests after it are
// applied.
func TestAnUnreadableRequestIsSetAsideAndTheRestApplied(t *testing.T) {
	e := storetest.SQLite(t)
	s := newServer(t, e)
	q, err := sql.Open("sqlite", "file:"+filepath.Join(e.Config.DataDir, "ingest-queue.db")+"?_pragma=busy_timeout(10000)")
	if err != nil {
		t.Fatal(err)
	}
	defer q.Close()
	if _, err := q.Exec(`INSERT INTO ingest_queue (source_id, events, body, accepted_at) VALUES (?, 1, x'99ff', ?)`,
		s.src.ID, time.Now().UTC().Format(time.RFC3339Nano)); err != nil {
		t.Fatal(err)
	}
	if status, body := s.post(t, "/v1/track", s.key, map[string]any{"userId": "after", "event": "Viewed", "messageId": "after-1"}); status != http.StatusOK {
		t.Fatalf("track after the bad row: %d %v", status, body)
	}
	ctx := context.Background()
	found, err := e.Store.StoredMessages(ctx, s.src.ID, []string{"after-1"})
	if err != nil || !found["after-1"] {
		t.Fatalf("the request after the unreadable one was not applied (%v)", err)
	}
	st, err := e.Store.IngestQueueStatus(ctx)
	if err != nil || st.Requests != 0 || len(st.Failed) != 1 || st.Failed[0].Error == "" {
		t.Fatalf("queue status %+v %v", st, err)
	}
}

// A backlog smaller than one request still lets every request through,
// one at a time, each acknowledged only once accepted.
func TestABacklogSmallerThanARequestStillMovesEveryEvent(t *testing.T) {
	for _, e := range storetest.Engines(t) {
		t.Run(e.Name, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			svc := ingest.New(ctx, e.Store, ingest.Options{MaxBacklog: 1, MaxGroup: 7})
			mux := http.NewServeMux()
			svc.Register(mux)
			ts := httptest.NewServer(mux)
			defer ts.Close()
			_, key, err := ingest.CreateSource(ctx, e.Store, store.SystemActor, "web")
			if err != nil {
				t.Fatal(err)
			}
			const requests, per = 6, 10
			done := make(chan error, requests)
			for r := range requests {
				go func() {
					var batch []map[string]any
					for i := range per {
						batch = append(batch, map[string]any{"type": "track", "event": "Viewed", "anonymousId": fmt.Sprint("v", i), "messageId": fmt.Sprintf("r%d-%d", r, i)})
					}
					body, _ := json.Marshal(map[string]any{"batch": batch})
					req, _ := http.NewRequest(http.MethodPost, ts.URL+"/v1/batch", bytes.NewReader(body))
					req.SetBasicAuth(key, "")
					res, err := http.DefaultClient.Do(req)
					if err == nil {
						res.Body.Close()
						if res.StatusCode != http.StatusOK {
							err = fmt.Errorf("status %d", res.StatusCode)
						}
					}
					done <- err
				}()
			}
			for range requests {
				if err := <-done; err != nil {
					t.Fatal(err)
				}
			}
			if err := svc.Flush(ctx); err != nil {
				t.Fatal(err)
			}
			c := customerOf(t, e.Store, customer.Identity{Type: customer.IdentityAnonymousID, Value: "v3"})
			st, err := e.Store.CustomerStats(ctx, c.ID)
			if err != nil || st.Events != requests {
				t.Fatalf("visitor v3 has %d events, want %d (%v)", st.Events, requests, err)
			}
		})
	}
}

func TestTheQueueIsReportedOnMetrics(t *testing.T) {
	e := storetest.SQLite(t)
	reg := prometheus.NewRegistry()
	reg.MustRegister(ingest.QueueCollector(e.Store, slog.New(slog.DiscardHandler)))
	src := newServer(t, e).src
	q, err := store.NewQueuedRequest(src.ID, []store.Event{{SourceID: src.ID, Source: "web", MessageID: "m1", Type: "track", Name: "Viewed",
		At: time.Now().UTC(), ReceivedAt: time.Now().UTC(), Payload: []byte(`{}`)}})
	if err != nil {
		t.Fatal(err)
	}
	seqs, err := e.Store.EnqueueRequests(context.Background(), []store.QueuedRequest{q})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Store.FailQueued(context.Background(), seqs[0], "test"); err != nil {
		t.Fatal(err)
	}
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]float64{}
	for _, mf := range mfs {
		got[mf.GetName()] = mf.GetMetric()[0].GetGauge().GetValue()
	}
	if got["rapport_ingest_failed_requests"] != 1 || got["rapport_ingest_queued_events"] != 0 {
		t.Fatalf("metrics %v", got)
	}
}
