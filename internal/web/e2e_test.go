package web_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/rapportcrm/rapport/internal/storetest"
)

// The end-to-end tests drive a real headless Chromium against a real
// server with demo data. They skip when no Chromium is installed (CI
// installs Debian's chromium). Screenshots go to e2e-artifacts/ at the
// repository root, or to $RAPPORT_E2E_ARTIFACTS.

func chromiumPath() string {
	if p := os.Getenv("RAPPORT_CHROMIUM"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

func artifactsDir(t *testing.T) string {
	if d := os.Getenv("RAPPORT_E2E_ARTIFACTS"); d != "" {
		return d
	}
	dir, _ := os.Getwd()
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return filepath.Join(dir, "e2e-artifacts")
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return filepath.Join(t.TempDir(), "e2e-artifacts")
		}
		dir = parent
	}
}

// browserTab is one Chromium tab plus what its console reported.
type browserTab struct {
	t        *testing.T
	ctx      context.Context
	base     string
	shots    string
	mu       sync.Mutex
	problems []string
}

func newBrowser(t *testing.T, base string) *browserTab {
	path := chromiumPath()
	if path == "" {
		if os.Getenv("RAPPORT_REQUIRE_BROWSER") != "" {
			t.Fatal("RAPPORT_REQUIRE_BROWSER is set but no Chromium was found")
		}
		t.Skip("no Chromium found (install Debian's chromium package, or set RAPPORT_CHROMIUM): skipping browser tests")
	}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(path),
		chromedp.Headless,
		chromedp.Flag("headless", true),
		chromedp.Flag("no-sandbox", true),
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("lang", "en-US"),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1366, 900),
	}
	actx, cancelA := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelC := chromedp.NewContext(actx)
	ctx, cancelT := context.WithTimeout(ctx, 3*time.Minute)
	t.Cleanup(func() { cancelT(); cancelC(); cancelA() })
	b := &browserTab{t: t, ctx: ctx, base: base, shots: artifactsDir(t)}
	if err := os.MkdirAll(b.shots, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start Chromium: %v", err)
	}
	msgs := chromedp.Console(ctx)
	go func() {
		for m, err := range msgs {
			if err != nil {
				return
			}
			if m.Type == chromedp.ConsoleError || m.Type == chromedp.ConsoleException {
				b.mu.Lock()
				b.problems = append(b.problems, fmt.Sprintf("%s: %s (%s:%d)", m.Type, m.Text, m.URL, m.Line+1))
				b.mu.Unlock()
			}
		}
	}()
	return b
}

func (b *browserTab) run(what string, actions ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	if err := chromedp.Do(b.ctx, actions...); err != nil {
		b.shot("failed-" + strings.ReplaceAll(what, " ", "-"))
		b.t.Fatalf("%s: %v", what, err)
	}
}

// shot saves a full-page screenshot.
func (b *browserTab) shot(name string) { b.save(name, chromedp.FullScreenshot(100)) }

// shotScreen saves what fits on the screen.
func (b *browserTab) shotScreen(name string) { b.save(name, chromedp.CaptureScreenshot()) }

func (b *browserTab) save(name string, a chromedp.Action[[]byte]) {
	png, err := chromedp.Run(b.ctx, a)
	if err != nil {
		b.t.Logf("screenshot %s: %v", name, err)
		return
	}
	p := filepath.Join(b.shots, name+".png")
	if err := os.WriteFile(p, png, 0o644); err != nil {
		b.t.Logf("write %s: %v", p, err)
	}
}

// noConsoleErrors fails when the page logged errors since the last check.
func (b *browserTab) noConsoleErrors(where string) {
	b.t.Helper()
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, p := range b.problems {
		b.t.Errorf("%s: %s", where, p)
	}
	b.problems = nil
}

