// Package ingest benchmarks the tracking API end to end beside the raw
// driver's insert rate for the same rows, measured in the same run:
//
//   - http_batch: POST /v1/batch over real HTTP (httptest server, the real
//     handler and group-commit writer), 100 events a batch, 16 concurrent
//     clients; every event is validated, its identities resolved (profiles
//     created on first sight, identify linking an anonymous visitor to the
//     user, a few "Order Completed" becoming orders) and its customer's
//     stats updated in the same transaction; a 200 means committed.
//   - apply_only: the applier alone (no HTTP), draining a queue filled with
//     the same batches beforehand: the stage that bounds the throughput.
//   - raw_insert: the same event rows (customer ids precomputed) inserted
//     into the same events table through the same driver with multi-row
//     INSERTs, 4,000 rows a transaction, one connection: no HTTP, no JSON,
//     no resolution, no stats. The ceiling.
//
// Run (from the repo root):
//
//	go test -run '^$' -bench . -benchtime 1x -timeout 30m ./bench/ingest
//	RAPPORT_BENCH_EVENTS=100000 RAPPORT_TEST_POSTGRES=postgres://… go test -run '^$' -bench . -benchtime 1x ./bench/ingest
package ingest

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/rapportcrm/rapport/internal/customer"
	"github.com/rapportcrm/rapport/internal/ingest"
	"github.com/rapportcrm/rapport/internal/store"
	"github.com/rapportcrm/rapport/internal/storetest"
)

const (
	perBatch = 100
	clients  = 16
)

func totalEvents() int {
	if n, err := strconv.Atoi(os.Getenv("RAPPORT_BENCH_EVENTS")); err == nil && n > 0 {
		return n / perBatch * perBatch
	}
	return 200_000
}

// message is one generated event in Segment's wire format.
type message struct {
	Type        string         `json:"type"`
	MessageID   string         `json:"messageId"`
	UserID      string         `json:"userId,omitempty"`
	AnonymousID string         `json:"anonymousId"`
	Event       string         `json:"event,omitempty"`
	Name        string         `json:"name,omitempty"`
	Properties  map[string]any `json:"properties,omitempty"`
	Traits      map[string]any `json:"traits,omitempty"`
	Context     map[string]any `json:"context"`
	Timestamp   string         `json:"timestamp"`
}

// workload is a deterministic stream: 20,000 visitors browse anonymously;
// a visitor's later events carry its user id (after an identify with an
// email links the two), 2% of events are orders.
func workload(n int) [][]byte {
	rng := rand.New(rand.NewPCG(1, 2))
	const visitors = 20_000
	identified := make([]bool, visitors)
	start := time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC)
	pages := []string{"/", "/pricing", "/product/coffee", "/product/tea", "/cart", "/blog/brewing"}
	var batches [][]byte
	for b := 0; b < n/perBatch; b++ {
		msgs := make([]message, perBatch)
		for i := range msgs {
			k := b*perBatch + i
			v := rng.IntN(visitors)
			m := message{MessageID: fmt.Sprintf("bench-%d", k), AnonymousID: fmt.Sprintf("anon-%05d", v),
				Timestamp: start.Add(time.Duration(k) * time.Second).Format(time.RFC3339Nano),
				Context:   map[string]any{"library": map[string]any{"name": "analytics.js", "version": "4.1.0"}, "userAgent": "Mozilla/5.0 (X11; Linux x86_64) Chrome/124.0", "ip": "203.0.113.7"}}
			if identified[v] {
				m.UserID = fmt.Sprintf("user-%05d", v)
			}
			switch r := rng.IntN(100); {
			case r < 50:
				p := pages[rng.IntN(len(pages))]
				m.Type, m.Name = "page", p
				m.Properties = map[string]any{"path": p, "url": "https://shop.example.com" + p, "referrer": "https://www.google.com/", "title": "Shop"}
			case r < 55 && !identified[v]:
				identified[v] = true
				m.Type, m.UserID = "identify", fmt.Sprintf("user-%05d", v)
				m.Traits = map[string]any{"email": fmt.Sprintf("visitor%d@example.com", v), "name": fmt.Sprintf("Visitor %d", v)}
			case r < 57:
				m.Type, m.Event = "track", "Order Completed"
				m.Properties = map[string]any{"order_id": fmt.Sprintf("o-%d", k), "total": 20 + float64(rng.IntN(8000))/100, "currency": "CNY",
					"products": []any{map[string]any{"product_id": "p1", "category": "coffee", "price": 20, "quantity": 1}}}
			default:
				m.Type, m.Event = "track", "Product Viewed"
				m.Properties = map[string]any{"product_id": fmt.Sprint("p", rng.IntN(50)), "price": 19.9, "category": "coffee"}
			}
			msgs[i] = m
		}
		body, _ := json.Marshal(map[string]any{"batch": msgs, "sentAt": start.Add(time.Duration(b*perBatch) * time.Second).Format(time.RFC3339Nano)})
		batches = append(batches, body)
	}
	return batches
}

