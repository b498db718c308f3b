// Package searchbench measures customer search (ListCustomers with Q) on a
// store of 1,000,000 customers: Chinese surnames, a two-character name, its
// pinyin, email fragments, the phone suffix 4242 (bench/foundation's
// queries) and random 4-digit phone fragments, each beside peers in the
// same run: the plain first page (no q) and the raw index lookup alone (the
// first page of matching rowids, no customer columns). -clients N shares
// each query's requests among N concurrent callers (bench/foundation's
// HTTP search uses 4).
//
// Run: go test -run '^$' -bench . -benchtime 1x -timeout 60m ./bench/search/ -args -n 1000000
// SQLite: the store is built once in -data (default $TMPDIR/rapport-searchbench-<n>)
// and reused. PostgreSQL: -pg postgres://…/db builds into that (empty) database
// once and reuses it.
package searchbench

import (
	"context"
	"database/sql"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rapportcrm/rapport/internal/customer"
	"github.com/rapportcrm/rapport/internal/store"

	_ "github.com/jackc/pgx/v5/stdlib"
	_ "modernc.org/sqlite"
)

var (
	n       = flag.Int("n", 1_000_000, "customers in the store")
	dataDir = flag.String("data", "", "SQLite directory to build or reuse")
	pgURL   = flag.String("pg", "", "PostgreSQL URL to build or reuse instead of SQLite")
	reqs    = flag.Int("reqs", 200, "requests per query")
	clients = flag.Int("clients", 1, "concurrent callers sharing each query's requests")
)

// The same synthetic customers as bench/web.
var surnames = []rune("王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗高郑梁谢宋唐许韩冯邓曹彭曾肖田董潘袁蔡蒋余于杜叶程魏苏吕丁任卢姚沈钟姜崔谭陆范汪廖石金韦贾夏付方邹熊白孟秦邱侯江尹薛闫段雷龙黎史陶贺毛郝顾龚邵万覃武钱戴严莫孔向常汤康易乔赖文")
var given = []rune("伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰飞红建国志文斌辉鹏")
var cities = []string{"上海", "北京", "广州", "深圳", "杭州", "成都", "武汉", "南京", "天津", "西安"}

func build(ctx context.Context, b *testing.B, st *store.Store) {
	rng := rand.New(rand.NewPCG(7, 11))
	base := time.Now().UTC().AddDate(-3, 0, 0)
	start := time.Now()
	const chunk = 100_000
	for lo := 0; lo < *n; lo += chunk {
		cs := make([]customer.Customer, 0, chunk)
		for i := lo; i < min(lo+chunk, *n); i++ {
			name := string(surnames[rng.IntN(len(surnames))]) + string(given[rng.IntN(len(given))])
			if rng.IntN(2) == 0 {
				name += string(given[rng.IntN(len(given))])
			}
			at := base.Add(time.Duration(i) * time.Second * 60)
			cs = append(cs, customer.Customer{ID: customer.NewID(), Kind: customer.Person, Name: name,
				Identities: []customer.Identity{
					{Type: customer.IdentityEmail, Value: fmt.Sprintf("user%d@example%d.com", i, i%50)},
					{Type: customer.IdentityPhone, Value: fmt.Sprintf("+86139%08d", i)},
				},
				Attributes: map[string]any{"city": cities[rng.IntN(len(cities))]}, Tags: []string{},
				CreatedAt: at, UpdatedAt: at, Version: 1})
		}
		if err := st.Load(ctx, store.SystemActor, store.Dataset{Customers: cs}); err != nil {
			b.Fatal(err)
		}
	}
	b.Logf("loaded %d customers in %v", *n, time.Since(start))
}

