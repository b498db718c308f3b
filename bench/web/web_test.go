// Package webbench measures the browser UI's server time per page on a
// store of 1,000,000 customers, beside the raw REST API call that reads the
// same data in the same run (the peer): GET /api/v1/customers with the same
// query for the list pages, GET /api/v1/customers/{id} for the customer page.
//
// The store holds the demo generator's customers (with orders, notes and
// interactions, so the customer page has real content) plus synthetic
// customers (Chinese names, email, phone, tags, a city) up to -n, and model
// scores for everyone (value tiers drawn 1/4/15/80 %, RFM segments), written
// directly so setup does not need a full model refit; the dashboards are
// measured after one refit (-dashboards, slow at 1M).
//
// Server time is measured inside the server, around the mux, so it excludes
// the client and the loopback; the benchmark's own client is sequential.
//
// Run: go test -run '^$' -bench . -benchtime 1x -timeout 60m ./bench/web/ -args -n 1000000
// The store is built once in -data (default $TMPDIR/rapport-webbench-<n>) and reused.
package webbench

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rapportcrm/rapport/internal/analytics/value"
	"github.com/rapportcrm/rapport/internal/api"
	"github.com/rapportcrm/rapport/internal/auth"
	"github.com/rapportcrm/rapport/internal/customer"
	"github.com/rapportcrm/rapport/internal/demo"
	"github.com/rapportcrm/rapport/internal/insight"
	"github.com/rapportcrm/rapport/internal/store"
	"github.com/rapportcrm/rapport/internal/targeting"
	"github.com/rapportcrm/rapport/internal/web"
)

var (
	n          = flag.Int("n", 1_000_000, "customers in the store")
	demoN      = flag.Int("demo", 20_000, "of which demo customers with orders")
	dataDir    = flag.String("data", "", "SQLite directory to build or reuse")
	reqs       = flag.Int("reqs", 200, "requests per page")
	dashboards = flag.Bool("dashboards", false, "refit the models and measure /dashboards too (about a minute at 1M)")
	only       = flag.String("only", "", "measure only the pages whose label contains this")
)

// timing records the server time of each request by route label.
type timing struct {
	mu   sync.Mutex
	last time.Duration
}

func (t *timing) wrap(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		h.ServeHTTP(w, r)
		d := time.Since(start)
		t.mu.Lock()
		t.last = d
		t.mu.Unlock()
	})
}

var surnames = []rune("王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗高郑梁谢宋唐许韩冯邓曹彭曾肖田董潘袁蔡蒋余于杜叶程魏苏吕丁任卢姚沈钟姜崔谭陆范汪廖石金韦贾夏付方邹熊白孟秦邱侯江尹薛闫段雷龙黎史陶贺毛郝顾龚邵万覃武钱戴严莫孔向常汤康易乔赖文")
var given = []rune("伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰飞红建国志文斌辉鹏")
var cities = []string{"上海", "北京", "广州", "深圳", "杭州", "成都", "武汉", "南京", "天津", "西安"}
var tags = []string{"newsletter", "vip", "wholesale", "回头客", "团购", "KOL"}