type engine struct {
	name string
	open func(b *testing.B) store.Config
}

func engines(b *testing.B) []engine {
	es := []engine{{"sqlite", func(b *testing.B) store.Config { return store.Config{DataDir: b.TempDir()} }}}
	if _, ok := os.LookupEnv("RAPPORT_TEST_POSTGRES"); ok {
		es = append(es, engine{"postgres", func(b *testing.B) store.Config {
			u, _ := storetest.PostgresURL(b)
			return store.Config{URL: u}
		}})
	}
	return es
}

func BenchmarkIngest(b *testing.B) {
	n := totalEvents()
	batches := workload(n)
	for _, e := range engines(b) {
		var httpRate, rawRate float64
		b.Run(e.name+"/http_batch", func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				httpRate = runHTTP(b, e.open(b), batches)
			}
			b.ReportMetric(httpRate, "events/s")
		})
		var applyRate float64
		b.Run(e.name+"/apply_only", func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				applyRate = runApply(b, e.open(b), batches)
			}
			b.ReportMetric(applyRate, "events/s")
		})
		b.Run(e.name+"/raw_insert", func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				rawRate = runRaw(b, e.open(b), batches)
			}
			b.ReportMetric(rawRate, "events/s")
		})
		if rawRate > 0 {
			b.Logf("%s: http_batch %.0f events/s = %.0f%% of raw_insert %.0f events/s; the applier alone %.0f events/s = %.0f%%",
				e.name, httpRate, 100*httpRate/rawRate, rawRate, applyRate, 100*applyRate/rawRate)
		}
	}
}

func runHTTP(b *testing.B, cfg store.Config, batches [][]byte) float64 {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	s, err := store.Open(ctx, cfg)
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	mux := http.NewServeMux()
	svc := ingest.New(ctx, s, ingest.Options{Region: "CN"})
	svc.Register(mux)
	srv := httptest.NewServer(mux)
	defer srv.Close()
	_, key, err := ingest.CreateSource(ctx, s, store.SystemActor, "web")
	if err != nil {
		b.Fatal(err)
	}
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: clients}}
	work := make(chan []byte, len(batches))
	for _, body := range batches {
		work <- body
	}
	close(work)
	var wg sync.WaitGroup
	errc := make(chan error, clients)
	b.ResetTimer()
	start := time.Now()
	var pg serverCPU
	c0 := processCPU(b)
	pg.read(cfg)
	for c := 0; c < clients; c++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for body := range work {
				req, _ := http.NewRequest(http.MethodPost, srv.URL+"/v1/batch", bytes.NewReader(body))
				req.SetBasicAuth(key, "")
				req.Header.Set("Content-Type", "application/json")
				res, err := client.Do(req)
				if err != nil {
					errc <- err
					return
				}
				res.Body.Close()
				if res.StatusCode != http.StatusOK {
					errc <- fmt.Errorf("status %d", res.StatusCode)
					return
				}
			}
		}()
	}
	wg.Wait()
	acked := time.Since(start)
	c1 := processCPU(b)
	pg.read(cfg)
	if err := svc.Flush(ctx); err != nil { // the figure is events applied, not only accepted
		b.Fatal(err)
	}
	elapsed := time.Since(start)
	b.StopTimer()
	c2 := processCPU(b)
	pg.read(cfg)
	close(errc)
	if err := <-errc; err != nil {
		b.Fatal(err)
	}
	events := len(batches) * perBatch
	cs, err := s.LiveCustomers(ctx)
	if err != nil {
		b.Fatal(err)
	}
	b.Logf("http_batch: %d events acknowledged in %.2f s, applied in %.2f s, %d live profiles; process CPU %.2f s while accepting, %.2f s after",
		events, acked.Seconds(), elapsed.Seconds(), len(cs), (c1 - c0).Seconds(), (c2 - c1).Seconds())
	switch {
	case pg.measured():
		b.Logf("http_batch: PostgreSQL server processes' CPU %.2f s while accepting, %.2f s after", pg.since(0, 1), pg.since(1, 2))
	case cfg.URL != "":
		b.Logf("http_batch: PostgreSQL server CPU not measured: no local postgres processes")
	}
	return float64(events) / elapsed.Seconds()
}

