package store_test

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/rapportcrm/rapport/internal/store"
	"github.com/rapportcrm/rapport/internal/storetest"
)

func enqueue(t *testing.T, s *store.Store, src store.Source, evs ...store.Event) int64 {
	t.Helper()
	q, err := store.NewQueuedRequest(src.ID, evs)
	if err != nil {
		t.Fatal(err)
	}
	seqs, err := s.EnqueueRequests(context.Background(), []store.QueuedRequest{q})
	if err != nil {
		t.Fatal(err)
	}
	return seqs[0]
}

func TestQueuedRequestsAreAppliedOnceInOrder(t *testing.T) {
	for _, e := range storetest.Engines(t) {
		t.Run(e.Name, func(t *testing.T) {
			ctx := context.Background()
			s := e.Store
			src := newSource(t, s, "web")
			evs := []store.Event{event(src, "m1", "page", "/", t0, anonID("a1")), event(src, "m2", "track", "Viewed", t0.Add(1), anonID("a1")),
				event(src, "m3", "identify", "", t0.Add(2), anonID("a1"), userID(src, "u1"))}
			first := enqueue(t, s, src, evs[:2]...)
			second := enqueue(t, s, src, evs[2:]...)
			if first >= second {
				t.Fatalf("sequence numbers %d, %d do not follow acceptance", first, second)
			}
			st, err := s.IngestQueueStatus(ctx)
			if err != nil || st.Requests != 2 || st.Events != 3 || st.Oldest == nil {
				t.Fatalf("status before applying %+v %v", st, err)
			}
			qs, err := s.QueuedEvents(ctx, 100)
			if err != nil || len(qs) != 2 || qs[0].Seq != first || len(qs[0].Events) != 2 || qs[1].Events[0].MessageID != "m3" {
				t.Fatalf("queued %+v %v", qs, err)
			}
			res, err := s.ApplyQueued(ctx, qs)
			if err != nil || res.Stored != 3 || res.Customers != 1 {
				t.Fatalf("applied %+v %v", res, err)
			}
			if ownerOf(t, s, userID(src, "u1")) != ownerOf(t, s, anonID("a1")) {
				t.Fatal("identify in the second request did not reach the profile of the first")
			}
			if qs, _ := s.QueuedEvents(ctx, 100); len(qs) != 0 {
				t.Fatalf("%d requests still queued after applying", len(qs))
			}
			// Applying the same requests again — what a crash between the
			// commit and the queue cleanup leads to on SQLite — changes
			// nothing.
			again := enqueue(t, s, src, evs...)
			if again <= second {
				t.Fatalf("sequence number %d handed out again after the queue emptied (last was %d)", again, second)
			}
			qs, _ = s.QueuedEvents(ctx, 100)
			if len(qs) != 1 || qs[0].Seq != again {
				t.Fatalf("queued %+v", qs)
			}
			res, err = s.ApplyQueued(ctx, qs)
			if err != nil || res.Stored != 0 || res.Duplicates != 3 || res.Customers != 0 {
				t.Fatalf("applying stored events again: %+v %v", res, err)
			}
		})
	}
}

func TestFailedQueuedRequestsAreSetAsideReportedAndRetried(t *testing.T) {
	for _, e := range storetest.Engines(t) {
		t.Run(e.Name, func(t *testing.T) {
			ctx := context.Background()
			s := e.Store
			src := newSource(t, s, "web")
			bad := enqueue(t, s, src, event(src, "m1", "page", "/", t0, anonID("a1")))
			good := enqueue(t, s, src, event(src, "m2", "page", "/", t0, anonID("a2")))
			if err := s.FailQueued(ctx, bad, "cannot apply: test"); err != nil {
				t.Fatal(err)
			}
			qs, err := s.QueuedEvents(ctx, 100)
			if err != nil || len(qs) != 1 || qs[0].Seq != good {
				t.Fatalf("a failed request is still handed to the applier: %+v %v", qs, err)
			}
			st, err := s.IngestQueueStatus(ctx)
			if err != nil || st.Requests != 1 || len(st.Failed) != 1 || st.Failed[0].Seq != bad || st.Failed[0].Error != "cannot apply: test" ||
				st.Failed[0].Events != 1 || st.Failed[0].Attempts != 1 || st.Failed[0].SourceID != src.ID {
				t.Fatalf("status %+v %v", st, err)
			}
			if n, err := s.RetryFailedQueued(ctx); err != nil || n != 1 {
				t.Fatalf("retry: %d %v", n, err)
			}
			if qs, _ := s.QueuedEvents(ctx, 100); len(qs) != 2 || qs[0].Seq != bad {
				t.Fatalf("after retry the queue holds %+v", qs)
			}
		})
	}
}