func BenchmarkSearch(b *testing.B) {
	ctx := context.Background()
	cfg := store.Config{URL: *pgURL}
	fresh := false
	var raw *sql.DB
	var err error
	if *pgURL == "" {
		dir := *dataDir
		if dir == "" {
			dir = filepath.Join(os.TempDir(), fmt.Sprintf("rapport-searchbench-%d", *n))
		}
		cfg.DataDir = dir
		_, statErr := os.Stat(filepath.Join(dir, "rapport.db"))
		fresh = os.IsNotExist(statErr)
		raw, err = sql.Open("sqlite", "file:"+filepath.Join(dir, "rapport.db")+"?_pragma=busy_timeout(10000)&_pragma=cache_size(-8000)")
	} else {
		raw, err = sql.Open("pgx", *pgURL)
	}
	if err != nil {
		b.Fatal(err)
	}
	defer raw.Close()
	start := time.Now()
	st, err := store.Open(ctx, cfg) // applies pending migrations (and their backfills)
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	b.Logf("open + migrate: %v", time.Since(start))
	if !fresh && *pgURL != "" {
		var c int
		if err := raw.QueryRow(`SELECT count(*) FROM customers`).Scan(&c); err != nil {
			b.Fatal(err)
		}
		fresh = c == 0
	}
	if fresh {
		build(ctx, b, st)
		if *pgURL != "" {
			if _, err := raw.Exec(`VACUUM ANALYZE`); err != nil {
				b.Fatal(err)
			}
		}
	}
	if *pgURL == "" {
		if _, err := raw.Exec(`PRAGMA optimize`); err != nil {
			b.Fatal(err)
		}
	}
	rng := rand.New(rand.NewPCG(3, 5))
	digits := func() string { return fmt.Sprintf("%04d", rng.IntN(10000)) }
	fixed := func(s string) func() string { return func() string { return s } }
	// The raw index lookup alone: the first page of rowids matching the
	// query's trigram form, newest first.
	rawQ := `SELECT rowid FROM customer_search WHERE search LIKE $1 ORDER BY rowid DESC LIMIT 51`
	if *pgURL != "" {
		rawQ = `SELECT seq FROM customers WHERE search LIKE $1 ORDER BY seq DESC LIMIT 51`
	} else {
		rawQ = strings.ReplaceAll(rawQ, "$1", "?")
	}
	type row struct {
		label string
		q     func() string
		raw   bool
	}
	rows := []row{
		{"list, first page (no q)", fixed(""), false},
		{"search 王", fixed("王"), false},
		{"search 张", fixed("张"), false},
		{"search 张伟", fixed("张伟"), false},
		{"search zhangwei", fixed("zhangwei"), false},
		{"  raw LIKE %zhangwei% (index only)", fixed("zhangwei"), true},
		{"search example7.com", fixed("example7.com"), false},
		{"search user4242", fixed("user4242"), false},
		{"search 4242", fixed("4242"), false},
		{"search 4 random digits", digits, false},
		{"  raw LIKE %dddd% (index only)", digits, true},
		{"search 张伟, page 2", fixed("张伟"), false},
		{"search 张, sorted by name", fixed("张"), false},
		{"search 4 random digits, sorted by name", digits, false},
	}
	var page2 string
	if p, err := st.ListCustomers(ctx, store.Filter{Q: "张伟", Limit: 50}); err != nil {
		b.Fatal(err)
	} else {
		page2 = p.NextCursor
	}
	b.ResetTimer()
	for range b.N {
		engine := "SQLite"
		if *pgURL != "" {
			engine = "PostgreSQL"
		}
		fmt.Printf("\n%-40s %8s %8s %8s %8s %6s\n", fmt.Sprintf("%s, %d customers, %d each, %d clients", engine, *n, *reqs/(*clients)*(*clients), *clients), "p50 ms", "p95 ms", "p99 ms", "max ms", "rows")
		for _, r := range rows {
			// The queries are drawn first (the same sequence in every run),
			// then each of -clients goroutines calls its share of them.
			qs := make([][]string, *clients)
			for c := range qs {
				for range *reqs/(*clients) + 5 {
					qs[c] = append(qs[c], r.q())
				}
			}
			call := func(q string) (int, error) {
				if r.raw {
					rs, err := raw.QueryContext(ctx, rawQ, "%"+q+"%")
					if err != nil {
						return 0, err
					}
					defer rs.Close()
					got := 0
					for rs.Next() {
						got++
					}
					return got, rs.Err()
				}
				f := store.Filter{Q: q, Limit: 50}
				if strings.HasSuffix(r.label, "page 2") {
					f.Cursor = page2
				}
				if strings.HasSuffix(r.label, "sorted by name") {
					f.Sort = "name"
				}
				p, err := st.ListCustomers(ctx, f)
				return len(p.Items), err
			}
			var mu sync.Mutex
			var ds []time.Duration
			var got int
			var firstErr error
			var wg sync.WaitGroup
			for _, mine := range qs {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for i, q := range mine {
						t0 := time.Now()
						n, err := call(q)
						d := time.Since(t0)
						mu.Lock()
						if err != nil && firstErr == nil {
							firstErr = err
						}
						if i >= 5 {
							ds, got = append(ds, d), n
						}
						mu.Unlock()
						if err != nil {
							return
						}
					}
				}()
			}
			wg.Wait()
			if firstErr != nil {
				b.Fatal(firstErr)
			}
			slices.Sort(ds)
			pq := func(f float64) float64 { return float64(ds[int(f*float64(len(ds)-1))].Microseconds()) / 1000 }
			fmt.Printf("%-40s %8.1f %8.1f %8.1f %8.1f %6d\n", r.label, pq(0.5), pq(0.95), pq(0.99), pq(1), got)
		}
	}
}
