// Package importbench measures the customer import end to end: a
// 1,000,000-row CSV (Chinese names, phones written the way people write
// them, emails, a declared city attribute, tags, duplicates inside the
// file, rows matching customers already stored and bad rows) through
// importer.Run on SQLite, beside a ceiling measured in the same run: a raw
// multi-row INSERT of the same customers and identities, already
// normalized, through the same driver in one transaction.
//
// Run: go test -run '^$' -bench . -benchtime 1x -timeout 30m ./bench/import/
// (-rows N for another size; -db postgres://… for PostgreSQL.)
package importbench

import (
	"bufio"
	"context"
	"database/sql"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/rapportcrm/rapport/internal/customer"
	"github.com/rapportcrm/rapport/internal/importer"
	"github.com/rapportcrm/rapport/internal/store"
)

var (
	rows   = flag.Int("rows", 1_000_000, "data rows in the generated CSV")
	pgURL  = flag.String("db", "", "PostgreSQL URL; SQLite when empty")
	seeded = flag.Int("seeded", 20_000, "customers stored before the import whose phone the file repeats")
	chunk  = flag.Int("chunk", 0, "rows per transaction; the importer's default when 0")
)

var surnames = []rune("王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗高郑梁谢宋唐许韩冯邓曹彭曾肖田董潘袁蔡蒋余于杜叶程魏苏吕丁任卢姚沈钟姜崔谭陆范汪廖石金韦贾夏付方邹熊白孟秦邱侯江尹薛闫段雷龙黎史陶贺毛郝顾龚邵万覃武钱戴严莫孔向常汤康易乔赖文")
var given = []rune("伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰飞红建国志文斌辉鹏")
var cities = []string{"上海", "北京", "广州", "深圳", "杭州", "成都", "武汉", "南京", "西安", "重庆"}

// TestMain removes the generated file after the run.
func TestMain(m *testing.M) {
	code := m.Run()
	if fx.path != "" {
		os.RemoveAll(filepath.Dir(fx.path))
	}
	os.Exit(code)
}

// name draws a Chinese name.
func name(r *rand.Rand) string {
	n := string(surnames[r.IntN(len(surnames))]) + string(given[r.IntN(len(given))])
	if r.IntN(2) == 0 {
		n += string(given[r.IntN(len(given))])
	}
	return n
}

func phone(i int) string { return fmt.Sprintf("13%09d", 100_000_000+i) }

// phoneAsWritten writes a phone number the ways people do.
func phoneAsWritten(p string, r *rand.Rand) string {
	if len(p) != 11 {
		return p
	}
	switch r.IntN(4) {
	case 0:
		return p[:3] + " " + p[3:7] + " " + p[7:]
	case 1:
		return "+86 " + p
	case 2:
		return p[:3] + "-" + p[3:7] + "-" + p[7:]
	}
	return p
}

type fixture struct {
	path     string
	bad      int // rows with an invalid phone
	dups     int // rows repeating an earlier row's email with a new phone
	existing int // rows whose phone a seeded customer has
}

var (
	once sync.Once
	fx   fixture
)

// generate writes the CSV once per run. The mix: 1% repeats of earlier
// rows (merge within the file), seeded customers' phones (merge into stored
// customers), 0.5% bad phones (rejected), tags on 10%.
func generate(b *testing.B) fixture {
	once.Do(func() {
		dir, err := os.MkdirTemp("", "importbench")
		if err != nil {
			b.Fatal(err)
		}
		fx.path = filepath.Join(dir, "customers.csv")
		f, err := os.Create(fx.path)
		if err != nil {
			b.Fatal(err)
		}
		w := bufio.NewWriterSize(f, 1<<20)
		r := rand.New(rand.NewPCG(1, 2))
		w.WriteString("姓名,手机,邮箱,城市,标签\n")
		for i := range *rows {
			nm, ph, em := name(r), phone(i), fmt.Sprintf("user%d@example.com", i)
			switch {
			case i > 1000 && r.IntN(100) == 0:
				j := r.IntN(i)
				em = fmt.Sprintf("user%d@example.com", j)
				ph = phone(*rows + i)
				fx.dups++
			case i%(*rows / *seeded) == 0 && fx.existing < *seeded:
				fx.existing++
			case r.IntN(200) == 0:
				ph = "12345"
				fx.bad++
			}
			tags := ""
			if r.IntN(10) == 0 {
				tags = "VIP、老客户"
			}
			fmt.Fprintf(w, "%s,%s,%s,%s,%s\n", nm, phoneAsWritten(ph, r), em, cities[r.IntN(len(cities))], tags)
		}
		if err := w.Flush(); err != nil {
			b.Fatal(err)
		}
		f.Close()
	})
	return fx
}

