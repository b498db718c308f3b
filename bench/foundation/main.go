// Command foundation benchmarks Rapport's customer store end to end, each
// figure beside a ceiling measured in the same run:
//
//   - create throughput through POST /api/v1/customers/batch against a real
//     `rapport serve`, beside a plain multi-row INSERT of the same rows in one
//     transaction through the same driver;
//   - GET /api/v1/customers/{id} latency at 64 concurrent clients;
//   - search latency for a Chinese surname, an email fragment, a phone suffix;
//   - the server's resident memory with the whole data set loaded.
//
// Run: go run ./bench/foundation -n 1000000 [-db postgres://…]
package main

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib"
	_ "modernc.org/sqlite"

	"github.com/rapportcrm/rapport/internal/customer"
	"github.com/rapportcrm/rapport/internal/store"
)

var (
	n        = flag.Int("n", 1_000_000, "customers to create")
	pgURL    = flag.String("db", "", "PostgreSQL URL; SQLite when empty")
	batch    = flag.Int("batch", 1000, "customers per API request")
	workers  = flag.Int("c", 4, "concurrent API writers")
	getReqs  = flag.Int("gets", 50_000, "GET requests in the latency run")
	searches = flag.Int("searches", 300, "requests per search query")
	keep     = flag.Bool("keep", false, "keep the data directory (printed) for inspection instead of removing it")
)