// waitJS evaluates a JavaScript condition until it holds. (chromedp's Poll
// and Wait* lose track of the document after htmx's history.pushState, so
// this asks the page directly.)
func waitJS(cond string) chromedp.Action[chromedp.Void] {
	return func(ctx context.Context, t *chromedp.Target) (chromedp.Void, error) {
		deadline := time.Now().Add(15 * time.Second)
		for {
			// A page being replaced has no document for a moment; try again.
			ok, err := chromedp.Evaluate[bool]("(() => { try { return Boolean("+cond+") } catch (e) { return false } })()")(ctx, t)
			if err == nil && ok {
				return chromedp.Void{}, nil
			}
			if time.Now().After(deadline) {
				return chromedp.Void{}, fmt.Errorf("timed out waiting for %s (last error: %v)", cond, err)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
}

// js runs a script for its effect.
// textOf reads an element's text in one script; a DOM node id held across
// two protocol calls can go stale while htmx settles a swap.
func textOf(b *browserTab, id string) string {
	return get(b, id, chromedp.Evaluate[string](`(document.getElementById('`+id+`') || {textContent: ''}).textContent.trim()`))
}

func js(expr string) chromedp.Action[chromedp.Void] { return void(chromedp.Evaluate[any](expr)) }

// get runs an action that returns a value, failing the test on error.
func get[T any](b *browserTab, what string, a chromedp.Action[T]) T {
	b.t.Helper()
	v, err := chromedp.Run(b.ctx, a)
	if err != nil {
		b.shot("failed-" + strings.ReplaceAll(what, " ", "-"))
		b.t.Fatalf("%s: %v", what, err)
	}
	return v
}

func void[T any](a chromedp.Action[T]) chromedp.Action[chromedp.Void] {
	return func(ctx context.Context, t *chromedp.Target) (chromedp.Void, error) {
		_, err := a(ctx, t)
		return chromedp.Void{}, err
	}
}

func TestBrowserJourney(t *testing.T) {
	if testing.Short() {
		t.Skip("browser tests are not short")
	}
	e := newEnv(t, storetest.SQLite(t), 400)
	b := newBrowser(t, e.url)

	// Log in.
	b.run("open login", chromedp.Navigate(e.url+"/customers"), chromedp.WaitVisible(chromedp.ID("email")))
	b.shot("01-login")
	b.run("log in",
		chromedp.SendKeys(chromedp.ID("email"), "rep@example.com"),
		chromedp.SendKeys(chromedp.ID("password"), password("rep")),
		chromedp.Submit(chromedp.ID("password")),
		chromedp.WaitVisible(chromedp.ID("q")),
	)
	b.shot("02-customers")
	b.noConsoleErrors("customers list")

	// Instant search for 张: the results update in place.
	b.run("search 张",
		js(`window.__stay = 1`),
		chromedp.SendKeys(chromedp.ID("q"), "张"),
		waitJS(`(() => { const ns = [...document.querySelectorAll('#results a.name')].map(a => a.textContent);
			return ns.length > 0 && ns.every(n => n.includes('张')) && location.search.includes('q='); })()`),
	)
	if !get(b, "no reload", chromedp.Evaluate[bool](`window.__stay === 1`)) {
		t.Error("the search reloaded the page instead of swapping the results")
	}
	b.shot("03-search-zhang")

	// Keyboard: leave the search, j selects the first row, Enter opens it.
	b.run("keyboard select",
		js(`document.activeElement.blur()`),
		chromedp.KeyEvent("j"),
		waitJS(`document.querySelector('#results tbody tr.selected')`),
	)
	first := get(b, "selected row", chromedp.Evaluate[string](`document.querySelector('#results tbody tr.selected a.name').textContent`))
	b.run("keyboard open", chromedp.KeyEvent("\r"), chromedp.WaitVisible(chromedp.ID("c-name")))
	title := get(b, "360 title", chromedp.Text(chromedp.ID("c-name")))
	if !strings.Contains(title, first) || !strings.Contains(first, "张") {
		t.Fatalf("Enter opened %q, want the selected %q", title, first)
	}
	b.shot("04-customer-360")
	b.noConsoleErrors("customer page")

	// Add a note without leaving the page; it appears on the timeline.
	note := fmt.Sprintf("E2E 备注 %d：喜欢铁观音", time.Now().UnixNano()%100000)
	b.run("add note",
		js(`window.__stay = 2`),
		chromedp.SendKeys(chromedp.ID("note-body"), note),
		chromedp.Click(chromedp.CSS(`#note-form button[type=submit]`)),
		waitJS(fmt.Sprintf(`document.querySelector('#timeline').textContent.includes(%q)`, note)),
	)
	if !get(b, "no reload after note", chromedp.Evaluate[bool](`window.__stay === 2`)) {
		t.Error("adding a note reloaded the page")
	}
	if cleared := get(b, "note form cleared", chromedp.Value(chromedp.ID("note-body"))); cleared != "" {
		t.Errorf("note box still holds %q", cleared)
	}
	b.shot("05-note-added")

	// Switch language in one click; the choice sticks on the next page.
	b.run("switch to Chinese",
		chromedp.Click(chromedp.CSS(`a.lang`)),
		waitJS(`document.documentElement.lang === 'zh-CN'`),
		chromedp.WaitVisible(chromedp.ID("tl-h")),
	)
	if h := get(b, "timeline heading", chromedp.Text(chromedp.ID("tl-h"))); h != "时间线" {
		t.Errorf("after switching, timeline heading = %q", h)
	}
	b.shot("06-customer-360-zh")
	b.run("list in Chinese", chromedp.Navigate(e.url+"/customers"), chromedp.WaitVisible(chromedp.ID("q")))
	if exportLabel := get(b, "export label", chromedp.Text(chromedp.ID("export-csv"))); exportLabel != "导出 CSV" {
		t.Errorf("language not remembered: export button says %q", exportLabel)
	}
	b.shot("07-customers-zh")

	// Edit form.
	b.run("edit form", chromedp.Navigate(e.url+"/customers/"+e.data.Customers[5].ID+"/edit"), chromedp.WaitVisible(chromedp.ID("f-name")))
	b.shot("08-edit")
	b.noConsoleErrors("after language switch and edit form")

	// Phone width: nothing overflows sideways.
	for _, page := range []struct{ name, path string }{
		{"09-phone-customers", "/customers"},
		{"10-phone-customer-360", "/customers/" + e.data.Customers[7].ID},
	} {
		b.run(page.name,
			chromedp.EmulateViewport(390, 844, chromedp.EmulateScale(2), chromedp.EmulateMobile, chromedp.EmulatePortrait),
			chromedp.Navigate(e.url+page.path),
			chromedp.WaitReady(chromedp.CSS(`main`)),
		)
		b.shotScreen(page.name)
		if get(b, "overflow", chromedp.Evaluate[bool](`document.documentElement.scrollWidth > 391`)) {
			t.Errorf("%s overflows the phone width", page.path)
		}
	}
	b.run("desktop again", chromedp.ResetViewport())
	b.noConsoleErrors("phone pages")
}

func TestBrowserAdminPages(t *testing.T) {
	if testing.Short() {
		t.Skip("browser tests are not short")
	}
	e := newEnv(t, storetest.SQLite(t), 400)
	b := newBrowser(t, e.url)
	b.run("log in as admin",
		chromedp.Navigate(e.url+"/login?lang=en"),
		chromedp.WaitVisible(chromedp.ID("email")),
		chromedp.SendKeys(chromedp.ID("email"), "admin@example.com"),
		chromedp.SendKeys(chromedp.ID("password"), password("admin")),
		chromedp.Submit(chromedp.ID("password")),
		chromedp.WaitVisible(chromedp.ID("q")),
	)
	b.run("dashboards", chromedp.Navigate(e.url+"/dashboards"), chromedp.WaitVisible(chromedp.CSS(`.charts`)),
		waitJS(`[...document.querySelectorAll('[data-chart]')].every(el => el.querySelector('canvas'))`))
	n := get(b, "charts drawn", chromedp.Evaluate[int](`document.querySelectorAll('[data-chart] canvas').length`))
	if n < 6 {
		t.Errorf("only %d charts drew a canvas", n)
	}
	b.shot("24-dashboards")
	b.noConsoleErrors("/dashboards")
	b.run("dashboards zh", chromedp.Navigate(e.url+"/dashboards?lang=zh-CN"), waitJS(`document.querySelectorAll('[data-chart] canvas').length >= 6`))
	b.shot("25-dashboards-zh")
	b.noConsoleErrors("/dashboards?lang=zh-CN")
	for _, p := range []struct{ name, path, ready string }{
		{"20-settings-users", "/settings/users", `#u-email`},
		{"21-settings-keys", "/settings/keys", `#k-name`},
		{"22-settings-fields", "/settings/fields", `#fd-key`},
		{"23-new-customer", "/customers/new", `#f-name`},
	} {
		b.run(p.name, chromedp.Navigate(e.url+p.path), chromedp.WaitVisible(chromedp.CSS(p.ready)))
		b.shot(p.name)
		b.noConsoleErrors(p.path)
	}
}