func build(ctx context.Context, b *testing.B, st *store.Store, users []string) {
	d := demo.Generate(demo.Options{Seed: 1, Customers: *demoN, Now: time.Now().UTC().Truncate(24 * time.Hour), Users: users})
	rng := rand.New(rand.NewPCG(7, 11))
	base := time.Now().UTC().AddDate(-3, 0, 0)
	cs := make([]customer.Customer, 0, *n)
	for i := range *n - len(d.Customers) {
		name := string(surnames[rng.IntN(len(surnames))]) + string(given[rng.IntN(len(given))])
		if rng.IntN(2) == 0 {
			name += string(given[rng.IntN(len(given))])
		}
		at := base.Add(time.Duration(i) * time.Second * 60)
		c := customer.Customer{ID: customer.NewID(), Kind: customer.Person, Name: name,
			Identities: []customer.Identity{
				{Type: customer.IdentityEmail, Value: fmt.Sprintf("user%d@example%d.com", i, i%50)},
				{Type: customer.IdentityPhone, Value: fmt.Sprintf("+86139%08d", i)},
			},
			Attributes: map[string]any{"city": cities[rng.IntN(len(cities))]}, Tags: []string{},
			OwnerID: users[rng.IntN(len(users))], CreatedAt: at, UpdatedAt: at, Version: 1}
		if rng.IntN(3) == 0 {
			c.Tags = []string{tags[rng.IntN(len(tags))]}
		}
		cs = append(cs, c)
	}
	// Demo customers are the newest: the active shop's recent customers.
	cs = append(cs, d.Customers...)
	start := time.Now()
	if err := st.Load(ctx, store.SystemActor, store.Dataset{Customers: cs, Orders: d.Orders, Interactions: d.Interactions, Notes: d.Notes, Fields: d.Fields}); err != nil {
		b.Fatal(err)
	}
	b.Logf("loaded %d customers, %d orders in %v", len(cs), len(d.Orders), time.Since(start))
	segs := value.Segments()
	scores := map[string]customer.Scores{}
	now := time.Now().UTC()
	flush := func() {
		if err := st.UpsertScores(ctx, scores); err != nil {
			b.Fatal(err)
		}
		clear(scores)
	}
	for _, c := range cs {
		tier := "bronze"
		switch x := rng.Float64(); {
		case x < 0.01:
			tier = "platinum"
		case x < 0.05:
			tier = "gold"
		case x < 0.20:
			tier = "silver"
		}
		clv, palive := rng.Float64()*5000, rng.Float64()
		next := now.AddDate(0, 0, rng.IntN(120)-60)
		scores[c.ID] = customer.Scores{Tier: tier, RFMSegment: segs[rng.IntN(len(segs))].String(), R: 1 + rng.IntN(5), F: 1 + rng.IntN(5), M: 1 + rng.IntN(5),
			CLV: &clv, PAlive: &palive, ExpectedNextPurchase: &next, UpdatedAt: now}
		if len(scores) == 5000 {
			flush()
		}
	}
	flush()
	b.Logf("built in %v", time.Since(start))
}