func main() {
	flag.Parse()
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

var surnames = []rune("王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗高郑梁谢宋唐许韩冯邓曹彭曾肖田董潘袁蔡蒋余于杜叶程魏苏吕丁任卢姚沈钟姜崔谭陆范汪廖石金韦贾夏付方邹熊白孟秦邱侯江尹薛闫段雷龙黎史陶贺毛郝顾龚邵万覃武钱戴严莫孔向常汤康易乔赖文")
var given = []rune("伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰飞红建国志文斌辉鹏")
var english = []string{"James", "Mary", "John", "Linda", "David", "Susan", "Michael", "Emma", "Oliver", "Sophia"}
var englishLast = []string{"Smith", "Brown", "Taylor", "Wilson", "Clark", "Lewis", "Walker", "Hall", "Young", "King"}

// input is customer i of the data set, as an API client would send it.
func input(i int) map[string]any {
	r := rand.New(rand.NewPCG(uint64(i), 42))
	var name string
	if r.IntN(4) == 0 {
		name = english[r.IntN(len(english))] + " " + englishLast[r.IntN(len(englishLast))]
	} else {
		name = string(surnames[r.IntN(len(surnames))]) + string(given[r.IntN(len(given))])
		if r.IntN(2) == 0 {
			name += string(given[r.IntN(len(given))])
		}
	}
	return map[string]any{"kind": "person", "name": name, "identities": []map[string]string{
		{"type": "email", "value": fmt.Sprintf("user%d@example%d.com", i, i%50)},
		{"type": "phone", "value": fmt.Sprintf("139 %04d %04d", i/10000, i%10000)},
	}}
}

func run() error {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "rapport-bench-")
	if err != nil {
		return err
	}
	if *keep {
		fmt.Println("data directory (kept):", dir)
	} else {
		defer os.RemoveAll(dir)
	}
	engine := "sqlite"
	if *pgURL != "" {
		engine = "postgres"
		if !*keep { // a million customers twice: gigabytes left in someone's database otherwise
			defer dropSchemas(*pgURL, "bench_api", "bench_raw")
		}
	}
	fmt.Printf("# foundation benchmark: %d customers on %s (%s)\n\n", *n, engine, time.Now().UTC().Format(time.DateOnly))

	raw, err := rawInsert(ctx, filepath.Join(dir, "raw"))
	if err != nil {
		return fmt.Errorf("raw insert: %w", err)
	}
	fmt.Printf("raw multi-row INSERT, one transaction (ceiling): %.0f customers/s\n", raw)

	bin := filepath.Join(dir, "rapport")
	build := exec.Command("go", "build", "-o", bin, "./cmd/rapport")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		return fmt.Errorf("build rapport: %w", err)
	}
	dbArgs := []string{"--data", filepath.Join(dir, "api")}
	if *pgURL != "" {
		u, err := freshSchema(ctx, *pgURL, "bench_api")
		if err != nil {
			return err
		}
		dbArgs = []string{"--db", u}
	}
	keyOut, err := exec.Command(bin, append([]string{"apikey", "create", "--name", "bench", "--role", "admin"}, dbArgs...)...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("apikey: %v: %s", err, keyOut)
	}
	lines := strings.Split(strings.TrimSpace(string(keyOut)), "\n")
	key := lines[len(lines)-1]
	addr, err := freeAddr() // several benchmarks may run on one machine
	if err != nil {
		return err
	}
	srv := exec.Command(bin, append([]string{"serve", "--addr", addr}, dbArgs...)...)
	srv.Stderr = io.Discard
	if err := srv.Start(); err != nil {
		return err
	}
	defer srv.Process.Kill()
	base := "http://" + addr
	if err := waitReady(base); err != nil {
		return err
	}
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 128}}

	rate, ids, err := apiCreate(client, base, key)
	if err != nil {
		return fmt.Errorf("api create: %w", err)
	}
	fmt.Printf("API create (batch %d, %d writers): %.0f customers/s = %.0f%% of the raw ceiling\n", *batch, *workers, rate, 100*rate/raw)

	// Creating customers leaves the server busy for a while (scores for
	// every new customer, segment membership); the reads are measured once
	// it has settled, as a server in steady state.
	settled := time.Now()
	if err := waitIdle(srv.Process.Pid, 15*time.Minute); err != nil {
		return err
	}
	fmt.Printf("server settled %.0f s after the creates\n", time.Since(settled).Seconds())
	getPath := func(i int) string { return "/api/v1/customers/" + ids[(i*7919)%len(ids)] }
	latencies(base, 64, min(*getReqs, 5000), getPath, key) // warm the connections and caches
	t0 := time.Now()
	lat := latencies(base, 64, *getReqs, getPath, key)
	sat := float64(*getReqs) / time.Since(t0).Seconds()
	fmt.Printf("GET /api/v1/customers/{id}, 64 clients, closed loop, %d requests: %.0f requests/s, p50 %s p95 %s p99 %s\n", *getReqs, sat, pct(lat, 50), pct(lat, 95), pct(lat, 99))
	paced := sat / 2
	lat = pacedLatencies(base, 64, *getReqs, paced, func(i int) string { return getPath(i + 1) }, key)
	fmt.Printf("GET /api/v1/customers/{id}, 64 clients, open loop at %.0f requests/s (half the closed-loop rate): p50 %s p95 %s p99 %s\n", paced, pct(lat, 50), pct(lat, 95), pct(lat, 99))

	for _, q := range []struct{ label, q string }{{"Chinese surname 王", "王"}, {"Chinese name 张伟", "张伟"}, {"pinyin zhangwei", "zhangwei"}, {"email fragment user4242", "user4242"}, {"email domain example7.com", "example7.com"}, {"phone suffix 4242", "4242"}} {
		lat := latencies(base, 4, *searches, func(int) string { return "/api/v1/customers?limit=50&q=" + url.QueryEscape(q.q) }, key)
		fmt.Printf("search q=%s (%s): p50 %s p95 %s p99 %s\n", q.q, q.label, pct(lat, 50), pct(lat, 95), pct(lat, 99))
	}
	fmt.Printf("rapport serve RSS with %d customers after the runs: %s\n", *n, rss(srv.Process.Pid))
	fmt.Printf("of which the Go runtime (from /metrics): %s\n", goMemory(base))
	// The server gives a burst's spare heap back once it has been idle for
	// a while (internal/memtrim): what it holds at rest afterwards.
	time.Sleep(30 * time.Second)
	fmt.Printf("rapport serve RSS 30 s after the runs, idle: %s\n", rss(srv.Process.Pid))
	fmt.Printf("of which the Go runtime (from /metrics): %s\n", goMemory(base))
	return nil
}

