package web_test

import (
	"context"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/rapportcrm/rapport/internal/storetest"
	"github.com/rapportcrm/rapport/internal/targeting"
)

// TestBrowserSegmentBuilder puts a rule together in the visual builder,
// sees the preview count it, saves it and lands on the segment's page.
func TestBrowserSegmentBuilder(t *testing.T) {
	if testing.Short() {
		t.Skip("browser tests are not short")
	}
	e := newEnv(t, storetest.SQLite(t), 200)
	e.ui.Targeting = &targeting.Service{Store: e.st, Region: "CN"}
	want := shanghai(e)
	br := newBrowser(t, e.url)

	br.run("log in as manager",
		chromedp.Navigate(e.url+"/login?lang=en"),
		chromedp.WaitVisible(chromedp.ID("email")),
		chromedp.SendKeys(chromedp.ID("email"), "manager@example.com"),
		chromedp.SendKeys(chromedp.ID("password"), password("manager")),
		chromedp.Submit(chromedp.ID("password")),
		chromedp.WaitVisible(chromedp.ID("q")),
	)
	br.run("segments", chromedp.Click(chromedp.CSS(`.main-nav a[href="/segments"]`)), chromedp.WaitVisible(chromedp.ID("new-segment")))
	br.run("new segment", chromedp.Click(chromedp.ID("new-segment")), waitJS(`!document.getElementById('builder').hidden`))

	// The builder's first row: city = 上海, written into the rule.
	br.run("build city = 上海",
		chromedp.SendKeys(chromedp.ID("s-name"), "Shanghai"),
		js(`(function(){var f=document.getElementById('b-field-1'); f.value='city'; f.dispatchEvent(new Event('change'));})()`),
		js(`document.getElementById('b-op-1').value='='`),
		chromedp.SendKeys(chromedp.ID("b-value-1"), "上海"),
		chromedp.Click(chromedp.ID("b-apply")),
		waitJS(`document.getElementById('preview-count')`),
	)
	if got := get(br, "rule", chromedp.Value(chromedp.ID("s-rule"))); got != `city = "上海"` {
		t.Fatalf("the builder wrote %q", got)
	}
	if got := textOf(br, "preview-count"); !strings.Contains(got, itoa(int64(want))+" customers") {
		t.Errorf("preview says %q, want %d customers", got, want)
	}
	br.shot("segment-new")
	br.noConsoleErrors("/segments/new")

	br.run("save", chromedp.Click(chromedp.ID("save-segment")), chromedp.WaitVisible(chromedp.ID("segment-count")))
	if got := get(br, "count", chromedp.Text(chromedp.ID("segment-count"))); got != itoa(int64(want)) {
		t.Errorf("segment page count %q, want %d", got, want)
	}
	segs, err := e.st.Segments(context.Background())
	if err != nil || len(segs) != 1 || segs[0].Rule != `city = "上海"` {
		t.Fatalf("stored segments %+v %v", segs, err)
	}
	br.shot("segment")
	br.noConsoleErrors("/segments/{id}")
	br.run("segments list", chromedp.Navigate(e.url+"/segments"), chromedp.WaitVisible(chromedp.ID("segments")))
	br.shot("segments")
}
