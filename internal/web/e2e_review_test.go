package web_test

import (
	"encoding/csv"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/rapportcrm/rapport/internal/storetest"
)

// TestBrowserImportAndDuplicateReview walks the import wizard with a file
// holding one bad row (counts, rejected-rows download with its error
// column), then merges a duplicate pair and undoes the merge.
func TestBrowserImportAndDuplicateReview(t *testing.T) {
	if testing.Short() {
		t.Skip("browser tests are not short")
	}
	e := newEnv(t, storetest.SQLite(t), 0)
	a, b := twins(t, e.st)
	br := newBrowser(t, e.url)
	file := filepath.Join(t.TempDir(), "客户.csv")
	if err := os.WriteFile(file, gbkBytes(t, wizardCSV), 0o644); err != nil {
		t.Fatal(err)
	}

	br.run("log in as admin",
		chromedp.Navigate(e.url+"/login?lang=en"),
		chromedp.WaitVisible(chromedp.ID("email")),
		chromedp.SendKeys(chromedp.ID("email"), "admin@example.com"),
		chromedp.SendKeys(chromedp.ID("password"), password("admin")),
		chromedp.Submit(chromedp.ID("password")),
		chromedp.WaitVisible(chromedp.ID("q")),
	)

	// Upload → guessed mapping.
	br.run("open import", chromedp.Click(chromedp.CSS(`.main-nav a[href="/imports"]`)), chromedp.WaitVisible(chromedp.ID("im-file")))
	br.shot("30-import-upload")
	br.run("upload",
		chromedp.SetUploadFiles(chromedp.ID("im-file"), []string{file}),
		chromedp.Click(chromedp.CSS(`#import-upload button[type=submit]`)),
		chromedp.WaitVisible(chromedp.ID("import-map")),
	)
	if got := get(br, "guessed phone", chromedp.Evaluate[string](`document.getElementById('col-1').value`)); got != "phone" {
		t.Errorf("column 手机 guessed as %q, want phone", got)
	}
	br.shot("31-import-mapping")
	br.noConsoleErrors("/imports mapping")

	// Dry run: counts and the bad row's line and reason.
	br.run("dry run", chromedp.Click(chromedp.ID("dry-run")), chromedp.WaitVisible(chromedp.ID("dry-report")))
	for id, want := range map[string]string{"dry-rows": "3", "dry-imported": "2", "dry-rejected": "1"} {
		if got := textOf(br, id); got != want {
			t.Errorf("dry run %s = %q, want %q", id, got, want)
		}
	}
	if errs := textOf(br, "dry-errors"); !strings.Contains(errs, "12345") {
		t.Errorf("dry-run errors %q do not name the bad phone", errs)
	}
	br.shot("32-import-dry-run")

	// Import in the background; the page polls until it is done.
	br.run("import",
		chromedp.Click(chromedp.ID("run-import")),
		waitJS(`document.querySelector('#import-progress[data-status="done"]')`),
	)
	for id, want := range map[string]string{"res-imported": "2", "res-rejected": "1"} {
		if got := textOf(br, id); got != want {
			t.Errorf("result %s = %q, want %q", id, got, want)
		}
	}
	br.shot("33-import-done")
	br.noConsoleErrors("import result")

	// Download the rejected rows from the link the page offers.
	br.run("download rejects",
		js(`fetch(document.getElementById('rejects-csv').href).then(r => r.text()).then(t => { window.__rejects = t })`),
		waitJS(`typeof window.__rejects === 'string'`),
	)
	body := get(br, "rejects text", chromedp.Evaluate[string](`window.__rejects`))
	recs, err := csv.NewReader(strings.NewReader(strings.TrimPrefix(body, "\ufeff"))).ReadAll()
	if err != nil || len(recs) != 2 {
		t.Fatalf("rejects CSV: %v %q", err, body)
	}
	if h, r := recs[0], recs[1]; h[len(h)-1] != "error" || r[0] != "王芳" || !strings.HasPrefix(r[len(r)-1], "line 3:") {
		t.Errorf("rejects CSV header %q row %q, want an error column with line 3", h, r)
	}

	// Duplicates: merge the pair keeping the first, then undo.
	br.run("open duplicates", chromedp.Click(chromedp.CSS(`.main-nav a[href="/duplicates"]`)), chromedp.WaitVisible(chromedp.ID("pair-0")))
	br.shot("34-duplicates")
	br.noConsoleErrors("/duplicates")
	br.run("merge",
		chromedp.Click(chromedp.CSS(`#pair-0 button.keep[value="`+a+`"]`)),
		waitJS(`document.querySelector('.flash') && !document.getElementById('pair-0') && document.querySelector('#merges button.undo')`),
	)
	if c, _ := e.st.Customer(t.Context(), b); c.DeletedAt == nil {
		t.Fatal("the merged-away customer is still live")
	}
	br.shot("35-duplicates-merged")
	br.run("undo",
		chromedp.Click(chromedp.CSS(`#merges button.undo`)),
		waitJS(`document.getElementById('pair-0') && !document.querySelector('#merges button.undo')`),
	)
	if c, _ := e.st.Customer(t.Context(), b); c.DeletedAt != nil {
		t.Fatal("undo did not restore the merged-away customer")
	}
	br.shot("36-duplicates-undone")
	br.run("duplicates zh", chromedp.Navigate(e.url+"/duplicates?lang=zh-CN"), chromedp.WaitVisible(chromedp.ID("pair-0")))
	br.shot("37-duplicates-zh")
	br.run("sources", chromedp.Navigate(e.url+"/settings/sources?lang=en"), chromedp.WaitVisible(chromedp.ID("src-name")),
		chromedp.SendKeys(chromedp.ID("src-name"), "web"),
		chromedp.Submit(chromedp.ID("src-name")),
		chromedp.WaitVisible(chromedp.ID("snippet")))
	br.shot("38-settings-sources")
	br.noConsoleErrors("after review pages")
}