// goMemory is the server's Go heap in use, all memory the Go runtime has
// taken from the system, and how much of that it has given back (sys minus
// released is what Go holds; the rest of RSS is the SQLite driver's own).
func goMemory(base string) string {
	resp, err := http.Get(base + "/metrics")
	if err != nil {
		return "unknown"
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return "unknown"
	}
	var out []string
	for _, l := range strings.Split(string(b), "\n") {
		name, v, _ := strings.Cut(l, " ")
		if name != "go_memstats_heap_inuse_bytes" && name != "go_memstats_sys_bytes" && name != "go_memstats_heap_released_bytes" {
			continue
		}
		if f, err := strconv.ParseFloat(v, 64); err == nil {
			out = append(out, fmt.Sprintf("%s %.0f MB", strings.TrimPrefix(name, "go_memstats_"), f/1e6))
		}
	}
	return strings.Join(out, ", ")
}

// rawInsert writes the same customers and identities with plain multi-row
// INSERTs in one transaction through the same driver: the ceiling.
func rawInsert(ctx context.Context, dir string) (float64, error) {
	cfg := store.Config{DataDir: dir}
	if *pgURL != "" {
		u, err := freshSchema(ctx, *pgURL, "bench_raw")
		if err != nil {
			return 0, err
		}
		cfg = store.Config{URL: u}
	}
	s, err := store.Open(ctx, cfg) // schema only
	if err != nil {
		return 0, err
	}
	s.Close()
	driver, dsn := "sqlite", "file:"+filepath.Join(dir, "rapport.db")+"?_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)"
	if *pgURL != "" {
		driver, dsn = "pgx", cfg.URL
	}
	db, err := sql.Open(driver, dsn)
	if err != nil {
		return 0, err
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	// Prepare the rows first: the ceiling measures the database, not JSON.
	now := time.Now().UTC().Format("2006-01-02T15:04:05.000000Z")
	type row struct{ c, e, p []any }
	rows := make([]row, *n)
	for i := range rows {
		in := input(i)
		id := customer.NewID()
		name := in["name"].(string)
		ids := in["identities"].([]map[string]string)
		email := ids[0]["value"]
		phone := "+86" + strings.ReplaceAll(ids[1]["value"], " ", "")
		search := customer.SearchText(name, []customer.Identity{{Type: "email", Value: email}, {Type: "phone", Value: phone}})
		rows[i] = row{
			c: []any{id, "person", name, customer.SortKey(name), "{}", "[]", now, now, 1, search},
			e: []any{"email", "", email, id, now},
			p: []any{"phone", "", phone, id, now},
		}
	}
	start := time.Now()
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return 0, err
	}
	const per = 500
	for s := 0; s < len(rows); s += per {
		chunk := rows[s:min(s+per, len(rows))]
		var cargs, iargs []any
		for _, r := range chunk {
			cargs = append(cargs, r.c...)
			iargs = append(iargs, r.e...)
			iargs = append(iargs, r.p...)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO customers (id, kind, name, sort_key, attributes, tags, created_at, updated_at, version, search) VALUES `+values(len(chunk), 10), cargs...); err != nil {
			return 0, err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO identities (type, source, value, customer_id, created_at) VALUES `+values(2*len(chunk), 5), iargs...); err != nil {
			return 0, err
		}
	}
	if err := tx.Commit(); err != nil {
		return 0, err
	}
	return float64(*n) / time.Since(start).Seconds(), nil
}

func values(rows, cols int) string {
	var b strings.Builder
	for r := range rows {
		if r > 0 {
			b.WriteString(",")
		}
		b.WriteString("(")
		for c := range cols {
			if c > 0 {
				b.WriteString(",")
			}
			if *pgURL == "" {
				b.WriteString("?") // the SQLite driver binds plain ? fastest
			} else {
				b.WriteString("$" + strconv.Itoa(r*cols+c+1))
			}
		}
		b.WriteString(")")
	}
	return b.String()
}

// dropSchemas removes the benchmark's schemas, reporting what it could not.
func dropSchemas(base string, names ...string) {
	db, err := sql.Open("pgx", base)
	if err != nil {
		fmt.Fprintln(os.Stderr, "drop schemas:", err)
		return
	}
	defer db.Close()
	for _, name := range names {
		if _, err := db.Exec(`DROP SCHEMA IF EXISTS ` + name + ` CASCADE`); err != nil {
			fmt.Fprintln(os.Stderr, "drop schema", name+":", err)
		}
	}
}