func BenchmarkPages(b *testing.B) {
	ctx := context.Background()
	dir := *dataDir
	if dir == "" {
		dir = filepath.Join(os.TempDir(), fmt.Sprintf("rapport-webbench-%d", *n))
	}
	_, statErr := os.Stat(filepath.Join(dir, "rapport.db"))
	st, err := store.Open(ctx, store.Config{DataDir: dir})
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	svc := &auth.Service{Store: st}
	if os.IsNotExist(statErr) {
		var users []string
		for _, r := range auth.Roles {
			u, err := svc.CreateUser(ctx, string(r)+"@example.com", string(r), r, "password-"+string(r))
			if err != nil {
				b.Fatal(err)
			}
			users = append(users, u.ID)
		}
		build(ctx, b, st, users)
	}
	an := insight.New(st, insight.Options{Log: log})
	if *dashboards {
		start := time.Now()
		if _, err := an.Refit(ctx); err != nil {
			b.Fatal(err)
		}
		b.Logf("refit in %v", time.Since(start))
	}
	ui, err := web.New(st, svc, log, "CN")
	if err != nil {
		b.Fatal(err)
	}
	ui.Insight = an
	tg := &targeting.Service{Store: st, Region: "CN"}
	ui.Targeting = tg
	segID, listID := targetingData(ctx, b, st, tg)
	mux := http.NewServeMux()
	a := &api.Server{Store: st, Auth: svc, Log: log, Region: "CN", Insight: an, Targeting: tg}
	a.Register(mux)
	ui.Register(mux)
	var tm timing
	srv := httptest.NewServer(tm.wrap(mux))
	defer srv.Close()

	jar, _ := cookiejar.New(nil)
	client := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err := client.PostForm(srv.URL+"/login", url.Values{"email": {"manager@example.com"}, "password": {"password-manager"}})
	if err != nil || res.StatusCode != http.StatusSeeOther {
		b.Fatalf("login: %v %v", res.Status, err)
	}
	res.Body.Close()

	// Customers with orders (for the 360 page) and some phone suffixes.
	var ids []string
	first, err := st.ListCustomers(ctx, store.Filter{Limit: 500})
	if err != nil {
		b.Fatal(err)
	}
	for _, c := range first.Items {
		if c.Stats.Orders > 0 {
			ids = append(ids, c.ID)
		}
	}
	if len(ids) == 0 {
		b.Fatal("no customer with orders")
	}
	next, err := st.ListCustomers(ctx, store.Filter{Sort: "name", Limit: 50})
	if err != nil {
		b.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(3, 5))
	pick := func(xs []string) string { return xs[rng.IntN(len(xs))] }
	htmx := http.Header{"HX-Request": {"true"}, "HX-Target": {"results"}}
	type page struct {
		label string
		path  func() string
		hdr   http.Header
		peer  bool // an API call, the peer
	}
	pages := []page{
		{"list, first page", func() string { return "/customers" }, nil, false},
		{"  API peer: list", func() string { return "/api/v1/customers?limit=50" }, nil, true},
		{"list, search 张 (htmx fragment)", func() string { return "/customers?q=" + url.QueryEscape("张") }, htmx, false},
		{"  API peer: search 张", func() string { return "/api/v1/customers?limit=50&q=" + url.QueryEscape("张") }, nil, true},
		{"list, search 张伟 (full page)", func() string { return "/customers?q=" + url.QueryEscape("张伟") }, nil, false},
		{"  API peer: search 张伟", func() string { return "/api/v1/customers?limit=50&q=" + url.QueryEscape("张伟") }, nil, true},
		{"list, search pinyin zhangwei", func() string { return "/customers?q=zhangwei" }, htmx, false},
		{"  API peer: search zhangwei", func() string { return "/api/v1/customers?limit=50&q=zhangwei" }, nil, true},
		{"list, search phone suffix", func() string { return fmt.Sprintf("/customers?q=%04d", rng.IntN(10000)) }, htmx, false},
		{"  API peer: phone suffix", func() string { return fmt.Sprintf("/api/v1/customers?limit=50&q=%04d", rng.IntN(10000)) }, nil, true},
		{"list, sorted by name (pinyin)", func() string { return "/customers?sort=name" }, nil, false},
		{"list, sorted by name, page 2", func() string { return "/customers?sort=name&cursor=" + next.NextCursor }, htmx, false},
		{"list, tier gold", func() string { return "/customers?tier=gold" }, htmx, false},
		{"list, tier platinum + segment champions", func() string { return "/customers?tier=platinum&segment=champions" }, htmx, false},
		{"list, tag vip", func() string { return "/customers?tag=vip" }, htmx, false},
		{"  API peer: tag vip", func() string { return "/api/v1/customers?limit=50&tag=vip" }, nil, true},
		{"list, city 上海", func() string { return "/customers?ak=city&av=" + url.QueryEscape("上海") }, htmx, false},
		{"customer 360", func() string { return "/customers/" + pick(ids) }, nil, false},
		{"  API peer: get customer", func() string { return "/api/v1/customers/" + pick(ids) }, nil, true},
		{"customer timeline fragment", func() string { return "/customers/" + pick(ids) + "/timeline" }, nil, false},
		{"customer edit form", func() string { return "/customers/" + pick(ids) + "/edit" }, nil, false},
		{"settings: custom fields", func() string { return "/settings/fields" }, nil, false},
		{"segments", func() string { return "/segments" }, nil, false},
		{"segment (members, events)", func() string { return "/segments/" + segID }, nil, false},
		{"  API peer: segment members", func() string { return "/api/v1/segments/" + segID + "/members?limit=50" }, nil, true},
		{"target lists", func() string { return "/lists" }, nil, false},
		{"target list (results, tasks)", func() string { return "/lists/" + listID }, nil, false},
		{"  API peer: list", func() string { return "/api/v1/lists/" + listID }, nil, true},
		{"tasks (all reps)", func() string { return "/tasks" }, nil, false},
		{"success board", func() string { return "/board" }, nil, false},
		{"  API peer: board", func() string { return "/api/v1/board" }, nil, true},
		{"initiatives", func() string { return "/initiatives" }, nil, false},
	}
	if *dashboards {
		pages = append(pages, page{"dashboards (7 charts, cached reports)", func() string { return "/dashboards" }, nil, false},
			page{"pivot tier × city, customers + revenue", func() string { return "/pivot?row=tier&col=city&m=customers&m=revenue" }, nil, false})
	}
	b.ResetTimer()
	for range b.N {
		fmt.Printf("\n%-44s %8s %8s %8s %8s\n", fmt.Sprintf("page (%d customers, %d requests each)", *n, *reqs), "p50 ms", "p95 ms", "p99 ms", "max ms")
		for _, p := range pages {
			if *only != "" && !strings.Contains(p.label, *only) {
				continue
			}
			var ds []time.Duration
			for i := range *reqs + 5 {
				req, _ := http.NewRequest(http.MethodGet, srv.URL+p.path(), nil)
				for k, v := range p.hdr {
					req.Header[k] = v
				}
				res, err := client.Do(req)
				if err != nil {
					b.Fatal(err)
				}
				io.Copy(io.Discard, res.Body)
				res.Body.Close()
				if res.StatusCode != http.StatusOK {
					b.Fatalf("%s: %s", p.label, res.Status)
				}
				tm.mu.Lock()
				d := tm.last
				tm.mu.Unlock()
				if i >= 5 { // warm-up
					ds = append(ds, d)
				}
			}
			slices.Sort(ds)
			q := func(f float64) float64 { return float64(ds[int(f*float64(len(ds)-1))].Microseconds()) / 1000 }
			fmt.Printf("%-44s %8.1f %8.1f %8.1f %8.1f\n", p.label, q(0.5), q(0.95), q(0.99), q(1))
		}
	}
}