// runApply fills the ingest queue with the converted batches (not timed),
// then times the applier alone draining it: resolution, events, orders and
// stats, in transactions of up to 10,000 events, on one core.
func runApply(b *testing.B, cfg store.Config, batches [][]byte) float64 {
	ctx := context.Background()
	s, err := store.Open(ctx, cfg)
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	src, _, err := ingest.CreateSource(ctx, s, store.SystemActor, "web")
	if err != nil {
		b.Fatal(err)
	}
	received := time.Now().UTC()
	var reqs []store.QueuedRequest
	for _, body := range batches {
		evs, err := ingest.ParseBatch(body, src, received, "CN")
		if err != nil {
			b.Fatal(err)
		}
		q, err := store.NewQueuedRequest(src.ID, evs)
		if err != nil {
			b.Fatal(err)
		}
		reqs = append(reqs, q)
	}
	for lo := 0; lo < len(reqs); lo += 200 {
		if _, err := s.EnqueueRequests(ctx, reqs[lo:min(lo+200, len(reqs))]); err != nil {
			b.Fatal(err)
		}
	}
	b.ResetTimer()
	var pg serverCPU
	start, cpu0 := time.Now(), processCPU(b)
	pg.read(cfg)
	if err := ingest.Drain(ctx, s, nil); err != nil {
		b.Fatal(err)
	}
	elapsed, cpu := time.Since(start), processCPU(b)-cpu0
	pg.read(cfg)
	b.StopTimer()
	// The applier is serial: its CPU per event is the cost a change to it
	// moves (other tenants of this machine move it too, a little less than
	// the wall time).
	b.ReportMetric(float64(cpu.Microseconds())/float64(len(batches)*perBatch), "cpu-µs/event")
	b.Logf("apply_only: %d events in %.2f s, %.2f s of CPU", len(batches)*perBatch, elapsed.Seconds(), cpu.Seconds())
	switch {
	case pg.measured():
		b.Logf("apply_only: PostgreSQL server processes' CPU %.2f s", pg.since(0, 1))
	case cfg.URL != "":
		b.Logf("apply_only: PostgreSQL server CPU not measured: no local postgres processes")
	}
	return float64(len(batches)*perBatch) / elapsed.Seconds()
}