func openStore(b *testing.B, dir string) (*store.Store, store.Config) {
	cfg := store.Config{DataDir: dir}
	if *pgURL != "" {
		cfg = store.Config{URL: freshSchema(b, *pgURL)}
	}
	s, err := store.Open(context.Background(), cfg)
	if err != nil {
		b.Fatal(err)
	}
	return s, cfg
}

func freshSchema(b *testing.B, base string) string {
	db, err := sql.Open("pgx", base)
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	schema := fmt.Sprintf("bench_import_%d", time.Now().UnixNano())
	if _, err := db.Exec(`CREATE SCHEMA ` + schema); err != nil {
		b.Fatal(err)
	}
	sep := "?"
	if strings.Contains(base, "?") {
		sep = "&"
	}
	return base + sep + "search_path=" + schema + ",public"
}

// seed stores the customers whose phones the file repeats.
func seed(b *testing.B, s *store.Store) {
	now := time.Now().UTC()
	r := rand.New(rand.NewPCG(3, 4))
	var cs []customer.Customer
	step := *rows / *seeded
	for i := 0; i < *rows && len(cs) < *seeded; i += step {
		cs = append(cs, customer.Customer{ID: customer.NewID(), Kind: customer.Person, Name: name(r), CreatedAt: now, UpdatedAt: now, Version: 1,
			Identities: []customer.Identity{{Type: "phone", Value: "+86" + phone(i)}}})
	}
	ctx := context.Background()
	if err := s.CreateField(ctx, customer.Field{Key: "city", Type: customer.FieldText, LabelZh: "城市", CreatedAt: now}); err != nil {
		b.Fatal(err)
	}
	if err := s.Load(ctx, store.SystemActor, store.Dataset{Customers: cs}); err != nil {
		b.Fatal(err)
	}
}

func BenchmarkImportCustomers(b *testing.B) {
	f := generate(b)
	b.Logf("%d rows: %d repeat an earlier row, %d match stored customers, %d bad; GOMAXPROCS=%d",
		*rows, f.dups, f.existing, f.bad, runtime.GOMAXPROCS(0))

	b.Run("ceiling_raw_insert", func(b *testing.B) {
		for range b.N {
			b.StopTimer()
			s, cfg := openStore(b, b.TempDir())
			seed(b, s)
			s.Close()
			prepared := rawRows(b, f.path)
			b.StartTimer()
			start, cpu0 := time.Now(), cpuTime()
			rawInsert(b, cfg, prepared)
			el, cpu := time.Since(start), cpuTime()-cpu0
			b.ReportMetric(float64(len(prepared))/el.Seconds(), "rows/s")
			b.ReportMetric(el.Seconds(), "s")
			b.ReportMetric(cpu.Seconds(), "cpu-s")
		}
	})

	b.Run("import_csv", func(b *testing.B) {
		for range b.N {
			b.StopTimer()
			s, _ := openStore(b, b.TempDir())
			seed(b, s)
			fields, err := s.FieldMap(context.Background())
			if err != nil {
				b.Fatal(err)
			}
			file, err := os.Open(f.path)
			if err != nil {
				b.Fatal(err)
			}
			b.StartTimer()
			start, cpu0 := time.Now(), cpuTime()
			t, err := importer.Open(file, f.path)
			if err != nil {
				b.Fatal(err)
			}
			rep, err := importer.Run(context.Background(), s, t, importer.Options{Kind: importer.Customers, Actor: store.SystemActor,
				Rules: customer.Rules{Region: "CN", Fields: fields}, Chunk: *chunk})
			if err != nil {
				b.Fatal(err)
			}
			el, cpu := time.Since(start), cpuTime()-cpu0
			b.StopTimer()
			t.Close()
			file.Close()
			b.Logf("%s in %.1fs", rep.Summary(), el.Seconds())
			if rep.Imported+rep.Merged+rep.Rejected != int64(*rows) {
				b.Fatalf("rows unaccounted for: %s", rep.Summary())
			}
			b.ReportMetric(float64(*rows)/el.Seconds(), "rows/s")
			b.ReportMetric(el.Seconds(), "s")
			b.ReportMetric(cpu.Seconds(), "cpu-s")
			s.Close()
		}
	})
}