// targetingData returns the benchmark's segment and target list, creating
// them on first use: gold or silver customers in 上海 (tens of thousands at
// 1M), and the top 2,000 of them by CLV with a 20% control group, assigned
// round robin to the reps.
func targetingData(ctx context.Context, b *testing.B, st *store.Store, tg *targeting.Service) (segID, listID string) {
	const name = "bench: gold or silver in 上海"
	segs, err := st.Segments(ctx)
	if err != nil {
		b.Fatal(err)
	}
	for _, g := range segs {
		if g.Name == name {
			segID = g.ID
		}
	}
	if segID == "" {
		start := time.Now()
		v, err := tg.CreateSegment(ctx, store.SystemActor, name, `tier in ("gold","silver") and city = "上海"`)
		if err != nil {
			b.Fatal(err)
		}
		segID = v.ID
		b.Logf("segment created in %v", time.Since(start))
	}
	lists, err := st.Lists(ctx, "")
	if err != nil {
		b.Fatal(err)
	}
	for _, l := range lists {
		if l.SegmentID == segID {
			return segID, l.ID
		}
	}
	users, err := st.ListUsers(ctx)
	if err != nil {
		b.Fatal(err)
	}
	var reps []string
	for _, u := range users {
		if u.Role == string(auth.Rep) || u.Role == string(auth.Manager) {
			reps = append(reps, u.ID)
		}
	}
	v, err := tg.CreateList(ctx, store.SystemActor, targeting.ListSpec{Name: "bench: top 2,000 by CLV", SegmentID: segID,
		Score: "clv", TopN: 2000, Holdout: 0.2, Assign: "round_robin", Reps: reps, DueDays: 14})
	if err != nil {
		b.Fatal(err)
	}
	return segID, v.ID
}