func freshSchema(ctx context.Context, base, name string) (string, error) {
	db, err := sql.Open("pgx", base)
	if err != nil {
		return "", err
	}
	defer db.Close()
	for _, q := range []string{`CREATE EXTENSION IF NOT EXISTS pg_trgm SCHEMA public`, `DROP SCHEMA IF EXISTS ` + name + ` CASCADE`, `CREATE SCHEMA ` + name} {
		if _, err := db.ExecContext(ctx, q); err != nil {
			return "", err
		}
	}
	u, err := url.Parse(base)
	if err != nil {
		return "", err
	}
	q := u.Query()
	q.Set("search_path", name+",public")
	u.RawQuery = q.Encode()
	return u.String(), nil
}

func waitReady(base string) error {
	for range 200 {
		if r, err := http.Get(base + "/readyz"); err == nil {
			r.Body.Close()
			if r.StatusCode == 200 {
				return nil
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	return fmt.Errorf("server did not become ready")
}

func apiCreate(client *http.Client, base, key string) (float64, []string, error) {
	batches := (*n + *batch - 1) / *batch
	var next atomic.Int64
	ids := make([]string, *n)
	var firstErr error
	var mu sync.Mutex
	start := time.Now()
	var wg sync.WaitGroup
	for range *workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				b := int(next.Add(1)) - 1
				if b >= batches {
					return
				}
				lo, hi := b**batch, min((b+1)**batch, *n)
				items := make([]map[string]any, 0, hi-lo)
				for i := lo; i < hi; i++ {
					items = append(items, input(i))
				}
				body, _ := json.Marshal(map[string]any{"items": items})
				req, _ := http.NewRequest("POST", base+"/api/v1/customers/batch", bytes.NewReader(body))
				req.Header.Set("Authorization", "Bearer "+key)
				req.Header.Set("Content-Type", "application/json")
				res, err := client.Do(req)
				if err == nil && res.StatusCode != 201 {
					msg, _ := io.ReadAll(res.Body)
					err = fmt.Errorf("status %d: %.300s", res.StatusCode, msg)
				}
				if err != nil {
					mu.Lock()
					firstErr = err
					mu.Unlock()
					return
				}
				var out struct {
					Items []struct {
						ID string `json:"id"`
					} `json:"items"`
				}
				json.NewDecoder(res.Body).Decode(&out)
				res.Body.Close()
				for i, it := range out.Items {
					ids[lo+i] = it.ID
				}
			}
		}()
	}
	wg.Wait()
	return float64(*n) / time.Since(start).Seconds(), ids, firstErr
}

func pct(d []time.Duration, p int) string {
	return d[min(len(d)-1, len(d)*p/100)].Round(10 * time.Microsecond).String()
}

func rss(pid int) string {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return "unknown"
	}
	var out []string
	for _, l := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(l, "VmRSS:") || strings.HasPrefix(l, "VmHWM:") {
			out = append(out, strings.Join(strings.Fields(l), " "))
		}
	}
	return strings.Join(out, ", ")
}

// freeAddr returns a loopback address with a port nobody listens on now.
func freeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

// waitIdle waits until process pid uses under a tenth of a core over two
// seconds running.
func waitIdle(pid int, limit time.Duration) error {
	cpu := func() (time.Duration, error) {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if err != nil {
			return 0, err
		}
		f := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+2:]))
		u, _ := strconv.ParseInt(f[11], 10, 64) // utime and stime, fields 14 and 15, in clock ticks
		s, _ := strconv.ParseInt(f[12], 10, 64)
		return time.Duration(u+s) * 10 * time.Millisecond, nil
	}
	deadline := time.Now().Add(limit)
	quiet := 0
	last, err := cpu()
	for err == nil && time.Now().Before(deadline) {
		time.Sleep(time.Second)
		var now time.Duration
		if now, err = cpu(); err != nil {
			break
		}
		if now-last < 100*time.Millisecond {
			quiet++
		} else {
			quiet = 0
		}
		if quiet >= 2 {
			return nil
		}
		last = now
	}
	if err != nil {
		return err
	}
	return fmt.Errorf("server still busy after %s", limit)
}