// cpuTime is the process's user+system CPU time: on a machine shared with
// other work, it says what the import cost when wall time says little.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

type rawRow struct{ c, ids []any }

// rawRows prepares the file's valid rows as stored values, outside the
// timing: the ceiling measures the database, not parsing.
func rawRows(b *testing.B, path string) []rawRow {
	file, err := os.Open(path)
	if err != nil {
		b.Fatal(err)
	}
	defer file.Close()
	t, err := importer.Open(file, path)
	if err != nil {
		b.Fatal(err)
	}
	defer t.Close()
	now := time.Now().UTC().Format("2006-01-02T15:04:05.000000Z")
	seen := map[string]bool{}
	var out []rawRow
	for {
		row, ok := t.Next()
		if !ok {
			break
		}
		ph, err := customer.NormalizePhone(row.Cells[1], "CN")
		if err != nil {
			continue
		}
		em := row.Cells[2]
		if seen[em] {
			continue // the ceiling inserts each customer once
		}
		seen[em] = true
		id := customer.NewID()
		ids := []customer.Identity{{Type: "phone", Value: ph}, {Type: "email", Value: em}}
		out = append(out, rawRow{
			c: []any{id, "person", row.Cells[0], customer.SortKey(row.Cells[0]), `{"city":"` + row.Cells[3] + `"}`, "[]", now, now, 1,
				customer.SearchText(row.Cells[0], ids)},
			ids: []any{"phone", "", ph + "x", id, now, "email", "", em, id, now},
		})
	}
	return out
}

// rawInsert writes the rows with plain multi-row INSERTs in one
// transaction through the same driver. Phones get a suffix so they do not
// collide with the seeded customers' (the ceiling does no matching).
func rawInsert(b *testing.B, cfg store.Config, rows []rawRow) {
	driver, dsn := "sqlite", "file:"+filepath.Join(cfg.DataDir, "rapport.db")+"?_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)&_pragma=busy_timeout(10000)"
	if cfg.URL != "" {
		driver, dsn = "pgx", cfg.URL
	}
	db, err := sql.Open(driver, dsn)
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	ctx := context.Background()
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		b.Fatal(err)
	}
	const per = 1000
	for s := 0; s < len(rows); s += per {
		chunk := rows[s:min(s+per, len(rows))]
		var cargs, iargs []any
		for _, r := range chunk {
			cargs = append(cargs, r.c...)
			iargs = append(iargs, r.ids...)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO customers (id, kind, name, sort_key, attributes, tags, created_at, updated_at, version, search) VALUES `+values(len(chunk), 10), cargs...); err != nil {
			b.Fatal(err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO identities (type, source, value, customer_id, created_at) VALUES `+values(2*len(chunk), 5), iargs...); err != nil {
			b.Fatal(err)
		}
	}
	if err := tx.Commit(); err != nil {
		b.Fatal(err)
	}
}

func values(rows, cols int) string {
	var b strings.Builder
	n := 0
	for r := range rows {
		if r > 0 {
			b.WriteString(",")
		}
		b.WriteString("(")
		for c := range cols {
			if c > 0 {
				b.WriteString(",")
			}
			n++
			if *pgURL == "" {
				b.WriteString("?")
			} else {
				fmt.Fprintf(&b, "$%d", n)
			}
		}
		b.WriteString(")")
	}
	return b.String()
}
