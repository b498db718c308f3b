package web_test

import (
	"context"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/rapportcrm/rapport/internal/auth"
	"github.com/rapportcrm/rapport/internal/storetest"
)

// TestBrowserTargetingLoop hands a segment to the front line with a
// control group, records an outcome on /tasks in place, and reads the
// success board and the initiative portfolio.
func TestBrowserTargetingLoop(t *testing.T) {
	if testing.Short() {
		t.Skip("browser tests are not short")
	}
	e := newEnv(t, storetest.SQLite(t), 200)
	_, seg := withTargeting(t, e)
	admin := e.users[auth.Admin].ID
	br := newBrowser(t, e.url)

	br.run("log in as admin",
		chromedp.Navigate(e.url+"/login?lang=en"),
		chromedp.WaitVisible(chromedp.ID("email")),
		chromedp.SendKeys(chromedp.ID("email"), "admin@example.com"),
		chromedp.SendKeys(chromedp.ID("password"), password("admin")),
		chromedp.Submit(chromedp.ID("password")),
		chromedp.WaitVisible(chromedp.ID("q")),
	)

	// A list from the segment, 25% held out, handed to the admin.
	br.run("new list form", chromedp.Navigate(e.url+"/lists/new?segment="+seg), chromedp.WaitVisible(chromedp.ID("list-form")))
	br.run("fill the list form",
		js(`document.getElementById('l-control').value = '25'`),
		js(`document.getElementById('l-assign').value = 'round_robin'`),
		js(`document.querySelector('input[name=reps][value="`+admin+`"]').checked = true`),
		chromedp.SendKeys(chromedp.ID("l-script"), "Say hello and mention the new season's tea."),
	)
	br.shot("list-new")
	br.run("create the list", chromedp.Click(chromedp.ID("create-list")), chromedp.WaitVisible(chromedp.ID("arms")))
	if got := get(br, "arms", chromedp.Evaluate[int](`document.querySelectorAll('#arms tbody tr').length`)); got != 2 {
		t.Errorf("results show %d arms, want control and contacted", got)
	}
	br.shot("list")
	br.noConsoleErrors("/lists/{id}")
	br.run("lists", chromedp.Navigate(e.url+"/lists"), chromedp.WaitVisible(chromedp.ID("lists")))
	br.shot("lists")
	br.noConsoleErrors("/lists")

	// Record "bought" on the first task; htmx swaps the task in place.
	br.run("tasks", chromedp.Click(chromedp.CSS(`.main-nav a[href="/tasks"]`)), chromedp.WaitVisible(chromedp.ID("tasks")))
	first := get(br, "first task", chromedp.Evaluate[string](`document.querySelector('#tasks .task').dataset.task`))
	br.run("record outcome",
		js(`document.querySelector('#task-`+first+` input[value=bought]').click()`),
		chromedp.SendKeys(chromedp.ID("notes-"+first), "Bought two tins"),
		chromedp.Click(chromedp.CSS(`#task-`+first+` button[type=submit]`)),
		waitJS(`document.querySelector('#task-`+first+`[data-status="done"] .outcome-bought')`),
	)
	if tk, err := e.st.Task(context.Background(), first); err != nil || tk.Outcome != "bought" || tk.Notes != "Bought two tins" {
		t.Fatalf("task after outcome: %+v %v", tk, err)
	}
	if n := get(br, "still on /tasks", chromedp.Evaluate[string](`location.pathname`)); n != "/tasks" {
		t.Errorf("recording left the page for %s", n)
	}
	br.shotScreen("tasks")
	br.noConsoleErrors("/tasks")

	// The board draws its chart and shows the 100% response.
	br.run("board", chromedp.Click(chromedp.CSS(`.main-nav a[href="/board"]`)),
		chromedp.WaitVisible(chromedp.ID("board")), waitJS(`document.querySelector('#board-chart canvas')`))
	if got := get(br, "response", chromedp.Text(chromedp.CSS(`#board .response`))); strings.TrimSpace(got) != "100%" {
		t.Errorf("board response rate %q, want 100%%", got)
	}
	br.shot("board")
	br.noConsoleErrors("/board")

	// An initiative, then the portfolio.
	br.run("initiatives", chromedp.Click(chromedp.ID("to-initiatives")), chromedp.WaitVisible(chromedp.ID("initiative-form")))
	br.run("create initiative",
		chromedp.SendKeys(chromedp.ID("i-name"), "Win back lapsing regulars"),
		chromedp.SendKeys(chromedp.ID("i-hyp"), "A call from their rep brings them back"),
		chromedp.SendKeys(chromedp.ID("i-budget"), "3000"),
		chromedp.Click(chromedp.ID("create-initiative")),
		chromedp.WaitVisible(chromedp.ID("stage-form")),
	)
	br.run("add a cost",
		chromedp.SendKeys(chromedp.ID("c-hours"), "12"),
		chromedp.SendKeys(chromedp.ID("c-rate"), "80"),
		chromedp.SendKeys(chromedp.ID("c-money"), "500"),
		chromedp.Click(chromedp.ID("add-cost")),
		waitJS(`document.querySelector('.flash') && document.getElementById('in-cost').textContent.includes('1,460')`),
	)
	br.noConsoleErrors("/initiatives/{id}")
	br.run("portfolio", chromedp.Navigate(e.url+"/initiatives"), chromedp.WaitVisible(chromedp.ID("portfolio")))
	br.shot("initiatives")
	br.noConsoleErrors("/initiatives")
	if ins, _ := e.st.Initiatives(context.Background()); len(ins) != 1 || ins[0].Stage != "explore" {
		t.Errorf("initiatives %+v", ins)
	}

	// Phone width, in Chinese: nothing overflows sideways.
	for _, page := range []struct{ name, path string }{
		{"tasks-phone", "/tasks?status=all&lang=zh-CN"},
		{"board-phone", "/board"},
		{"list-new-phone", "/lists/new?segment=" + seg},
	} {
		br.run(page.name,
			chromedp.EmulateViewport(390, 844, chromedp.EmulateScale(2), chromedp.EmulateMobile, chromedp.EmulatePortrait),
			chromedp.Navigate(e.url+page.path),
			chromedp.WaitReady(chromedp.CSS(`main`)),
		)
		br.shotScreen(page.name)
		if get(br, "overflow", chromedp.Evaluate[bool](`document.documentElement.scrollWidth > 391`)) {
			t.Errorf("%s overflows the phone width: %s", page.path, get(br, "wide", chromedp.Evaluate[string](`Array.from(document.querySelectorAll('body *')).filter(e => e.getBoundingClientRect().right > 391).slice(0, 5).map(e => e.tagName + '#' + e.id + '.' + e.className + ':' + Math.round(e.getBoundingClientRect().right)).join(' | ')`)))
		}
	}
	br.run("desktop again", chromedp.ResetViewport())
	br.noConsoleErrors("phone pages")
}