// processCPU is the user and system CPU time this process has used.
func processCPU(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// postgresCPU is the user and system CPU time of this machine's running
// processes named postgres (the server the bench talks to, when it is
// local), and whether there were any: a remote server, or a /proc that
// cannot be read, is not measured rather than measured as zero. Backends
// that exit between two readings take their time with them, so it is a
// lower bound.
func postgresCPU() (time.Duration, bool) {
	dirs, _ := filepath.Glob("/proc/[0-9]*/stat")
	var ticks int64
	found := false
	for _, d := range dirs {
		b, err := os.ReadFile(d)
		if err != nil {
			continue
		}
		s := string(b)
		open, close := strings.IndexByte(s, '('), strings.LastIndexByte(s, ')')
		if open < 0 || close < open || s[open+1:close] != "postgres" {
			continue
		}
		f := strings.Fields(s[close+1:]) // f[0] is field 3 (state); utime and stime are fields 14 and 15
		if len(f) < 13 {
			continue
		}
		u, uerr := strconv.ParseInt(f[11], 10, 64)
		k, kerr := strconv.ParseInt(f[12], 10, 64)
		if uerr != nil || kerr != nil {
			continue
		}
		ticks += u + k
		found = true
	}
	return time.Duration(ticks) * (time.Second / 100), found // USER_HZ is 100 on Linux
}

// serverCPU collects postgresCPU readings during a run on PostgreSQL
// (none on SQLite, whose work is this process's).
type serverCPU struct {
	readings []time.Duration
	missing  bool // some reading found no local postgres process
}

func (c *serverCPU) read(cfg store.Config) {
	if cfg.URL == "" {
		return
	}
	d, ok := postgresCPU()
	c.missing = c.missing || !ok
	c.readings = append(c.readings, d)
}

// measured reports whether every reading saw the server.
func (c *serverCPU) measured() bool { return len(c.readings) > 0 && !c.missing }

// since is the server's CPU between readings i and j.
func (c *serverCPU) since(i, j int) float64 { return (c.readings[j] - c.readings[i]).Seconds() }

// runRaw inserts the same rows straight into the events table.
func runRaw(b *testing.B, cfg store.Config, batches [][]byte) float64 {
	ctx := context.Background()
	s, err := store.Open(ctx, cfg) // creates the schema
	if err != nil {
		b.Fatal(err)
	}
	s.Close()
	var db *sql.DB
	sqlite := cfg.URL == ""
	if sqlite {
		db, err = sql.Open("sqlite", "file:"+filepath.Join(cfg.DataDir, "rapport.db")+
			"?_pragma=journal_mode(WAL)&_pragma=busy_timeout(10000)&_pragma=synchronous(NORMAL)&_pragma=cache_size(-32000)&_txlock=immediate")
	} else {
		db, err = sql.Open("pgx", cfg.URL)
	}
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	// Rows as the store writes them; the parse is outside the timing.
	type row struct {
		id, customer, typ, name, at, payload string
	}
	var rows []row
	for _, body := range batches {
		var bb struct {
			Batch []json.RawMessage `json:"batch"`
		}
		json.Unmarshal(body, &bb)
		for _, raw := range bb.Batch {
			var m message
			json.Unmarshal(raw, &m)
			name := m.Event + m.Name
			rows = append(rows, row{m.MessageID, "cust-" + m.AnonymousID, m.Type, name, m.Timestamp, string(raw)})
		}
	}
	source := customer.NewID()
	now := time.Now().UTC().Format("2006-01-02T15:04:05.000000Z")
	const per = 100
	const perTx = 4000
	ph := func(n int) string {
		var sb strings.Builder
		for i := 0; i < n; i++ {
			if i > 0 {
				sb.WriteString(", ")
			}
			if sqlite {
				sb.WriteString("(?, ?, ?, ?, ?, ?, ?, ?)")
			} else {
				fmt.Fprintf(&sb, "($%d, $%d, $%d, $%d, $%d, $%d, $%d, $%d)", i*8+1, i*8+2, i*8+3, i*8+4, i*8+5, i*8+6, i*8+7, i*8+8)
			}
		}
		return sb.String()
	}
	stmtText := `INSERT INTO events (source_id, message_id, customer_id, type, name, at, received_at, payload) VALUES ` + ph(per)
	b.ResetTimer()
	start := time.Now()
	for lo := 0; lo < len(rows); lo += perTx {
		tx, err := db.BeginTx(ctx, nil)
		if err != nil {
			b.Fatal(err)
		}
		stmt, err := tx.PrepareContext(ctx, stmtText)
		if err != nil {
			b.Fatal(err)
		}
		for c := lo; c < min(lo+perTx, len(rows)); c += per {
			args := make([]any, 0, per*8)
			for _, r := range rows[c : c+per] {
				args = append(args, source, r.id, r.customer, r.typ, r.name, r.at, now, r.payload)
			}
			if _, err := stmt.ExecContext(ctx, args...); err != nil {
				b.Fatal(err)
			}
		}
		stmt.Close()
		if err := tx.Commit(); err != nil {
			b.Fatal(err)
		}
	}
	elapsed := time.Since(start)
	b.StopTimer()
	b.Logf("raw_insert: %d rows in %.2f s", len(rows), elapsed.Seconds())
	return float64(len(rows)) / elapsed.Seconds()
}

// BenchmarkAccept measures what accepting costs a request before it is
// queued, without HTTP: decoding, validating and normalizing the batch's
// messages and encoding them for the queue. It runs on the cores the
// applier needs, so its CPU per event is what the end-to-end figure pays
// beside the applier's.
func BenchmarkAccept(b *testing.B) {
	batches := workload(20_000)
	src := store.Source{ID: "src-bench", Name: "web"}
	received := time.Now().UTC()
	events := 0
	for b.Loop() {
		for _, body := range batches {
			evs, err := ingest.ParseBatch(body, src, received, "CN")
			if err != nil {
				b.Fatal(err)
			}
			if _, err := store.NewQueuedRequest(src.ID, evs); err != nil {
				b.Fatal(err)
			}
			events += len(evs)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(events), "µs/event")
}
