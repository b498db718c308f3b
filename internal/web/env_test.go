package web_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/rapportcrm/rapport/internal/auth"
	"github.com/rapportcrm/rapport/internal/demo"
	"github.com/rapportcrm/rapport/internal/insight"
	"github.com/rapportcrm/rapport/internal/store"
	"github.com/rapportcrm/rapport/internal/storetest"
	"github.com/rapportcrm/rapport/internal/web"
)

// env is a real UI server on a real database loaded with demo data.
type env struct {
	t     testing.TB
	st    *store.Store
	url   string
	ui    *web.Server
	users map[auth.Role]store.User
	data  *demo.Dataset
}

func password(r auth.Role) string { return "password-" + string(r) }

// newEnv starts a UI server over e's store with n demo customers (owned by
// one user per role) and their model scores.
func newEnv(t testing.TB, e storetest.Engine, n int) *env {
	t.Helper()
	ctx := context.Background()
	log := slog.New(slog.NewTextHandler(testLog{t}, nil))
	svc := &auth.Service{Store: e.Store}
	en := &env{t: t, st: e.Store, users: map[auth.Role]store.User{}}
	an := insight.New(e.Store, insight.Options{Log: log})
	var ids []string
	for _, r := range auth.Roles {
		u, err := svc.CreateUser(ctx, string(r)+"@example.com", strings.ToUpper(string(r[:1]))+string(r[1:]), r, password(r))
		if err != nil {
			t.Fatal(err)
		}
		en.users[r] = u
		ids = append(ids, u.ID)
	}
	if n > 0 {
		en.data = demo.Generate(demo.Options{Seed: 7, Customers: n, Now: time.Now().UTC().Truncate(24 * time.Hour), Users: ids})
		d := en.data
		if err := e.Store.Load(ctx, store.SystemActor, store.Dataset{Customers: d.Customers, Orders: d.Orders,
			Interactions: d.Interactions, Notes: d.Notes, Fields: d.Fields}); err != nil {
			t.Fatal(err)
		}
		if _, err := an.Refit(ctx); err != nil {
			t.Fatalf("score demo data: %v", err)
		}
	}
	ui, err := web.New(e.Store, svc, log, "CN")
	if err != nil {
		t.Fatal(err)
	}
	ui.Insight = an
	mux := http.NewServeMux()
	ui.Register(mux)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	en.url, en.ui = srv.URL, ui
	return en
}

// testLog sends server logs to the test's log, shown when it fails.
type testLog struct{ t testing.TB }

func (l testLog) Write(p []byte) (int, error) {
	l.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

// browser is an HTTP client with a cookie jar that does not follow
// redirects, so tests see them.
type browser struct {
	e *env
	c *http.Client
}

func (e *env) anonymous() *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{e: e, c: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

// login returns a browser logged in as the user of role r.
func (e *env) login(r auth.Role) *browser {
	e.t.Helper()
	b := e.anonymous()
	res := b.post("/login", url.Values{"email": {string(r) + "@example.com"}, "password": {password(r)}})
	if res.status != http.StatusSeeOther {
		e.t.Fatalf("login as %s: status %d: %s", r, res.status, res.body)
	}
	return b
}

type response struct {
	status int
	header http.Header
	body   string
}

func (b *browser) do(req *http.Request) response {
	b.e.t.Helper()
	res, err := b.c.Do(req)
	if err != nil {
		b.e.t.Fatal(err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		b.e.t.Fatal(err)
	}
	return response{status: res.StatusCode, header: res.Header, body: string(body)}
}

// get fetches path; header pairs follow as name, value, name, value…
func (b *browser) get(path string, header ...string) response {
	b.e.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, b.e.url+path, nil)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	return b.do(req)
}

func (b *browser) post(path string, form url.Values, header ...string) response {
	b.e.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, b.e.url+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	return b.do(req)
}

// forEngine runs fn on every available database engine.
func forEngine(t *testing.T, n int, fn func(t *testing.T, e *env)) {
	for _, eng := range storetest.Engines(t) {
		t.Run(eng.Name, func(t *testing.T) { fn(t, newEnv(t, eng, n)) })
	}
}