// Servers sharing a PostgreSQL database each run an applier; every event
// is still stored once.
func TestConcurrentAppliersStoreEachRequestOnce(t *testing.T) {
	u, ok := storetest.PostgresURL(t)
	if !ok {
		t.Skip("RAPPORT_TEST_POSTGRES is not set")
	}
	ctx := context.Background()
	var servers []*store.Store
	for range 3 {
		s, err := store.Open(ctx, store.Config{URL: u})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		servers = append(servers, s)
	}
	src := newSource(t, servers[0], "web")
	const requests, per = 30, 20
	for r := range requests {
		var evs []store.Event
		for i := range per {
			evs = append(evs, event(src, fmt.Sprintf("m-%d-%d", r, i), "page", "/", t0, anonID(fmt.Sprintf("a%d", (r*per+i)%37))))
		}
		enqueue(t, servers[r%len(servers)], src, evs...)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	stored, dups := 0, 0
	errc := make(chan error, len(servers))
	for _, s := range servers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				qs, err := s.QueuedEvents(ctx, 3*per)
				if err != nil {
					errc <- err
					return
				}
				if len(qs) == 0 {
					return
				}
				res, err := s.ApplyQueued(ctx, qs)
				if err != nil {
					errc <- err
					return
				}
				mu.Lock()
				stored, dups = stored+res.Stored, dups+res.Duplicates
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	close(errc)
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
	if stored != requests*per || dups != 0 {
		t.Fatalf("stored %d (duplicates %d), want %d once each", stored, dups, requests*per)
	}
	live, err := servers[0].LiveCustomers(ctx)
	if err != nil || len(live) != 37 {
		t.Fatalf("%d profiles, want 37 (%v)", len(live), err)
	}
}

// TestQueuedBodiesAreCompressedWithLZ4 checks migration 0018 on
// PostgreSQL: a queued request large enough to be compressed is
// compressed with lz4, not pglz (when the server has lz4, as Debian's
// has), and reads back intact.
func TestQueuedBodiesAreCompressedWithLZ4(t *testing.T) {
	e, ok := storetest.Postgres(t)
	if !ok {
		t.Skip("RAPPORT_TEST_POSTGRES is not set")
	}
	ctx := context.Background()
	s := e.Store
	avail, err := s.QueryString(ctx, `SELECT CASE WHEN EXISTS (SELECT 1 FROM pg_config WHERE name = 'CONFIGURE' AND setting LIKE '%with-lz4%') THEN 'yes' ELSE 'no' END`)
	if err != nil {
		t.Fatal(err)
	}
	if avail != "yes" {
		t.Skip("this PostgreSQL was built without lz4")
	}
	src := newSource(t, s, "web")
	var evs []store.Event
	for i := range 100 {
		evs = append(evs, event(src, fmt.Sprintf("m%03d", i), "page", "/pricing", t0, anonID(fmt.Sprintf("a%d", i%7))))
	}
	seq := enqueue(t, s, src, evs...)
	method, err := s.QueryString(ctx, `SELECT coalesce(pg_column_compression(body), 'none') FROM ingest_queue WHERE seq = $1`, seq)
	if err != nil || method != "lz4" {
		t.Fatalf("queued body compression %q %v, want lz4", method, err)
	}
	qs, err := s.QueuedEvents(ctx, 1000)
	if err != nil || len(qs) != 1 || len(qs[0].Events) != 100 || qs[0].Events[99].MessageID != "m099" {
		t.Fatalf("read back %d requests %v", len(qs), err)
	}
}

// TestQueuedEventsReadsUpToMaxEvents: a read takes the oldest requests
// until their events reach the maximum (the request that crosses it
// included, and always at least one), and leaves out the ones it is told
// to skip, on both engines.
func TestQueuedEventsReadsUpToMaxEvents(t *testing.T) {
	for _, e := range storetest.Engines(t) {
		t.Run(e.Name, func(t *testing.T) {
			ctx := context.Background()
			s := e.Store
			src := newSource(t, s, "web")
			var seqs []int64
			for r, n := range []int{3, 3, 3, 10, 1} {
				var evs []store.Event
				for i := range n {
					evs = append(evs, event(src, fmt.Sprintf("r%d-%d", r, i), "page", "/", t0, anonID("a1")))
				}
				seqs = append(seqs, enqueue(t, s, src, evs...))
			}
			read := func(max int, skip ...int64) []int64 {
				t.Helper()
				qs, err := s.QueuedEvents(ctx, max, skip...)
				if err != nil {
					t.Fatal(err)
				}
				var got []int64
				for _, q := range qs {
					got = append(got, q.Seq)
				}
				return got
			}
			for _, c := range []struct {
				max  int
				skip []int64
				want []int64
			}{
				{1, nil, seqs[:1]},
				{3, nil, seqs[:1]},
				{4, nil, seqs[:2]},
				{6, nil, seqs[:2]},
				{7, nil, seqs[:3]},
				{10, nil, seqs[:4]}, // the 10-event request crosses the maximum: taken whole
				{100, nil, seqs},
				{4, seqs[:2], seqs[2:4]},
				{1, seqs[:4], seqs[4:]},
			} {
				if got := read(c.max, c.skip...); fmt.Sprint(got) != fmt.Sprint(c.want) {
					t.Errorf("max %d skip %v: read %v, want %v", c.max, c.skip, got, c.want)
				}
			}
		})
	}
}
